//! LoRA fine-tuning: only the adapters train, the base stays bit for bit, merged adapters
//! compute what unmerged ones do, and a LoRA model saves and reopens either way.

use std::collections::HashMap;

use burn::module::ParamId;
use kindling::config::{Config, ModelKind};
use kindling::device::cpu;
use kindling::model::lora;
use kindling::params::visit;
use kindling::session::Session;
use kindling::{checkpoint, ErrorKind, Trainer};

use crate::common::{bpe_config, largest_difference, last_logits, repeated_text};

const NEW: &str = "a lazy dog jumps over the quick brown fox. ";

fn values(trainer: &Trainer) -> HashMap<ParamId, Vec<f32>> {
    let mut values = HashMap::new();
    visit(trainer.model(), |id, value| {
        values.insert(id, value.into_data().try_to_vec::<f32>().unwrap());
    });
    values
}

/// A BPE GPT trained a little, as bytes, and a LoRA fine-tune of it on `NEW`.
fn base_and_lora(rank: usize) -> (Trainer, Vec<u8>, Session) {
    let mut base = Trainer::new(repeated_text(), bpe_config(32), cpu()).unwrap();
    pollster::block_on(base.train_steps(60)).unwrap();
    let bytes = pollster::block_on(checkpoint::save(&base)).unwrap();
    let options = serde_json::json!({ "text": NEW.repeat(60), "backend": "cpu", "loraRank": rank, "learningRate": 0.01 });
    let serde_json::Value::Object(options) = options else {
        unreachable!()
    };
    let tuned = pollster::block_on(Session::fine_tune(&bytes, options)).unwrap();
    (base, bytes, tuned)
}

#[test]
fn lora_trains_only_the_adapters_and_leaves_the_base_bit_identical() {
    let (base, _, mut tuned) = base_and_lora(4);
    let config = tuned.trainer().config.clone();
    let (d, layers) = (config.n_embd as u64, config.n_layer as u64);
    // Per block: qkv [d, 3d], projection [d, d], MLP up [d, 4d] and down [4d, d], each with
    // A [d_in, 4] and B [4, d_out].
    let adapters = layers * 4 * ((d + 3 * d) + (d + d) + (d + 4 * d) + (4 * d + d));
    let split = tuned.parameters();
    assert_eq!(split.trainable, adapters);
    assert_eq!(
        split.frozen,
        config.parameter_count(base.tokenizer.vocab_size())
    );
    assert_eq!(
        (split.trainable_bytes, split.frozen_bytes),
        (16 * split.trainable, 4 * split.frozen)
    );

    let before = values(tuned.trainer());
    let first = pollster::block_on(tuned.trainer().evaluate()).unwrap();
    pollster::block_on(tuned.train(40.0, None::<&mut kindling::parallel::Alone>)).unwrap();
    let last = pollster::block_on(tuned.trainer().evaluate()).unwrap();
    assert!(last < first - 0.1, "val loss {first} → {last}");
    let after = values(tuned.trainer());
    let adapters = 2 * 4 * config.n_layer;
    let changed = before
        .iter()
        .filter(|(id, weights)| &&after[*id] != weights)
        .count();
    assert_eq!(after.len(), before.len());
    // Each B started at zero and each A has had a gradient since: every adapter moved, and
    // nothing else did.
    assert_eq!(changed, adapters, "only the adapters may change");
}

#[test]
fn merged_adapters_compute_what_unmerged_ones_do_and_both_reopen() {
    let (_, _, mut tuned) = base_and_lora(8);
    pollster::block_on(tuned.train(20.0, None::<&mut kindling::parallel::Alone>)).unwrap();
    let trainer = tuned.trainer();
    let ids = trainer
        .tokenizer
        .encode_known("the lazy fox jumps over a quick dog");
    let unmerged = last_logits(&trainer.inference_model(), &ids);

    let merged_model = lora::merge(trainer.inference_model());
    let merged = last_logits(&merged_model, &ids);
    let gap = largest_difference(&unmerged, &merged);
    assert!(gap < 1e-5, "merged logits differ by {gap}");

    let options = |merged| checkpoint::SaveOptions {
        merged,
        optimizer: true,
    };
    let adapters = pollster::block_on(checkpoint::save_with(trainer, options(false))).unwrap();
    let reopened = checkpoint::load(&adapters, cpu()).unwrap();
    assert_eq!(reopened.config.lora_rank, 8);
    assert_eq!(lora::split(reopened.model()), tuned.parameters());
    assert_eq!(last_logits(&reopened.inference_model(), &ids), unmerged);

    let plain = pollster::block_on(checkpoint::save_with(trainer, options(true))).unwrap();
    let reopened = checkpoint::load(&plain, cpu()).unwrap();
    assert_eq!(reopened.config.lora_rank, 0);
    assert_eq!(lora::split(reopened.model()).frozen, 0);
    let logits = last_logits(&reopened.inference_model(), &ids);
    let gap = largest_difference(&unmerged, &logits);
    assert!(gap < 1e-5, "the merged file's logits differ by {gap}");
    assert!(plain.len() < adapters.len());
}

#[test]
fn lora_is_for_fine_tuning_a_gpt_at_a_sensible_rank() {
    let refused = |config: Config| {
        let error = Trainer::new(repeated_text(), config, cpu()).err().unwrap();
        error.fields.iter().any(|e| e.field == "loraRank")
    };
    assert!(
        refused(Config {
            lora_rank: 4,
            ..bpe_config(32)
        }),
        "LoRA from scratch"
    );
    let lstm = Config {
        model: ModelKind::Lstm,
        lora_rank: 4,
        ..Config::tiny()
    };
    assert!(!lstm.validate(1000, 30).is_empty());
    assert!(!Config {
        lora_rank: 65,
        ..Config::tiny()
    }
    .validate(1000, 30)
    .is_empty());
    assert!(Config {
        lora_rank: 8,
        ..Config::tiny()
    }
    .validate(1000, 30)
    .is_empty());

    let (_, bytes, _) = base_and_lora(2);
    for rank in [33, 100] {
        let options = serde_json::json!({ "text": NEW.repeat(60), "loraRank": rank });
        let serde_json::Value::Object(options) = options else {
            unreachable!()
        };
        let error = pollster::block_on(Session::fine_tune(&bytes, options))
            .err()
            .unwrap();
        assert_eq!(
            (error.kind, error.fields[0].field.as_str()),
            (ErrorKind::Config, "loraRank")
        );
    }
}

//! Fine-tuning a saved model on another text: it starts from the base's weights and
//! tokenizer, keeps its shape, and learns the new text faster than training from scratch.

use crate::common::bpe_config;

use kindling::config::Config;
use kindling::device::cpu;
use kindling::parallel::Alone;
use kindling::session::Session;
use kindling::{checkpoint, ErrorKind, Trainer};

/// The base model's text and a different text of the same kind, for fine-tuning.
const BASE: &str = "the cat sat on the mat. the dog ran to the log. a bird sang in the tree.\n";
const NEW: &str = "the cat ran to the tree. a dog sat on the log. the bird sang on the mat.\n";

fn fine_tune(bytes: &[u8], options: serde_json::Value) -> Result<Session, kindling::Error> {
    let serde_json::Value::Object(options) = options else {
        unreachable!("an object")
    };
    pollster::block_on(Session::fine_tune(bytes, options))
}

#[test]
fn fine_tuning_starts_from_the_base_and_beats_training_from_scratch() {
    let mut base = Trainer::new(BASE.repeat(60), bpe_config(64), cpu()).unwrap();
    pollster::block_on(base.train_steps(300)).unwrap();
    let bytes = pollster::block_on(checkpoint::save(&base)).unwrap();

    let options = serde_json::json!({ "text": NEW.repeat(60), "backend": "cpu", "seed": 9 });
    let mut tuned = fine_tune(&bytes, options).unwrap();
    let trainer = tuned.trainer();
    assert_eq!((trainer.step(), trainer.history().len()), (0, 0));
    assert_eq!(trainer.tokenizer, base.tokenizer);
    assert_eq!(trainer.text, NEW.repeat(60));

    let config = Config {
        seed: 9,
        ..bpe_config(64)
    };
    let mut scratch = Trainer::new(NEW.repeat(60), config, cpu()).unwrap();
    let steps = 40.0;
    let tuned_loss = pollster::block_on(tuned.train(steps, None::<&mut Alone>)).unwrap();
    let scratch_loss = pollster::block_on(scratch.train_steps(40)).unwrap();
    let (tuned_val, scratch_val) = (
        pollster::block_on(tuned.trainer().evaluate()).unwrap(),
        pollster::block_on(scratch.evaluate()).unwrap(),
    );
    assert!(
        tuned_val < scratch_val,
        "after {steps} steps: fine-tuned val {tuned_val} ({:?}) vs scratch {scratch_val} ({:?})",
        tuned_loss.metrics.train_loss,
        scratch_loss.train_loss
    );
}

#[test]
fn fine_tuning_keeps_the_base_shape_and_a_character_model_its_characters() {
    let mut base = Trainer::new(BASE.repeat(60), Config::tiny(), cpu()).unwrap();
    pollster::block_on(base.train_steps(1)).unwrap();
    let bytes = pollster::block_on(checkpoint::save(&base)).unwrap();

    let error = fine_tune(
        &bytes,
        serde_json::json!({ "text": NEW.repeat(60), "nLayer": 4 }),
    )
    .err()
    .unwrap();
    assert_eq!(
        (error.kind, error.fields[0].field.as_str()),
        (ErrorKind::Config, "nLayer")
    );
    let error = fine_tune(
        &bytes,
        serde_json::json!({ "text": "天地玄黄 ".repeat(100) }),
    )
    .err()
    .unwrap();
    assert_eq!(error.fields[0].field, "text");
    assert!(error.message.contains("byte-level"), "{error}");
    // A subset of the base's characters is fine, and training settings may change.
    let options = serde_json::json!({ "text": "the cat sat. ".repeat(60), "maxSteps": 50 });
    let tuned = fine_tune(&bytes, options).unwrap();
    assert_eq!(tuned.trainer().config.max_steps, 50);
    // The base's warmup (20 steps) shrinks to a tenth of a short fine-tune, unless asked for.
    assert_eq!(tuned.trainer().config.warmup_steps, 5);
    let options = serde_json::json!({ "text": NEW.repeat(60), "maxSteps": 50, "warmupSteps": 30 });
    assert_eq!(
        fine_tune(&bytes, options)
            .unwrap()
            .trainer()
            .config
            .warmup_steps,
        30
    );
}

/// The claim, small: the shipped base model (English) fine-tuned on the French scene
/// reaches a lower val loss per character than the same shape trained from scratch on it, at
/// equal steps and settings. scripts/bench-fine-tune.sh measures the full curve.
#[test]
fn the_shipped_base_model_fine_tunes_on_french_better_than_scratch() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = std::fs::read(root.join("www/models/base.kindling")).unwrap();
    let text = std::fs::read_to_string(root.join("www/samples/scene-fr.txt")).unwrap();
    let settings = serde_json::json!({ "text": text, "backend": "cpu", "warmupSteps": 5, "maxSteps": 30, "evalInterval": 30, "seed": 7 });
    let mut tuned = fine_tune(&base, settings).unwrap();
    let config = tuned.trainer().config.clone();
    let mut scratch = Trainer::new(text, config, cpu()).unwrap();

    let tuned = pollster::block_on(tuned.train(30.0, None::<&mut Alone>)).unwrap();
    let scratch = pollster::block_on(scratch.train_steps(30)).unwrap();
    let (tuned, scratch) = (tuned.metrics.val_bits_per_char, scratch.val_bits_per_char);
    let (tuned, scratch) = (tuned.unwrap(), scratch.unwrap());
    assert!(
        tuned < scratch,
        "val bits/char after 30 steps: fine-tuned {tuned}, scratch {scratch}"
    );
}

//! Training behaviour: the models really learn, decoding is consistent, bad input is refused.

use crate::common::{last_logits, repeated_text, PHRASE};

use burn::module::Module;
use burn::tensor::Tensor;
use kindling::config::{Config, Decay, ModelKind};
use kindling::data::{batch, Dataset};
use kindling::device::{cpu, read_floats};
use kindling::model::{tokens, LanguageModel};
use kindling::rng::Rng;
use kindling::sample::SamplingOptions;
use kindling::{checkpoint, Error, ErrorKind, Problem, Trainer};

fn tiny(model: ModelKind) -> Config {
    Config {
        model,
        ..Config::tiny()
    }
}

fn greedy(trainer: &Trainer, prompt: &str, max_tokens: usize) -> String {
    let options = SamplingOptions {
        max_tokens,
        temperature: 0.0,
        ..SamplingOptions::default()
    };
    let ids = trainer.tokenizer.encode(prompt).ids;
    let mut generator = trainer.generator(ids, options);
    let mut out = String::new();
    while let Some(token) = pollster::block_on(generator.next()).unwrap() {
        out.push_str(&token.text);
    }
    out
}

/// Trains until the chunk's mean loss is below `target`, within `max_steps`.
fn train_until(trainer: &mut Trainer, target: f32, max_steps: usize) -> f32 {
    let mut loss = f32::INFINITY;
    while trainer.step() < max_steps {
        loss = pollster::block_on(trainer.train_steps(25))
            .unwrap()
            .train_loss;
        if loss < target {
            break;
        }
    }
    loss
}

fn overfits_and_reproduces(model: ModelKind) {
    let mut trainer = Trainer::new(repeated_text(), tiny(model), cpu()).unwrap();
    let first = pollster::block_on(trainer.train_steps(1))
        .unwrap()
        .train_loss;
    let loss = train_until(&mut trainer, 0.1, 600);
    assert!(
        loss < 0.1,
        "{model:?}: loss {loss} after {} steps (started at {first})",
        trainer.step()
    );
    let continuation = greedy(&trainer, "the quick", 60);
    let expected: String = PHRASE.repeat(3)["the quick".len()..]
        .chars()
        .take(60)
        .collect();
    assert_eq!(
        continuation, expected,
        "{model:?} did not reproduce the text"
    );
}

#[test]
fn gpt_overfits_and_reproduces_the_text() {
    overfits_and_reproduces(ModelKind::Gpt);
}

#[test]
fn lstm_overfits_and_reproduces_the_text() {
    overfits_and_reproduces(ModelKind::Lstm);
}

#[test]
fn gru_overfits_and_reproduces_the_text() {
    overfits_and_reproduces(ModelKind::Gru);
}

#[test]
fn validation_split_is_the_end_of_the_text_and_never_reaches_training() {
    // "ab" fills the first 90%, "cd" the last 10%.
    let text = format!("{}{}", "ab".repeat(450), "cd".repeat(50));
    let trainer = Trainer::new(text, Config::tiny(), cpu()).unwrap();
    let Dataset { train, val } = trainer.data();
    let decode = |ids: &[u32]| trainer.tokenizer.decode(ids);
    assert_eq!((train.len(), val.len()), (900, 100));
    assert!(decode(train).chars().all(|c| c == 'a' || c == 'b'));
    assert!(decode(val).chars().all(|c| c == 'c' || c == 'd'));
    let device = trainer.device().clone();
    for seed in 0..20 {
        let (inputs, targets) = batch(train, 16, 32, 0..16, &mut Rng::new(seed), &device);
        for t in [inputs, targets] {
            let ids: Vec<i64> = t.into_data().convert::<i64>().try_into_vec().unwrap();
            assert!(ids.iter().all(|&id| decode(&[id as u32]).as_str() < "c"));
        }
    }
}

#[test]
fn parameter_count_formula_matches_the_modules() {
    for model in [ModelKind::Gpt, ModelKind::Lstm, ModelKind::Gru] {
        for config in [
            tiny(model),
            Config {
                model,
                tie_embeddings: false,
                ..Config::baby_gpt()
            },
        ] {
            let built = LanguageModel::new(&config, 65, &cpu());
            assert_eq!(
                config.parameter_count(65),
                built.num_params() as u64,
                "{config:?}"
            );
        }
    }
}

fn assert_close(a: &[f32], b: &[f32], tolerance: f32) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tolerance * (1.0 + y.abs()), "{x} vs {y}");
    }
}

#[test]
fn incremental_decoding_matches_a_full_forward_pass() {
    for model in [ModelKind::Gpt, ModelKind::Lstm, ModelKind::Gru] {
        let mut trainer = Trainer::new(repeated_text(), tiny(model), cpu()).unwrap();
        pollster::block_on(trainer.train_steps(10)).unwrap();
        let model = trainer.inference_model();
        let device = cpu().inner();
        let ids = trainer.tokenizer.encode("the lazy dog jumps").ids;
        let mut state = model.start();
        let mut logits = model.feed(&mut state, &ids[..6], &device);
        for &id in &ids[6..] {
            logits = model.feed(&mut state, &[id], &device);
        }
        let incremental = pollster::block_on(read_floats(logits)).unwrap();
        assert_close(&incremental, &last_logits(&model, &ids), 1e-4);
    }
}

#[test]
fn gpt_attention_is_causal() {
    let trainer = Trainer::new(repeated_text(), Config::tiny(), cpu()).unwrap();
    let model = trainer.inference_model();
    let ids = trainer.tokenizer.encode("the quick brown").ids;
    let mut changed = ids.clone();
    *changed.last_mut().unwrap() = ids[0];
    let device = cpu().inner();
    let prefix = |ids: &[u32]| -> Vec<f32> {
        let logits: Tensor<3> = model.forward(tokens(ids, &device));
        let [_, time, vocab] = logits.dims();
        let early: Tensor<3> = logits.slice([0..1, 0..time - 1, 0..vocab]);
        pollster::block_on(read_floats(early)).unwrap()
    };
    assert_eq!(
        prefix(&ids),
        prefix(&changed),
        "a later token changed earlier logits"
    );
}

#[test]
fn bad_checkpoint_bytes_are_refused_with_a_reason() {
    let mut trainer = Trainer::new(repeated_text(), Config::tiny(), cpu()).unwrap();
    pollster::block_on(trainer.train_steps(2)).unwrap();
    let bytes = pollster::block_on(checkpoint::save(&trainer)).unwrap();
    let error = |bytes: &[u8]| {
        let error = checkpoint::load(bytes, cpu()).err().expect("refused");
        assert_eq!(error.kind, ErrorKind::Checkpoint, "{error}");
        error.message
    };

    assert!(error(b"").contains("not a Kindling model"));
    assert!(error(b"PK\x03\x04 some zip file").contains("not a Kindling model"));
    assert!(error(&bytes[..bytes.len() / 2]).contains("truncated"));
    assert!(error(&bytes[..12]).contains("truncated"));
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    assert!(error(&flipped).contains("corrupted"));
    let mut flipped_early = bytes.clone();
    flipped_early[30] ^= 0x01;
    assert!(error(&flipped_early).contains("corrupted"));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(error(&longer).contains("corrupted"));
    let mut newer = bytes.clone();
    newer[8] = 9;
    assert!(error(&newer).contains("format version 9"));
}

#[test]
fn a_diverging_run_restores_the_last_good_weights() {
    let config = Config {
        learning_rate: 1e6,
        min_learning_rate: 1e6,
        warmup_steps: 0,
        grad_clip: 0.0,
        ..Config::tiny()
    };
    let mut trainer = Trainer::new(repeated_text(), config, cpu()).unwrap();
    let ids = trainer.tokenizer.encode("the").ids;
    // The logits at each step, one step per call: a divergence must go back to one of them.
    let mut seen = vec![last_logits(&trainer.inference_model(), &ids)];
    let mut outcome = Ok(());
    for _ in 0..100 {
        match pollster::block_on(trainer.train_steps(1)) {
            Ok(_) => seen.push(last_logits(&trainer.inference_model(), &ids)),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    let Err(Error {
        kind: ErrorKind::Diverged,
        step: Some(step),
        ..
    }) = outcome
    else {
        panic!("a learning rate of a million should diverge: {outcome:?}");
    };
    assert_eq!(trainer.step(), step);
    let restored = last_logits(&trainer.inference_model(), &ids);
    assert!(restored.iter().all(|x| x.is_finite()), "{restored:?}");
    assert_eq!(restored, seen[step]);
    // It went back past the step it trained last.
    assert!(
        seen.len() > step + 1,
        "diverged at step {step}, {} seen",
        seen.len()
    );
}

/// A budget run that measured its speed moves the end of its schedule: the rate then falls to
/// its minimum at the new last step, where `keep_best` evaluates.
#[test]
fn a_retargeted_run_ends_its_schedule_at_the_new_step() {
    let config = Config {
        decay: Decay::Linear,
        min_learning_rate: 0.0,
        warmup_steps: 2,
        max_steps: 40,
        eval_interval: 0,
        keep_best: true,
        ..Config::tiny()
    };
    let peak = config.learning_rate;
    let mut trainer = Trainer::new(repeated_text(), config, cpu()).unwrap();
    assert!(pollster::block_on(trainer.train_steps(10))
        .unwrap()
        .val_loss
        .is_none());
    let refused = trainer.retarget(10).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Config);
    let refused = &refused.fields[0];
    assert_eq!(
        (refused.field.as_str(), refused.kind),
        ("maxSteps", Problem::OutOfRange)
    );
    trainer.retarget(20).unwrap();
    let before_end = pollster::block_on(trainer.train_steps(9)).unwrap();
    assert!(before_end.val_loss.is_none());
    // Step 18's rate: two of the 18 decay steps left.
    assert!(
        (before_end.lr - peak * 2.0 / 18.0).abs() < 1e-12,
        "{}",
        before_end.lr
    );
    let end = pollster::block_on(trainer.train_steps(1)).unwrap();
    assert_eq!(end.step, 20);
    assert!(end.val_loss.is_some(), "keep_best evaluates the last step");
    assert!((end.lr - peak / 18.0).abs() < 1e-12, "{}", end.lr);
}

/// A model far too large for its text memorizes it and its validation loss turns back up; with
/// `keep_best` the run ends on the weights of its best evaluation, and says from which step.
#[test]
fn keep_best_ends_a_run_on_its_best_evaluation() {
    let text: String = (0..40)
        .map(|i| {
            format!(
                "{} {} ",
                i * 7919 % 1000,
                ["cat", "sat", "mat", "hat"][i % 4]
            )
        })
        .collect();
    let config = Config {
        n_embd: 48,
        block_size: 16,
        learning_rate: 1e-2,
        min_learning_rate: 1e-2,
        warmup_steps: 0,
        max_steps: 200,
        eval_interval: 20,
        keep_best: true,
        ..Config::tiny()
    };
    let mut trainer = Trainer::new(text, config, cpu()).unwrap();
    let mut last = None;
    while trainer.step() < 200 {
        last = Some(pollster::block_on(trainer.train_steps(20)).unwrap());
    }
    let last = last.unwrap();
    let evaluated: Vec<(usize, f32)> = trainer
        .history()
        .iter()
        .filter_map(|p| p.val_loss.map(|v| (p.step, v)))
        .collect();
    let (best_step, best_val) = evaluated
        .iter()
        .copied()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert!(best_step < 200, "validation never turned up: {evaluated:?}");
    assert_eq!(last.kept_best_from, Some(best_step), "{evaluated:?}");
    let now = pollster::block_on(trainer.evaluate()).unwrap();
    assert!(
        (now - best_val).abs() < 1e-6,
        "{now} vs the best {best_val}"
    );
    // A run without it keeps its last weights.
    assert!(last.val_loss.unwrap() > best_val);
}

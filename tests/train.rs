//! Training behaviour: the models really learn, runs are reproducible, checkpoints resume exactly.

use kindling::config::{resolve, Config, ModelKind};
use kindling::device::cpu;
use kindling::sample::{Generator, SamplingOptions};
use kindling::{checkpoint, Trainer};

const PHRASE: &str = "the quick brown fox jumps over the lazy dog. ";

fn repeated_text() -> String {
    PHRASE.repeat(60)
}

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
    let mut generator = Generator::new(
        trainer.inference_model(),
        trainer.device().clone().inner(),
        trainer.tokenizer.clone(),
        ids,
        options,
    );
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

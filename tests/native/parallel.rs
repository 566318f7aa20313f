//! Data-parallel training: replicas computing shards of each batch train the model as one
//! trainer computing the whole batch would.

use crate::common::repeated_text;

use kindling::config::{Config, ModelKind};
use kindling::device::cpu;
use kindling::parallel::{Helpers, Shard, ShardGradients};
use kindling::params::flat_weights;
use kindling::{checkpoint, ErrorKind, TrainError, Trainer};

/// Helper replicas in this process; each computes its shard when the future is polled (a
/// browser's helpers run meanwhile, in other workers).
struct Replicas(Vec<Trainer>);

impl Helpers for Replicas {
    fn count(&self) -> usize {
        self.0.len()
    }

    async fn gradients(
        &mut self,
        step: usize,
        shards: usize,
        weights: Vec<f32>,
    ) -> Result<Vec<ShardGradients>, String> {
        let mut out = Vec::new();
        for (i, replica) in self.0.iter_mut().take(shards - 1).enumerate() {
            let shard = Shard {
                rank: i + 1,
                count: shards,
            };
            let gradients = replica.shard_gradients(step, shard, &weights).await;
            out.push(gradients.map_err(|e| e.message)?);
        }
        Ok(out)
    }
}

fn config(model: ModelKind) -> Config {
    Config {
        model,
        batch_size: 7, // shards of 2, 2 and 3 rows
        eval_interval: 0,
        ..Config::tiny()
    }
}

fn trainer(config: &Config) -> Trainer {
    Trainer::new(repeated_text(), config.clone(), cpu()).unwrap()
}

/// The same model: tests run in parallel and share the CPU device's seed, so two trainers built
/// from one config may start from different weights.
fn copy(trainer: &Trainer) -> Trainer {
    let bytes = pollster::block_on(checkpoint::save(trainer)).unwrap();
    checkpoint::load(&bytes, cpu()).unwrap()
}

fn weights(trainer: &Trainer) -> Vec<f32> {
    pollster::block_on(flat_weights(trainer.model())).unwrap()
}

fn assert_close(a: &[f32], b: &[f32], tolerance: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / (1.0 + x.abs()))
        .fold(0.0, f32::max);
    assert!(worst < tolerance, "{what}: differ by up to {worst}");
}

#[test]
fn three_replicas_train_as_one_trainer() {
    for model in [ModelKind::Gpt, ModelKind::Lstm] {
        let config = config(model);
        let mut alone = trainer(&config);
        let mut shared = copy(&alone);
        let mut helpers = Replicas(vec![trainer(&config), trainer(&config)]);
        let untrained = pollster::block_on(alone.evaluate()).unwrap();
        for _ in 0..10 {
            let a = pollster::block_on(alone.train_steps(3)).unwrap();
            let b = pollster::block_on(shared.train_steps_with(3, &mut helpers)).unwrap();
            assert_eq!(a.step, b.step);
            assert_close(&[a.train_loss], &[b.train_loss], 1e-5, "loss");
        }
        assert_close(&weights(&alone), &weights(&shared), 1e-4, "weights");
        let (a, b) = (alone.evaluate(), shared.evaluate());
        let (a, b) = (
            pollster::block_on(a).unwrap(),
            pollster::block_on(b).unwrap(),
        );
        assert_close(&[a], &[b], 1e-5, "validation loss");
        assert!(
            a < 0.9 * untrained,
            "{model:?} did not learn: val loss {untrained} -> {a}"
        );
    }
}

#[test]
fn a_replica_of_another_model_fails_the_call_and_keeps_the_weights() {
    let config = config(ModelKind::Gpt);
    let mut shared = trainer(&config);
    pollster::block_on(shared.train_steps(3)).unwrap();
    let before = weights(&shared);
    let bigger = Config {
        n_embd: 64,
        ..config.clone()
    };
    let mut helpers = Replicas(vec![trainer(&bigger)]);
    let error = pollster::block_on(shared.train_steps_with(2, &mut helpers)).unwrap_err();
    let TrainError::Helper(message) = error else {
        panic!("expected a helper error, got {error:?}")
    };
    assert!(message.contains("another model"), "{message}");
    assert_eq!(shared.step(), 3);
    assert_eq!(weights(&shared), before);
}

#[test]
fn a_replica_of_the_same_shape_on_other_text_is_refused() {
    let config = config(ModelKind::Gpt);
    let mut shared = trainer(&config);
    // The same characters, so the same vocabulary and shapes, in another order.
    let reversed: String = repeated_text().chars().rev().collect();
    let other = Trainer::new(reversed, config.clone(), cpu()).unwrap();
    let mut helpers = Replicas(vec![other]);
    let error = pollster::block_on(shared.train_steps_with(1, &mut helpers)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Helper, "{error}");
    assert!(error.to_string().contains("another model"), "{error}");
    assert_eq!(shared.step(), 0);
}

#[test]
fn a_shard_outside_the_batch_is_refused() {
    let config = config(ModelKind::Gpt);
    let mut replica = trainer(&config);
    let weights = weights(&replica);
    for (rank, count) in [(2, 2), (0, 8)] {
        let shard = Shard { rank, count };
        let result = pollster::block_on(replica.shard_gradients(0, shard, &weights));
        let error = result.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Argument);
        assert!(error.message.contains("does not fit"), "{error}");
    }
}

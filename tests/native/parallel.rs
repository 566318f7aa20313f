//! Data-parallel training: replicas computing shards of each batch train the model as one
//! trainer computing the whole batch would.

use crate::common::repeated_text;

use kindling::config::{Config, ModelKind};
use kindling::device::cpu;
use kindling::model::lora;
use kindling::parallel::{Helpers, Shard, ShardGradients};
use kindling::params::flat_weights;
use kindling::{checkpoint, Error, ErrorKind, Trainer};

/// Helper replicas in this process; each computes its shard when the future is polled (a
/// browser's helpers run meanwhile, in other workers). The second field: how many weights the
/// last call sent.
struct Replicas(Vec<Trainer>, usize);

impl Helpers for Replicas {
    fn count(&self) -> usize {
        self.0.len()
    }

    async fn gradients(
        &mut self,
        step: usize,
        shards: usize,
        weights: Vec<f32>,
    ) -> Result<Vec<ShardGradients>, Error> {
        self.1 = weights.len();
        let mut out = Vec::new();
        for (i, replica) in self.0.iter_mut().take(shards - 1).enumerate() {
            let shard = Shard {
                rank: i + 1,
                count: shards,
            };
            out.push(replica.shard_gradients(step, shard, &weights).await?);
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
        let mut helpers = Replicas(vec![trainer(&config), trainer(&config)], 0);
        let untrained = pollster::block_on(alone.evaluate()).unwrap();
        for i in 0..10 {
            if i == 5 {
                // A budget run moves its schedule's end; the helpers' replicas keep theirs.
                alone.retarget(60).unwrap();
                shared.retarget(60).unwrap();
            }
            let a = pollster::block_on(alone.train_steps(3)).unwrap();
            let b = pollster::block_on(shared.train_steps_with(3, &mut helpers)).unwrap();
            assert_eq!(a.step, b.step);
            assert_close(&[a.train_loss], &[b.train_loss], 1e-5, "loss");
        }
        let trainable = lora::split(shared.model()).trainable;
        assert_eq!(helpers.1 as u64, trainable, "every weight travels");
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
fn lora_replicas_exchange_only_the_adapters_and_train_as_one() {
    let base = trainer(&config(ModelKind::Gpt));
    let lora_config = Config {
        lora_rank: 2,
        ..base.config.clone()
    };
    let mut alone = Trainer::fine_tune(copy(&base), repeated_text(), lora_config).unwrap();
    let mut shared = copy(&alone);
    let mut helpers = Replicas(vec![copy(&alone), copy(&alone)], 0);
    for _ in 0..3 {
        let a = pollster::block_on(alone.train_steps(2)).unwrap();
        let b = pollster::block_on(shared.train_steps_with(2, &mut helpers)).unwrap();
        assert_close(&[a.train_loss], &[b.train_loss], 1e-5, "loss");
    }
    let split = lora::split(shared.model());
    assert_eq!(helpers.1 as u64, split.trainable);
    assert!(split.trainable < split.frozen / 4, "{split:?}");
    assert_close(&weights(&alone), &weights(&shared), 1e-4, "weights");
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
    let mut helpers = Replicas(vec![trainer(&bigger)], 0);
    let error = pollster::block_on(shared.train_steps_with(2, &mut helpers)).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Helper, "{error}");
    assert!(error.message.contains("another model"), "{error}");
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
    let mut helpers = Replicas(vec![other], 0);
    let error = pollster::block_on(shared.train_steps_with(1, &mut helpers)).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Helper, "{error}");
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

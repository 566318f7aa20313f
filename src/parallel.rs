//! Data-parallel training without shared memory: other workers each hold a replica of the
//! model and compute the gradient of their rows of the batch; the trainer adds them to its own
//! and takes one optimizer step, as if it had computed the whole batch.
//!
//! Why workers exchanging gradients, not threads (rayon + wasm-bindgen-rayon): wasm threads
//! need `SharedArrayBuffer`, i.e. a cross-origin-isolated page (COOP/COEP headers, which a blog
//! embed cannot set), and a std rebuilt with atomics on nightly Rust. Workers work in any page,
//! on stable Rust, with the one build. The price is a copy of the trainable weights to each
//! helper and of its gradient back, 4 bytes per trainable parameter each way per step.

use std::future::Future;
use std::ops::Range;

use crate::error::Error;

/// The rows of each batch one replica computes when `count` share a step.
#[derive(Clone, Copy, Debug)]
pub struct Shard {
    pub rank: usize,
    pub count: usize,
}

impl Shard {
    pub const WHOLE: Shard = Shard { rank: 0, count: 1 };

    pub fn rows(self, batch: usize) -> Range<usize> {
        self.rank * batch / self.count..(self.rank + 1) * batch / self.count
    }
}

/// One shard's loss and gradient (flattened as `params::flat_gradients` lays them out), each
/// already scaled by its share of the batch, so that the shards' sums are the whole batch's
/// mean loss and its gradient.
#[derive(Debug)]
pub struct ShardGradients {
    pub loss: f32,
    /// Every trainable parameter's gradient, flattened and concatenated in the model's
    /// visiting order.
    pub grads: Vec<f32>,
    /// The replica's fingerprint of its config and text: a replica of the same shape trained
    /// on other text or settings would send plausible but wrong gradients.
    pub model: u32,
}

/// Replicas elsewhere that compute the other shards of each step.
pub trait Helpers {
    /// How many; 0 trains alone.
    fn count(&self) -> usize;

    /// Asks helpers 1..`shards` for their shards of step `step` at `weights` (flattened like
    /// the gradients). They must start before the returned future is first polled: the
    /// trainer computes its own shard meanwhile. An error says why a helper failed; the
    /// trainer reports its message with kind `Helper`, whatever kind it had.
    fn gradients(
        &mut self,
        step: usize,
        shards: usize,
        weights: Vec<f32>,
    ) -> impl Future<Output = Result<Vec<ShardGradients>, Error>>;
}

/// No helpers: the trainer computes every row itself.
pub struct Alone;

impl Helpers for Alone {
    fn count(&self) -> usize {
        0
    }

    async fn gradients(
        &mut self,
        _: usize,
        _: usize,
        _: Vec<f32>,
    ) -> Result<Vec<ShardGradients>, Error> {
        Ok(Vec::new())
    }
}

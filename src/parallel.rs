//! Data-parallel training without shared memory: other workers each hold a replica of the
//! model and compute the gradient of their rows of the batch; the trainer adds them to its own
//! and takes one optimizer step, as if it had computed the whole batch.
//!
//! Why workers exchanging gradients, not threads (rayon + wasm-bindgen-rayon): wasm threads
//! need `SharedArrayBuffer`, i.e. a cross-origin-isolated page (COOP/COEP headers, which a blog
//! embed cannot set), and a std rebuilt with atomics on nightly Rust. Workers work in any page,
//! on stable Rust, with the one build. The price is a copy of the weights to each helper and
//! of its gradient back, 4 bytes per parameter each way per step.

use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

use crate::device::{flattened, parameters, place_values, read_floats};

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

/// One shard's loss and gradient, each already scaled by its share of the batch, so that the
/// shards' sums are the whole batch's mean loss and its gradient.
#[derive(Debug)]
pub struct ShardGradients {
    pub loss: f32,
    /// Every parameter's gradient, flattened and concatenated in the model's visiting order.
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
    /// trainer computes its own shard meanwhile.
    fn gradients(
        &mut self,
        step: usize,
        shards: usize,
        weights: Vec<f32>,
    ) -> impl Future<Output = Result<Vec<ShardGradients>, String>>;
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
    ) -> Result<Vec<ShardGradients>, String> {
        Ok(Vec::new())
    }
}

/// Every float parameter's values, in the layout of the gradients.
pub async fn flat_weights<M: Module>(module: &M) -> Result<Vec<f32>, String> {
    // Without autodiff: concatenating tracked parameters would record a graph for nothing.
    let values = flattened(module)
        .into_iter()
        .map(|(_, value)| value.inner());
    read_concatenated(values.collect()).await
}

/// Every parameter's gradient in `grads`, flattened and concatenated in visiting order; zeros
/// for a parameter without one.
pub async fn flat_gradients<M: Module>(
    module: &M,
    grads: &GradientsParams,
) -> Result<Vec<f32>, String> {
    struct Grads<'a>(&'a GradientsParams, Vec<Tensor<1>>);
    impl ModuleVisitor for Grads<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val().inner();
            let len = value.shape().num_elements();
            let grad = self
                .0
                .get::<D>(param.id)
                .unwrap_or_else(|| value.zeros_like());
            self.1.push(grad.reshape([len]));
        }
    }
    let mut collected = Grads(grads, Vec::new());
    module.visit(&mut collected);
    read_concatenated(collected.1).await
}

async fn read_concatenated(tensors: Vec<Tensor<1>>) -> Result<Vec<f32>, String> {
    if tensors.is_empty() {
        return Ok(Vec::new());
    }
    read_floats(Tensor::cat(tensors, 0)).await
}

/// Replaces each gradient in `grads` by its values in `flat` (laid out as `flat_gradients`
/// writes, from a module of the same shape), on `device` (without autodiff, where gradients
/// live). Parameters without a gradient stay without one, as the optimizer expects.
pub fn replace_gradients<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    flat: &[f32],
    device: &Device,
) {
    struct Replace<'a> {
        flat: &'a [f32],
        device: &'a Device,
        grads: &'a mut GradientsParams,
    }
    impl ModuleVisitor for Replace<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let shape = param.val().shape();
            let (values, rest) = self.flat.split_at(shape.num_elements());
            self.flat = rest;
            if self.grads.remove::<D>(param.id).is_some() {
                let grad =
                    Tensor::<D>::from_data(TensorData::new(values.to_vec(), shape), self.device);
                self.grads.register(param.id, grad);
            }
        }
    }
    module.visit(&mut Replace {
        flat,
        device,
        grads,
    });
}

/// A copy of `module` with its parameters' values replaced by `flat` (laid out as
/// `flat_weights` writes).
pub fn load_weights<M: Module>(module: &M, flat: &[f32], device: &Device) -> Result<M, String> {
    let params = parameters(module);
    let expected: usize = params.iter().map(|(_, len)| len).sum();
    if flat.len() != expected {
        return Err(format!(
            "a replica sent {} values where this model has {expected} parameters: it holds another model",
            flat.len()
        ));
    }
    let mut rest = flat;
    let mut values = HashMap::with_capacity(params.len());
    for (id, len) in params {
        let (head, tail) = rest.split_at(len);
        values.insert(id, head.to_vec());
        rest = tail;
    }
    Ok(place_values(module.clone(), values, device))
}

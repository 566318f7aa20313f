//! AdamW as nanoGPT configures it (PyTorch's formula; weight decay on matrices and embeddings,
//! never on biases or LayerNorm gains), with moments that can be saved from a WebGPU device.
//!
//! Why not burn's `AdamW` + `ModuleOptimizer`: their state is written and restored only
//! synchronously, and restored on burn's `Device::default()`. In a browser with WebGPU compiled
//! in, that default is the WebGPU device, so a CPU model restored from bytes would put its
//! moments on a GPU that may not exist, and a WebGPU model could never save its moments (a
//! browser cannot block on a GPU read). Here the moments live on the model's own device, keyed
//! by parameter, and `checkpoint::optimizer` reads them back asynchronously.

use std::collections::HashMap;

use burn::module::ParamId;
use burn::tensor::Tensor;

use crate::config::Config;

/// One parameter's state: how many updates it has had and its two moments, flattened, on the
/// model's device (without autodiff).
#[derive(Clone)]
pub struct Moments {
    pub time: u32,
    pub first: Tensor<1>,
    pub second: Tensor<1>,
}

#[derive(Clone)]
pub struct AdamW {
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    weight_decay: f64,
    moments: HashMap<ParamId, Moments>,
}

impl AdamW {
    pub fn new(config: &Config) -> Self {
        AdamW {
            beta1: config.beta1 as f32,
            beta2: config.beta2 as f32,
            epsilon: 1e-8,
            weight_decay: config.weight_decay,
            moments: HashMap::new(),
        }
    }

    /// `param - lr * (m̂ / (√v̂ + ε) + decay * param)`, on flattened tensors.
    pub fn update(
        &mut self,
        id: ParamId,
        param: Tensor<1>,
        grad: Tensor<1>,
        lr: f64,
        decay: bool,
    ) -> Tensor<1> {
        #[cfg(feature = "webgpu")]
        if crate::kernels::on_gpu(&param.device()) {
            return self.update_on_gpu(id, param, grad, lr, decay);
        }
        let (b1, b2) = (self.beta1, self.beta2);
        let moments = match self.moments.remove(&id) {
            Some(m) => Moments {
                time: m.time + 1,
                first: m
                    .first
                    .mul_scalar(b1)
                    .add(grad.clone().mul_scalar(1.0 - b1)),
                second: m
                    .second
                    .mul_scalar(b2)
                    .add(grad.square().mul_scalar(1.0 - b2)),
            },
            None => Moments {
                time: 1,
                first: grad.clone().mul_scalar(1.0 - b1),
                second: grad.square().mul_scalar(1.0 - b2),
            },
        };
        let time = moments.time as i32;
        let first = moments.first.clone().div_scalar(1.0 - b1.powi(time));
        let second = moments.second.clone().div_scalar(1.0 - b2.powi(time));
        let delta = first.div(second.sqrt().add_scalar(self.epsilon));
        self.moments.insert(id, moments);
        let decay_rate = self.decay_rate(lr, decay);
        let param = if decay_rate == 0.0 {
            param
        } else {
            param.mul_scalar(1.0 - decay_rate)
        };
        param - delta.mul_scalar(lr)
    }

    /// The fraction of a parameter the weight decay takes off at learning rate `lr`.
    fn decay_rate(&self, lr: f64, decay: bool) -> f64 {
        if decay {
            lr * self.weight_decay
        } else {
            0.0
        }
    }

    /// `update` in one kernel (`kernels::adamw`).
    #[cfg(feature = "webgpu")]
    fn update_on_gpu(
        &mut self,
        id: ParamId,
        param: Tensor<1>,
        grad: Tensor<1>,
        lr: f64,
        decay: bool,
    ) -> Tensor<1> {
        let earlier = self.moments.remove(&id);
        let time = earlier.as_ref().map_or(1, |m| m.time + 1);
        let (b1, b2) = (self.beta1, self.beta2);
        let step = crate::kernels::adamw::Step {
            beta1: b1,
            beta2: b2,
            epsilon: self.epsilon,
            lr: lr as f32,
            decay: self.decay_rate(lr, decay) as f32,
            corrections: [1.0 - b1.powi(time as i32), 1.0 - b2.powi(time as i32)],
        };
        let moments = earlier.map(|m| [m.first, m.second]);
        let [param, first, second] = crate::kernels::adamw::update(param, grad, moments, step);
        let moments = Moments {
            time,
            first,
            second,
        };
        self.moments.insert(id, moments);
        param
    }

    /// The state of parameter `id`, if it has been updated.
    pub fn moments(&self, id: &ParamId) -> Option<&Moments> {
        self.moments.get(id)
    }

    /// Sets the state of parameter `id` (restoring a checkpoint).
    pub fn set_moments(&mut self, id: ParamId, moments: Moments) {
        self.moments.insert(id, moments);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{Module, ParamGroup};
    use burn::optim::GradientsParams;

    use crate::params::map;

    /// AdamW alone over every parameter, as `Optimizer::step` takes it without Muon.
    fn adamw_step<M: Module>(
        adamw: &mut AdamW,
        lr: f64,
        module: M,
        mut grads: GradientsParams,
    ) -> M {
        map(module, &mut grads, |id, param, grad, rank| {
            let updated = adamw.update(id, param.inner(), grad?, lr, rank >= 2);
            Some(Tensor::from_inner(updated))
        })
    }
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamWConfig, ModuleOptimizer};

    use crate::device::{cpu, read_floats};
    use burn::tensor::TensorData;

    fn config() -> Config {
        Config {
            weight_decay: 0.1,
            ..Config::tiny()
        }
    }

    fn grads(layer: &Linear, step: usize) -> GradientsParams {
        let device = cpu();
        let input = Tensor::<2>::from_data(
            TensorData::new(
                (0..12).map(|i| ((i * 7 + step) % 5) as f32 - 2.0).collect(),
                [3, 4],
            ),
            &device,
        );
        let loss = layer.forward(input).powi_scalar(2).mean();
        GradientsParams::from_grads(loss.backward(), layer)
    }

    fn values(layer: &Linear) -> Vec<f32> {
        let weight = layer.weight.val().reshape([12]);
        let bias = layer.bias.as_ref().expect("with bias").val();
        pollster::block_on(read_floats(Tensor::cat(vec![weight, bias], 0))).unwrap()
    }

    /// burn's own AdamW, grouped the way nanoGPT decays: never biases.
    fn burn_adamw(config: &Config) -> ModuleOptimizer {
        let adamw = |decay: f64| {
            AdamWConfig::new()
                .with_beta_1(config.beta1 as f32)
                .with_beta_2(config.beta2 as f32)
                .with_epsilon(1e-8)
                .with_weight_decay(decay as f32)
                .build()
        };
        ModuleOptimizer::from(adamw(config.weight_decay)).with_group(
            ParamGroup::from_any_predicates(vec!["bias"]),
            adamw(0.0),
            None,
        )
    }

    #[test]
    fn matches_burns_adamw_with_decay_on_matrices_only() {
        let config = config();
        let start = LinearConfig::new(4, 3).init(&cpu());
        let (mut ours, mut theirs) = (start.clone(), start);
        let (mut adamw, mut reference) = (AdamW::new(&config), burn_adamw(&config));
        for step in 0..4 {
            let lr = 0.05 / (step + 1) as f64;
            ours = adamw_step(&mut adamw, lr, ours.clone(), grads(&ours, step));
            theirs = reference.step(lr, theirs.clone(), grads(&theirs, step));
        }
        let (a, b) = (values(&ours), values(&theirs));
        assert_ne!(values(&LinearConfig::new(4, 3).init(&cpu())), a);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
        }
    }
}

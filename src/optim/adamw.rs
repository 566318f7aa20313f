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
    /// Each parameter's; on a GPU, views of `flat`'s.
    moments: HashMap<ParamId, Moments>,
    /// A GPU's moments of every parameter end to end, as `update_all` last laid them out.
    #[cfg(feature = "webgpu")]
    flat: Option<Flat>,
}

/// Moments end to end: `ids`' parameters in that order, all `time` updates old.
#[cfg(feature = "webgpu")]
#[derive(Clone)]
struct Flat {
    ids: Vec<ParamId>,
    time: u32,
    first: Tensor<1>,
    second: Tensor<1>,
}

impl AdamW {
    pub fn new(config: &Config) -> Self {
        AdamW {
            beta1: config.beta1 as f32,
            beta2: config.beta2 as f32,
            epsilon: 1e-8,
            weight_decay: config.weight_decay,
            moments: HashMap::new(),
            #[cfg(feature = "webgpu")]
            flat: None,
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
        {
            if self
                .flat
                .as_ref()
                .is_some_and(|flat| flat.ids.contains(&id))
            {
                self.flat = None; // its moments change one by one
            }
            if crate::kernels::on_gpu(&param.device()) {
                return self.update_on_gpu(id, param, grad, lr, decay);
            }
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
        let decayed = if decay { param.dims()[0] } else { 0 };
        let step = self.gpu_step(lr, time, decayed);
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

    /// The kernel's constants for update number `time` at rate `lr`, the first `decayed` values
    /// decaying.
    #[cfg(feature = "webgpu")]
    fn gpu_step(&self, lr: f64, time: u32, decayed: usize) -> crate::kernels::adamw::Step {
        let (b1, b2) = (self.beta1, self.beta2);
        crate::kernels::adamw::Step {
            beta1: b1,
            beta2: b2,
            epsilon: self.epsilon,
            lr: lr as f32,
            decay: self.decay_rate(lr, true) as f32,
            decayed,
            corrections: [1.0 - b1.powi(time as i32), 1.0 - b2.powi(time as i32)],
        }
    }

    /// `update` of every parameter of `params` (id, value, gradient, whether it decays) on a GPU,
    /// where a launch a parameter was most of the step's: those whose lengths keep the views
    /// aligned (`ALIGNED_LEN`) in one launch, values, gradients and moments end to end, those
    /// that decay first; the others one by one. The moments stay end to end for the next step
    /// (and views of them per parameter, for checkpoints). `None`, the moments as they were (the
    /// end-to-end copy forgotten), off a GPU or where some parameters have moments and others
    /// none or older ones (a partial restore).
    #[cfg(feature = "webgpu")]
    pub fn update_all(
        &mut self,
        lr: f64,
        params: &[(ParamId, Tensor<1>, Tensor<1>, bool)],
    ) -> Option<Vec<Tensor<1>>> {
        use crate::params::{concatenate, ALIGNED_LEN};
        if !crate::kernels::on_gpu(&params.first()?.1.device()) {
            return None;
        }
        let aligned = |i: &usize| params[*i].1.dims()[0].is_multiple_of(ALIGNED_LEN);
        let (mut order, apart): (Vec<usize>, Vec<usize>) = (0..params.len()).partition(aligned);
        if order.is_empty() {
            return None;
        }
        order.sort_by_key(|&i| !params[i].3); // stable: the decaying ones first
        let ids: Vec<ParamId> = order.iter().map(|&i| params[i].0).collect();
        let earlier = self.joined_moments(&ids)?;
        let time = earlier.as_ref().map_or(1, |(time, _)| time + 1);
        let lengths: Vec<usize> = order.iter().map(|&i| params[i].1.dims()[0]).collect();
        let decayed = order.iter().zip(&lengths).filter(|(&i, _)| params[i].3);
        let step = self.gpu_step(lr, time, decayed.map(|(_, n)| n).sum());
        let joined = |part: fn(&(ParamId, Tensor<1>, Tensor<1>, bool)) -> Tensor<1>| {
            concatenate(order.iter().map(|&i| part(&params[i])).collect())
        };
        let (values, grads) = (joined(|p| p.1.clone()), joined(|p| p.2.clone()));
        let moments = earlier.map(|(_, moments)| moments);
        let [values, first, second] = crate::kernels::adamw::update(values, grads, moments, step);
        let mut updated = vec![None; params.len()];
        for i in apart {
            let (id, param, grad, decay) = params[i].clone();
            updated[i] = Some(self.update(id, param, grad, lr, decay));
        }
        let mut start = 0;
        for (&i, &n) in order.iter().zip(&lengths) {
            let part = |t: &Tensor<1>| t.clone().slice(start..start + n);
            updated[i] = Some(part(&values));
            let (first, second) = (part(&first), part(&second));
            let moments = Moments {
                time,
                first,
                second,
            };
            self.moments.insert(params[i].0, moments);
            start += n;
        }
        self.flat = Some(Flat {
            ids,
            time,
            first,
            second,
        });
        updated.into_iter().collect()
    }

    /// The moments of `ids`' parameters end to end, with their age: the flat ones of the last
    /// `update_all` where it laid out the same parameters, else joined from each parameter's.
    /// `Some(None)`: none has any yet. `None`: some have, or differ in age.
    #[cfg(feature = "webgpu")]
    #[allow(clippy::type_complexity)]
    fn joined_moments(&mut self, ids: &[ParamId]) -> Option<Option<(u32, [Tensor<1>; 2])>> {
        if let Some(flat) = self.flat.take().filter(|flat| flat.ids == ids) {
            return Some(Some((flat.time, [flat.first, flat.second])));
        }
        let each: Vec<_> = ids.iter().map(|id| self.moments.get(id)).collect();
        if each.iter().all(Option::is_none) {
            return Some(None);
        }
        let each: Vec<&Moments> = each.into_iter().collect::<Option<_>>()?;
        let time = each[0].time;
        if each.iter().any(|m| m.time != time) {
            return None;
        }
        let join = |part: fn(&Moments) -> Tensor<1>| {
            crate::params::concatenate(each.iter().map(|m| part(m)).collect())
        };
        Some(Some((
            time,
            [join(|m| m.first.clone()), join(|m| m.second.clone())],
        )))
    }

    /// The state of parameter `id`, if it has been updated.
    pub fn moments(&self, id: &ParamId) -> Option<&Moments> {
        self.moments.get(id)
    }

    /// Sets the state of parameter `id` (restoring a checkpoint).
    pub fn set_moments(&mut self, id: ParamId, moments: Moments) {
        #[cfg(feature = "webgpu")]
        {
            self.flat = None;
        }
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

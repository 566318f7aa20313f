//! AdamW as nanoGPT configures it (PyTorch's formula; weight decay on matrices and embeddings,
//! never on biases or LayerNorm gains), with moments that can be saved from a WebGPU device.
//!
//! Why not burn's `AdamW` + `ModuleOptimizer`: their state is written and restored only
//! synchronously, and restored on burn's `Device::default()`. In a browser with WebGPU compiled
//! in, that default is the WebGPU device, so a CPU model restored from bytes would put its
//! moments on a GPU that may not exist, and a WebGPU model could never save its moments (a
//! browser cannot block on a GPU read). Here the moments live on the model's own device, keyed
//! by parameter, and are read back with `into_data_async`.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

use crate::checkpoint::Reader;
use crate::config::Config;
use crate::device::{parameters, read_floats};

/// One parameter's state: how many updates it has had and its two moments, flattened.
#[derive(Clone)]
struct Moments {
    time: u32,
    first: Tensor<1>,
    second: Tensor<1>,
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

    /// One update of every parameter that has a gradient in `grads`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, mut grads: GradientsParams) -> M {
        module.map(&mut Update {
            optimizer: self,
            grads: &mut grads,
            lr,
        })
    }

    /// `param - lr * (m̂ / (√v̂ + ε) + decay * param)`, on flattened tensors.
    fn update(
        &mut self,
        id: ParamId,
        param: Tensor<1>,
        grad: Tensor<1>,
        lr: f64,
        decay: bool,
    ) -> Tensor<1> {
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
        let decay_rate = if decay { lr * self.weight_decay } else { 0.0 };
        let param = if decay_rate == 0.0 {
            param
        } else {
            param.mul_scalar(1.0 - decay_rate)
        };
        param - delta.mul_scalar(lr)
    }

    /// The moments of `model`'s parameters, in the model's visiting order, read back
    /// asynchronously. Layout (little-endian): parameter count u32, then per parameter:
    /// updates u32 (0: no moments yet, nothing follows), length u64, first moment, second moment
    /// (f32 each).
    pub async fn to_bytes<M: Module>(&self, model: &M) -> Result<Vec<u8>, String> {
        let params = parameters(model);
        let mut out = Vec::new();
        out.extend_from_slice(&(params.len() as u32).to_le_bytes());
        for (id, _) in params {
            let Some(moments) = self.moments.get(&id) else {
                out.extend_from_slice(&0u32.to_le_bytes());
                continue;
            };
            let first = read_floats(moments.first.clone()).await?;
            let second = read_floats(moments.second.clone()).await?;
            out.extend_from_slice(&moments.time.to_le_bytes());
            out.extend_from_slice(&(first.len() as u64).to_le_bytes());
            for value in first.iter().chain(&second) {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        Ok(out)
    }

    /// The optimizer `to_bytes` wrote for a model of this shape, its moments on `device`.
    pub fn from_bytes<M: Module>(
        config: &Config,
        bytes: &[u8],
        model: &M,
        device: &Device,
    ) -> Result<Self, String> {
        let unfit = || "the optimizer state in this model file does not fit its model".to_string();
        let mut reader = Reader::new(bytes, unfit);
        let params = parameters(model);
        if u32::from_le_bytes(reader.take_array()?) as usize != params.len() {
            return Err(unfit());
        }
        let device = device.clone().inner();
        let mut optimizer = AdamW::new(config);
        for (id, len) in params {
            let time = u32::from_le_bytes(reader.take_array()?);
            if time == 0 {
                continue;
            }
            if u64::from_le_bytes(reader.take_array()?) != len as u64 {
                return Err(unfit());
            }
            let mut moment = || -> Result<Tensor<1>, String> {
                let values = reader
                    .take(len * 4)?
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().expect("chunks of 4 bytes")))
                    .collect::<Vec<f32>>();
                Ok(Tensor::from_data(TensorData::new(values, [len]), &device))
            };
            let (first, second) = (moment()?, moment()?);
            optimizer.moments.insert(
                id,
                Moments {
                    time,
                    first,
                    second,
                },
            );
        }
        if !reader.is_empty() {
            return Err(unfit());
        }
        Ok(optimizer)
    }
}

/// Applies one AdamW update to each parameter with a gradient.
struct Update<'a> {
    optimizer: &'a mut AdamW,
    grads: &'a mut GradientsParams,
    lr: f64,
}

impl ModuleMapper for Update<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let shape = tensor.shape();
        let len = shape.num_elements();
        // The update itself is not part of any graph: it works on the tensor without autodiff.
        let updated = self
            .optimizer
            .update(
                id,
                tensor.inner().reshape([len]),
                grad.reshape([len]),
                self.lr,
                D >= 2,
            )
            .reshape(shape);
        let updated = Tensor::from_inner(updated);
        let updated = if require_grad {
            updated.require_grad()
        } else {
            updated
        };
        Param::from_mapped_value(id, updated, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::ParamGroup;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamWConfig, ModuleOptimizer};

    use crate::device::cpu;

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
            ours = adamw.step(lr, ours.clone(), grads(&ours, step));
            theirs = reference.step(lr, theirs.clone(), grads(&theirs, step));
        }
        let (a, b) = (values(&ours), values(&theirs));
        assert_ne!(values(&LinearConfig::new(4, 3).init(&cpu())), a);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn moments_survive_bytes_and_refuse_another_shape() {
        let config = config();
        let layer = LinearConfig::new(4, 3).init(&cpu());
        let mut adamw = AdamW::new(&config);
        let layer = adamw.step(0.01, layer.clone(), grads(&layer, 0));
        let bytes = pollster::block_on(adamw.to_bytes(&layer)).unwrap();
        let restored = AdamW::from_bytes(&config, &bytes, &layer, &cpu()).unwrap();
        assert_eq!(
            pollster::block_on(restored.to_bytes(&layer)).unwrap(),
            bytes
        );

        let (mut a, mut b) = (adamw, restored);
        let next = grads(&layer, 1);
        let next_again = grads(&layer, 1);
        assert_eq!(
            values(&a.step(0.01, layer.clone(), next)),
            values(&b.step(0.01, layer.clone(), next_again))
        );

        let other = LinearConfig::new(4, 5).init(&cpu());
        let error = AdamW::from_bytes(&config, &bytes, &other, &cpu())
            .err()
            .unwrap();
        assert!(error.contains("does not fit"), "{error}");
        let error = AdamW::from_bytes(&config, &bytes[..bytes.len() - 1], &layer, &cpu())
            .err()
            .unwrap();
        assert!(error.contains("does not fit"), "{error}");
    }
}

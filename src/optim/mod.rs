//! How weights change each step: AdamW (or Muon for the hidden matrices), the learning-rate
//! schedule, global gradient clipping.

pub mod adamw;
pub mod clip;
pub mod muon;
pub mod schedule;

use std::collections::HashMap;

use burn::module::{Module, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

pub use adamw::{AdamW, Moments};
pub use clip::clip_global_norm;
pub use schedule::learning_rate_at;

use crate::config::{Config, OptimizerKind};
use crate::model::LanguageModel;
use crate::params::map;

/// The run's optimizer: AdamW for every weight, or (`OptimizerKind::Muon`) Muon for the
/// hidden matrices and AdamW for the rest.
#[derive(Clone)]
pub struct Optimizer {
    adamw: AdamW,
    /// With Muon: the hidden matrices' shapes `[in, out]`, by parameter.
    hidden: HashMap<ParamId, [usize; 2]>,
    /// Muon's learning rate over AdamW's (both follow one schedule).
    muon_ratio: f64,
    /// Muon's momentum of each hidden matrix it has updated, flattened.
    velocities: HashMap<ParamId, Velocity>,
}

#[derive(Clone)]
pub struct Velocity {
    pub time: u32,
    pub value: Tensor<1>,
}

/// One parameter's state as a checkpoint holds it: its update count and its tensors
/// (AdamW: first and second moments; Muon: momentum), each as long as the parameter.
pub struct State {
    pub time: u32,
    pub tensors: Vec<Tensor<1>>,
}

impl Optimizer {
    /// A fresh optimizer for `model`, trained as `config` says. A LoRA fine-tune trains its
    /// adapters with AdamW: Muon is for whole matrices.
    pub fn new(config: &Config, model: &LanguageModel) -> Self {
        let muon = config.optimizer == OptimizerKind::Muon && config.lora_rank == 0;
        Optimizer {
            adamw: AdamW::new(config),
            hidden: if muon {
                model.hidden_matrices()
            } else {
                HashMap::new()
            },
            muon_ratio: config.muon_learning_rate / config.learning_rate,
            velocities: HashMap::new(),
        }
    }

    /// One update of every parameter that has a gradient in `grads`, at AdamW's rate `lr`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        #[cfg(feature = "webgpu")]
        let (module, grads) = match self.step_all_at_once(lr, module, grads) {
            Ok(module) => return module,
            Err(unchanged) => unchanged,
        };
        let mut grads = grads;
        map(module, &mut grads, |id, param, grad, rank| {
            let (param, grad) = (param.inner(), grad?);
            let updated = match self.hidden.get(&id) {
                Some(&shape) => self.muon(id, shape, param, grad, lr * self.muon_ratio),
                None => self.adamw.update(id, param, grad, lr, rank >= 2),
            };
            Some(Tensor::from_inner(updated))
        })
    }

    /// `step` by `AdamW::update_all`, every parameter with a gradient in one launch on a GPU,
    /// without Muon. `Err` gives `module` and `grads` back as they were.
    #[cfg(feature = "webgpu")]
    fn step_all_at_once<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        mut grads: GradientsParams,
    ) -> Result<M, (M, GradientsParams)> {
        if !self.hidden.is_empty() {
            return Err((module, grads));
        }
        let mut params = Vec::new();
        let mut on_gpu = None;
        crate::params::visit_ranked(&module, &grads, |id, param, grad, rank| {
            let param = param.inner();
            let on_gpu = *on_gpu.get_or_insert_with(|| crate::kernels::on_gpu(&param.device()));
            if let (true, Some(grad)) = (on_gpu, grad) {
                params.push((id, param, grad, rank >= 2));
            }
        });
        let updated = match on_gpu {
            Some(true) => self.adamw.update_all(lr, &params),
            _ => None,
        };
        let Some(updated) = updated else {
            return Err((module, grads));
        };
        let mut updated: HashMap<ParamId, Tensor<1>> =
            params.iter().map(|p| p.0).zip(updated).collect();
        Ok(map(module, &mut grads, |id, _, _, _| {
            updated.remove(&id).map(Tensor::from_inner)
        }))
    }

    fn muon(
        &mut self,
        id: ParamId,
        shape: [usize; 2],
        param: Tensor<1>,
        grad: Tensor<1>,
        lr: f64,
    ) -> Tensor<1> {
        let (time, mut velocity) = match self.velocities.remove(&id) {
            Some(v) => (v.time + 1, v.value.reshape(shape)),
            None => (1, grad.zeros_like().reshape(shape)),
        };
        let len = shape[0] * shape[1];
        let updated = muon::update(param.reshape(shape), grad.reshape(shape), &mut velocity, lr);
        let value = velocity.reshape([len]);
        self.velocities.insert(id, Velocity { time, value });
        updated.reshape([len])
    }

    /// How many tensors parameter `id`'s state holds once it has been updated.
    pub fn state_len(&self, id: &ParamId) -> usize {
        if self.hidden.contains_key(id) {
            1
        } else {
            2
        }
    }

    /// The state of parameter `id`, if it has been updated.
    pub fn state(&self, id: &ParamId) -> Option<State> {
        if let Some(v) = self.velocities.get(id) {
            return Some(State {
                time: v.time,
                tensors: vec![v.value.clone()],
            });
        }
        self.adamw.moments(id).map(|m| State {
            time: m.time,
            tensors: vec![m.first.clone(), m.second.clone()],
        })
    }

    /// Sets the state of parameter `id` (restoring a checkpoint): `state_len(id)` tensors.
    pub fn set_state(&mut self, id: ParamId, state: State) {
        let mut tensors = state.tensors.into_iter();
        let (time, first) = (state.time, tensors.next().expect("at least one tensor"));
        match tensors.next() {
            Some(second) => self.adamw.set_moments(
                id,
                Moments {
                    time,
                    first,
                    second,
                },
            ),
            None => {
                self.velocities.insert(id, Velocity { time, value: first });
            }
        }
    }
}

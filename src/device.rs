//! Where tensors live: backend choice, the one WebGPU device per page, read-backs, the clock.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Cpu,
    WebGpu,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::WebGpu => "webgpu",
        }
    }
}

/// The CPU backend (Flex) with autodiff, for training.
pub fn cpu() -> Device {
    Device::flex().autodiff()
}

pub fn is_cpu(device: &Device) -> bool {
    device.clone().inner() == Device::flex()
}

/// Reads a tensor back to the host. Always async: WebGPU in a browser cannot block on a read.
pub async fn read_floats<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, String> {
    let data = tensor
        .into_data_async()
        .await
        .map_err(|e| format!("reading results back from the device failed: {e:?}"))?;
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| format!("unexpected tensor data: {e:?}"))
}

pub async fn read_scalar(tensor: Tensor<1>) -> Result<f32, String> {
    Ok(read_floats(tensor).await?[0])
}

/// Every float parameter, flattened, with its id, in the module's visiting order (the same for
/// every module built from one config).
pub fn flattened<M: Module>(module: &M) -> Vec<(ParamId, Tensor<1>)> {
    struct Flatten(Vec<(ParamId, Tensor<1>)>);
    impl ModuleVisitor for Flatten {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val();
            let len = value.shape().num_elements();
            self.0.push((param.id, value.reshape([len])));
        }
    }
    let mut flat = Flatten(Vec::new());
    module.visit(&mut flat);
    flat.0
}

/// Draws every parameter that burn would otherwise draw lazily, at its first use.
pub fn initialize<M: Module>(module: &M) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    module.visit(&mut Touch);
}

/// Each float parameter's id and number of values, in visiting order.
pub fn parameters<M: Module>(module: &M) -> Vec<(ParamId, usize)> {
    flattened(module)
        .into_iter()
        .map(|(id, tensor)| (id, tensor.shape().num_elements()))
        .collect()
}

/// Puts each parameter's values, read earlier, on the target device.
struct Place<'a> {
    values: HashMap<ParamId, Vec<f32>>,
    device: &'a Device,
}

impl ModuleMapper for Place<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let values = self
            .values
            .remove(&param.id)
            .expect("every parameter was read");
        let device = self.device;
        param.map(|tensor| {
            let copy = Tensor::from_data(TensorData::new(values, tensor.shape()), device);
            // A copy for saving lands on a device without autodiff: nothing to track there.
            if tensor.is_require_grad() && device.is_autodiff() {
                copy.require_grad()
            } else {
                copy
            }
        })
    }
}

/// A copy of `module` on `device`, read back asynchronously (burn's `to_device` reads
/// synchronously, which WebGPU in a browser cannot do). Parameter ids are kept, so optimizer
/// state and checkpoints still match.
pub async fn copy_module<M: Module>(module: &M, device: &Device) -> Result<M, String> {
    let flat = flattened(module);
    let mut values = HashMap::with_capacity(flat.len());
    for (id, tensor) in flat {
        values.insert(id, read_floats(tensor).await?);
    }
    Ok(place_values(module.clone(), values, device))
}

/// `module` with each parameter's values replaced by those in `values` (every parameter must
/// have an entry), on `device`. Parameter ids are kept.
pub fn place_values<M: Module>(
    module: M,
    values: HashMap<ParamId, Vec<f32>>,
    device: &Device,
) -> M {
    module.map(&mut Place { values, device })
}

/// Milliseconds from an arbitrary origin. `std::time::Instant` panics on wasm32.
#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

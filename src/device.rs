//! Where tensors live: the backends, the CPU device, reading results back, and the clock.

use burn::tensor::{Device, Tensor};
use serde::Serialize;

use crate::error::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Cpu,
    WebGpu,
    /// CUDA (the command line's `cuda` feature).
    Cuda,
    /// A compute peer's device, over the network (`remote`, native only).
    Remote,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::WebGpu => "webgpu",
            Backend::Cuda => "cuda",
            Backend::Remote => "remote",
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
pub async fn read_floats<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, Error> {
    let data = tensor.into_data_async().await.map_err(|e| {
        Error::device(format!(
            "reading results back from the device failed: {e:?}"
        ))
    })?;
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::device(format!("unexpected tensor data: {e:?}")))
}

pub async fn read_scalar(tensor: Tensor<1>) -> Result<f32, Error> {
    Ok(read_floats(tensor).await?[0])
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

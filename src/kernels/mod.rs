//! Kernels written by hand for cubecl's GPUs (WebGPU in the page), where burn's generic ops take
//! a launch per op and fusion cannot merge them across a product or a reduction, and a model this
//! small is all launch overhead. Each op is a burn backend extension (`#[backend_extension]`)
//! registered with fusion, which runs it in order with the rest of the stream. A kernel binds
//! each tensor and cubecl's metadata as a storage buffer, and WebGPU promises only 8 per kernel:
//! 7 tensors at most.

pub mod adamw;
pub mod attention;
pub mod concatenate;
pub mod cross_entropy;
pub mod layer_norm;
pub mod lstm;

use burn::backend::TensorMetadata;
use burn::tensor::{Device, Shape};
use burn_cubecl::cubecl::{self, CubeCount, CubeDim};
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;

/// Whether tensors on `device` are a cubecl GPU's outside autodiff, which these kernels take (an
/// autodiff device is another: the kernels have no backward of their own, their callers'
/// hand-written backward passes call them on the plain tensors).
pub fn on_gpu(device: &Device) -> bool {
    matches!(device.as_dispatch(), burn_dispatch::DispatchDevice::Cube(_))
}

/// A launch of one thread per unit of work.
struct Launch {
    count: CubeCount,
    dim: CubeDim,
}

impl Launch {
    fn new(like: &CubeTensor, units: usize) -> Self {
        let dim = CubeDim::new(&like.client, units);
        let count = cubecl::calculate_cube_count_elemwise(&like.client, units, dim);
        Launch { count, dim }
    }
}

/// An uninitialized tensor of `shape` on `like`'s device.
fn empty<const D: usize>(like: &CubeTensor, shape: [usize; D]) -> CubeTensor {
    let (client, device) = (like.client.clone(), like.device.clone());
    empty_device_dtype(client, device, Shape::new(shape), like.dtype)
}

fn dims(tensor: &CubeTensor) -> [usize; 2] {
    let shape = tensor.shape();
    [shape[0], shape[1]]
}

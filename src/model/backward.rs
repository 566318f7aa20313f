//! The plumbing of hand-written backward passes (`fused`, `recurrence`): taking burn's autodiff
//! tensors apart into the backend's own tensors and back, through burn's extension API. It
//! reaches autodiff tensors on the CPU (Flex) or on a cubecl GPU, without gradient
//! checkpointing; anywhere else (a compute peer's device) callers differentiate the same forward
//! op by op.

use burn::tensor::{DispatchTensor, Tensor};
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::Autodiff;
use burn_backend::tensor::FloatTensor;
use burn_backend::Backend;
use burn_dispatch::DispatchKindConversion;

/// A backend whose tensors can be taken apart and put back together.
pub trait Inner: Backend
where
    DispatchTensor: DispatchKindConversion<Self> + DispatchKindConversion<Autodiff<Self>>,
{
}
impl<B: Backend> Inner for B where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>
{
}

/// `tensor`'s value on backend `B`, outside autodiff's graph.
pub fn plain<B: Inner, const D: usize>(primitive: B::FloatTensorPrimitive) -> Tensor<D>
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    Tensor::from_primitive::<B>(primitive)
}

pub fn primitive<B: Inner, const D: usize>(tensor: Tensor<D>) -> B::FloatTensorPrimitive
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    tensor
        .try_into_primitive::<B>()
        .expect("a tensor computed on this backend")
}

/// Runs `op` with the hand-written backward on the first backend (CPU, then GPU) that holds all of
/// `inputs` as autodiff tensors; `None` if none does.
macro_rules! on_autodiff_backend {
    ($op:ident, $inputs:expr) => {{
        let inputs = $inputs;
        let output = $op::<burn_dispatch::backends::Flex, D>(inputs.clone());
        #[cfg(any(feature = "webgpu", feature = "cuda"))]
        let output = output.or_else(|| $op::<burn_dispatch::backends::Cube, D>(inputs));
        output
    }};
}
pub(crate) use on_autodiff_backend;

/// The autodiff tensors of `tensors`, if all of them are on `Autodiff<B>` (with no checkpointing).
pub fn unwrap_all<B: Inner, const N: usize, const D: usize>(
    tensors: [Tensor<D>; N],
) -> Option<[FloatTensor<Autodiff<B>>; N]>
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    let unwrapped: Vec<_> = tensors
        .into_iter()
        .map(|t| t.try_into_primitive::<Autodiff<B, NoCheckpointing>>().ok())
        .collect::<Option<_>>()?;
    unwrapped.try_into().ok()
}

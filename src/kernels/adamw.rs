//! One AdamW update as one launch: both moments and the values, where burn's ops take two or
//! three fused kernels per parameter (~30 parameters in baby-GPT). The values may be every
//! parameter end to end (`optim::AdamW::update_all`), those that decay first.

use burn::backend::{backend_extension, tensor::FloatTensor, Backend, Dispatch, TensorMetadata};
use burn::tensor::Tensor;
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;

use super::{empty, Launch};

/// The update's constants: the moments' decay rates and ε, the learning rate, the fraction the
/// weight decay takes off the values, how many leading values it applies to, and the moments'
/// bias corrections `1 − β^t`.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    pub lr: f32,
    pub decay: f32,
    pub decayed: usize,
    pub corrections: [f32; 2],
}

/// `param` `[n]` after one step on `grad` `[n]`, and the moments after it, from `moments`
/// (none before the first step). The tensors must be on a cubecl device and outside autodiff.
pub fn update(
    param: Tensor<1>,
    grad: Tensor<1>,
    moments: Option<[Tensor<1>; 2]>,
    step: Step,
) -> [Tensor<1>; 3] {
    // Before the first step the gradient stands in for the moments, unread.
    let fresh = moments.is_none();
    let [first, second] = moments.unwrap_or_else(|| [grad.clone(), grad.clone()]);
    let (param, first, second) = Dispatch::adamw_update(
        param.into_dispatch(),
        grad.into_dispatch(),
        first.into_dispatch(),
        second.into_dispatch(),
        [step.beta1, step.beta2, step.epsilon, step.lr],
        [step.decay, step.corrections[0], step.corrections[1]],
        step.decayed as u32,
        fresh,
    );
    [param, first, second].map(Tensor::from_dispatch)
}

#[backend_extension(Cube, Fusion)]
pub trait AdamWKernels: Backend {
    #[fusion(meta = |param, _, _, _, _, _, _, _| (param.clone(), param.clone(), param.clone()))]
    #[allow(clippy::too_many_arguments)]
    fn adamw_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        first: FloatTensor<Self>,
        second: FloatTensor<Self>,
        rates: [f32; 4],
        decay: [f32; 3],
        decayed: u32,
        fresh: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

impl AdamWKernels for CubeBackend {
    fn adamw_update(
        param: CubeTensor,
        grad: CubeTensor,
        first: CubeTensor,
        second: CubeTensor,
        [beta1, beta2, epsilon, lr]: [f32; 4],
        [decay, correction1, correction2]: [f32; 3],
        decayed: u32,
        fresh: bool,
    ) -> (CubeTensor, CubeTensor, CubeTensor) {
        let tensors = [param, grad, first, second];
        let [param, grad, first, second] = tensors.map(into_contiguous);
        let n = param.shape().num_elements();
        let launch = Launch::new(&param, n);
        let [new_param, new_first, new_second] = [(); 3].map(|_| empty(&param, [n]));
        kernels::adamw_kernel::launch(
            &param.client,
            launch.count,
            launch.dim,
            param.clone().into_tensor_arg(),
            grad.into_tensor_arg(),
            first.into_tensor_arg(),
            second.into_tensor_arg(),
            new_param.clone().into_tensor_arg(),
            new_first.clone().into_tensor_arg(),
            new_second.clone().into_tensor_arg(),
            beta1,
            beta2,
            epsilon,
            lr,
            decay,
            decayed,
            correction1,
            correction2,
            fresh,
            dtype_to_storage_type(param.dtype),
        );
        (new_param, new_first, new_second)
    }
}

/// The kernels, apart: cubecl's `Tensor` is not burn's.
mod kernels {
    use burn_cubecl::cubecl::{self, prelude::*};

    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn adamw_kernel<F: Float>(
        param: &Tensor<F>,
        grad: &Tensor<F>,
        first: &Tensor<F>,
        second: &Tensor<F>,
        new_param: &mut Tensor<F>,
        new_first: &mut Tensor<F>,
        new_second: &mut Tensor<F>,
        beta1: f32,
        beta2: f32,
        epsilon: f32,
        lr: f32,
        decay: f32,
        decayed: u32,
        correction1: f32,
        correction2: f32,
        #[comptime] fresh: bool,
        #[define(F)] _dtype: ElemType,
    ) {
        let i = ABSOLUTE_POS;
        if i >= param.len() {
            terminate!();
        }
        let one = F::new(1.0);
        let beta1 = F::cast_from(beta1);
        let beta2 = F::cast_from(beta2);
        let g = grad[i];
        let mut m = (one - beta1) * g;
        let mut v = (one - beta2) * g * g;
        if !fresh {
            m += beta1 * first[i];
            v += beta2 * second[i];
        }
        new_first[i] = m;
        new_second[i] = v;
        let m_hat = m / F::cast_from(correction1);
        let v_hat = v / F::cast_from(correction2);
        let delta = m_hat / (F::sqrt(v_hat) + F::cast_from(epsilon));
        let mut kept = param[i];
        if i < decayed as usize {
            kept *= one - F::cast_from(decay);
        }
        new_param[i] = kept - F::cast_from(lr) * delta;
    }
}

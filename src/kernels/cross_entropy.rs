//! Cross-entropy's rows in one launch forward and its gradient in one backward. Through burn's
//! ops the forward is log-softmax (two reductions and the elementwise kernels between them) and a
//! gather, the closed-form backward (`fused::cross_entropy`) an exponential, a zero fill, a
//! scatter and a scale: ~15 launches for what is one pass over the logits each way. A thread
//! owns a row forward (vocabularies are at most a few thousand) and a logit backward.

use burn::backend::fusion::custom::TensorSpec;
use burn::backend::{
    backend_extension,
    tensor::{FloatTensor, IntTensor},
    Backend, Dispatch, TensorMetadata,
};
use burn::tensor::{Int, Shape, Tensor};
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;

use super::{dims, empty, Launch};

/// Each row's loss `[rows]` (its log-sum-exp less its target's logit) and log-sum-exp `[rows]`,
/// from `logits` `[rows, vocab]` and `targets` `[rows]`. The tensors must be on a cubecl device
/// and outside autodiff.
pub fn forward(logits: Tensor<2>, targets: Tensor<1, Int>) -> (Tensor<1>, Tensor<1>) {
    let (losses, log_sum_exp) =
        Dispatch::cross_entropy_forward(logits.into_dispatch(), targets.into_dispatch());
    (
        Tensor::from_dispatch(losses),
        Tensor::from_dispatch(log_sum_exp),
    )
}

/// The gradient of the mean loss over the rows, times `grad` `[1]`: (softmax − one-hot) · grad
/// / rows, `[rows, vocab]`, from what `forward` read and computed.
pub fn backward(
    logits: Tensor<2>,
    log_sum_exp: Tensor<1>,
    targets: Tensor<1, Int>,
    grad: Tensor<1>,
) -> Tensor<2> {
    let rows = logits.dims()[0];
    Tensor::from_dispatch(Dispatch::cross_entropy_backward(
        logits.into_dispatch(),
        log_sum_exp.into_dispatch(),
        targets.into_dispatch(),
        grad.into_dispatch(),
        1.0 / rows as f32,
    ))
}

#[backend_extension(Cube, Fusion)]
pub trait CrossEntropyKernels: Backend {
    #[fusion(meta = |logits, _| {
        let rows = TensorSpec::new(Shape::new([logits.shape[0]]), logits.dtype);
        (rows.clone(), rows)
    })]
    fn cross_entropy_forward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    #[fusion(meta = |logits, _, _, _, _| logits.clone())]
    fn cross_entropy_backward(
        logits: FloatTensor<Self>,
        log_sum_exp: FloatTensor<Self>,
        targets: IntTensor<Self>,
        grad: FloatTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self>;
}

impl CrossEntropyKernels for CubeBackend {
    fn cross_entropy_forward(logits: CubeTensor, targets: CubeTensor) -> (CubeTensor, CubeTensor) {
        let [logits, targets] = [logits, targets].map(into_contiguous);
        let [rows, _] = dims(&logits);
        let launch = Launch::new(&logits, rows);
        let losses = empty(&logits, [rows]);
        let log_sum_exp = empty(&logits, [rows]);
        let dtypes = [logits.dtype, targets.dtype].map(dtype_to_storage_type);
        kernels::cross_entropy_kernel::launch(
            &logits.client,
            launch.count,
            launch.dim,
            logits.clone().into_tensor_arg(),
            targets.into_tensor_arg(),
            losses.clone().into_tensor_arg(),
            log_sum_exp.clone().into_tensor_arg(),
            dtypes,
        );
        (losses, log_sum_exp)
    }

    fn cross_entropy_backward(
        logits: CubeTensor,
        log_sum_exp: CubeTensor,
        targets: CubeTensor,
        grad: CubeTensor,
        scale: f32,
    ) -> CubeTensor {
        let tensors = [logits, log_sum_exp, targets, grad];
        let [logits, log_sum_exp, targets, grad] = tensors.map(into_contiguous);
        let launch = Launch::new(&logits, logits.shape().num_elements());
        let d_logits = empty(&logits, dims(&logits));
        let dtypes = [logits.dtype, targets.dtype].map(dtype_to_storage_type);
        kernels::cross_entropy_backward_kernel::launch(
            &logits.client,
            launch.count,
            launch.dim,
            logits.clone().into_tensor_arg(),
            log_sum_exp.into_tensor_arg(),
            targets.into_tensor_arg(),
            grad.into_tensor_arg(),
            d_logits.clone().into_tensor_arg(),
            scale,
            dtypes,
        );
        d_logits
    }
}

/// The kernels, apart: cubecl's `Tensor` is not burn's.
mod kernels {
    use burn_cubecl::cubecl::{self, prelude::*};

    #[cube(launch)]
    pub fn cross_entropy_kernel<F: Float, I: Int>(
        logits: &Tensor<F>,          // [rows, vocab]
        targets: &Tensor<I>,         // [rows]
        losses: &mut Tensor<F>,      // [rows]
        log_sum_exp: &mut Tensor<F>, // [rows]
        #[define(F, I)] _dtypes: [ElemType; 2],
    ) {
        let row = ABSOLUTE_POS;
        let (rows, vocab) = (logits.shape(0), logits.shape(1));
        if row >= rows {
            terminate!();
        }
        let base = row * vocab;
        let mut largest = logits[base];
        for v in 1..vocab {
            largest = F::max(largest, logits[base + v]);
        }
        let mut sum = F::new(0.0);
        for v in 0..vocab {
            sum += F::exp(logits[base + v] - largest);
        }
        let total = largest + F::ln(sum);
        log_sum_exp[row] = total;
        losses[row] = total - logits[base + usize::cast_from(targets[row])];
    }

    #[cube(launch)]
    pub fn cross_entropy_backward_kernel<F: Float, I: Int>(
        logits: &Tensor<F>,       // [rows, vocab]
        log_sum_exp: &Tensor<F>,  // [rows]
        targets: &Tensor<I>,      // [rows]
        grad: &Tensor<F>,         // [1]
        d_logits: &mut Tensor<F>, // [rows, vocab]
        scale: f32,
        #[define(F, I)] _dtypes: [ElemType; 2],
    ) {
        let unit = ABSOLUTE_POS;
        let vocab = logits.shape(1);
        if unit >= logits.len() {
            terminate!();
        }
        let row = unit / vocab;
        let mut value = F::exp(logits[unit] - log_sum_exp[row]);
        if unit % vocab == usize::cast_from(targets[row]) {
            value -= F::new(1.0);
        }
        d_logits[unit] = value * grad[0] * F::cast_from(scale);
    }
}

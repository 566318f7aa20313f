//! Layer norm without a bias (the models' `LayerNorm`), forward and backward one launch each;
//! the forward can take the residual stream's add before it into the same launch.
//! Through burn's ops the forward is two means and the elementwise ops between them (5 launches),
//! the closed-form backward (`fused::layer_norm`) 7. A thread owns a row: model widths are a few
//! hundred, and a row's two passes cost less than the launches they save.

use burn::backend::fusion::custom::TensorSpec;
use burn::backend::{backend_extension, tensor::FloatTensor, Backend, Dispatch};
use burn::tensor::{Shape, Tensor};
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;

use super::{dims, empty, Launch};

/// What the forward computes of `x` `[rows, d]`: the output `[rows, d]`, the rows centred and
/// scaled to unit variance `[rows, d]`, and one over each row's standard deviation `[rows, 1]`.
pub struct Parts {
    pub output: Tensor<2>,
    pub normalized: Tensor<2>,
    pub inverse_std: Tensor<2>,
}

/// `x` `[rows, d]` normalized per row with `epsilon` and scaled by `gamma` `[d]`. The tensors must
/// be on a cubecl device and outside autodiff.
pub fn forward(x: Tensor<2>, gamma: Tensor<1>, epsilon: f64) -> Parts {
    let (output, normalized, inverse_std) =
        Dispatch::layer_norm_forward(x.into_dispatch(), gamma.into_dispatch(), epsilon as f32);
    Parts {
        output: Tensor::from_dispatch(output),
        normalized: Tensor::from_dispatch(normalized),
        inverse_std: Tensor::from_dispatch(inverse_std),
    }
}

/// `x` + `delta` `[rows, d]`, and what `forward` computes of that sum: a residual stream's add
/// and the layer norm after it.
pub fn add_forward(
    x: Tensor<2>,
    delta: Tensor<2>,
    gamma: Tensor<1>,
    epsilon: f64,
) -> (Tensor<2>, Parts) {
    let (sum, output, normalized, inverse_std) = Dispatch::add_layer_norm_forward(
        x.into_dispatch(),
        delta.into_dispatch(),
        gamma.into_dispatch(),
        epsilon as f32,
    );
    let parts = Parts {
        output: Tensor::from_dispatch(output),
        normalized: Tensor::from_dispatch(normalized),
        inverse_std: Tensor::from_dispatch(inverse_std),
    };
    (Tensor::from_dispatch(sum), parts)
}

/// The gradients of `x` `[rows, d]` and of `gamma` `[d]` from the output's `grad` and what the
/// forward computed.
pub fn backward(
    grad: Tensor<2>,
    normalized: Tensor<2>,
    inverse_std: Tensor<2>,
    gamma: Tensor<1>,
) -> (Tensor<2>, Tensor<1>) {
    let (d_x, d_gamma) = Dispatch::layer_norm_backward(
        grad.into_dispatch(),
        normalized.into_dispatch(),
        inverse_std.into_dispatch(),
        gamma.into_dispatch(),
    );
    (Tensor::from_dispatch(d_x), Tensor::from_dispatch(d_gamma))
}

#[backend_extension(Cube, Fusion)]
pub trait LayerNormKernels: Backend {
    #[fusion(meta = |x, _, _| {
        let rows = TensorSpec::new(Shape::new([x.shape[0], 1]), x.dtype);
        (x.clone(), x.clone(), rows)
    })]
    fn layer_norm_forward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        epsilon: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    #[fusion(meta = |x, _, _, _| {
        let rows = TensorSpec::new(Shape::new([x.shape[0], 1]), x.dtype);
        (x.clone(), x.clone(), x.clone(), rows)
    })]
    fn add_layer_norm_forward(
        x: FloatTensor<Self>,
        delta: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        epsilon: f32,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );

    #[fusion(meta = |grad, _, _, gamma| (grad.clone(), gamma.clone()))]
    fn layer_norm_backward(
        grad: FloatTensor<Self>,
        normalized: FloatTensor<Self>,
        inverse_std: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

impl LayerNormKernels for CubeBackend {
    fn layer_norm_forward(
        x: CubeTensor,
        gamma: CubeTensor,
        epsilon: f32,
    ) -> (CubeTensor, CubeTensor, CubeTensor) {
        let [x, gamma] = [x, gamma].map(into_contiguous);
        let [rows, d] = dims(&x);
        let launch = Launch::new(&x, rows);
        let output = empty(&x, [rows, d]);
        let normalized = empty(&x, [rows, d]);
        let inverse_std = empty(&x, [rows, 1]);
        kernels::layer_norm_kernel::launch(
            &x.client,
            launch.count,
            launch.dim,
            x.clone().into_tensor_arg(),
            gamma.into_tensor_arg(),
            output.clone().into_tensor_arg(),
            normalized.clone().into_tensor_arg(),
            inverse_std.clone().into_tensor_arg(),
            epsilon,
            dtype_to_storage_type(x.dtype),
        );
        (output, normalized, inverse_std)
    }

    fn add_layer_norm_forward(
        x: CubeTensor,
        delta: CubeTensor,
        gamma: CubeTensor,
        epsilon: f32,
    ) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
        let [x, delta, gamma] = [x, delta, gamma].map(into_contiguous);
        let [rows, d] = dims(&x);
        let launch = Launch::new(&x, rows);
        let [sum, output, normalized] = [(); 3].map(|_| empty(&x, [rows, d]));
        let inverse_std = empty(&x, [rows, 1]);
        kernels::add_layer_norm_kernel::launch(
            &x.client,
            launch.count,
            launch.dim,
            x.clone().into_tensor_arg(),
            delta.into_tensor_arg(),
            gamma.into_tensor_arg(),
            sum.clone().into_tensor_arg(),
            output.clone().into_tensor_arg(),
            normalized.clone().into_tensor_arg(),
            inverse_std.clone().into_tensor_arg(),
            epsilon,
            dtype_to_storage_type(x.dtype),
        );
        (sum, output, normalized, inverse_std)
    }

    fn layer_norm_backward(
        grad: CubeTensor,
        normalized: CubeTensor,
        inverse_std: CubeTensor,
        gamma: CubeTensor,
    ) -> (CubeTensor, CubeTensor) {
        let tensors = [grad, normalized, inverse_std, gamma];
        let [grad, normalized, inverse_std, gamma] = tensors.map(into_contiguous);
        let [rows, d] = dims(&grad);
        // A thread per row for the input's gradient, then one per column for gamma's.
        let launch = Launch::new(&grad, rows + d);
        let d_x = empty(&grad, [rows, d]);
        let d_gamma = empty(&grad, [d]);
        kernels::layer_norm_backward_kernel::launch(
            &grad.client,
            launch.count,
            launch.dim,
            grad.clone().into_tensor_arg(),
            normalized.into_tensor_arg(),
            inverse_std.into_tensor_arg(),
            gamma.into_tensor_arg(),
            d_x.clone().into_tensor_arg(),
            d_gamma.clone().into_tensor_arg(),
            dtype_to_storage_type(grad.dtype),
        );
        (d_x, d_gamma)
    }
}

/// The kernels, apart: cubecl's `Tensor` is not burn's.
mod kernels {
    use burn_cubecl::cubecl::{self, prelude::*};

    /// Row `row` of `normalized`, which holds the input's row (adding up to `total`), normalized
    /// in place and scaled into `output`.
    #[cube]
    fn normalize_row<F: Float>(
        normalized: &mut Tensor<F>,
        gamma: &Tensor<F>,
        output: &mut Tensor<F>,
        inverse_std: &mut Tensor<F>,
        row: usize,
        total: F,
        epsilon: f32,
    ) {
        let d = normalized.shape(1);
        let base = row * d;
        let width = F::cast_from(d as u32);
        let mean = total / width;
        let mut squares = F::new(0.0);
        for k in 0..d {
            let centred = normalized[base + k] - mean;
            squares += centred * centred;
        }
        let inverse = F::new(1.0) / F::sqrt(squares / width + F::cast_from(epsilon));
        for k in 0..d {
            let value = (normalized[base + k] - mean) * inverse;
            normalized[base + k] = value;
            output[base + k] = value * gamma[k];
        }
        inverse_std[row] = inverse;
    }

    #[cube(launch)]
    pub fn layer_norm_kernel<F: Float>(
        x: &Tensor<F>,               // [rows, d]
        gamma: &Tensor<F>,           // [d]
        output: &mut Tensor<F>,      // [rows, d]
        normalized: &mut Tensor<F>,  // [rows, d]
        inverse_std: &mut Tensor<F>, // [rows, 1]
        epsilon: f32,
        #[define(F)] _dtype: ElemType,
    ) {
        let row = ABSOLUTE_POS;
        let (rows, d) = (x.shape(0), x.shape(1));
        if row >= rows {
            terminate!();
        }
        let mut total = F::new(0.0);
        for k in 0..d {
            let value = x[row * d + k];
            normalized[row * d + k] = value;
            total += value;
        }
        normalize_row(normalized, gamma, output, inverse_std, row, total, epsilon);
    }

    /// `layer_norm_kernel` of the row `x` + `delta`, which goes to `sum` first.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn add_layer_norm_kernel<F: Float>(
        x: &Tensor<F>,               // [rows, d]
        delta: &Tensor<F>,           // [rows, d]
        gamma: &Tensor<F>,           // [d]
        sum: &mut Tensor<F>,         // [rows, d]
        output: &mut Tensor<F>,      // [rows, d]
        normalized: &mut Tensor<F>,  // [rows, d]
        inverse_std: &mut Tensor<F>, // [rows, 1]
        epsilon: f32,
        #[define(F)] _dtype: ElemType,
    ) {
        let row = ABSOLUTE_POS;
        let (rows, d) = (x.shape(0), x.shape(1));
        if row >= rows {
            terminate!();
        }
        let mut total = F::new(0.0);
        for k in 0..d {
            let value = x[row * d + k] + delta[row * d + k];
            sum[row * d + k] = value;
            normalized[row * d + k] = value;
            total += value;
        }
        normalize_row(normalized, gamma, output, inverse_std, row, total, epsilon);
    }

    /// Threads below `rows`: a row's dx = (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)) / σ, with ĝ = grad ·
    /// gamma. The next `d`: a column's d gamma = Σ grad · x̂ over the rows.
    #[cube(launch)]
    pub fn layer_norm_backward_kernel<F: Float>(
        grad: &Tensor<F>,        // [rows, d]
        normalized: &Tensor<F>,  // [rows, d]
        inverse_std: &Tensor<F>, // [rows, 1]
        gamma: &Tensor<F>,       // [d]
        d_x: &mut Tensor<F>,     // [rows, d]
        d_gamma: &mut Tensor<F>, // [d]
        #[define(F)] _dtype: ElemType,
    ) {
        let unit = ABSOLUTE_POS;
        let (rows, d) = (grad.shape(0), grad.shape(1));
        if unit < rows {
            let base = unit * d;
            let width = F::cast_from(d as u32);
            let mut mean = F::new(0.0);
            let mut projection = F::new(0.0);
            for k in 0..d {
                let scaled = grad[base + k] * gamma[k];
                mean += scaled;
                projection += scaled * normalized[base + k];
            }
            mean /= width;
            projection /= width;
            let inverse = inverse_std[unit];
            for k in 0..d {
                let scaled = grad[base + k] * gamma[k];
                d_x[base + k] = (scaled - mean - normalized[base + k] * projection) * inverse;
            }
        } else if unit < rows + d {
            let k = unit - rows;
            let mut sum = F::new(0.0);
            for r in 0..rows {
                sum += grad[r * d + k] * normalized[r * d + k];
            }
            d_gamma[k] = sum;
        }
    }
}

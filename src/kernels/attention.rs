//! Attention's forward as one launch: the scores, the causal mask, the softmax and the weighted
//! sum of the values, where burn's ops take two products, two reductions and four elementwise
//! kernels. A thread owns one query: Kindling's contexts are at most a few hundred positions and
//! its heads a few dozen wide, so a query's row of scores is a short loop.

use burn::backend::fusion::custom::TensorSpec;
use burn::backend::{backend_extension, tensor::FloatTensor, Backend, Dispatch, TensorMetadata};
use burn::tensor::{Shape, Tensor};
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;

use super::Launch;

/// The attention of `query` `[batch, heads, time, head_dim]` over `key` and `value` `[batch,
/// heads, positions, head_dim]`, query i seeing positions j ≤ `past` + i, scores scaled by
/// `scale`: the context `[batch, heads, time, head_dim]` and the weights `[batch, heads, time,
/// positions]`. The tensors must be on a cubecl device and outside autodiff.
pub fn forward(
    query: Tensor<4>,
    key: Tensor<4>,
    value: Tensor<4>,
    past: usize,
    scale: f64,
) -> (Tensor<4>, Tensor<4>) {
    let [batch, heads, time, head_dim] = query.dims();
    let positions = key.dims()[2];
    let flat = |t: Tensor<4>, rows: usize| t.reshape([batch * heads, rows, head_dim]);
    let (context, weights) = Dispatch::attention_forward(
        flat(query, time).into_dispatch(),
        flat(key, positions).into_dispatch(),
        flat(value, positions).into_dispatch(),
        past as u32,
        scale as f32,
    );
    let context = Tensor::<3>::from_dispatch(context);
    let weights = Tensor::<3>::from_dispatch(weights);
    (
        context.reshape([batch, heads, time, head_dim]),
        weights.reshape([batch, heads, time, positions]),
    )
}

#[backend_extension(Cube, Fusion)]
pub trait AttentionKernels: Backend {
    #[fusion(meta = |query, key, _, _, _| {
        let [heads, time, positions] = [query.shape[0], query.shape[1], key.shape[1]];
        let weights = TensorSpec::new(Shape::new([heads, time, positions]), query.dtype);
        (query.clone(), weights)
    })]
    fn attention_forward(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        past: u32,
        scale: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

impl AttentionKernels for CubeBackend {
    fn attention_forward(
        query: CubeTensor,
        key: CubeTensor,
        value: CubeTensor,
        past: u32,
        scale: f32,
    ) -> (CubeTensor, CubeTensor) {
        let [query, key, value] = [query, key, value].map(into_contiguous);
        let shape = query.shape();
        let [heads, time, head_dim] = [shape[0], shape[1], shape[2]];
        let positions = key.shape()[1];
        let launch = Launch::new(&query, heads * time);
        let context = launch.empty(&query, [heads, time, head_dim]);
        let weights = launch.empty(&query, [heads, time, positions]);
        kernels::attention_kernel::launch(
            &query.client,
            launch.count,
            launch.dim,
            query.clone().into_tensor_arg(),
            key.into_tensor_arg(),
            value.into_tensor_arg(),
            context.clone().into_tensor_arg(),
            weights.clone().into_tensor_arg(),
            past,
            scale,
            dtype_to_storage_type(query.dtype),
        );
        (context, weights)
    }
}

/// The kernels, apart: cubecl's `Tensor` is not burn's.
mod kernels {
    use burn_cubecl::cubecl::{self, prelude::*};

    /// One query's row: its scores, softmax over the positions it sees (the others weigh 0),
    /// and the context.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn attention_kernel<F: Float>(
        query: &Tensor<F>,       // [batch · heads, time, head_dim]
        key: &Tensor<F>,         // [batch · heads, positions, head_dim]
        value: &Tensor<F>,       // [batch · heads, positions, head_dim]
        context: &mut Tensor<F>, // [batch · heads, time, head_dim]
        weights: &mut Tensor<F>, // [batch · heads, time, positions]
        past: u32,
        scale: f32,
        #[define(F)] _dtype: ElemType,
    ) {
        let unit = ABSOLUTE_POS;
        let (heads, time, head_dim) = (query.shape(0), query.shape(1), key.shape(2));
        if unit >= heads * time {
            terminate!();
        }
        let positions = key.shape(1);
        let (head, i) = (unit / time, unit % time);
        let mut seen = past as usize + i + 1;
        if seen > positions {
            seen = positions;
        }
        let q = unit * head_dim;
        let row = unit * positions;
        let kv = head * positions * head_dim;
        let mut largest = F::new(-3.0e38);
        for j in 0..seen {
            let mut score = F::new(0.0);
            for d in 0..head_dim {
                score += query[q + d] * key[kv + j * head_dim + d];
            }
            score *= F::cast_from(scale);
            weights[row + j] = score;
            largest = F::max(largest, score);
        }
        let mut total = F::new(0.0);
        for j in 0..seen {
            let e = F::exp(weights[row + j] - largest);
            weights[row + j] = e;
            total += e;
        }
        for j in 0..positions {
            weights[row + j] = if j < seen {
                weights[row + j] / total
            } else {
                F::new(0.0)
            };
        }
        for d in 0..head_dim {
            let mut sum = F::new(0.0);
            for j in 0..seen {
                sum += weights[row + j] * value[kv + j * head_dim + d];
            }
            context[q + d] = sum;
        }
    }
}

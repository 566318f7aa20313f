//! Attention's core in a launch forward and two backward. Forward: the scores, the causal mask,
//! the softmax and the weighted sum of the values, where burn's ops take two products, two
//! reductions and four elementwise kernels. Backward: the gradients of the queries, keys and
//! values into one tensor, where the closed form through burn's ops (`fused::attention`) takes
//! four products, a reduction, elementwise kernels and the copies that join them. A thread owns
//! one query (or one key): Kindling's contexts are at most a few hundred positions and its heads
//! a few dozen wide, so a row of scores is a short loop.

use burn::backend::fusion::custom::TensorSpec;
use burn::backend::{backend_extension, tensor::FloatTensor, Backend, Dispatch, TensorMetadata};
use burn::tensor::{Shape, Tensor};
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;

use super::{empty, Launch};

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

/// The gradient of `forward`'s queries, keys and values `[3 · batch · heads, time, head_dim]`
/// (each heads-first, one after the other) from the context's `grad` `[batch, heads, time,
/// head_dim]`, the weights and the queries, keys and values it read. Training's case: as many
/// keys as queries (no cache). Masked positions weigh 0, so their terms vanish without a mask.
pub fn backward(
    grad: Tensor<4>,
    weights: Tensor<4>,
    [query, key, value]: [Tensor<4>; 3],
    scale: f64,
) -> Tensor<3> {
    let [batch, heads, time, head_dim] = query.dims();
    let rows = |t: Tensor<4>| t.reshape([batch * heads, time, head_dim]);
    let d_qkv = Dispatch::attention_backward(
        rows(grad).into_dispatch(),
        weights.reshape([batch * heads, time, time]).into_dispatch(),
        rows(query).into_dispatch(),
        rows(key).into_dispatch(),
        rows(value).into_dispatch(),
        scale as f32,
    );
    Tensor::from_dispatch(d_qkv)
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

    #[fusion(meta = |_, _, query, _, _, _| {
        let [heads, time, head_dim] = [query.shape[0], query.shape[1], query.shape[2]];
        TensorSpec::new(Shape::new([3 * heads, time, head_dim]), query.dtype)
    })]
    fn attention_backward(
        grad: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self>;
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
        let context = empty(&query, [heads, time, head_dim]);
        let weights = empty(&query, [heads, time, positions]);
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

    fn attention_backward(
        grad: CubeTensor,
        weights: CubeTensor,
        query: CubeTensor,
        key: CubeTensor,
        value: CubeTensor,
        scale: f32,
    ) -> CubeTensor {
        let tensors = [grad, weights, query, key, value];
        let [grad, weights, query, key, value] = tensors.map(into_contiguous);
        let shape = query.shape();
        let [heads, time, head_dim] = [shape[0], shape[1], shape[2]];
        let launch = Launch::new(&query, heads * time);
        // The scores' gradient, which the second launch reads by columns.
        let d_scores = empty(&query, [heads, time, time]);
        let d_qkv = empty(&query, [3 * heads, time, head_dim]);
        let (client, dtype) = (query.client.clone(), dtype_to_storage_type(query.dtype));
        kernels::attention_queries_backward_kernel::launch(
            &client,
            launch.count.clone(),
            launch.dim,
            grad.clone().into_tensor_arg(),
            weights.clone().into_tensor_arg(),
            key.into_tensor_arg(),
            value.into_tensor_arg(),
            d_scores.clone().into_tensor_arg(),
            d_qkv.clone().into_tensor_arg(),
            scale,
            dtype,
        );
        kernels::attention_keys_backward_kernel::launch(
            &client,
            launch.count,
            launch.dim,
            grad.into_tensor_arg(),
            weights.into_tensor_arg(),
            query.into_tensor_arg(),
            d_scores.into_tensor_arg(),
            d_qkv.clone().into_tensor_arg(),
            dtype,
        );
        d_qkv
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

    /// One query's row of the backward: dW = dO · Vᵀ, dS = W ⊙ (dW − Σ dW ⊙ W) · scale (kept
    /// for the keys' launch), and dQ = dS · K into the first third of `d_qkv`.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn attention_queries_backward_kernel<F: Float>(
        grad: &Tensor<F>,         // [batch · heads, time, head_dim]
        weights: &Tensor<F>,      // [batch · heads, time, time]
        key: &Tensor<F>,          // [batch · heads, time, head_dim]
        value: &Tensor<F>,        // [batch · heads, time, head_dim]
        d_scores: &mut Tensor<F>, // [batch · heads, time, time]
        d_qkv: &mut Tensor<F>,    // [3 · batch · heads, time, head_dim]
        scale: f32,
        #[define(F)] _dtype: ElemType,
    ) {
        let unit = ABSOLUTE_POS;
        let (heads, time, head_dim) = (grad.shape(0), grad.shape(1), grad.shape(2));
        if unit >= heads * time {
            terminate!();
        }
        let head = unit / time;
        let (q, row, kv) = (unit * head_dim, unit * time, head * time * head_dim);
        let mut dot = F::new(0.0);
        for j in 0..time {
            let mut d_weight = F::new(0.0);
            for d in 0..head_dim {
                d_weight += grad[q + d] * value[kv + j * head_dim + d];
            }
            d_scores[row + j] = d_weight;
            dot += d_weight * weights[row + j];
        }
        for j in 0..time {
            let w = weights[row + j];
            d_scores[row + j] = (d_scores[row + j] - dot) * w * F::cast_from(scale);
        }
        for d in 0..head_dim {
            let mut sum = F::new(0.0);
            for j in 0..time {
                sum += d_scores[row + j] * key[kv + j * head_dim + d];
            }
            d_qkv[q + d] = sum;
        }
    }

    /// One key's part of the backward: dK = dSᵀ · Q and dV = Wᵀ · dO into the second and last
    /// thirds of `d_qkv`.
    #[cube(launch)]
    pub fn attention_keys_backward_kernel<F: Float>(
        grad: &Tensor<F>,      // [batch · heads, time, head_dim]
        weights: &Tensor<F>,   // [batch · heads, time, time]
        query: &Tensor<F>,     // [batch · heads, time, head_dim]
        d_scores: &Tensor<F>,  // [batch · heads, time, time]
        d_qkv: &mut Tensor<F>, // [3 · batch · heads, time, head_dim]
        #[define(F)] _dtype: ElemType,
    ) {
        let unit = ABSOLUTE_POS;
        let (heads, time, head_dim) = (grad.shape(0), grad.shape(1), grad.shape(2));
        if unit >= heads * time {
            terminate!();
        }
        let (head, j) = (unit / time, unit % time);
        let base = head * time; // the head's first row
        let third = heads * time * head_dim;
        for d in 0..head_dim {
            let mut d_key = F::new(0.0);
            let mut d_value = F::new(0.0);
            for i in 0..time {
                let at = (base + i) * time + j;
                let here = (base + i) * head_dim + d;
                d_key += d_scores[at] * query[here];
                d_value += weights[at] * grad[here];
            }
            d_qkv[third + unit * head_dim + d] = d_key;
            d_qkv[2 * third + unit * head_dim + d] = d_value;
        }
    }
}

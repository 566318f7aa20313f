//! Attention's core in a launch forward and two backward, reading the queries, keys and values
//! where the projection wrote them (`qkv` `[batch, time, 3 · d]`, each part `heads` heads of
//! `d / heads`) and writing the context as the output projection reads it (`[batch, time, d]`):
//! the heads' reshuffles are index arithmetic, not copies. Forward: the scores, the causal mask,
//! the softmax and the weighted sum of the values, where burn's ops take two products, two
//! reductions and four elementwise kernels; with a KV cache, the new keys and values written
//! into it as well. Backward: the gradients of the queries, keys and values into one tensor
//! shaped as `qkv`, where the closed form through burn's ops (`fused::attention`) takes four
//! products, a reduction, elementwise kernels and the copies that join them. A thread owns one
//! query (or one key): Kindling's contexts are at most a few hundred positions and its heads a
//! few dozen wide, so a row of scores is a short loop.

use burn::backend::fusion::custom::TensorSpec;
use burn::backend::{backend_extension, tensor::FloatTensor, Backend, Dispatch, TensorMetadata};
use burn::tensor::{Shape, Tensor};
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;

use super::{empty, Launch};

/// Causal attention over `qkv` `[batch, time, 3 · d]` in `heads` heads, scores scaled by
/// `scale`: the context `[batch, time, d]` and the weights `[batch, heads, time, time]`. The
/// tensors must be on a cubecl device and outside autodiff.
pub fn forward(qkv: Tensor<3>, heads: usize, scale: f64) -> (Tensor<3>, Tensor<4>) {
    let [batch, time, width] = qkv.dims();
    assert_eq!(
        width % (3 * heads),
        0,
        "qkv's width {width} is not 3 × {heads} heads"
    );
    let (context, weights) =
        Dispatch::attention_forward(qkv.into_dispatch(), heads as u32, scale as f32);
    let weights = Tensor::<3>::from_dispatch(weights);
    (
        Tensor::from_dispatch(context),
        weights.reshape([batch, heads, time, time]),
    )
}

/// `forward` for new positions after `past` cached ones: query i sees positions j ≤ `past` + i.
/// `cache` holds the keys and values `[batch, heads, capacity, head_dim]`; it comes back with
/// the new ones written at `past..` (in place where nothing else holds it). The weights are
/// `[batch, heads, time, capacity]`, 0 past the positions seen.
pub fn forward_cached(
    qkv: Tensor<3>,
    [key, value]: [Tensor<4>; 2],
    past: usize,
    scale: f64,
) -> (Tensor<3>, Tensor<4>, [Tensor<4>; 2]) {
    let [batch, time, width] = qkv.dims();
    let [_, heads, capacity, head_dim] = key.dims();
    // Past the capacity, a thread would write into the next head's rows.
    assert!(
        past + time <= capacity,
        "{past} + {time} positions overflow {capacity}"
    );
    assert_eq!(
        width,
        3 * heads * head_dim,
        "qkv does not match the cache's heads"
    );
    let flat = |t: Tensor<4>| {
        t.reshape([batch * heads, capacity, head_dim])
            .into_dispatch()
    };
    let (context, weights, key, value) = Dispatch::cached_attention_forward(
        qkv.into_dispatch(),
        flat(key),
        flat(value),
        past as u32,
        scale as f32,
    );
    let cache = |t| Tensor::<3>::from_dispatch(t).reshape([batch, heads, capacity, head_dim]);
    let weights = Tensor::<3>::from_dispatch(weights);
    (
        Tensor::from_dispatch(context),
        weights.reshape([batch, heads, time, capacity]),
        [cache(key), cache(value)],
    )
}

/// The gradient of `forward`'s `qkv` `[batch, time, 3 · d]` from the context's `grad` `[batch,
/// time, d]`, the weights `[batch, heads, time, time]` and `qkv`: training's causal case, as
/// many keys as queries (no cache). Positions after a query's own are never read.
pub fn backward(grad: Tensor<3>, weights: Tensor<4>, qkv: Tensor<3>, scale: f64) -> Tensor<3> {
    let [batch, heads, time, _] = weights.dims();
    let weights = weights.reshape([batch * heads, time, time]);
    let d_qkv = Dispatch::attention_backward(
        grad.into_dispatch(),
        weights.into_dispatch(),
        qkv.into_dispatch(),
        scale as f32,
    );
    Tensor::from_dispatch(d_qkv)
}

#[backend_extension(Cube, Fusion)]
pub trait AttentionKernels: Backend {
    #[fusion(meta = |qkv, heads, _| {
        let [batch, time, width] = [qkv.shape[0], qkv.shape[1], qkv.shape[2]];
        let context = TensorSpec::new(Shape::new([batch, time, width / 3]), qkv.dtype);
        let rows = batch * *heads as usize;
        let weights = TensorSpec::new(Shape::new([rows, time, time]), qkv.dtype);
        (context, weights)
    })]
    fn attention_forward(
        qkv: FloatTensor<Self>,
        heads: u32,
        scale: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    #[fusion(meta = |qkv, key, value, _, _| {
        let [batch, time, width] = [qkv.shape[0], qkv.shape[1], qkv.shape[2]];
        let context = TensorSpec::new(Shape::new([batch, time, width / 3]), qkv.dtype);
        let [rows, capacity] = [key.shape[0], key.shape[1]];
        let weights = TensorSpec::new(Shape::new([rows, time, capacity]), qkv.dtype);
        (context, weights, key.clone(), value.clone())
    })]
    fn cached_attention_forward(
        qkv: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        past: u32,
        scale: f32,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );

    #[fusion(meta = |_, _, qkv, _| qkv.clone())]
    fn attention_backward(
        grad: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        qkv: FloatTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self>;
}

/// `[batch, time, width]` of a `qkv` or a context.
fn rows(tensor: &CubeTensor) -> [usize; 3] {
    let shape = tensor.shape();
    [shape[0], shape[1], shape[2]]
}

impl AttentionKernels for CubeBackend {
    fn attention_forward(qkv: CubeTensor, heads: u32, scale: f32) -> (CubeTensor, CubeTensor) {
        let qkv = into_contiguous(qkv);
        let [batch, time, width] = rows(&qkv);
        let queries = batch * heads as usize * time;
        let launch = Launch::new(&qkv, queries);
        let context = empty(&qkv, [batch, time, width / 3]);
        let weights = empty(&qkv, [batch * heads as usize, time, time]);
        kernels::attention_kernel::launch(
            &qkv.client,
            launch.count,
            launch.dim,
            qkv.clone().into_tensor_arg(),
            context.clone().into_tensor_arg(),
            weights.clone().into_tensor_arg(),
            heads,
            scale,
            dtype_to_storage_type(qkv.dtype),
        );
        (context, weights)
    }

    fn cached_attention_forward(
        qkv: CubeTensor,
        key: CubeTensor,
        value: CubeTensor,
        past: u32,
        scale: f32,
    ) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
        let qkv = into_contiguous(qkv);
        let [key, value] = [key, value].map(|t| {
            let t = into_contiguous(t);
            if t.can_mut() {
                t
            } else {
                t.copy()
            }
        });
        let [batch, time, width] = rows(&qkv);
        let [rows, capacity, _] = self::rows(&key);
        let launch = Launch::new(&qkv, rows * time);
        let context = empty(&qkv, [batch, time, width / 3]);
        let weights = empty(&qkv, [rows, time, capacity]);
        kernels::cached_attention_kernel::launch(
            &qkv.client,
            launch.count,
            launch.dim,
            qkv.clone().into_tensor_arg(),
            key.clone().into_tensor_arg(),
            value.clone().into_tensor_arg(),
            context.clone().into_tensor_arg(),
            weights.clone().into_tensor_arg(),
            past,
            scale,
            dtype_to_storage_type(qkv.dtype),
        );
        (context, weights, key, value)
    }

    fn attention_backward(
        grad: CubeTensor,
        weights: CubeTensor,
        qkv: CubeTensor,
        scale: f32,
    ) -> CubeTensor {
        let [grad, weights, qkv] = [grad, weights, qkv].map(into_contiguous);
        let [heads_rows, time, _] = rows(&weights);
        let launch = Launch::new(&qkv, heads_rows * time);
        // The scores' gradient, which the second launch reads by columns.
        let d_scores = empty(&qkv, [heads_rows, time, time]);
        let d_qkv = empty(&qkv, rows(&qkv));
        let (client, dtype) = (qkv.client.clone(), dtype_to_storage_type(qkv.dtype));
        kernels::attention_queries_backward_kernel::launch(
            &client,
            launch.count.clone(),
            launch.dim,
            grad.clone().into_tensor_arg(),
            weights.clone().into_tensor_arg(),
            qkv.clone().into_tensor_arg(),
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
            qkv.into_tensor_arg(),
            d_scores.into_tensor_arg(),
            d_qkv.clone().into_tensor_arg(),
            dtype,
        );
        d_qkv
    }
}

/// The kernels, apart: cubecl's `Tensor` is not burn's. Offsets: part p (0 queries, 1 keys,
/// 2 values) of position t, head h of row b sits in `qkv` at (b · time + t) · 3d + p · d + h ·
/// head_dim; the context's at (b · time + t) · d + h · head_dim.
mod kernels {
    use burn_cubecl::cubecl::{self, prelude::*};

    /// A row of scores, `seen` long from `row`, into softmax weights in place given its largest
    /// score; the positions after, up to `positions`, weigh 0.
    #[cube]
    fn softmax_row<F: Float>(
        weights: &mut Tensor<F>,
        row: usize,
        seen: usize,
        positions: usize,
        largest: F,
    ) {
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
    }

    /// One query's row: its scores over the positions up to its own, their softmax, and the
    /// context.
    #[cube(launch)]
    pub fn attention_kernel<F: Float>(
        qkv: &Tensor<F>,         // [batch, time, 3 · d]
        context: &mut Tensor<F>, // [batch, time, d]
        weights: &mut Tensor<F>, // [batch · heads, time, time]
        heads: u32,
        scale: f32,
        #[define(F)] _dtype: ElemType,
    ) {
        let unit = ABSOLUTE_POS;
        let (batch, time, width) = (qkv.shape(0), qkv.shape(1), qkv.shape(2));
        let heads = heads as usize;
        if unit >= batch * heads * time {
            terminate!();
        }
        let d = width / 3;
        let head_dim = d / heads;
        let (row_head, i) = (unit / time, unit % time);
        let (b, h) = (row_head / heads, row_head % heads);
        // Position 0's query of this head; position j's is j · width further.
        let first = b * time * width + h * head_dim;
        let q = first + i * width;
        let row = unit * time;
        let seen = i + 1;
        let mut largest = F::new(-3.0e38);
        for j in 0..seen {
            let k = first + j * width + d;
            let mut score = F::new(0.0);
            for e in 0..head_dim {
                score += qkv[q + e] * qkv[k + e];
            }
            score *= F::cast_from(scale);
            weights[row + j] = score;
            largest = F::max(largest, score);
        }
        softmax_row(weights, row, seen, time, largest);
        let out = (b * time + i) * d + h * head_dim;
        for e in 0..head_dim {
            let mut sum = F::new(0.0);
            for j in 0..seen {
                sum += weights[row + j] * qkv[first + j * width + 2 * d + e];
            }
            context[out + e] = sum;
        }
    }

    /// `attention_kernel` for new positions after `past` cached ones. Each thread first writes
    /// its own position's key and value into the cache; it reads the earlier new positions'
    /// from `qkv`, since their threads may not have written them yet, and the cached ones
    /// (before `past`, which no thread writes) from the cache.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn cached_attention_kernel<F: Float>(
        qkv: &Tensor<F>,         // [batch, time, 3 · d]
        key: &mut Tensor<F>,     // [batch · heads, capacity, head_dim]
        value: &mut Tensor<F>,   // [batch · heads, capacity, head_dim]
        context: &mut Tensor<F>, // [batch, time, d]
        weights: &mut Tensor<F>, // [batch · heads, time, capacity]
        past: u32,
        scale: f32,
        #[define(F)] _dtype: ElemType,
    ) {
        let unit = ABSOLUTE_POS;
        let (batch, time, width) = (qkv.shape(0), qkv.shape(1), qkv.shape(2));
        let (row_heads, capacity, head_dim) = (key.shape(0), key.shape(1), key.shape(2));
        if unit >= row_heads * time {
            terminate!();
        }
        let (d, heads, past) = (width / 3, row_heads / batch, past as usize);
        let (row_head, i) = (unit / time, unit % time);
        let (b, h) = (row_head / heads, row_head % heads);
        let first = b * time * width + h * head_dim;
        let q = first + i * width;
        let cached = row_head * capacity * head_dim;
        let own = cached + (past + i) * head_dim;
        for e in 0..head_dim {
            key[own + e] = qkv[q + d + e];
            value[own + e] = qkv[q + 2 * d + e];
        }
        let row = unit * capacity;
        let seen = past + i + 1;
        let mut largest = F::new(-3.0e38);
        for j in 0..seen {
            let mut score = F::new(0.0);
            if j < past {
                for e in 0..head_dim {
                    score += qkv[q + e] * key[cached + j * head_dim + e];
                }
            } else {
                let k = first + (j - past) * width + d;
                for e in 0..head_dim {
                    score += qkv[q + e] * qkv[k + e];
                }
            }
            score *= F::cast_from(scale);
            weights[row + j] = score;
            largest = F::max(largest, score);
        }
        softmax_row(weights, row, seen, capacity, largest);
        let out = (b * time + i) * d + h * head_dim;
        for e in 0..head_dim {
            let mut sum = F::new(0.0);
            for j in 0..seen {
                let v = if j < past {
                    value[cached + j * head_dim + e]
                } else {
                    qkv[first + (j - past) * width + 2 * d + e]
                };
                sum += weights[row + j] * v;
            }
            context[out + e] = sum;
        }
    }

    /// One query's row of the backward: dW = dO · Vᵀ, dS = W ⊙ (dW − Σ dW ⊙ W) · scale (kept
    /// for the keys' launch), and dQ = dS · K into the queries' part of `d_qkv`. Only the
    /// positions up to the query's own weigh anything, and only they are written: the keys' launch
    /// reads no other.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn attention_queries_backward_kernel<F: Float>(
        grad: &Tensor<F>,         // [batch, time, d]
        weights: &Tensor<F>,      // [batch · heads, time, time]
        qkv: &Tensor<F>,          // [batch, time, 3 · d]
        d_scores: &mut Tensor<F>, // [batch · heads, time, time]
        d_qkv: &mut Tensor<F>,    // [batch, time, 3 · d]
        scale: f32,
        #[define(F)] _dtype: ElemType,
    ) {
        let unit = ABSOLUTE_POS;
        let (batch, time, width) = (qkv.shape(0), qkv.shape(1), qkv.shape(2));
        let row_heads = weights.shape(0);
        if unit >= row_heads * time {
            terminate!();
        }
        let (d, heads) = (width / 3, row_heads / batch);
        let head_dim = d / heads;
        let (row_head, i) = (unit / time, unit % time);
        let (b, h) = (row_head / heads, row_head % heads);
        let first = b * time * width + h * head_dim;
        let g = (b * time + i) * d + h * head_dim;
        let row = unit * time;
        let seen = i + 1;
        let mut dot = F::new(0.0);
        for j in 0..seen {
            let v = first + j * width + 2 * d;
            let mut d_weight = F::new(0.0);
            for e in 0..head_dim {
                d_weight += grad[g + e] * qkv[v + e];
            }
            d_scores[row + j] = d_weight;
            dot += d_weight * weights[row + j];
        }
        for j in 0..seen {
            d_scores[row + j] = (d_scores[row + j] - dot) * weights[row + j] * F::cast_from(scale);
        }
        let q = first + i * width;
        for e in 0..head_dim {
            let mut sum = F::new(0.0);
            for j in 0..seen {
                sum += d_scores[row + j] * qkv[first + j * width + d + e];
            }
            d_qkv[q + e] = sum;
        }
    }

    /// One key's part of the backward: dK = dSᵀ · Q and dV = Wᵀ · dO into the keys' and
    /// values' parts of `d_qkv`, over the queries from the key's own position on.
    #[cube(launch)]
    pub fn attention_keys_backward_kernel<F: Float>(
        grad: &Tensor<F>,      // [batch, time, d]
        weights: &Tensor<F>,   // [batch · heads, time, time]
        qkv: &Tensor<F>,       // [batch, time, 3 · d]
        d_scores: &Tensor<F>,  // [batch · heads, time, time]
        d_qkv: &mut Tensor<F>, // [batch, time, 3 · d]
        #[define(F)] _dtype: ElemType,
    ) {
        let unit = ABSOLUTE_POS;
        let (batch, time, width) = (qkv.shape(0), qkv.shape(1), qkv.shape(2));
        let row_heads = weights.shape(0);
        if unit >= row_heads * time {
            terminate!();
        }
        let (d, heads) = (width / 3, row_heads / batch);
        let head_dim = d / heads;
        let (row_head, j) = (unit / time, unit % time);
        let (b, h) = (row_head / heads, row_head % heads);
        let first = b * time * width + h * head_dim;
        let k = first + j * width + d;
        for e in 0..head_dim {
            let mut d_key = F::new(0.0);
            let mut d_value = F::new(0.0);
            for i in j..time {
                let at = (row_head * time + i) * time + j;
                d_key += d_scores[at] * qkv[first + i * width + e];
                d_value += weights[at] * grad[(b * time + i) * d + h * head_dim + e];
            }
            d_qkv[k + e] = d_key;
            d_qkv[k + d + e] = d_value;
        }
    }
}

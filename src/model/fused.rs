//! Layers whose backward pass is written by hand: layer norm, softmax, cross-entropy and
//! attention's core. burn's autodiff differentiates them op by op: each `mean`, broadcast `sub`
//! and `div` gets its own backward, which on a GPU is ~22 kernel launches for one layer norm
//! where the closed form needs 7. Here the forward runs on the backend's own tensors and
//! registers a single backward that computes the gradient in closed form; on the CPU the same
//! closed forms also read memory fewer times.
//!
//! The hand-written backward is used where burn's extension API reaches the backend: autodiff
//! tensors on the CPU (Flex) or on a cubecl GPU, without gradient checkpointing. Anywhere else (a
//! compute peer's device) the same forward is differentiated op by op, as before.

use burn::tensor::activation;
use burn::tensor::{DispatchTensor, IndexingUpdateOp, Int, Tensor};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_autodiff::Autodiff;
use burn_dispatch::backends::Flex;
use burn_dispatch::DispatchKindConversion;

use super::backward::{on_autodiff_backend, plain, primitive, unwrap_all, Inner};

/// The epsilon of burn's `LayerNormConfig`, with which the models build their layer norms.
pub const LAYER_NORM_EPSILON: f64 = 1e-5;

/// `[1, .., 1, d]`: `gamma` `[d]` broadcast over a rank-`D` tensor's last dimension.
fn along_last<const D: usize>(gamma: Tensor<1>) -> Tensor<D> {
    let mut shape = [1; D];
    shape[D - 1] = gamma.dims()[0];
    gamma.reshape(shape)
}

/// Layer norm without a bias over the last dimension of `x` `[.., d]`, scaled by `gamma` `[d]`:
/// burn's `LayerNorm::forward`, with the backward in closed form.
pub fn layer_norm<const D: usize>(x: Tensor<D>, gamma: Tensor<1>) -> Tensor<D> {
    if x.is_autodiff() {
        let gamma_wide = along_last::<D>(gamma);
        if let Some(y) = on_autodiff_backend!(layer_norm_autodiff, [x.clone(), gamma_wide.clone()])
        {
            return y;
        }
        return layer_norm_parts(x, gamma_wide).output;
    }
    layer_norm_parts(x, along_last::<D>(gamma)).output
}

/// `x` `[.., d]` as rows: `[rows, d]`.
#[cfg(feature = "webgpu")]
fn rows_of<const D: usize>(x: &Tensor<D>) -> [usize; 2] {
    let dims = x.dims();
    [dims[..D - 1].iter().product(), dims[D - 1]]
}

struct LayerNormParts<const D: usize> {
    output: Tensor<D>,
    /// `x` centred and scaled to unit variance, `[.., d]`.
    normalized: Tensor<D>,
    /// One over each row's standard deviation, `[.., 1]`.
    inverse_std: Tensor<D>,
}

/// `gamma` is `[1, .., 1, d]`. Outside autodiff on a GPU, one kernel (`kernels::layer_norm`).
fn layer_norm_parts<const D: usize>(x: Tensor<D>, gamma: Tensor<D>) -> LayerNormParts<D> {
    #[cfg(feature = "webgpu")]
    if crate::kernels::on_gpu(&x.device()) {
        let (dims, [rows, d]) = (x.dims(), rows_of(&x));
        let (x, gamma) = (x.reshape([rows, d]), gamma.reshape([d]));
        let parts = crate::kernels::layer_norm::forward(x, gamma, LAYER_NORM_EPSILON);
        let mut row_dims = dims;
        row_dims[D - 1] = 1;
        return LayerNormParts {
            output: parts.output.reshape(dims),
            normalized: parts.normalized.reshape(dims),
            inverse_std: parts.inverse_std.reshape(row_dims),
        };
    }
    let centred = x.clone() - x.mean_dim(D - 1);
    let variance = centred.clone().square().mean_dim(D - 1);
    let inverse_std = variance.add_scalar(LAYER_NORM_EPSILON).sqrt().recip();
    let normalized = centred * inverse_std.clone();
    LayerNormParts {
        output: normalized.clone() * gamma,
        normalized,
        inverse_std,
    }
}

#[derive(Debug)]
struct LayerNormBackward<const D: usize>;

impl<B: Inner, const D: usize> Backward<B, 2> for LayerNormBackward<D>
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    /// The normalized input, one over the standard deviation, and gamma `[1, .., 1, d]`.
    type State = [B::FloatTensorPrimitive; 3];

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, gamma_node] = ops.parents;
        let [normalized, inverse_std, gamma] = ops.state;
        let (normalized, inverse_std, gamma) = (
            plain::<B, D>(normalized),
            plain::<B, D>(inverse_std),
            plain::<B, D>(gamma),
        );
        let grad = plain::<B, D>(grads.consume::<B>(&ops.node));
        #[cfg(feature = "webgpu")]
        if crate::kernels::on_gpu(&grad.device()) {
            let (dims, [rows, d]) = (grad.dims(), rows_of(&grad));
            let (d_x, d_gamma) = crate::kernels::layer_norm::backward(
                grad.reshape([rows, d]),
                normalized.reshape([rows, d]),
                inverse_std.reshape([rows, 1]),
                gamma.clone().reshape([d]),
            );
            if let Some(node) = gamma_node {
                let d_gamma = d_gamma.reshape(gamma.dims());
                grads.register::<B>(node.id, primitive::<B, D>(d_gamma));
            }
            if let Some(node) = x_node {
                grads.register::<B>(node.id, primitive::<B, D>(d_x.reshape(dims)));
            }
            return;
        }
        if let Some(node) = gamma_node {
            // Summed over every row: [.., d] -> [1, .., 1, d].
            let rows: usize = grad.dims()[..D - 1].iter().product();
            let d = gamma.dims()[D - 1];
            let summed = (grad.clone() * normalized.clone())
                .reshape([rows, d])
                .sum_dim(0)
                .reshape(gamma.dims());
            grads.register::<B>(node.id, primitive::<B, D>(summed));
        }
        if let Some(node) = x_node {
            // dx = (ĝ - mean(ĝ) - x̂ · mean(ĝ · x̂)) / σ, with ĝ = grad · gamma.
            let scaled = grad * gamma;
            let mean = scaled.clone().mean_dim(D - 1);
            let projection = (scaled.clone() * normalized.clone()).mean_dim(D - 1);
            let dx = (scaled - mean - normalized * projection) * inverse_std;
            grads.register::<B>(node.id, primitive::<B, D>(dx));
        }
    }
}

fn layer_norm_autodiff<B: Inner, const D: usize>(inputs: [Tensor<D>; 2]) -> Option<Tensor<D>>
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    let [x, gamma] = unwrap_all::<B, 2, D>(inputs)?;
    let parts = layer_norm_parts(
        plain::<B, D>(x.primitive().clone()),
        plain::<B, D>(gamma.primitive().clone()),
    );
    let output = primitive::<B, D>(parts.output);
    let prep = LayerNormBackward::<D>
        .prepare::<NoCheckpointing>([x.node(), gamma.node()])
        .compute_bound()
        .stateful();
    let tensor = match prep {
        OpsKind::Tracked(prep) => {
            let state = [
                primitive::<B, D>(parts.normalized),
                primitive::<B, D>(parts.inverse_std),
                gamma.primitive().clone(),
            ];
            prep.finish(state, output)
        }
        OpsKind::UnTracked(prep) => prep.finish(output),
    };
    Some(Tensor::from_primitive::<Autodiff<B, NoCheckpointing>>(
        tensor,
    ))
}

/// Softmax of `x` along its last dimension, with the backward in closed form:
/// dx = y · (dy − Σ dy · y). On the CPU the forward is burn-flex's one-pass softmax.
pub fn softmax<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.is_autodiff() {
        if let Some(y) = on_autodiff_backend!(softmax_autodiff, [x.clone()]) {
            return y;
        }
    }
    activation::softmax(x, D - 1)
}

#[derive(Debug)]
struct SoftmaxBackward<const D: usize>;

impl<B: Inner, const D: usize> Backward<B, 1> for SoftmaxBackward<D>
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    /// The output.
    type State = B::FloatTensorPrimitive;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else { return };
        let output = plain::<B, D>(ops.state);
        let grad = plain::<B, D>(grads.consume::<B>(&ops.node));
        let dot = (grad.clone() * output.clone()).sum_dim(D - 1); // [.., 1]
        grads.register::<B>(node.id, primitive::<B, D>((grad - dot) * output));
    }
}

fn softmax_autodiff<B: Inner, const D: usize>(inputs: [Tensor<D>; 1]) -> Option<Tensor<D>>
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    let [x] = unwrap_all::<B, 1, D>(inputs)?;
    let output = B::softmax(x.primitive().clone(), D - 1);
    let prep = SoftmaxBackward::<D>
        .prepare::<NoCheckpointing>([x.node()])
        .compute_bound()
        .stateful();
    let tensor = match prep {
        OpsKind::Tracked(prep) => prep.finish(output.clone(), output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    };
    Some(Tensor::from_primitive::<Autodiff<B, NoCheckpointing>>(
        tensor,
    ))
}

/// The mean cross-entropy of `logits` `[rows, vocab]` against `targets` `[rows]`, as burn's
/// `CrossEntropyLoss`, with the backward in closed form: d logits = (softmax − one-hot) / rows.
/// burn's goes back through the mean, the gather (a zero fill and a scatter) and log-softmax's
/// five ops one by one.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    if logits.is_autodiff() {
        let loss = cross_entropy_autodiff::<Flex>(logits.clone(), targets.clone());
        #[cfg(any(feature = "webgpu", feature = "cuda"))]
        let loss = loss.or_else(|| {
            cross_entropy_autodiff::<burn_dispatch::backends::Cube>(logits.clone(), targets.clone())
        });
        if let Some(loss) = loss {
            return loss;
        }
    }
    cross_entropy_parts(logits, targets).0
}

/// The loss `[1]` and the log-probabilities `[rows, vocab]`.
fn cross_entropy_parts(logits: Tensor<2>, targets: Tensor<1, Int>) -> (Tensor<1>, Tensor<2>) {
    let [rows, _] = logits.dims();
    let log_probs = activation::log_softmax(logits, 1);
    let picked = log_probs.clone().gather(1, targets.reshape([rows, 1])); // [rows, 1]
    (picked.mean().neg(), log_probs)
}

#[derive(Debug)]
struct CrossEntropyBackward;

impl<B: Inner> Backward<B, 1> for CrossEntropyBackward
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    /// The log-probabilities `[rows, vocab]` and the targets `[rows]`.
    type State = (B::FloatTensorPrimitive, B::IntTensorPrimitive);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else { return };
        let (log_probs, targets) = ops.state;
        let log_probs = plain::<B, 2>(log_probs);
        let targets = Tensor::<1, Int>::from_primitive::<B>(targets);
        let grad = plain::<B, 1>(grads.consume::<B>(&ops.node)); // [1]
        let [rows, _] = log_probs.dims();
        let minus_one = Tensor::<2>::full([rows, 1], -1.0, &log_probs.device());
        let d_logits = log_probs.exp().scatter(
            1,
            targets.reshape([rows, 1]),
            minus_one,
            IndexingUpdateOp::Add,
        ) * grad.div_scalar(rows as f64).reshape([1, 1]);
        grads.register::<B>(node.id, primitive::<B, 2>(d_logits));
    }
}

fn cross_entropy_autodiff<B: Inner>(logits: Tensor<2>, targets: Tensor<1, Int>) -> Option<Tensor<1>>
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    let [logits] = unwrap_all::<B, 1, 2>([logits])?;
    let targets = targets
        .try_into_primitive::<Autodiff<B, NoCheckpointing>>()
        .ok()?;
    let (loss, log_probs) = cross_entropy_parts(
        plain::<B, 2>(logits.primitive().clone()),
        Tensor::<1, Int>::from_primitive::<B>(targets.clone()),
    );
    let loss = primitive::<B, 1>(loss);
    let prep = CrossEntropyBackward
        .prepare::<NoCheckpointing>([logits.node()])
        .compute_bound()
        .stateful();
    let tensor = match prep {
        OpsKind::Tracked(prep) => prep.finish((primitive::<B, 2>(log_probs), targets), loss),
        OpsKind::UnTracked(prep) => prep.finish(loss),
    };
    Some(Tensor::from_primitive::<Autodiff<B, NoCheckpointing>>(
        tensor,
    ))
}

/// Attention's core over `qkv` `[3 · batch · heads, time, head_dim]` (queries, keys and values
/// heads-first, one after the other): `forward(query, key, value)` gives the context `[batch,
/// heads, time, head_dim]` and the attention weights `[batch, heads, time, time]`, from scores
/// scaled by `scale`, queries and keys turned first by `rotation` (cos and sin, as `rotate`
/// takes them) if given. The backward is written out: dV = Wᵀ·dO, dS = W ⊙ (dO·Vᵀ − Σ(dO·Vᵀ ⊙ W))
/// · scale, dQ = dS·K, dK = dSᵀ·Q, and the three land in one concatenation, where burn's
/// backward of three views of `qkv` fills three zero tensors of its size and adds them up.
/// `None` where the hand-written backward does not reach (not autodiff, or another backend).
pub fn attention(
    qkv: Tensor<3>,
    heads: [usize; 2],
    scale: f64,
    rotation: Option<[Tensor<4>; 2]>,
    forward: impl Fn(Tensor<4>, Tensor<4>, Tensor<4>) -> (Tensor<4>, Tensor<4>),
) -> Option<Tensor<4>> {
    if !qkv.is_autodiff() {
        return None;
    }
    let setup = Attention {
        heads,
        scale,
        rotation,
    };
    let context = attention_autodiff::<Flex>(qkv.clone(), &setup, &forward);
    #[cfg(any(feature = "webgpu", feature = "cuda"))]
    let context = context
        .or_else(|| attention_autodiff::<burn_dispatch::backends::Cube>(qkv, &setup, &forward));
    context
}

/// How `attention` reads its `qkv`: `[batch, heads]`, the scores' scale, and rotary positions'
/// cos and sin (`rotate`), outside autodiff.
struct Attention {
    heads: [usize; 2],
    scale: f64,
    rotation: Option<[Tensor<4>; 2]>,
}

/// `x` `[batch, heads, time, head_dim]` with each pair (i, i + head_dim / 2) turned by the angle
/// whose `cos` and `sin` are given, `[1, 1, time, head_dim / 2]`: rotary positions.
pub fn rotate(x: Tensor<4>, cos: Tensor<4>, sin: Tensor<4>) -> Tensor<4> {
    let mut halves = x.chunk(2, 3).into_iter();
    let (a, b) = (halves.next().unwrap(), halves.next().unwrap());
    Tensor::cat(
        vec![
            a.clone() * cos.clone() - b.clone() * sin.clone(),
            b * cos + a * sin,
        ],
        3,
    )
}

/// `qkv` `[3 · batch · heads, time, head_dim]` as three `[batch, heads, time, head_dim]` views.
pub fn split_heads(qkv: Tensor<3>, [batch, heads]: [usize; 2]) -> [Tensor<4>; 3] {
    let [_, time, head_dim] = qkv.dims();
    let parts: Vec<_> = qkv
        .chunk(3, 0)
        .into_iter()
        .map(|part| part.reshape([batch, heads, time, head_dim]))
        .collect();
    parts.try_into().expect("three parts")
}

#[derive(Debug)]
struct AttentionBackward {
    scale: f64,
}

/// Queries, keys and values of `qkv`, queries and keys turned by `rotation`.
fn rotated_heads(
    qkv: Tensor<3>,
    heads: [usize; 2],
    rotation: Option<&[Tensor<4>; 2]>,
) -> [Tensor<4>; 3] {
    let [query, key, value] = split_heads(qkv, heads);
    match rotation {
        Some([cos, sin]) => {
            let turn = |x| rotate(x, cos.clone(), sin.clone());
            [turn(query), turn(key), value]
        }
        None => [query, key, value],
    }
}

impl<B: Inner> Backward<B, 1> for AttentionBackward
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    /// The queries and keys as the scores saw them (turned), the values, the attention weights,
    /// and the rotation's cos and sin.
    type State = (
        [B::FloatTensorPrimitive; 4],
        Option<[B::FloatTensorPrimitive; 2]>,
    );

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else { return };
        let ([query, key, value, weights], rotation) = ops.state;
        let [query, key, value] = [query, key, value].map(plain::<B, 4>);
        let weights = plain::<B, 4>(weights);
        let grad = plain::<B, 4>(grads.consume::<B>(&ops.node)); // [batch, heads, time, head_dim]
        let rotation = rotation.map(|r| r.map(plain::<B, 4>));
        #[cfg(feature = "webgpu")]
        if crate::kernels::on_gpu(&grad.device()) {
            let [batch, heads, ..] = query.dims();
            let heads_first = [query, key, value];
            let d_qkv = crate::kernels::attention::backward(grad, weights, heads_first, self.scale);
            let d_qkv = match rotation {
                Some(rotation) => joined(split_heads(d_qkv, [batch, heads]), Some(rotation)),
                None => d_qkv,
            };
            grads.register::<B>(node.id, primitive::<B, 3>(d_qkv));
            return;
        }
        let d_value = weights.clone().swap_dims(2, 3).matmul(grad.clone());
        let d_weights = grad.matmul(value.swap_dims(2, 3)); // [batch, heads, time, time]
        let dot = (d_weights.clone() * weights.clone()).sum_dim(3);
        let d_scores = ((d_weights - dot) * weights).mul_scalar(self.scale);
        let d_query = d_scores.clone().matmul(key);
        let d_key = d_scores.swap_dims(2, 3).matmul(query);
        let d_qkv = joined([d_query, d_key, d_value], rotation);
        grads.register::<B>(node.id, primitive::<B, 3>(d_qkv));
    }
}

/// The gradients of the queries, keys and values `[batch, heads, time, head_dim]` as one of `qkv`
/// `[3 · batch · heads, time, head_dim]`, those of the queries and keys turned back by
/// `rotation`'s opposite angle (the rotation's transpose).
fn joined(
    [d_query, d_key, d_value]: [Tensor<4>; 3],
    rotation: Option<[Tensor<4>; 2]>,
) -> Tensor<3> {
    let [batch, heads, time, head_dim] = d_query.dims();
    let (d_query, d_key) = match rotation {
        Some([cos, sin]) => {
            let back = |x| rotate(x, cos.clone(), sin.clone().neg());
            (back(d_query), back(d_key))
        }
        None => (d_query, d_key),
    };
    let flat = |t: Tensor<4>| t.reshape([batch * heads, time, head_dim]);
    Tensor::cat(vec![flat(d_query), flat(d_key), flat(d_value)], 0)
}

fn attention_autodiff<B: Inner>(
    qkv: Tensor<3>,
    setup: &Attention,
    forward: &impl Fn(Tensor<4>, Tensor<4>, Tensor<4>) -> (Tensor<4>, Tensor<4>),
) -> Option<Tensor<4>>
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    let [qkv] = unwrap_all::<B, 1, 3>([qkv])?;
    let rotation = match &setup.rotation {
        Some([cos, sin]) => Some([
            cos.clone().try_into_primitive::<B>().ok()?,
            sin.clone().try_into_primitive::<B>().ok()?,
        ]),
        None => None,
    };
    let turn = rotation.clone().map(|r| r.map(plain::<B, 4>));
    let [query, key, value] = rotated_heads(
        plain::<B, 3>(qkv.primitive().clone()),
        setup.heads,
        turn.as_ref(),
    );
    let saved = [query.clone(), key.clone(), value.clone()];
    let (context, weights) = forward(query, key, value);
    let context = primitive::<B, 4>(context);
    let prep = AttentionBackward { scale: setup.scale }
        .prepare::<NoCheckpointing>([qkv.node()])
        .compute_bound()
        .stateful();
    let tensor = match prep {
        OpsKind::Tracked(prep) => {
            let [query, key, value] = saved.map(primitive::<B, 4>);
            let state = [query, key, value, primitive::<B, 4>(weights)];
            prep.finish((state, rotation), context)
        }
        OpsKind::UnTracked(prep) => prep.finish(context),
    };
    Some(Tensor::from_primitive::<Autodiff<B, NoCheckpointing>>(
        tensor,
    ))
}

// Numeric comparisons with burn's op-by-op passes: tests/shared/fused.rs, on the CPU and WebGPU.
#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::TensorData;

    use crate::device::{cpu, read_floats};

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        let n = tensor.shape().num_elements();
        pollster::block_on(read_floats(tensor.reshape([n]))).unwrap()
    }

    /// `[2, 3, 8]`, tracked.
    fn input() -> Tensor<3> {
        let values = (0..48).map(|i| (i * 37 % 17) as f32 - 8.0).collect();
        Param::from_tensor(Tensor::from_data(
            TensorData::new(values, [2, 3, 8]),
            &cpu(),
        ))
        .val()
    }

    /// The CPU's autodiff tensors take the hand-written backward, not burn's op-by-op one (which
    /// the numeric comparisons would also pass).
    #[test]
    fn the_cpu_takes_the_hand_written_backward() {
        let gamma = along_last::<3>(Tensor::<1>::ones([8], &cpu()));
        assert!(layer_norm_autodiff::<Flex, 3>([input(), gamma]).is_some());
        assert!(softmax_autodiff::<Flex, 3>([input()]).is_some());
        assert!(softmax_autodiff::<Flex, 3>([input().inner()]).is_none());
        let targets = Tensor::<1, Int>::zeros([6], &cpu());
        assert!(cross_entropy_autodiff::<Flex>(input().reshape([6, 8]), targets).is_some());
        let forward = |q: Tensor<4>, k: Tensor<4>, _| (q.clone(), k);
        assert!(attention(input().reshape([6, 2, 4]), [1, 2], 1.0, None, forward).is_some());
        assert!(attention(
            input().inner().reshape([6, 2, 4]),
            [1, 2],
            1.0,
            None,
            forward
        )
        .is_none());
    }

    #[test]
    fn without_autodiff_the_forward_is_the_same() {
        let x = input();
        let plain = x.clone().inner();
        let gamma = Tensor::<1>::ones([8], &cpu());
        assert_eq!(
            values(layer_norm(plain.clone(), gamma.clone().inner())),
            values(layer_norm(x.clone(), gamma))
        );
        assert_eq!(values(softmax(plain)), values(softmax(x)));
    }
}

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

/// `x` + `delta` and its `layer_norm`: a residual stream's add and the norm after it, one kernel
/// on a GPU (`kernels::layer_norm::add_forward`), where the add alone is a launch. In autodiff
/// the sum is an op of its own whose backward hands its gradient to both addends, and the norm
/// reads the sum as `layer_norm` reads its input.
pub fn add_layer_norm<const D: usize>(
    x: Tensor<D>,
    delta: Tensor<D>,
    gamma: Tensor<1>,
) -> (Tensor<D>, Tensor<D>) {
    #[cfg(feature = "webgpu")]
    if let Some(pair) = add_layer_norm_on_gpu(x.clone(), delta.clone(), gamma.clone()) {
        return pair;
    }
    let sum = x + delta;
    (sum.clone(), layer_norm(sum, gamma))
}

/// `add_layer_norm` by the kernel, for tensors on a cubecl GPU; `None` elsewhere.
#[cfg(feature = "webgpu")]
fn add_layer_norm_on_gpu<const D: usize>(
    x: Tensor<D>,
    delta: Tensor<D>,
    gamma: Tensor<1>,
) -> Option<(Tensor<D>, Tensor<D>)> {
    use burn_dispatch::backends::Cube;
    if !x.is_autodiff() {
        if !crate::kernels::on_gpu(&x.device()) {
            return None;
        }
        let (sum, parts) = add_kernel(x, delta, gamma);
        return Some((sum, parts.output));
    }
    let [x, delta, gamma] = unwrap_all::<Cube, 3, D>([x, delta, along_last::<D>(gamma)])?;
    let gamma_wide = plain::<Cube, D>(gamma.primitive().clone());
    let d = gamma_wide.dims()[D - 1];
    let (sum, parts) = add_kernel(
        plain::<Cube, D>(x.primitive().clone()),
        plain::<Cube, D>(delta.primitive().clone()),
        gamma_wide.reshape([d]),
    );
    let sum = SumBackward
        .prepare::<NoCheckpointing>([x.node(), delta.node()])
        .compute_bound()
        .stateless(primitive::<Cube, D>(sum));
    let prep = LayerNormBackward::<D>
        .prepare::<NoCheckpointing>([sum.node(), gamma.node()])
        .compute_bound()
        .stateful();
    let output = primitive::<Cube, D>(parts.output);
    let normed = match prep {
        OpsKind::Tracked(prep) => {
            let state = [
                primitive::<Cube, D>(parts.normalized),
                primitive::<Cube, D>(parts.inverse_std),
                gamma.primitive().clone(),
            ];
            prep.finish(state, output)
        }
        OpsKind::UnTracked(prep) => prep.finish(output),
    };
    let tensor = |t| Tensor::from_primitive::<Autodiff<Cube, NoCheckpointing>>(t);
    Some((tensor(sum), tensor(normed)))
}

/// `x` + `delta` `[.., d]` and its layer norm's parts, by the kernel.
#[cfg(feature = "webgpu")]
fn add_kernel<const D: usize>(
    x: Tensor<D>,
    delta: Tensor<D>,
    gamma: Tensor<1>,
) -> (Tensor<D>, LayerNormParts<D>) {
    let (dims, [rows, d]) = (x.dims(), rows_of(&x));
    let (x, delta) = (x.reshape([rows, d]), delta.reshape([rows, d]));
    let (sum, parts) = crate::kernels::layer_norm::add_forward(x, delta, gamma, LAYER_NORM_EPSILON);
    (sum.reshape(dims), LayerNormParts::from_rows(parts, dims))
}

/// The sum of two tensors, computed elsewhere (`add_layer_norm`): its gradient is each addend's.
#[cfg(feature = "webgpu")]
#[derive(Debug)]
struct SumBackward;

#[cfg(feature = "webgpu")]
impl<B: Inner> Backward<B, 2> for SumBackward
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    type State = ();

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let [x, delta] = ops.parents;
        if let Some(node) = x {
            grads.register::<B>(node.id, grad.clone());
        }
        if let Some(node) = delta {
            grads.register::<B>(node.id, grad);
        }
    }
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

#[cfg(feature = "webgpu")]
impl<const D: usize> LayerNormParts<D> {
    /// The kernel's parts over rows `[rows, d]`, shaped as the input, `dims`.
    fn from_rows(parts: crate::kernels::layer_norm::Parts, dims: [usize; D]) -> Self {
        let mut row_dims = dims;
        row_dims[D - 1] = 1;
        LayerNormParts {
            output: parts.output.reshape(dims),
            normalized: parts.normalized.reshape(dims),
            inverse_std: parts.inverse_std.reshape(row_dims),
        }
    }
}

/// `gamma` is `[1, .., 1, d]`. Outside autodiff on a GPU, one kernel (`kernels::layer_norm`).
fn layer_norm_parts<const D: usize>(x: Tensor<D>, gamma: Tensor<D>) -> LayerNormParts<D> {
    #[cfg(feature = "webgpu")]
    if crate::kernels::on_gpu(&x.device()) {
        let (dims, [rows, d]) = (x.dims(), rows_of(&x));
        let (x, gamma) = (x.reshape([rows, d]), gamma.reshape([d]));
        let parts = crate::kernels::layer_norm::forward(x, gamma, LAYER_NORM_EPSILON);
        return LayerNormParts::from_rows(parts, dims);
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

/// The loss `[1]` and what the backward reads: the log-probabilities `[rows, vocab]`, or on a GPU
/// the logits as they are and each row's log-sum-exp `[rows]` (`kernels::cross_entropy`).
fn cross_entropy_parts(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
) -> (Tensor<1>, Tensor<2>, Option<Tensor<1>>) {
    #[cfg(feature = "webgpu")]
    if crate::kernels::on_gpu(&logits.device()) {
        let (losses, log_sum_exp) = crate::kernels::cross_entropy::forward(logits.clone(), targets);
        return (losses.mean(), logits, Some(log_sum_exp));
    }
    let [rows, _] = logits.dims();
    let log_probs = activation::log_softmax(logits, 1);
    let picked = log_probs.clone().gather(1, targets.reshape([rows, 1])); // [rows, 1]
    (picked.mean().neg(), log_probs, None)
}

#[derive(Debug)]
struct CrossEntropyBackward;

impl<B: Inner> Backward<B, 1> for CrossEntropyBackward
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    /// `cross_entropy_parts`' log-probabilities (or logits and log-sum-exp), and the targets.
    type State = (
        B::FloatTensorPrimitive,
        Option<B::FloatTensorPrimitive>,
        B::IntTensorPrimitive,
    );

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else { return };
        let (saved, log_sum_exp, targets) = ops.state;
        let saved = plain::<B, 2>(saved);
        let targets = Tensor::<1, Int>::from_primitive::<B>(targets);
        let grad = plain::<B, 1>(grads.consume::<B>(&ops.node)); // [1]
        let d_logits = match log_sum_exp {
            #[cfg(feature = "webgpu")]
            Some(log_sum_exp) => crate::kernels::cross_entropy::backward(
                saved,
                plain::<B, 1>(log_sum_exp),
                targets,
                grad,
            ),
            _ => {
                let [rows, _] = saved.dims();
                let minus_one = Tensor::<2>::full([rows, 1], -1.0, &saved.device());
                saved.exp().scatter(
                    1,
                    targets.reshape([rows, 1]),
                    minus_one,
                    IndexingUpdateOp::Add,
                ) * grad.div_scalar(rows as f64).reshape([1, 1])
            }
        };
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
    let (loss, saved, log_sum_exp) = cross_entropy_parts(
        plain::<B, 2>(logits.primitive().clone()),
        Tensor::<1, Int>::from_primitive::<B>(targets.clone()),
    );
    let loss = primitive::<B, 1>(loss);
    let prep = CrossEntropyBackward
        .prepare::<NoCheckpointing>([logits.node()])
        .compute_bound()
        .stateful();
    let tensor = match prep {
        OpsKind::Tracked(prep) => {
            let saved = primitive::<B, 2>(saved);
            let log_sum_exp = log_sum_exp.map(primitive::<B, 1>);
            prep.finish((saved, log_sum_exp, targets), loss)
        }
        OpsKind::UnTracked(prep) => prep.finish(loss),
    };
    Some(Tensor::from_primitive::<Autodiff<B, NoCheckpointing>>(
        tensor,
    ))
}

/// Attention's core over `qkv` `[batch, time, 3 · d]` (the projection's output: queries, keys
/// and values, each `heads` heads of `d / heads`): the context `[batch, time, d]`, from scores
/// scaled by `scale`, queries and keys turned first by `rotation` (cos and sin, as `rotate`
/// takes them) if given. `forward(query, key, value)` gives the context `[batch, heads, time,
/// head_dim]` and the weights `[batch, heads, time, time]` of causal attention on the CPU; a GPU
/// takes its own causal kernels (`kernels::attention`), which read `qkv` and write the context
/// where they lie. The backward is written out: dV = Wᵀ·dO, dS = W ⊙ (dO·Vᵀ − Σ(dO·Vᵀ ⊙ W)) ·
/// scale, dQ = dS·K, dK = dSᵀ·Q, and the three land in one tensor shaped as `qkv`, where
/// burn's backward of three views of `qkv` fills three zero tensors of its size and adds them
/// up. `None` where the hand-written backward does not reach (not autodiff, or another
/// backend).
pub fn attention(
    qkv: Tensor<3>,
    heads: usize,
    scale: f64,
    rotation: Option<[Tensor<4>; 2]>,
    forward: impl Fn(Tensor<4>, Tensor<4>, Tensor<4>) -> (Tensor<4>, Tensor<4>),
) -> Option<Tensor<3>> {
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

/// How `attention` reads its `qkv`: its heads, the scores' scale, and rotary positions' cos and
/// sin (`rotate`), outside autodiff.
struct Attention {
    heads: usize,
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

/// `qkv` `[batch, time, 3 · d]` as the queries, keys and values, `[batch, heads, time,
/// head_dim]` each: one copy, then three contiguous views that products take as they are
/// (split first, each part's heads were copied once to reshape and again for the product).
pub fn unpack(qkv: Tensor<3>, heads: usize) -> [Tensor<4>; 3] {
    let [batch, time, width] = qkv.dims();
    let head_dim = width / (3 * heads);
    let parts: Vec<_> = qkv
        .reshape([batch, time, 3, heads, head_dim])
        .permute([2, 0, 3, 1, 4])
        .reshape([3 * batch * heads, time, head_dim])
        .chunk(3, 0)
        .into_iter()
        .map(|part| part.reshape([batch, heads, time, head_dim]))
        .collect();
    parts.try_into().expect("three parts")
}

/// `unpack`'s inverse: queries, keys and values `[batch, heads, time, head_dim]` into one
/// `[batch, time, 3 · d]`.
pub fn pack(parts: [Tensor<4>; 3]) -> Tensor<3> {
    let [batch, heads, time, head_dim] = parts[0].dims();
    Tensor::stack::<5>(parts.to_vec(), 0) // [3, batch, heads, time, head_dim]
        .permute([1, 3, 0, 2, 4])
        .reshape([batch, time, 3 * heads * head_dim])
}

/// Queries and keys turned by `rotation` (cos and sin), values as they are.
fn turned(
    [query, key, value]: [Tensor<4>; 3],
    rotation: Option<&[Tensor<4>; 2]>,
) -> [Tensor<4>; 3] {
    match rotation {
        Some([cos, sin]) => {
            let turn = |x| rotate(x, cos.clone(), sin.clone());
            [turn(query), turn(key), value]
        }
        None => [query, key, value],
    }
}

/// What attention's backward reads, besides the rotation: `Q` a `qkv`'s type, `H` a head's.
#[derive(Clone, Debug)]
enum Saved<Q, H> {
    /// The CPU's: the queries and keys as the scores saw them (turned), the values `[batch,
    /// heads, time, head_dim]`, and the weights.
    Heads([H; 4]),
    /// A GPU kernel's: `qkv` as the scores saw it (turned) and the weights.
    #[cfg_attr(not(feature = "webgpu"), allow(dead_code))]
    Packed(Q, H),
}

#[derive(Debug)]
struct AttentionBackward {
    /// For a GPU's packed gradient with rotary positions.
    #[cfg_attr(not(feature = "webgpu"), allow(dead_code))]
    heads: usize,
    scale: f64,
}

impl<B: Inner> Backward<B, 1> for AttentionBackward
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    /// What the forward saved, and the rotation's cos and sin.
    type State = (
        Saved<B::FloatTensorPrimitive, B::FloatTensorPrimitive>,
        Option<[B::FloatTensorPrimitive; 2]>,
    );

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else { return };
        let (saved, rotation) = ops.state;
        let grad = plain::<B, 3>(grads.consume::<B>(&ops.node)); // [batch, time, d]
        let rotation = rotation.map(|r| r.map(plain::<B, 4>));
        let d_qkv = match saved {
            #[cfg(feature = "webgpu")]
            Saved::Packed(qkv, weights) => {
                let (qkv, weights) = (plain::<B, 3>(qkv), plain::<B, 4>(weights));
                let d_qkv = crate::kernels::attention::backward(grad, weights, qkv, self.scale);
                match rotation {
                    Some(rotation) => joined(unpack(d_qkv, self.heads), Some(rotation)),
                    None => d_qkv,
                }
            }
            #[cfg(not(feature = "webgpu"))]
            Saved::Packed(..) => unreachable!("packed attention is a GPU kernel's"),
            Saved::Heads(saved) => {
                let [query, key, value, weights] = saved.map(plain::<B, 4>);
                let [batch, heads, time, head_dim] = query.dims();
                let grad = grad.reshape([batch, time, heads, head_dim]).swap_dims(1, 2);
                let d_value = weights.clone().swap_dims(2, 3).matmul(grad.clone());
                let d_weights = grad.matmul(value.swap_dims(2, 3)); // [batch, heads, time, time]
                let dot = (d_weights.clone() * weights.clone()).sum_dim(3);
                let d_scores = ((d_weights - dot) * weights).mul_scalar(self.scale);
                let d_query = d_scores.clone().matmul(key);
                let d_key = d_scores.swap_dims(2, 3).matmul(query);
                joined([d_query, d_key, d_value], rotation)
            }
        };
        grads.register::<B>(node.id, primitive::<B, 3>(d_qkv));
    }
}

/// The gradients of the queries, keys and values `[batch, heads, time, head_dim]` as one of `qkv`
/// `[batch, time, 3 · d]`, those of the queries and keys turned back by `rotation`'s opposite
/// angle (the rotation's transpose).
fn joined(parts: [Tensor<4>; 3], rotation: Option<[Tensor<4>; 2]>) -> Tensor<3> {
    let back = rotation.map(|[cos, sin]| [cos, sin.neg()]);
    pack(turned(parts, back.as_ref()))
}

/// The context `[batch, time, d]` of plain `qkv`, and what the backward reads.
fn attend(
    qkv: Tensor<3>,
    setup: &Attention,
    rotation: Option<&[Tensor<4>; 2]>,
    forward: &impl Fn(Tensor<4>, Tensor<4>, Tensor<4>) -> (Tensor<4>, Tensor<4>),
) -> (Tensor<3>, Saved<Tensor<3>, Tensor<4>>) {
    #[cfg(feature = "webgpu")]
    if crate::kernels::on_gpu(&qkv.device()) {
        let qkv = match rotation {
            Some(_) => pack(turned(unpack(qkv, setup.heads), rotation)),
            None => qkv,
        };
        let (context, weights) =
            crate::kernels::attention::forward(qkv.clone(), setup.heads, setup.scale);
        return (context, Saved::Packed(qkv, weights));
    }
    let [query, key, value] = turned(unpack(qkv, setup.heads), rotation);
    let (context, weights) = forward(query.clone(), key.clone(), value.clone());
    let [batch, heads, time, head_dim] = context.dims();
    let context = context
        .swap_dims(1, 2)
        .reshape([batch, time, heads * head_dim]);
    (context, Saved::Heads([query, key, value, weights]))
}

fn attention_autodiff<B: Inner>(
    qkv: Tensor<3>,
    setup: &Attention,
    forward: &impl Fn(Tensor<4>, Tensor<4>, Tensor<4>) -> (Tensor<4>, Tensor<4>),
) -> Option<Tensor<3>>
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
    let plain_qkv = plain::<B, 3>(qkv.primitive().clone());
    let (context, saved) = attend(plain_qkv, setup, turn.as_ref(), forward);
    let context = primitive::<B, 3>(context);
    let backward = AttentionBackward {
        heads: setup.heads,
        scale: setup.scale,
    };
    let prep = backward
        .prepare::<NoCheckpointing>([qkv.node()])
        .compute_bound()
        .stateful();
    let tensor = match prep {
        OpsKind::Tracked(prep) => {
            let saved = match saved {
                Saved::Heads(parts) => Saved::Heads(parts.map(primitive::<B, 4>)),
                Saved::Packed(qkv, weights) => {
                    Saved::Packed(primitive::<B, 3>(qkv), primitive::<B, 4>(weights))
                }
            };
            prep.finish((saved, rotation), context)
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
        // [batch 1, time 2, 3 · d] of 2 heads of 4.
        assert!(attention(input().reshape([1, 2, 24]), 2, 1.0, None, forward).is_some());
        let plain = input().inner().reshape([1, 2, 24]);
        assert!(attention(plain, 2, 1.0, None, forward).is_none());
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

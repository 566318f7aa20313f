//! A GPT in the shape of nanoGPT's `model.py`: token and learned position embeddings, pre-norm
//! blocks of causal self-attention and a 4x GELU MLP, a final LayerNorm and an LM head tied to
//! the token embedding. No biases anywhere, as in nanoGPT's shakespeare_char config. Options
//! nanoGPT lacks (`Config::activation`, `positions`, `qk_norm`) change the blocks' insides,
//! never the shapes of the weights they share with it.

use std::collections::HashMap;

use burn::module::{Initializer, Module, ParamId};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear,
    LinearConfig,
};
use burn::tensor::activation::{gelu, relu};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use crate::config::{Activation, Config, Positions};
use crate::device::is_cpu;
use crate::model::fused;

/// nanoGPT's init: N(0, 0.02) for every matrix and embedding; the projections that write into
/// the residual stream get 0.02 / sqrt(2 * n_layer) so the stream's variance does not grow with
/// depth. With burn's default init the baby-GPT recipe ends near val loss 2.11 instead of 1.89.
const INIT_STD: f64 = 0.02;

fn normal(std: f64) -> Initializer {
    Initializer::Normal { mean: 0.0, std }
}

fn linear(d_input: usize, d_output: usize, std: f64, device: &Device) -> Linear {
    LinearConfig::new(d_input, d_output)
        .with_bias(false)
        .with_initializer(normal(std))
        .init(device)
}

fn layer_norm(d_model: usize, device: &Device) -> LayerNorm {
    LayerNormConfig::new(d_model)
        .with_bias(false)
        .with_epsilon(fused::LAYER_NORM_EPSILON)
        .init(device)
}

/// `linear` applied to `x` `[batch, time, d_in]` as one `[batch · time, d_in]` product: burn
/// broadcasts its weight over a 3-D input, and the gradient of that broadcast is a reduction over
/// the batch, a kernel per weight on a GPU that the 2-D product does not need.
fn project(linear: &Linear, x: Tensor<3>) -> Tensor<3> {
    let [batch, time, d_in] = x.dims();
    let y = linear.forward(x.reshape([batch * time, d_in]));
    let d_out = y.dims()[1];
    y.reshape([batch, time, d_out])
}

/// `norm` applied to `x`, with its backward in one closed form (`fused::layer_norm`).
fn normalize(norm: &LayerNorm, x: Tensor<3>) -> Tensor<3> {
    fused::layer_norm(x, norm.gamma.val())
}

/// burn's MultiHeadAttention has no incremental decoding for a single new query (its cache
/// re-runs attention over every position each step), so this one is written out: one fused
/// QKV projection, and a KV cache so each generated token costs O(context).
#[derive(Module, Debug)]
pub struct CausalSelfAttention {
    qkv: Linear,
    proj: Linear,
    attn_dropout: Dropout,
    resid_dropout: Dropout,
    n_head: usize,
    qk_norm: bool,
}

/// Keys and values of every position seen so far, `[batch, heads, positions, head_dim]`. On the
/// CPU `positions` grows with each token (work in proportion to the positions so far); with
/// WebGPU's kernels (`kernels::attention`) it is the whole context from the start, its later
/// positions empty and unread: one shape at every position, so that the GPU compiles its
/// kernels once, not for each new length (the fixed shape cost the CPU 5–8 % of its
/// tokens/s), and the attention kernel writes the new positions in place.
#[derive(Clone, Debug)]
pub struct LayerCache {
    key: Tensor<4>,
    value: Tensor<4>,
}

/// A block's slot in the KV cache and where the new positions go in it.
#[cfg_attr(not(feature = "webgpu"), allow(dead_code))]
struct CacheSlot<'a> {
    layer: &'a mut Option<LayerCache>,
    /// Positions already cached.
    past: usize,
    /// Positions a GPU's cache holds (the model's context); the CPU's grows instead.
    capacity: usize,
}

impl CausalSelfAttention {
    fn new(config: &Config, device: &Device) -> Self {
        let d = config.n_embd;
        let resid_std = INIT_STD / (2.0 * config.n_layer as f64).sqrt();
        CausalSelfAttention {
            qkv: linear(d, 3 * d, INIT_STD, device),
            proj: linear(d, d, resid_std, device),
            attn_dropout: DropoutConfig::new(config.dropout).init(),
            resid_dropout: DropoutConfig::new(config.dropout).init(),
            n_head: config.n_head,
            qk_norm: config.qk_norm,
        }
    }

    /// `x` holds the new positions; `cache` the earlier ones, and receives the new ones.
    /// `rotation`: the new positions' rotary angles, with rotary positions; `hidden`: which
    /// positions each new one may not see (`hidden_positions`). `trace` receives the attention
    /// weights.
    fn forward(
        &self,
        x: Tensor<3>,
        cache: Option<CacheSlot<'_>>,
        rotation: Option<&Rotation>,
        hidden: Option<&Tensor<4, Bool>>,
        trace: Option<&mut Trace>,
    ) -> Tensor<3> {
        let d_model = x.dims()[2];
        let head_dim = d_model / self.n_head;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let qkv = project(&self.qkv, x); // [batch, time, 3 · d]
        let attend = |query: Tensor<4>, key: Tensor<4>, value: Tensor<4>| {
            attention(query, key, value, hidden, scale)
        };
        // Training's usual case, with the backward written out (`fused::attention`).
        let usual =
            cache.is_none() && trace.is_none() && !self.qk_norm && self.attn_dropout.prob == 0.0;
        let fused = usual
            .then(|| {
                let rotation = rotation.map(|r| [r.cos.clone(), r.sin.clone()]);
                fused::attention(qkv.clone(), self.n_head, scale, rotation, attend)
            })
            .flatten();
        let context = match fused {
            Some(context) => context,
            None => self.attend_in_steps(qkv, cache, rotation, hidden, scale, trace),
        };
        self.resid_dropout.forward(project(&self.proj, context))
    }

    /// The context `[batch, time, d]` from `qkv` `[batch, time, 3 · d]`, op by op: with the KV
    /// cache, a trace, QK norm or dropout, or without autodiff.
    fn attend_in_steps(
        &self,
        qkv: Tensor<3>,
        cache: Option<CacheSlot<'_>>,
        rotation: Option<&Rotation>,
        hidden: Option<&Tensor<4, Bool>>,
        scale: f64,
        trace: Option<&mut Trace>,
    ) -> Tensor<3> {
        let [batch, time, width] = qkv.dims();
        // Plain tensors only (`on_gpu` excludes autodiff devices): training takes burn's ops
        // below, with `hidden` masking the future. The kernels read `qkv` as it lies, so the
        // heads are unpacked only to turn queries and keys.
        #[cfg(feature = "webgpu")]
        if crate::kernels::on_gpu(&qkv.device()) {
            let qkv = match self.qk_norm || rotation.is_some() {
                true => fused::pack(self.heads(qkv, rotation)),
                false => qkv,
            };
            let (context, weights) = self.attend_on_gpu(qkv, cache, scale);
            if let Some(trace) = trace {
                trace.attention.push(weights);
            }
            return context;
        }
        let [query, mut key, mut value] = self.heads(qkv, rotation);
        if let Some(CacheSlot { layer, .. }) = cache {
            if let Some(earlier) = layer.take() {
                key = Tensor::cat(vec![earlier.key, key], 2);
                value = Tensor::cat(vec![earlier.value, value], 2);
            }
            *layer = Some(LayerCache {
                key: key.clone(),
                value: value.clone(),
            });
        }
        let context = if query.is_autodiff() {
            let weights = weights_of(query, key, hidden, scale);
            if let Some(trace) = trace {
                trace.attention.push(weights.clone());
            }
            self.attn_dropout.forward(weights).matmul(value)
        } else {
            let (context, weights) = attention(query, key, value, hidden, scale);
            if let Some(trace) = trace {
                trace.attention.push(weights);
            }
            context
        };
        context.swap_dims(1, 2).reshape([batch, time, width / 3])
    }

    /// Queries, keys and values `[batch, heads, time, head_dim]` of `qkv`, queries and keys
    /// normalized (QK norm) and turned (rotary positions) as the model says.
    fn heads(&self, qkv: Tensor<3>, rotation: Option<&Rotation>) -> [Tensor<4>; 3] {
        let [mut query, mut key, value] = fused::unpack(qkv, self.n_head);
        if self.qk_norm {
            (query, key) = (rms_norm(query), rms_norm(key));
        }
        if let Some(rotation) = rotation {
            (query, key) = (rotation.apply(query), rotation.apply(key));
        }
        [query, key, value]
    }

    /// The context and the weights of plain `qkv` on a GPU, by its kernels: with a cache, the
    /// whole context's keys and values (one shape at every position, so that the kernels are
    /// compiled once), the new ones written in by the same launch.
    #[cfg(feature = "webgpu")]
    fn attend_on_gpu(
        &self,
        qkv: Tensor<3>,
        cache: Option<CacheSlot<'_>>,
        scale: f64,
    ) -> (Tensor<3>, Tensor<4>) {
        use crate::kernels::attention;
        let Some(CacheSlot {
            layer,
            past,
            capacity,
        }) = cache
        else {
            return attention::forward(qkv, self.n_head, scale);
        };
        let earlier = layer.take().map(|e| [e.key, e.value]).unwrap_or_else(|| {
            let [batch, _, width] = qkv.dims();
            let shape = [batch, self.n_head, capacity, width / (3 * self.n_head)];
            [(); 2].map(|_| Tensor::zeros(shape, &qkv.device()))
        });
        let (context, weights, [key, value]) = attention::forward_cached(qkv, earlier, past, scale);
        *layer = Some(LayerCache { key, value });
        (context, weights)
    }
}

/// The context `[batch, heads, time, head_dim]` and the weights `[batch, heads, time,
/// positions]` of `query` over `key` and `value` on the CPU outside autodiff, the positions a
/// query may not see masked (`hidden_positions`).
fn attention(
    query: Tensor<4>,
    key: Tensor<4>,
    value: Tensor<4>,
    hidden: Option<&Tensor<4, Bool>>,
    scale: f64,
) -> (Tensor<4>, Tensor<4>) {
    let weights = weights_of(query, key, hidden, scale);
    (weights.clone().matmul(value), weights)
}

/// Attention of `query` `[batch, heads, time, head_dim]` over `key` `[batch, heads, positions,
/// head_dim]`, scores scaled by `scale`, `hidden` positions masked: the weights `[batch, heads,
/// time, positions]`.
fn weights_of(
    query: Tensor<4>,
    key: Tensor<4>,
    hidden: Option<&Tensor<4, Bool>>,
    scale: f64,
) -> Tensor<4> {
    let scores = query.matmul(key.swap_dims(2, 3)).mul_scalar(scale);
    let scores = match hidden {
        Some(hidden) => {
            let hidden = hidden.clone().expand(scores.shape());
            scores.mask_fill(hidden, f32::NEG_INFINITY)
        }
        None => scores,
    };
    attention_weights(scores)
}

/// `[1, 1, time, past + time]`: true where key position j comes after new position i (j >
/// past + i). None where no position is hidden (one new position, which sees all) and for
/// plain tensors on a GPU, whose attention kernels mask by position themselves (autodiff's
/// device is another: training gets its mask). Made once per forward pass, not per block, and
/// on the host: burn's `tril_mask` is a dozen kernels on a GPU.
fn hidden_positions(past: usize, time: usize, device: &Device) -> Option<Tensor<4, Bool>> {
    #[cfg(feature = "webgpu")]
    if crate::kernels::on_gpu(device) {
        return None;
    }
    let positions = past + time;
    (time > 1).then(|| {
        let hidden = (0..time)
            .flat_map(|i| (0..positions).map(move |j| j > past + i))
            .collect();
        // Outside autodiff, so that it can mask the plain scores of `fused::attention` too.
        let device = device.clone().inner();
        Tensor::<2, Bool>::from_data(TensorData::new(hidden, [time, positions]), &device)
            .unsqueeze::<4>()
    })
}

/// A weight under e^-32 of its row's largest changes no f32 sum it enters.
const NEGLIGIBLE_LOG_WEIGHT: f32 = 32.0;

/// Softmax of `scores` `[batch, heads, time, positions]` along the positions; on the CPU every
/// weight under e^-32 of its row's largest is exactly zero. Why: a sharp head's smallest
/// weights (e^-87..e^-104) are subnormal floats, and x86 spends ~100 cycles on each one a
/// multiply meets, natively and under WebAssembly (which may not flush them). A 2 × 64 GPT
/// trained with Muon slowed from 23.7 to 29 ms/step natively as they appeared (3.5 % of layer
/// 2's weights by step 2,500); with this it stays flat. Zeros there also keep them out of the
/// backward pass. GPUs flush subnormals themselves, so they are spared the extra kernels.
fn attention_weights(scores: Tensor<4>) -> Tensor<4> {
    if !is_cpu(&scores.device()) {
        return fused::softmax(scores);
    }
    let floor = scores
        .clone()
        .detach()
        .max_dim(3)
        .sub_scalar(NEGLIGIBLE_LOG_WEIGHT); // [.., 1]
    let negligible = scores.clone().lower(floor.expand(scores.shape()));
    fused::softmax(scores.mask_fill(negligible, f32::NEG_INFINITY))
}

/// `x` `[batch, heads, time, head_dim]` scaled to unit root-mean-square along `head_dim`.
fn rms_norm(x: Tensor<4>) -> Tensor<4> {
    let rms = x.clone().square().mean_dim(3).add_scalar(1e-6).sqrt();
    x / rms
}

/// Rotary embeddings' angles for the positions of one forward pass: cos and sin, each
/// `[1, 1, time, head_dim / 2]`, frequency i turning 10000^(-2i / head_dim) per position. Built
/// once per pass and shared by every layer. Written here rather than burn's `RotaryEncoding`,
/// which keeps its table as module state (it would ride in every checkpoint) and rotates each
/// pair through a small matmul.
struct Rotation {
    cos: Tensor<4>,
    sin: Tensor<4>,
}

impl Rotation {
    /// The angles of positions `past..past + time`, outside autodiff (constants, which
    /// `fused::attention` takes as they are).
    fn new(past: usize, time: usize, head_dim: usize, device: &Device) -> Self {
        let device = &device.clone().inner();
        let half = head_dim / 2;
        let frequencies = Tensor::<1, Int>::arange(0..half as i64, device)
            .float()
            .mul_scalar(-2.0 * 10_000f64.ln() / head_dim as f64)
            .exp()
            .reshape([1, half]);
        let positions = Tensor::<1, Int>::arange(past as i64..(past + time) as i64, device)
            .float()
            .reshape([time, 1]);
        let angles = positions.matmul(frequencies).reshape([1, 1, time, half]);
        Rotation {
            cos: angles.clone().cos(),
            sin: angles.sin(),
        }
    }

    /// `x` `[batch, heads, time, head_dim]` with each pair (i, i + head_dim / 2) turned by its
    /// angle.
    fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        fused::rotate(x, self.cos.clone(), self.sin.clone())
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    up: Linear,
    down: Linear,
    dropout: Dropout,
    relu2: bool,
}

impl Mlp {
    fn new(config: &Config, device: &Device) -> Self {
        let d = config.n_embd;
        Mlp {
            up: linear(d, 4 * d, INIT_STD, device),
            down: linear(
                4 * d,
                d,
                INIT_STD / (2.0 * config.n_layer as f64).sqrt(),
                device,
            ),
            dropout: DropoutConfig::new(config.dropout).init(),
            relu2: config.activation == Activation::Relu2,
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let hidden = project(&self.up, x);
        let hidden = if self.relu2 {
            relu(hidden).square()
        } else {
            gelu(hidden)
        };
        self.dropout.forward(project(&self.down, hidden))
    }
}

#[derive(Module, Debug)]
pub struct Block {
    ln_1: LayerNorm,
    attn: CausalSelfAttention,
    ln_2: LayerNorm,
    mlp: Mlp,
}

impl Block {
    fn forward(
        &self,
        stream: &mut Residual,
        cache: Option<CacheSlot<'_>>,
        rotation: Option<&Rotation>,
        hidden: Option<&Tensor<4, Bool>>,
        mut trace: Option<&mut Trace>,
    ) {
        let normed = stream.normalize(&self.ln_1);
        let attended = self
            .attn
            .forward(normed, cache, rotation, hidden, trace.as_deref_mut());
        stream.add(attended);
        let normed = stream.normalize(&self.ln_2);
        stream.add(self.mlp.forward(normed));
        if let Some(trace) = trace {
            trace.residual.push(stream.settle());
        }
    }
}

/// The residual stream with a branch's output not yet added to it: the layer norm after adds it
/// (`fused::add_layer_norm`), in the norm's own kernel on a GPU, where the add alone was a
/// launch per branch.
struct Residual {
    x: Tensor<3>,               // [batch, time, d_model]
    pending: Option<Tensor<3>>, // [batch, time, d_model]
}

impl Residual {
    fn new(x: Tensor<3>) -> Self {
        Residual { x, pending: None }
    }

    /// `norm` applied to the stream, with what is pending added first.
    fn normalize(&mut self, norm: &LayerNorm) -> Tensor<3> {
        let Some(delta) = self.pending.take() else {
            return normalize(norm, self.x.clone());
        };
        let (sum, normed) = fused::add_layer_norm(self.x.clone(), delta, norm.gamma.val());
        self.x = sum;
        normed
    }

    /// A branch's output, to be added.
    fn add(&mut self, delta: Tensor<3>) {
        self.settle();
        self.pending = Some(delta);
    }

    /// The stream with everything added.
    fn settle(&mut self) -> Tensor<3> {
        if let Some(delta) = self.pending.take() {
            self.x = self.x.clone() + delta;
        }
        self.x.clone()
    }
}

/// What a forward pass leaves behind for looking inside (see `inspect`), one entry per block:
/// its attention weights `[batch, heads, time, time]` (each row a distribution over the
/// positions up to its own) and the residual stream after it `[batch, time, d_model]`.
#[derive(Debug, Default)]
pub struct Trace {
    pub attention: Vec<Tensor<4>>,
    pub residual: Vec<Tensor<3>>,
}

#[derive(Module, Debug)]
pub struct Gpt {
    token_embedding: Embedding,
    /// `None` with rotary positions (`rotation`).
    position_embedding: Option<Embedding>,
    /// Longest sequence trained on; with rotary positions, longer ones are untested.
    block_size: usize,
    dropout: Dropout,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    /// `None` when the head is tied to `token_embedding`.
    lm_head: Option<Linear>,
}

/// Incremental decoding state: one cache per block.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<LayerCache>>,
    /// Positions cached.
    len: usize,
}

impl KvCache {
    /// Positions already cached.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Gpt {
    pub fn new(config: &Config, vocab: usize, device: &Device) -> Self {
        let d = config.n_embd;
        let embedding = |n: usize| {
            EmbeddingConfig::new(n, d)
                .with_initializer(normal(INIT_STD))
                .init(device)
        };
        Gpt {
            token_embedding: embedding(vocab),
            position_embedding: (config.positions == Positions::Learned)
                .then(|| embedding(config.block_size)),
            block_size: config.block_size,
            dropout: DropoutConfig::new(config.dropout).init(),
            blocks: (0..config.n_layer)
                .map(|_| Block {
                    ln_1: layer_norm(d, device),
                    attn: CausalSelfAttention::new(config, device),
                    ln_2: layer_norm(d, device),
                    mlp: Mlp::new(config, device),
                })
                .collect(),
            ln_f: layer_norm(d, device),
            lm_head: (!config.tie_embeddings).then(|| linear(d, vocab, INIT_STD, device)),
        }
    }

    /// Logits `[batch, time, vocab]` for every position of `tokens` `[batch, time]`.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        self.run(tokens, None, None)
    }

    /// Logits for `tokens` that follow the positions already in `cache`, which grows by them;
    /// together they fit in the context (`block_size`).
    pub fn forward_cached(&self, tokens: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<3> {
        self.run(tokens, Some(cache), None)
    }

    /// `forward`, leaving each block's attention weights and output in `trace`.
    pub fn forward_traced(&self, tokens: Tensor<2, Int>, trace: &mut Trace) -> Tensor<3> {
        self.run(tokens, None, Some(trace))
    }

    fn run(
        &self,
        tokens: Tensor<2, Int>,
        mut cache: Option<&mut KvCache>,
        mut trace: Option<&mut Trace>,
    ) -> Tensor<3> {
        let time = tokens.dims()[1];
        let device = tokens.device();
        let past = cache.as_ref().map_or(0, |c| c.len());
        if let Some(cache) = cache.as_mut() {
            assert!(
                past + time <= self.block_size,
                "{past} cached and {time} new positions overflow the context of {}",
                self.block_size
            );
            cache.layers.resize(self.blocks.len(), None);
            cache.len = past + time;
        }
        // Everything uploaded before any kernel is queued: on a GPU each upload first submits
        // the work queued before it.
        let hidden = hidden_positions(past, time, &device);
        // Uploaded, not `arange`d: on a GPU that is a fill and a cumulative sum.
        let positions = self.position_embedding.as_ref().map(|_| {
            let positions: Vec<i64> = (past as i64..(past + time) as i64).collect();
            Tensor::<2, Int>::from_data(TensorData::new(positions, [1, time]), &device)
        });
        let mut x = self.token_embedding.forward(tokens);
        if let (Some(embedding), Some(positions)) = (&self.position_embedding, positions) {
            x = x + embedding.forward(positions);
        }
        let mut stream = Residual::new(self.dropout.forward(x));
        let rotation = self.rotation(past, time, &device);
        for (i, block) in self.blocks.iter().enumerate() {
            let slot = cache.as_mut().map(|c| CacheSlot {
                layer: &mut c.layers[i],
                past,
                capacity: self.block_size,
            });
            block.forward(
                &mut stream,
                slot,
                rotation.as_ref(),
                hidden.as_ref(),
                trace.as_deref_mut(),
            );
        }
        self.head(stream.normalize(&self.ln_f))
    }

    /// The rotary angles of positions `past..past + time`; none with learned positions.
    fn rotation(&self, past: usize, time: usize, device: &Device) -> Option<Rotation> {
        let attention = &self.blocks.first()?.attn;
        let head_dim = self.token_embedding.weight.dims()[1] / attention.n_head;
        self.position_embedding
            .is_none()
            .then(|| Rotation::new(past, time, head_dim, device))
    }

    /// Logits `[batch, time, vocab]` from the residual stream `x` `[batch, time, d_model]`: the
    /// final LayerNorm and the head. Applied to an earlier block's output, it is the logit lens.
    pub fn read_out(&self, x: Tensor<3>) -> Tensor<3> {
        self.head(normalize(&self.ln_f, x))
    }

    /// Logits from the final LayerNorm's output `x` `[batch, time, d_model]`.
    fn head(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, time, _] = x.dims();
        match &self.lm_head {
            Some(head) => project(head, x),
            None => {
                let weight = self.token_embedding.weight.val();
                let [vocab, d] = weight.dims();
                x.reshape([batch * time, d])
                    .matmul(weight.transpose())
                    .reshape([batch, time, vocab])
            }
        }
    }

    /// The blocks' 2-D weights, `[in, out]` each.
    pub fn hidden_matrices(&self) -> HashMap<ParamId, [usize; 2]> {
        crate::params::matrices(&self.blocks)
    }

    /// The token embedding `[vocab, d_model]`.
    pub fn token_embedding(&self) -> Tensor<2> {
        self.token_embedding.weight.val()
    }

    /// Longest sequence the model was made for.
    pub fn block_size(&self) -> usize {
        self.block_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cpu;

    /// Scores 95 below their row's largest would give subnormal weights (e^-95); on the CPU
    /// they, and every weight under e^-32 of the largest, are exactly zero, and each row still
    /// sums to 1 (a row of one visible position, the causal mask's first, included).
    #[test]
    fn attention_weights_on_the_cpu_hold_no_subnormal_floats() {
        let row = [0.0, -10.0, -31.0, -33.0, -95.0, f32::NEG_INFINITY];
        let first = [
            0.0,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ];
        let values = [row, first].concat();
        let scores = Tensor::<1>::from_floats(values.as_slice(), &cpu()).reshape([1, 1, 2, 6]);
        let weights = attention_weights(scores)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(weights.iter().all(|w| !w.is_subnormal()), "{weights:?}");
        let (row, first) = weights.split_at(6);
        assert_eq!(&row[3..], &[0.0; 3], "{row:?}");
        assert!(row[2] > 0.0 && row[1] > row[2], "{row:?}");
        for sum in [row.iter().sum::<f32>(), first.iter().sum()] {
            assert!((sum - 1.0).abs() < 1e-6, "{weights:?}");
        }
    }
}

//! A GPT in the shape of nanoGPT's `model.py`: token and learned position embeddings, pre-norm
//! blocks of causal self-attention and a 4x GELU MLP, a final LayerNorm and an LM head tied to
//! the token embedding. No biases anywhere, as in nanoGPT's shakespeare_char config.

use burn::module::{Initializer, Module};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear,
    LinearConfig,
};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Bool, Device, Int, Tensor};

use crate::config::Config;

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
    LayerNormConfig::new(d_model).with_bias(false).init(device)
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
}

/// Keys and values of every position seen so far, `[batch, heads, positions, head_dim]`.
#[derive(Clone, Debug)]
pub struct LayerCache {
    key: Tensor<4>,
    value: Tensor<4>,
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
        }
    }

    /// `x` holds the new positions; `cache` the earlier ones, and receives the new ones. Causal
    /// masking is needed only among the new positions: they all come after the cached ones.
    /// `trace` receives the attention weights.
    fn forward(
        &self,
        x: Tensor<3>,
        cache: Option<&mut Option<LayerCache>>,
        trace: Option<&mut Trace>,
    ) -> Tensor<3> {
        let [batch, time, d_model] = x.dims();
        let head_dim = d_model / self.n_head;
        let heads = |t: Tensor<3>| {
            t.reshape([batch, time, self.n_head, head_dim])
                .swap_dims(1, 2)
        };
        let mut qkv = self.qkv.forward(x).chunk(3, 2).into_iter().map(heads);
        let (query, mut key, mut value) = (
            qkv.next().unwrap(),
            qkv.next().unwrap(),
            qkv.next().unwrap(),
        );
        let mut past = 0;
        if let Some(slot) = cache {
            if let Some(earlier) = slot.take() {
                past = earlier.key.dims()[2];
                key = Tensor::cat(vec![earlier.key, key], 2);
                value = Tensor::cat(vec![earlier.value, value], 2);
            }
            *slot = Some(LayerCache {
                key: key.clone(),
                value: value.clone(),
            });
        }

        let scores = query
            .matmul(key.swap_dims(2, 3))
            .mul_scalar(1.0 / (head_dim as f64).sqrt());
        let scores = if time > 1 {
            let future =
                Tensor::<2, Bool>::tril_mask([time, past + time], past as i64, &scores.device());
            let future = future.unsqueeze::<4>().expand(scores.shape());
            scores.mask_fill(future, f32::NEG_INFINITY)
        } else {
            scores
        };
        let weights = softmax(scores, 3);
        if let Some(trace) = trace {
            trace.attention.push(weights.clone());
        }
        let weights = self.attn_dropout.forward(weights);
        let context = weights
            .matmul(value)
            .swap_dims(1, 2)
            .reshape([batch, time, d_model]);
        self.resid_dropout.forward(self.proj.forward(context))
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    up: Linear,
    down: Linear,
    dropout: Dropout,
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
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.dropout
            .forward(self.down.forward(gelu(self.up.forward(x))))
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
        x: Tensor<3>,
        cache: Option<&mut Option<LayerCache>>,
        mut trace: Option<&mut Trace>,
    ) -> Tensor<3> {
        let x = x.clone()
            + self
                .attn
                .forward(self.ln_1.forward(x), cache, trace.as_deref_mut());
        let x = x.clone() + self.mlp.forward(self.ln_2.forward(x));
        if let Some(trace) = trace {
            trace.residual.push(x.clone());
        }
        x
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
    position_embedding: Embedding,
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
}

impl KvCache {
    /// Positions already cached.
    pub fn len(&self) -> usize {
        self.layers
            .first()
            .and_then(|layer| layer.as_ref())
            .map_or(0, |layer| layer.key.dims()[2])
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
            position_embedding: embedding(config.block_size),
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

    /// Logits for `tokens` that follow the positions already in `cache`, which grows by them.
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
        let positions =
            Tensor::<1, Int>::arange(past as i64..(past + time) as i64, &device).reshape([1, time]);
        let mut x = self.dropout.forward(
            self.token_embedding.forward(tokens) + self.position_embedding.forward(positions),
        );
        if let Some(cache) = cache.as_mut() {
            cache.layers.resize(self.blocks.len(), None);
        }
        for (i, block) in self.blocks.iter().enumerate() {
            let cache = cache.as_mut().map(|c| &mut c.layers[i]);
            x = block.forward(x, cache, trace.as_deref_mut());
        }
        self.read_out(x)
    }

    /// Logits `[batch, time, vocab]` from the residual stream `x` `[batch, time, d_model]`: the
    /// final LayerNorm and the head. Applied to an earlier block's output, it is the logit lens.
    pub fn read_out(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, time, _] = x.dims();
        let x = self.ln_f.forward(x);
        match &self.lm_head {
            Some(head) => head.forward(x),
            None => {
                let weight = self.token_embedding.weight.val();
                let [vocab, d] = weight.dims();
                x.reshape([batch * time, d])
                    .matmul(weight.transpose())
                    .reshape([batch, time, vocab])
            }
        }
    }

    /// The token embedding `[vocab, d_model]`.
    pub fn token_embedding(&self) -> Tensor<2> {
        self.token_embedding.weight.val()
    }

    /// Longest sequence the position embedding covers.
    pub fn block_size(&self) -> usize {
        self.position_embedding.weight.dims()[0]
    }
}

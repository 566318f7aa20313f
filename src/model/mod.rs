//! The models Kindling trains, behind one type so training and sampling need not care which.

mod backward;
pub mod fused;
pub mod gpt;
pub mod lora;
pub mod recurrence;
pub mod rnn;

use std::collections::HashMap;

use burn::module::{Module, ParamId};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::{Config, ModelKind};
use gpt::{Gpt, KvCache};
use rnn::{Decoder, Rnn};

// One model per trainer: boxing to even out the variants' sizes buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum LanguageModel {
    Gpt(Gpt),
    Rnn(Rnn),
}

/// Where generation has got to: the GPT's KV cache or the RNN's recurrent state, plus the
/// tokens fed so far (a GPT needs them again when its context window is full).
#[derive(Clone, Debug)]
pub struct DecoderState {
    cache: DecoderCache,
    context: Vec<u32>,
}

#[derive(Clone, Debug)]
enum DecoderCache {
    Gpt(KvCache),
    Rnn(Decoder),
}

impl LanguageModel {
    /// A model of `config`'s shape, with LoRA adapters if it has a `lora_rank`.
    pub fn new(config: &Config, vocab: usize, device: &Device) -> Self {
        let model = match config.model {
            ModelKind::Gpt => LanguageModel::Gpt(Gpt::new(config, vocab, device)),
            ModelKind::Lstm | ModelKind::Gru => LanguageModel::Rnn(Rnn::new(config, vocab, device)),
        };
        match config.lora_rank {
            0 => model,
            rank => lora::adapt(model, rank),
        }
    }

    /// Logits `[batch, time, vocab]` for every position of `tokens` `[batch, time]`.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        match self {
            LanguageModel::Gpt(gpt) => gpt.forward(tokens),
            LanguageModel::Rnn(rnn) => rnn.forward(tokens, None).0,
        }
    }

    /// The matrices inside the model, between its embedding and its head (Muon's share): the
    /// GPT blocks' projections, the recurrent layers' input and hidden transforms.
    pub fn hidden_matrices(&self) -> HashMap<ParamId, [usize; 2]> {
        match self {
            LanguageModel::Gpt(gpt) => gpt.hidden_matrices(),
            LanguageModel::Rnn(rnn) => rnn.hidden_matrices(),
        }
    }

    /// The token embedding `[vocab, d]`: one row per token.
    pub fn token_embedding(&self) -> Tensor<2> {
        match self {
            LanguageModel::Gpt(gpt) => gpt.token_embedding(),
            LanguageModel::Rnn(rnn) => rnn.token_embedding(),
        }
    }

    pub fn start(&self) -> DecoderState {
        let cache = match self {
            LanguageModel::Gpt(_) => DecoderCache::Gpt(KvCache::default()),
            LanguageModel::Rnn(rnn) => DecoderCache::Rnn(rnn.decoder()),
        };
        DecoderState {
            cache,
            context: Vec::new(),
        }
    }

    /// Feeds `ids` after what `state` has seen and returns the logits `[vocab]` for the token
    /// that follows. A GPT whose context window fills up starts again from the last half of its
    /// context, so each token costs O(context) on average.
    pub fn feed(&self, state: &mut DecoderState, ids: &[u32], device: &Device) -> Tensor<1> {
        state.context.extend_from_slice(ids);
        let logits = match (self, &mut state.cache) {
            (LanguageModel::Gpt(gpt), DecoderCache::Gpt(cache)) => {
                let block = gpt.block_size();
                let fresh = if cache.len() + ids.len() > block {
                    // A long prompt keeps a whole window; a full cache keeps half of one.
                    let window = if cache.is_empty() { block } else { block / 2 };
                    *cache = KvCache::default();
                    let keep = window.max(1).min(state.context.len());
                    state.context.drain(..state.context.len() - keep);
                    &state.context[..]
                } else {
                    ids
                };
                gpt.forward_cached(tokens(fresh, device), cache)
            }
            (LanguageModel::Rnn(rnn), DecoderCache::Rnn(decoder)) => {
                rnn.decode(tokens(ids, device), decoder)
            }
            _ => unreachable!("a decoder state always comes from the model's own start()"),
        };
        let [_, time, vocab] = logits.dims();
        logits
            .slice([0..1, time - 1..time, 0..vocab])
            .reshape([vocab])
    }
}

/// One row of token ids as a `[1, len]` tensor.
pub fn tokens(ids: &[u32], device: &Device) -> Tensor<2, Int> {
    let data: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
    Tensor::<1, Int>::from_data(TensorData::new(data, [ids.len()]), device).reshape([1, ids.len()])
}

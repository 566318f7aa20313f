//! char-rnn: embedding, stacked LSTM or GRU layers with dropout between them, linear head.

use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Gru, GruConfig, Linear, LinearConfig, Lstm,
    LstmConfig, LstmState,
};
use burn::tensor::{Int, Tensor};

use crate::config::{Config, ModelKind};
use burn::tensor::Device;

// Few of these exist (one per layer of one model): boxing to even out sizes buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum RecurrentLayer {
    Lstm(Lstm),
    Gru(Gru),
}

/// What one layer carries from token to token while generating.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum LayerState {
    Lstm(LstmState<2>),
    Gru(Tensor<2>),
}

impl RecurrentLayer {
    fn new(kind: ModelKind, d_input: usize, d_hidden: usize, device: &Device) -> Self {
        match kind {
            ModelKind::Gru => {
                RecurrentLayer::Gru(GruConfig::new(d_input, d_hidden, true).init(device))
            }
            _ => RecurrentLayer::Lstm(LstmConfig::new(d_input, d_hidden, true).init(device)),
        }
    }

    fn forward(&self, x: Tensor<3>, state: Option<LayerState>) -> (Tensor<3>, LayerState) {
        match (self, state) {
            (RecurrentLayer::Lstm(lstm), state) => {
                let state = state.map(|s| match s {
                    LayerState::Lstm(s) => s,
                    LayerState::Gru(_) => unreachable!("a GRU state in an LSTM layer"),
                });
                let (out, state) = lstm.forward(x, state);
                (out, LayerState::Lstm(state))
            }
            (RecurrentLayer::Gru(gru), state) => {
                let state = state.map(|s| match s {
                    LayerState::Gru(h) => h,
                    LayerState::Lstm(_) => unreachable!("an LSTM state in a GRU layer"),
                });
                let out = gru.forward(x, state);
                let [batch, time, hidden] = out.dims();
                let last = out
                    .clone()
                    .slice([0..batch, time - 1..time, 0..hidden])
                    .reshape([batch, hidden]);
                (out, LayerState::Gru(last))
            }
        }
    }
}

#[derive(Module, Debug)]
pub struct Rnn {
    embedding: Embedding,
    layers: Vec<RecurrentLayer>,
    dropout: Dropout,
    head: Linear,
}

impl Rnn {
    pub fn new(config: &Config, vocab: usize, device: &Device) -> Self {
        let layers = (0..config.n_layer)
            .map(|i| {
                let d_input = if i == 0 {
                    config.n_embd
                } else {
                    config.hidden_size
                };
                RecurrentLayer::new(config.model, d_input, config.hidden_size, device)
            })
            .collect();
        Rnn {
            embedding: EmbeddingConfig::new(vocab, config.n_embd).init(device),
            layers,
            dropout: DropoutConfig::new(config.dropout).init(),
            head: LinearConfig::new(config.hidden_size, vocab).init(device),
        }
    }

    /// Logits `[batch, time, vocab]` for `tokens` `[batch, time]`, continuing from `state` (one
    /// entry per layer) when given; returns the state after the last token.
    pub fn forward(
        &self,
        tokens: Tensor<2, Int>,
        state: Option<Vec<LayerState>>,
    ) -> (Tensor<3>, Vec<LayerState>) {
        let mut states = state.map(Vec::into_iter);
        let mut x = self.embedding.forward(tokens);
        let mut next_states = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                x = self.dropout.forward(x);
            }
            let (out, state) = layer.forward(x, states.as_mut().and_then(Iterator::next));
            x = out;
            next_states.push(state);
        }
        (self.head.forward(x), next_states)
    }
}

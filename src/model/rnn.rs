//! char-rnn: embedding, stacked LSTM or GRU layers with dropout between them, linear head.

use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, GateController, Gru, GruConfig, Linear,
    LinearConfig, Lstm, LstmConfig, LstmState,
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

    /// What each of `gates`' tensors is, in order.
    pub fn gate_names(&self) -> &'static [&'static str] {
        match self {
            RecurrentLayer::Lstm(_) => &["input", "forget", "output", "candidate"],
            RecurrentLayer::Gru(_) => &["reset", "update", "candidate"],
        }
    }

    /// The gate activations `[time, hidden]` (see `gate_names`) of this layer when it read
    /// `input` `[1, time, d_input]` from a zero state and wrote `output` `[1, time, hidden]`.
    /// burn's layers compute them without returning them; with every earlier hidden state
    /// known from `output`, all time steps take one product per gate, not a loop over time.
    pub fn gates(&self, input: Tensor<3>, output: Tensor<3>) -> Vec<Tensor<2>> {
        let [_, time, d_input] = input.dims();
        let hidden = output.dims()[2];
        let x = input.reshape([time, d_input]);
        // h_{t-1} for each t: the zero state, then every output but the last.
        let zero = Tensor::<2>::zeros([1, hidden], &output.device());
        let h = if time == 1 {
            zero // burn refuses an empty slice
        } else {
            let earlier = output.slice([0..1, 0..time - 1, 0..hidden]);
            Tensor::cat(vec![zero, earlier.reshape([time - 1, hidden])], 0)
        };
        match self {
            RecurrentLayer::Lstm(lstm) => {
                let gate = |g: &GateController| {
                    lstm.gate_activation
                        .forward(g.gate_product(x.clone(), h.clone()))
                };
                let input_gate = gate(&lstm.input_gate);
                let forget = match &lstm.forget_gate {
                    Some(forget) => gate(forget),
                    None => input_gate.clone().neg().add_scalar(1.0),
                };
                let candidate = lstm
                    .cell_activation
                    .forward(lstm.cell_gate.gate_product(x.clone(), h.clone()));
                vec![input_gate, forget, gate(&lstm.output_gate), candidate]
            }
            RecurrentLayer::Gru(gru) => {
                let gate = |g: &GateController| {
                    gru.gate_activation
                        .forward(g.gate_product(x.clone(), h.clone()))
                };
                let reset = gate(&gru.reset_gate);
                let new = &gru.new_gate;
                let candidate = if gru.reset_after {
                    new.input_transform.forward(x.clone())
                        + reset.clone() * new.hidden_transform.forward(h.clone())
                } else {
                    new.gate_product(x.clone(), h.clone() * reset.clone())
                };
                let candidate = gru.hidden_activation.forward(candidate);
                vec![reset, gate(&gru.update_gate), candidate]
            }
        }
    }
}

/// One recurrent layer's input `[batch, time, d_input]` and output `[batch, time, hidden]` in a
/// forward pass, for looking inside (see `inspect`).
#[derive(Debug)]
pub struct LayerTrace {
    pub input: Tensor<3>,
    pub output: Tensor<3>,
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
        self.run(tokens, state, None)
    }

    /// Logits for `tokens` from a zero state, leaving each layer's input and output in `trace`.
    pub fn forward_traced(&self, tokens: Tensor<2, Int>, trace: &mut Vec<LayerTrace>) -> Tensor<3> {
        self.run(tokens, None, Some(trace)).0
    }

    pub fn layers(&self) -> &[RecurrentLayer] {
        &self.layers
    }

    /// The recurrent layers' gate weights, `[in, out]` each.
    pub fn hidden_matrices(&self) -> std::collections::HashMap<burn::module::ParamId, [usize; 2]> {
        crate::params::matrices(&self.layers)
    }

    /// The token embedding `[vocab, n_embd]`.
    pub fn token_embedding(&self) -> Tensor<2> {
        self.embedding.weight.val()
    }

    fn run(
        &self,
        tokens: Tensor<2, Int>,
        state: Option<Vec<LayerState>>,
        mut trace: Option<&mut Vec<LayerTrace>>,
    ) -> (Tensor<3>, Vec<LayerState>) {
        let mut states = state.map(Vec::into_iter);
        let mut x = self.embedding.forward(tokens);
        let mut next_states = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                x = self.dropout.forward(x);
            }
            let (out, state) = layer.forward(x.clone(), states.as_mut().and_then(Iterator::next));
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(LayerTrace {
                    input: x,
                    output: out.clone(),
                });
            }
            x = out;
            next_states.push(state);
        }
        (self.head.forward(x), next_states)
    }
}

//! char-rnn: embedding, stacked LSTM or GRU layers with dropout between them, linear head.

use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, GateController, Gru, GruConfig, Linear,
    LinearConfig, Lstm, LstmConfig, LstmState,
};
use burn::tensor::{Int, Tensor};

use super::recurrence::{self, Carry, Cell, Weights};
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

    /// The layer's weights joined for stepping (see `Joined`).
    fn joined(&self) -> Joined {
        match self {
            RecurrentLayer::Lstm(lstm) => {
                let forget = lstm
                    .forget_gate
                    .as_ref()
                    .expect("Kindling's LSTMs have a forget gate");
                assert!(
                    lstm.clip.is_none(),
                    "Kindling's LSTMs leave the cell unclipped"
                );
                // burn's gates, in this order: input, forget, output, cell.
                let gates = [&lstm.input_gate, forget, &lstm.output_gate, &lstm.cell_gate];
                Joined::new(Cell::Lstm, &gates, lstm.d_hidden)
            }
            RecurrentLayer::Gru(gru) => {
                assert!(
                    gru.reset_after && gru.clip.is_none(),
                    "Kindling's GRUs reset after the product (GruConfig's default), unclipped"
                );
                let gates = [&gru.update_gate, &gru.reset_gate, &gru.new_gate];
                Joined::new(Cell::Gru, &gates, gru.d_hidden)
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

/// A layer's gates' weights side by side, so that each product covers every gate: one product of
/// all steps' inputs, and one of the state per step (see `recurrence`). burn's own loop takes two
/// small products per gate and step. Generation joins them once (`Decoder`), not once per token.
#[derive(Clone, Debug)]
pub struct Joined {
    cell: Cell,
    size: usize, // hidden
    weights: Weights,
}

impl Joined {
    fn new(cell: Cell, gates: &[&GateController], size: usize) -> Self {
        let weight = |part: fn(&GateController) -> &Linear| {
            Tensor::cat(gates.iter().map(|g| part(g).weight.val()).collect(), 1)
        };
        let bias = |part: fn(&GateController) -> &Linear| {
            let biases: Option<Vec<Tensor<1>>> = gates
                .iter()
                .map(|g| part(g).bias.as_ref().map(|b| b.val()))
                .collect();
            let bias = biases.map(|b| Tensor::cat(b, 0).unsqueeze_dim(0));
            let device = part(gates[0]).weight.device();
            bias.unwrap_or_else(|| Tensor::zeros([1, gates.len() * size], &device))
        };
        let input = [weight(|g| &g.input_transform), bias(|g| &g.input_transform)];
        let hidden = [
            weight(|g| &g.hidden_transform),
            bias(|g| &g.hidden_transform),
        ];
        Joined {
            cell,
            size,
            weights: Weights::new(cell, input, hidden),
        }
    }

    /// The layer over `inputs` `[time, batch, d_input]` from `state` (zeros when none): the
    /// output `[time, batch, hidden]` and the state after the last step.
    fn forward(&self, inputs: Tensor<3>, state: Option<LayerState>) -> (Tensor<3>, LayerState) {
        let (batch, device) = (inputs.dims()[1], inputs.device());
        let zeros = || Tensor::zeros([batch, self.size], &device);
        let start = match state {
            Some(LayerState::Lstm(s)) => Carry {
                hidden: s.hidden,
                cell: Some(s.cell),
            },
            Some(LayerState::Gru(hidden)) => Carry { hidden, cell: None },
            None => Carry {
                hidden: zeros(),
                cell: (self.cell == Cell::Lstm).then(zeros),
            },
        };
        let (output, last) = recurrence::run_layer(self.cell, inputs, &self.weights, start);
        let state = match last.cell {
            Some(c) => LayerState::Lstm(LstmState::new(c, last.hidden)),
            None => LayerState::Gru(last.hidden),
        };
        (output, state)
    }
}

/// Where generation has got to in an RNN: its layers' joined weights and their state.
#[derive(Clone, Debug)]
pub struct Decoder {
    joined: Vec<Joined>,
    state: Option<Vec<LayerState>>,
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
        self.run(tokens, state, None, None)
    }

    /// Logits for `tokens` from a zero state, leaving each layer's input and output in `trace`.
    pub fn forward_traced(&self, tokens: Tensor<2, Int>, trace: &mut Vec<LayerTrace>) -> Tensor<3> {
        self.run(tokens, None, Some(trace), None).0
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

    /// A generator's start: the layers' weights joined once for all its tokens, no state yet.
    pub fn decoder(&self) -> Decoder {
        Decoder {
            joined: self.layers.iter().map(RecurrentLayer::joined).collect(),
            state: None,
        }
    }

    /// Logits `[batch, time, vocab]` for `tokens` `[batch, time]` after what `decoder` has seen.
    pub fn decode(&self, tokens: Tensor<2, Int>, decoder: &mut Decoder) -> Tensor<3> {
        let state = decoder.state.take();
        let (logits, next) = self.run(tokens, state, None, Some(&decoder.joined));
        decoder.state = Some(next);
        logits
    }

    fn run(
        &self,
        tokens: Tensor<2, Int>,
        state: Option<Vec<LayerState>>,
        mut trace: Option<&mut Vec<LayerTrace>>,
        joined: Option<&[Joined]>,
    ) -> (Tensor<3>, Vec<LayerState>) {
        let mut states = state.map(Vec::into_iter);
        let mut x = self.embedding.forward(tokens).swap_dims(0, 1); // [time, batch, n_embd]
        let mut next_states = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                x = self.dropout.forward(x);
            }
            let state = states.as_mut().and_then(Iterator::next);
            let (out, state) = match joined {
                Some(joined) => joined[i].forward(x.clone(), state),
                None => layer.joined().forward(x.clone(), state),
            };
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(LayerTrace {
                    input: x.swap_dims(0, 1),
                    output: out.clone().swap_dims(0, 1),
                });
            }
            x = out;
            next_states.push(state);
        }
        (self.head.forward(x.swap_dims(0, 1)), next_states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cpu;
    use burn::tensor::Distribution;

    fn values(tensor: Tensor<3>) -> Vec<f32> {
        tensor.into_data().try_to_vec::<f32>().unwrap()
    }

    fn assert_close(ours: Vec<f32>, burns: Vec<f32>, what: &str) {
        assert_eq!(ours.len(), burns.len(), "{what}");
        for (a, b) in ours.iter().zip(&burns) {
            assert!(
                (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                "{what}: {a} vs {b}"
            );
        }
    }

    /// The recurrence computes what burn's own layers compute, from a zero state and from a
    /// given one, tracked (the hand-written backward's forward) and untracked; and the gradients
    /// of every weight and of the input match burn's op-by-op backward.
    #[test]
    fn layers_step_and_differentiate_as_burns_lstm_and_gru_do() {
        for device in [cpu(), Device::flex()] {
            let x = Tensor::<3>::random([2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
            let h0 = Tensor::<2>::random([2, 6], Distribution::Normal(0.0, 1.0), &device);
            let lstm = LstmConfig::new(8, 6, true).init(&device);
            let gru = GruConfig::new(8, 6, true).init(&device);
            for state in [None, Some(LstmState::new(h0.clone(), h0.clone()))] {
                let burns = |x: Tensor<3>| lstm.forward(x, state.clone()).0;
                let layer = RecurrentLayer::Lstm(lstm.clone());
                let ours = |x| through(&layer, x, state.clone().map(LayerState::Lstm));
                compare(&layer, &x, ours, burns, "lstm");
            }
            for state in [None, Some(h0.clone())] {
                let burns = |x: Tensor<3>| gru.forward(x, state.clone());
                let layer = RecurrentLayer::Gru(gru.clone());
                let ours = |x| through(&layer, x, state.clone().map(LayerState::Gru));
                compare(&layer, &x, ours, burns, "gru");
            }
        }
    }

    /// `layer` over `x` `[batch, time, d_input]` from `state`, as burn's layers take it.
    fn through(layer: &RecurrentLayer, x: Tensor<3>, state: Option<LayerState>) -> Tensor<3> {
        let output = layer.joined().forward(x.swap_dims(0, 1), state).0;
        output.swap_dims(0, 1)
    }

    /// `ours` and `burns` over `x` `[batch, time, d_input]`: their outputs and, on an autodiff
    /// device, the gradients of `layer`'s weights and of `x` under a loss that weighs every
    /// output differently.
    fn compare(
        layer: &RecurrentLayer,
        x: &Tensor<3>,
        ours: impl Fn(Tensor<3>) -> Tensor<3>,
        burns: impl Fn(Tensor<3>) -> Tensor<3>,
        what: &str,
    ) {
        if !x.is_autodiff() {
            return assert_close(values(ours(x.clone())), values(burns(x.clone())), what);
        }
        let weights = Tensor::<3>::random([2, 5, 6], Distribution::Uniform(-1.0, 1.0), &x.device());
        let run = |f: &dyn Fn(Tensor<3>) -> Tensor<3>| {
            let x = burn::module::Param::from_tensor(x.clone()).val();
            let y = f(x.clone());
            let output = values(y.clone());
            let grads = (y * weights.clone()).sum().backward();
            let mut all = values(x.grad(&grads).expect("a gradient of the input"));
            let grads = burn::optim::GradientsParams::from_grads(grads, layer);
            crate::params::visit_grads(layer, &grads, |_, _, grad| {
                let grad = grad.expect("a gradient of every weight");
                all.extend(grad.into_data().iter::<f32>());
            });
            (output, all)
        };
        let (ours, our_grads) = run(&ours);
        let (burns, burn_grads) = run(&burns);
        assert_close(ours, burns, what);
        assert!(
            burn_grads.iter().any(|g| g.abs() > 0.1),
            "{what}: gradients too small to compare"
        );
        assert_close(our_grads, burn_grads, what);
    }
}

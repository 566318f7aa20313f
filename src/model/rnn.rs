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

    /// The layer over `inputs` (one `[batch, d_input]` per time step) from `state` (zeros when
    /// none): one `[batch, hidden]` output per step, and the state after the last.
    fn forward(
        &self,
        inputs: Vec<Tensor<2>>,
        state: Option<LayerState>,
    ) -> (Vec<Tensor<2>>, LayerState) {
        if inputs.len() == 1 {
            return self.one_step(inputs, state);
        }
        match (self, state) {
            (RecurrentLayer::Lstm(lstm), state) => {
                let state = state.map(|s| match s {
                    LayerState::Lstm(s) => s,
                    LayerState::Gru(_) => unreachable!("a GRU state in an LSTM layer"),
                });
                let (out, state) = lstm_steps(lstm, inputs, state);
                (out, LayerState::Lstm(state))
            }
            (RecurrentLayer::Gru(gru), state) => {
                let state = state.map(|s| match s {
                    LayerState::Gru(h) => h,
                    LayerState::Lstm(_) => unreachable!("an LSTM state in a GRU layer"),
                });
                let (out, last) = gru_steps(gru, inputs, state);
                (out, LayerState::Gru(last))
            }
        }
    }

    /// One time step (generation) through burn's own layer: joining the gates' weights would
    /// cost more than the products it joins.
    fn one_step(
        &self,
        inputs: Vec<Tensor<2>>,
        state: Option<LayerState>,
    ) -> (Vec<Tensor<2>>, LayerState) {
        let x = Tensor::stack(inputs, 1); // [batch, 1, d_input]
        let [batch, _, _] = x.dims();
        match (self, state) {
            (RecurrentLayer::Lstm(lstm), state) => {
                let state = state.map(|s| match s {
                    LayerState::Lstm(s) => s,
                    LayerState::Gru(_) => unreachable!("a GRU state in an LSTM layer"),
                });
                let (_, state) = lstm.forward(x, state);
                (vec![state.hidden.clone()], LayerState::Lstm(state))
            }
            (RecurrentLayer::Gru(gru), state) => {
                let state = state.map(|s| match s {
                    LayerState::Gru(h) => h,
                    LayerState::Lstm(_) => unreachable!("an LSTM state in a GRU layer"),
                });
                let h = gru.forward(x, state).reshape([batch, gru.d_hidden]);
                (vec![h.clone()], LayerState::Gru(h))
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

/// burn's `Lstm` and `Gru` stepped through time by Kindling, with the gates' products joined:
/// per layer and step one matmul of the input and one of the state for all gates at once.
/// burn's loop does two small products per gate and step, on slices of a `[batch, time, d]`
/// tensor, and writes each output with a `slice_assign`; under autodiff each slice of a big
/// tensor costs a zeroed tensor of its full size in the backward pass (quadratic in time), and
/// on a GPU every op is a dispatch. Same parameters and checkpoints; the arithmetic differs only
/// in the order of float sums.
struct JoinedGates {
    input: Tensor<2>,               // [d_input, gates · hidden]
    hidden: Tensor<2>,              // [hidden, gates · hidden]
    input_bias: Option<Tensor<2>>,  // [1, gates · hidden]
    hidden_bias: Option<Tensor<2>>, // [1, gates · hidden]
    size: usize,                    // hidden
}

impl JoinedGates {
    fn new(gates: &[&GateController], size: usize) -> Self {
        let weight = |part: fn(&GateController) -> &Linear| {
            Tensor::cat(gates.iter().map(|g| part(g).weight.val()).collect(), 1)
        };
        let bias = |part: fn(&GateController) -> &Linear| {
            let biases: Option<Vec<Tensor<1>>> = gates
                .iter()
                .map(|g| part(g).bias.as_ref().map(|b| b.val()))
                .collect();
            biases.map(|b| Tensor::cat(b, 0).unsqueeze_dim(0))
        };
        JoinedGates {
            input: weight(|g| &g.input_transform),
            hidden: weight(|g| &g.hidden_transform),
            input_bias: bias(|g| &g.input_transform),
            hidden_bias: bias(|g| &g.hidden_transform),
            size,
        }
    }

    /// `[batch, gates · hidden]`: every gate's `W_x x + b_x` for the input `x` `[batch, d_input]`.
    fn of_input(&self, x: Tensor<2>) -> Tensor<2> {
        affine(x, &self.input, &self.input_bias)
    }

    /// `of_input` for every time step's input, in order. Without autodiff (inspect, evaluation,
    /// a prompt), all steps take one product: it reads the weights once, not once per step (a
    /// step's `[batch, d_input]` times seed-lstm's weights streams megabytes from memory for a
    /// few rows). With autodiff (training), one product per step: a slice of a tracked product
    /// costs a zeroed tensor of its full size in the backward pass, which lost, 2.9 s against
    /// 2.1 s a seed-lstm step natively.
    fn of_inputs(&self, inputs: Vec<Tensor<2>>) -> Vec<Tensor<2>> {
        if self.input.is_autodiff() {
            return inputs.into_iter().map(|x| self.of_input(x)).collect();
        }
        let time = inputs.len();
        // [time · batch, gates · hidden], step t's rows together, then one chunk per step.
        self.of_input(Tensor::cat(inputs, 0)).chunk(time, 0)
    }

    /// `[batch, gates · hidden]`: every gate's `W_h h + b_h` for the state `h` `[batch, hidden]`.
    fn of_state(&self, h: Tensor<2>) -> Tensor<2> {
        affine(h, &self.hidden, &self.hidden_bias)
    }

    /// Gate `i`'s part `[batch, hidden]` of `sums` `[batch, gates · hidden]`.
    fn gate(&self, sums: &Tensor<2>, i: usize) -> Tensor<2> {
        let [batch, _] = sums.dims();
        sums.clone()
            .slice([0..batch, i * self.size..(i + 1) * self.size])
    }
}

fn affine(x: Tensor<2>, weight: &Tensor<2>, bias: &Option<Tensor<2>>) -> Tensor<2> {
    let product = x.matmul(weight.clone());
    match bias {
        Some(bias) => product + bias.clone(),
        None => product,
    }
}

/// The zero state `[batch, hidden]` for `inputs`' batch.
fn zero_state(inputs: &[Tensor<2>], hidden: usize) -> Tensor<2> {
    Tensor::zeros([inputs[0].dims()[0], hidden], &inputs[0].device())
}

fn lstm_steps(
    lstm: &Lstm,
    inputs: Vec<Tensor<2>>,
    state: Option<LstmState<2>>,
) -> (Vec<Tensor<2>>, LstmState<2>) {
    let forget = lstm
        .forget_gate
        .as_ref()
        .expect("Kindling's LSTMs have a forget gate");
    // burn's gates, in this order: input, forget, output, cell.
    let gates = [&lstm.input_gate, forget, &lstm.output_gate, &lstm.cell_gate];
    let joined = JoinedGates::new(&gates, lstm.d_hidden);
    let (mut cell, mut h) = match state {
        Some(state) => state.unpack(),
        None => (
            zero_state(&inputs, lstm.d_hidden),
            zero_state(&inputs, lstm.d_hidden),
        ),
    };
    let mut outputs = Vec::with_capacity(inputs.len());
    for from_input in joined.of_inputs(inputs) {
        let sums = from_input + joined.of_state(h);
        let sigmoid = |i| lstm.gate_activation.forward(joined.gate(&sums, i));
        let candidate = lstm.cell_activation.forward(joined.gate(&sums, 3));
        cell = sigmoid(1) * cell + sigmoid(0) * candidate;
        if let Some(clip) = lstm.clip {
            cell = cell.clamp(-clip, clip);
        }
        h = sigmoid(2) * lstm.hidden_activation.forward(cell.clone());
        outputs.push(h.clone());
    }
    (outputs, LstmState::new(cell, h))
}

/// burn's GRU with its default reset-after: `n = tanh(W_x x + b_x + r ⊙ (W_h h + b_h))`.
fn gru_steps(
    gru: &Gru,
    inputs: Vec<Tensor<2>>,
    state: Option<Tensor<2>>,
) -> (Vec<Tensor<2>>, Tensor<2>) {
    assert!(
        gru.reset_after,
        "Kindling's GRUs reset after the product (GruConfig's default)"
    );
    let gates = [&gru.update_gate, &gru.reset_gate, &gru.new_gate];
    let joined = JoinedGates::new(&gates, gru.d_hidden);
    let mut h = state.unwrap_or_else(|| zero_state(&inputs, gru.d_hidden));
    let mut outputs = Vec::with_capacity(inputs.len());
    for from_input in joined.of_inputs(inputs) {
        let from_state = joined.of_state(h.clone());
        let sum = |i| joined.gate(&from_input, i) + joined.gate(&from_state, i);
        let update = gru.gate_activation.forward(sum(0));
        let reset = gru.gate_activation.forward(sum(1));
        let candidate = gru
            .hidden_activation
            .forward(joined.gate(&from_input, 2) + reset * joined.gate(&from_state, 2));
        h = candidate * update.clone().neg().add_scalar(1.0) + update * h;
        if let Some(clip) = gru.clip {
            h = h.clamp(-clip, clip);
        }
        outputs.push(h.clone());
    }
    (outputs, h)
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
        // One `[batch, n_embd]` per time step, each looked up from its own column of tokens:
        // never a slice of a `[batch, time, ·]` tensor that autodiff tracks (see JoinedGates).
        let [batch, time] = tokens.dims();
        let n_embd = self.embedding.weight.dims()[1];
        let mut x: Vec<Tensor<2>> = (0..time)
            .map(|t| {
                let column = tokens.clone().slice([0..batch, t..t + 1]);
                self.embedding.forward(column).reshape([batch, n_embd])
            })
            .collect();
        let mut next_states = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                x = x
                    .into_iter()
                    .map(|step| self.dropout.forward(step))
                    .collect();
            }
            let (out, state) = layer.forward(x.clone(), states.as_mut().and_then(Iterator::next));
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(LayerTrace {
                    input: Tensor::stack(x, 1),
                    output: Tensor::stack(out.clone(), 1),
                });
            }
            x = out;
            next_states.push(state);
        }
        (self.head.forward(Tensor::stack(x, 1)), next_states)
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

    /// The joined stepping computes what burn's own layers compute, from a zero state and
    /// from a given one: tracked (a product per step) and untracked (one for all steps).
    #[test]
    fn joined_gates_step_as_burns_lstm_and_gru_do() {
        for device in [cpu(), Device::flex()] {
            joined_gates_step_as_burns_do_on(&device);
        }
    }

    fn joined_gates_step_as_burns_do_on(device: &Device) {
        let device = device.clone();
        let x = Tensor::<3>::random([2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let steps = |x: &Tensor<3>| {
            (0..5)
                .map(|t| x.clone().slice([0..2, t..t + 1, 0..8]).reshape([2, 8]))
                .collect::<Vec<_>>()
        };
        let h0 = Tensor::<2>::random([2, 6], Distribution::Normal(0.0, 1.0), &device);

        let lstm = LstmConfig::new(8, 6, true).init(&device);
        for state in [None, Some(LstmState::new(h0.clone(), h0.clone()))] {
            let (burns, burn_state) = lstm.forward(x.clone(), state.clone());
            let (ours, our_state) = lstm_steps(&lstm, steps(&x), state);
            assert_close(
                values(Tensor::stack(ours, 1)),
                values(burns),
                "lstm outputs",
            );
            assert_close(
                values(our_state.cell.unsqueeze()),
                values(burn_state.cell.unsqueeze()),
                "lstm cell",
            );
        }

        let gru = GruConfig::new(8, 6, true).init(&device);
        for state in [None, Some(h0.clone())] {
            let burns = gru.forward(x.clone(), state.clone());
            let (ours, _) = gru_steps(&gru, steps(&x), state);
            assert_close(values(Tensor::stack(ours, 1)), values(burns), "gru outputs");
        }
    }
}

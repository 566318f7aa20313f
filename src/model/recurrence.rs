//! A recurrent layer's whole sequence as one op, with backpropagation through time written by
//! hand. burn's autodiff records every op of every step, and its backward of each step's slices
//! and small elementwise ops is a kernel launch apiece on a GPU (~125 per time step of seed-lstm).
//! Here the forward steps on the backend's own tensors and one backward walks the steps in
//! reverse, each cell's derivative in closed form; the recurrent weight's gradient is one product
//! over all steps. The cells are burn's `Lstm` and `Gru` (reset after the product) with their
//! default activations, so checkpoints and the inspect views stay burn's.

use burn::tensor::activation::sigmoid;
use burn::tensor::{DispatchTensor, Tensor};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_autodiff::Autodiff;
use burn_dispatch::DispatchKindConversion;

use super::backward::{plain, primitive, unwrap_all, Inner};

/// The cell a layer steps. LSTM: gates input, forget, output and candidate, in that order;
/// GRU: update, reset and candidate, the reset applied after the hidden product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Lstm,
    Gru,
}

impl Cell {
    /// How many tensors of the state a step carries: a hidden state, and an LSTM's cell.
    fn parts(self) -> usize {
        match self {
            Cell::Lstm => 2,
            Cell::Gru => 1,
        }
    }
}

/// A layer's sequence, as the recurrence reads it.
#[derive(Clone, Debug)]
pub struct Sequence {
    /// `W_x x + b_x` for every step: `[time, batch, gates · hidden]`.
    pub from_input: Tensor<3>,
    /// `W_h`, `[hidden, gates · hidden]`.
    pub weight: Tensor<2>,
    /// `b_h`, `[1, gates · hidden]`.
    pub bias: Tensor<2>,
}

/// A layer's weights, each gate's side by side so that one product covers every gate.
#[derive(Clone, Debug)]
pub struct Weights {
    /// `W_x` `[d_input, gates · hidden]` and `b_x` `[1, gates · hidden]`.
    pub input: [Tensor<2>; 2],
    /// `W_h` `[hidden, gates · hidden]` and `b_h` `[1, gates · hidden]`.
    pub hidden: [Tensor<2>; 2],
    /// Outside autodiff on a GPU, an LSTM's kernel takes the input's product too, from `[W_x;
    /// W_h]` and `b_x + b_h`: one binding each, where a WebGPU kernel may have as few as 8
    /// (cubecl keeps one). Joined here, once for all the calls these weights serve.
    #[cfg(feature = "webgpu")]
    stacked: Option<[Tensor<2>; 2]>,
}

impl Weights {
    #[cfg(feature = "webgpu")]
    pub fn new(cell: Cell, input: [Tensor<2>; 2], hidden: [Tensor<2>; 2]) -> Self {
        let stacked = uses_kernels(cell, &input[0].device()).then(|| {
            let weights = Tensor::cat(vec![input[0].clone(), hidden[0].clone()], 0);
            [weights, input[1].clone() + hidden[1].clone()]
        });
        Weights {
            input,
            hidden,
            stacked,
        }
    }

    #[cfg(not(feature = "webgpu"))]
    pub fn new(_: Cell, input: [Tensor<2>; 2], hidden: [Tensor<2>; 2]) -> Self {
        Weights { input, hidden }
    }
}

/// `cell` stepped through its input `x` `[time, batch, d_input]` with `weights` from `start`:
/// `run` after the input's product, or the GPU's kernels with it.
pub fn run_layer(cell: Cell, x: Tensor<3>, weights: &Weights, start: Carry) -> (Tensor<3>, Carry) {
    let [time, batch, d_input] = x.dims();
    let rows = x.reshape([time * batch, d_input]);
    #[cfg(feature = "webgpu")]
    if let (Some([stacked, bias]), false) = (&weights.stacked, rows.is_autodiff()) {
        let states = crate::kernels::lstm::forward_from_input(
            rows,
            [stacked.clone(), bias.clone()],
            [start.hidden, start.cell.expect("an LSTM's cell")],
        );
        return Stacked::from(states).split(time);
    }
    let [input, input_bias] = weights.input.clone();
    let from_input = rows.matmul(input) + input_bias;
    let width = from_input.dims()[1];
    let [weight, bias] = weights.hidden.clone();
    let sequence = Sequence {
        from_input: from_input.reshape([time, batch, width]),
        weight,
        bias,
    };
    run(cell, sequence, start)
}

/// What a layer carries from step to step: the hidden state `[batch, hidden]` and an LSTM's
/// cell (a GRU has none).
#[derive(Clone, Debug)]
pub struct Carry {
    pub hidden: Tensor<2>,
    pub cell: Option<Tensor<2>>,
}

/// `cell` stepped through `sequence` from `start`: every step's hidden state `[time, batch,
/// hidden]`, and the carry after the last step, which takes no gradient (training starts every
/// window from zeros).
pub fn run(cell: Cell, sequence: Sequence, start: Carry) -> (Tensor<3>, Carry) {
    if sequence.from_input.is_autodiff() {
        let output = run_autodiff::<burn_dispatch::backends::Flex>(cell, &sequence, &start);
        #[cfg(any(feature = "webgpu", feature = "cuda"))]
        let output = output
            .or_else(|| run_autodiff::<burn_dispatch::backends::Cube>(cell, &sequence, &start));
        if let Some(output) = output {
            return output;
        }
    }
    run_op_by_op(cell, sequence, start)
}

/// Whether `cell` steps through hand-written kernels on `device` (`kernels::lstm`: an LSTM on a
/// cubecl GPU, outside autodiff) rather than through burn's ops.
#[cfg(feature = "webgpu")]
fn uses_kernels(cell: Cell, device: &burn::tensor::Device) -> bool {
    cell == Cell::Lstm && crate::kernels::on_gpu(device)
}

/// `run` with burn's autodiff recording every op of every step: where the hand-written backward
/// does not reach (a compute peer's device), and the reference it is tested against.
pub fn run_op_by_op(cell: Cell, sequence: Sequence, start: Carry) -> (Tensor<3>, Carry) {
    let steps = forward(cell, &sequence, start);
    let last = steps.carries.last().expect("the start").clone();
    (Tensor::stack(steps.outputs, 0), last)
}

/// A forward pass: each step's hidden state, what the backward reads of each step (`step`), and
/// the carries (the start, then one per step).
struct Steps {
    outputs: Vec<Tensor<2>>,
    kept: Vec<Tensor<2>>,
    carries: Vec<Carry>,
}

fn forward(cell: Cell, sequence: &Sequence, start: Carry) -> Steps {
    let [time, batch, width] = sequence.from_input.dims();
    let from_input = sequence.from_input.clone().reshape([time * batch, width]);
    let mut steps = Steps {
        outputs: Vec::with_capacity(time),
        kept: Vec::with_capacity(time),
        carries: Vec::with_capacity(time + 1),
    };
    let mut carry = start;
    for t in 0..time {
        let x = rows(&from_input, t, batch);
        let h = carry.hidden.clone().matmul(sequence.weight.clone()) + sequence.bias.clone();
        let (next, kept) = step(cell, x, h, &carry);
        steps.outputs.push(next.hidden.clone());
        steps.kept.push(kept);
        steps.carries.push(std::mem::replace(&mut carry, next));
    }
    steps.carries.push(carry);
    steps
}

/// A forward pass with its steps side by side: the states `[parts · (time + 1) · batch, hidden]`,
/// a block of `batch` rows for each step's hidden state (the start's first), then for an LSTM
/// one for each step's cell (the layout of the GPU's kernel), and what the backward reads of
/// each step (`step`) `[time · batch, gates · hidden]`.
struct Stacked {
    cell: Cell,
    batch: usize,
    states: Tensor<2>,
    kept: Tensor<2>,
}

/// The forward on `sequence`'s tensors, through the GPU's kernels where `uses_kernels`.
fn stacked(cell: Cell, sequence: &Sequence, start: Carry) -> Stacked {
    #[cfg(feature = "webgpu")]
    if uses_kernels(cell, &sequence.from_input.device()) {
        let [time, batch, width] = sequence.from_input.dims();
        return Stacked::from(crate::kernels::lstm::forward(
            sequence.from_input.clone().reshape([time * batch, width]),
            [sequence.weight.clone(), sequence.bias.clone()],
            [start.hidden, start.cell.expect("an LSTM's cell")],
        ));
    }
    let batch = start.hidden.dims()[0];
    let steps = forward(cell, sequence, start);
    let (hiddens, cells): (Vec<_>, Vec<_>) = steps
        .carries
        .into_iter()
        .map(|c| (c.hidden, c.cell))
        .unzip();
    let states = hiddens
        .into_iter()
        .chain(cells.into_iter().flatten())
        .collect();
    Stacked {
        cell,
        batch,
        states: Tensor::cat(states, 0),
        kept: Tensor::cat(steps.kept, 0),
    }
}

#[cfg(feature = "webgpu")]
impl From<crate::kernels::lstm::States> for Stacked {
    fn from(states: crate::kernels::lstm::States) -> Self {
        Stacked {
            cell: Cell::Lstm,
            batch: states.batch,
            states: states.states,
            kept: states.sums,
        }
    }
}

impl Stacked {
    /// The hidden state after `t` steps, `[batch, hidden]`.
    fn hidden(&self, t: usize) -> Tensor<2> {
        rows(&self.states, t, self.batch)
    }

    /// An LSTM's cell after `t` steps, `[batch, hidden]`.
    fn cell(&self, t: usize) -> Option<Tensor<2>> {
        let steps = self.states.dims()[0] / (self.cell.parts() * self.batch); // time + 1
        (self.cell == Cell::Lstm).then(|| rows(&self.states, steps + t, self.batch))
    }

    /// The hidden states after `from..to` steps, `[(to − from) · batch, hidden]`: a view.
    fn hiddens(&self, from: usize, to: usize) -> Tensor<2> {
        let (batch, size) = (self.batch, self.states.dims()[1]);
        self.states
            .clone()
            .slice([from * batch..to * batch, 0..size])
    }

    /// Every step's hidden state `[time, batch, hidden]` and the carry after the last.
    fn split(&self, time: usize) -> (Tensor<3>, Carry) {
        let (batch, size) = (self.batch, self.states.dims()[1]);
        let outputs = self.hiddens(1, time + 1).reshape([time, batch, size]);
        let last = Carry {
            hidden: self.hidden(time),
            cell: self.cell(time),
        };
        (outputs, last)
    }
}

/// The carry after one step, from `x` (`W_x x + b_x`) and `h` (`W_h h + b_h`), and what the
/// backward reads of the step besides `x`: an LSTM's pre-activations `x + h`, a GRU's `h`.
fn step(cell: Cell, x: Tensor<2>, h: Tensor<2>, carry: &Carry) -> (Carry, Tensor<2>) {
    match cell {
        Cell::Lstm => {
            let sums = x + h;
            let [input, forget, output, candidate] = lstm_gates(sums.clone());
            let c = forget * carry.cell.clone().expect("an LSTM's cell") + input * candidate;
            let hidden = output * c.clone().tanh();
            (
                Carry {
                    hidden,
                    cell: Some(c),
                },
                sums,
            )
        }
        Cell::Gru => {
            let [update, _, candidate, _] = gru_gates(x, h.clone());
            let hidden =
                candidate * update.clone().neg().add_scalar(1.0) + update * carry.hidden.clone();
            (Carry { hidden, cell: None }, h)
        }
    }
}

/// An LSTM's gates from their pre-activations `[batch, 4 · hidden]`.
fn lstm_gates(sums: Tensor<2>) -> [Tensor<2>; 4] {
    let [i, f, o, g] = quarters(sums);
    [sigmoid(i), sigmoid(f), sigmoid(o), g.tanh()]
}

fn quarters(x: Tensor<2>) -> [Tensor<2>; 4] {
    x.chunk(4, 1).try_into().expect("four gates")
}

fn thirds(x: Tensor<2>) -> [Tensor<2>; 3] {
    x.chunk(3, 1).try_into().expect("three gates")
}

/// A GRU's update, reset and candidate from `x` and `h` `[batch, 3 · hidden]`, and the
/// candidate's hidden product `W_hn h + b_hn`, which the reset scales.
fn gru_gates(x: Tensor<2>, h: Tensor<2>) -> [Tensor<2>; 4] {
    let ([xz, xr, xn], [hz, hr, hn]) = (thirds(x), thirds(h));
    let update = sigmoid(xz + hz);
    let reset = sigmoid(xr + hr);
    let candidate = (xn + reset.clone() * hn.clone()).tanh();
    [update, reset, candidate, hn]
}

/// `σ'` from `σ`: `y (1 − y)`.
fn sigmoid_slope<const D: usize>(y: Tensor<D>) -> Tensor<D> {
    y.clone() * y.neg().add_scalar(1.0)
}

/// `tanh'` from `tanh`: `1 − y²`.
fn tanh_slope<const D: usize>(y: Tensor<D>) -> Tensor<D> {
    y.square().neg().add_scalar(1.0)
}

/// One step of an LSTM backward: from the step's pre-activations `[batch, 4 · hidden]`, the
/// cells before and after it, and the gradients of its hidden state and cell, the gradient of the
/// pre-activations and of the cell before.
fn lstm_back(
    sums: Tensor<2>,
    [before, after]: [Tensor<2>; 2],
    d_hidden: Tensor<2>,
    d_cell: Option<Tensor<2>>,
) -> (Tensor<2>, Tensor<2>) {
    let [input, forget, output, candidate] = lstm_gates(sums);
    let squashed = after.tanh();
    let through_hidden = d_hidden.clone() * output.clone() * tanh_slope(squashed.clone());
    let d_cell = match d_cell {
        Some(d) => d + through_hidden,
        None => through_hidden,
    };
    let d_sums = Tensor::cat(
        vec![
            d_cell.clone() * candidate.clone() * sigmoid_slope(input.clone()),
            d_cell.clone() * before * sigmoid_slope(forget.clone()),
            d_hidden * squashed * sigmoid_slope(output),
            d_cell.clone() * input * tanh_slope(candidate),
        ],
        1,
    );
    (d_sums, d_cell * forget)
}

/// One step of a GRU backward: from the step's `x` and `h` products, the hidden state before it
/// and the gradient of the one after, the gradients of `x` and `h` `[batch, 3 · hidden]` and the
/// part of the earlier hidden state's gradient that skips the product.
fn gru_back(
    [x, h]: [Tensor<2>; 2],
    before: Tensor<2>,
    d_hidden: Tensor<2>,
) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
    let [update, reset, candidate, hn] = gru_gates(x, h);
    let d_candidate = d_hidden.clone() * update.clone().neg().add_scalar(1.0);
    let d_update = d_hidden.clone() * (before - candidate.clone()) * sigmoid_slope(update.clone());
    let d_new = d_candidate * tanh_slope(candidate); // the candidate's pre-activation
    let d_reset = d_new.clone() * hn * sigmoid_slope(reset.clone());
    let d_x = Tensor::cat(vec![d_update.clone(), d_reset.clone(), d_new.clone()], 1);
    let d_h = Tensor::cat(vec![d_update, d_reset, d_new * reset], 1);
    (d_x, d_h, d_hidden * update)
}

#[derive(Debug)]
struct RecurrenceBackward {
    cell: Cell,
}

/// What the backward keeps: the inputs `[time · batch, gates · hidden]`, the weight, and the
/// forward's `Stacked` states and what it kept of each step.
#[derive(Clone, Debug)]
struct Saved<P> {
    from_input: P,
    weight: P,
    states: P,
    kept: P,
}

/// Step `t`'s `batch` rows of `x` `[time · batch, n]`: a view, without a copy.
fn rows(x: &Tensor<2>, t: usize, batch: usize) -> Tensor<2> {
    let n = x.dims()[1];
    x.clone().slice([t * batch..(t + 1) * batch, 0..n])
}

/// The gradients a backward pass through time finds: of every step's `W_h h + b_h` `[time ·
/// batch, gates · hidden]`, of a GRU's `W_x x + b_x` (an LSTM's is the same as `W_h h`'s), and of
/// the start's hidden state and cell where they were asked for.
struct Through {
    d_h: Tensor<2>,
    d_x: Option<Tensor<2>>,
    d_hidden: Option<Tensor<2>>,
    d_cell: Option<Tensor<2>>,
}

/// The backward step by step through burn's ops, from the gradient of every step's hidden state
/// `grad` `[time · batch, hidden]`.
fn back_by_steps(
    from_input: &Tensor<2>,
    weight: &Tensor<2>,
    stacked: &Stacked,
    grad: &Tensor<2>,
    start_tracked: bool,
) -> Through {
    let back = weight.clone().transpose(); // [gates · hidden, hidden]
    let batch = stacked.batch;
    let time = grad.dims()[0] / batch;
    let mut d_h_all = Vec::with_capacity(time); // d(W_h h + b_h), per step
    let mut d_x_all = Vec::with_capacity(time); // a GRU's d(W_x x + b_x), per step
    let mut d_hidden = Some(rows(grad, time - 1, batch)); // of the state after step t
    let mut d_cell = None;
    for t in (0..time).rev() {
        let d_out = d_hidden.take().expect("the gradient of each step's output");
        let kept = rows(&stacked.kept, t, batch);
        let (d_h, skip) = match stacked.cell {
            Cell::Lstm => {
                let cells = [t, t + 1].map(|t| stacked.cell(t).expect("an LSTM's cells"));
                let (d_sums, d_before) = lstm_back(kept, cells, d_out, d_cell.take());
                d_cell = Some(d_before);
                (d_sums, None)
            }
            Cell::Gru => {
                let products = [rows(from_input, t, batch), kept];
                let (d_x, d_h, skip) = gru_back(products, stacked.hidden(t), d_out);
                d_x_all.push(d_x);
                (d_h, Some(skip))
            }
        };
        if t > 0 || start_tracked {
            // Added right after the product, which fusion can fold into it.
            let mut d = d_h.clone().matmul(back.clone());
            if let Some(skip) = skip {
                d = d + skip;
            }
            if t > 0 {
                d = d + rows(grad, t - 1, batch);
            }
            d_hidden = Some(d);
        }
        d_h_all.push(d_h);
    }
    d_h_all.reverse();
    d_x_all.reverse();
    Through {
        d_h: Tensor::cat(d_h_all, 0),
        d_x: (stacked.cell == Cell::Gru).then(|| Tensor::cat(d_x_all, 0)),
        d_hidden,
        d_cell,
    }
}

/// The backward through the GPU's LSTM kernels (`kernels::lstm`).
#[cfg(feature = "webgpu")]
fn back_by_kernels(
    weight: &Tensor<2>,
    stacked: &Stacked,
    grad: Tensor<2>,
    start_tracked: bool,
) -> Through {
    let (d_sums, d_cell) = crate::kernels::lstm::backward(
        grad,
        weight.clone(),
        stacked.kept.clone(),
        stacked.states.clone(),
    );
    let d_hidden =
        start_tracked.then(|| rows(&d_sums, 0, stacked.batch).matmul(weight.clone().transpose()));
    Through {
        d_h: d_sums,
        d_x: None,
        d_hidden,
        d_cell: Some(d_cell),
    }
}

impl<B: Inner> Backward<B, 5> for RecurrenceBackward
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    type State = Saved<B::FloatTensorPrimitive>;

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [input_node, weight_node, bias_node, hidden_node, cell_node] = ops.parents;
        let saved = ops.state;
        let from_input = plain::<B, 2>(saved.from_input);
        let weight = plain::<B, 2>(saved.weight);
        let states = plain::<B, 2>(saved.states);
        let [rows, size] = [from_input.dims()[0], states.dims()[1]]; // rows: time · batch
        let stacked = Stacked {
            cell: self.cell,
            batch: states.dims()[0] / self.cell.parts() - rows,
            states,
            kept: plain::<B, 2>(saved.kept),
        };
        // [time · batch, hidden]: one copy here if the gradient came permuted, not one per step.
        let grad = plain::<B, 3>(grads.consume::<B>(&ops.node)).reshape([rows, size]);
        let start_tracked = hidden_node.is_some() || cell_node.is_some();
        #[cfg(feature = "webgpu")]
        let through = if uses_kernels(self.cell, &grad.device()) {
            back_by_kernels(&weight, &stacked, grad, start_tracked)
        } else {
            back_by_steps(&from_input, &weight, &stacked, &grad, start_tracked)
        };
        #[cfg(not(feature = "webgpu"))]
        let through = back_by_steps(&from_input, &weight, &stacked, &grad, start_tracked);
        let Through {
            d_h,
            d_x,
            d_hidden,
            d_cell,
        } = through;
        if let Some(node) = weight_node {
            // Each step's hidden state before it, [time · batch, hidden].
            let before = stacked.hiddens(0, rows / stacked.batch);
            let d_weight = before.transpose().matmul(d_h.clone());
            grads.register::<B>(node.id, primitive::<B, 2>(d_weight));
        }
        if let Some(node) = bias_node {
            grads.register::<B>(node.id, primitive::<B, 2>(d_h.clone().sum_dim(0)));
        }
        if let Some(node) = input_node {
            grads.register::<B>(node.id, primitive::<B, 2>(d_x.unwrap_or(d_h)));
        }
        if let (Some(node), Some(d)) = (hidden_node, d_hidden) {
            grads.register::<B>(node.id, primitive::<B, 2>(d));
        }
        if let (Some(node), Some(d)) = (cell_node, d_cell) {
            grads.register::<B>(node.id, primitive::<B, 2>(d));
        }
    }
}

fn run_autodiff<B: Inner>(
    cell: Cell,
    sequence: &Sequence,
    start: &Carry,
) -> Option<(Tensor<3>, Carry)>
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    let [time, batch, width] = sequence.from_input.dims();
    // A GRU has no cell: a constant stands in for the op's fifth input.
    let start_cell = (start.cell.clone()).unwrap_or_else(|| start.hidden.zeros_like());
    let tracked = unwrap_all::<B, 5, 2>([
        sequence.from_input.clone().reshape([time * batch, width]),
        sequence.weight.clone(),
        sequence.bias.clone(),
        start.hidden.clone(),
        start_cell,
    ])?;
    let [from_input, weight, bias, hidden, cell_start] =
        tracked.each_ref().map(|t| t.primitive().clone());
    let plain_sequence = Sequence {
        from_input: plain::<B, 2>(from_input.clone()).reshape([time, batch, width]),
        weight: plain::<B, 2>(weight.clone()),
        bias: plain::<B, 2>(bias),
    };
    let plain_start = Carry {
        hidden: plain::<B, 2>(hidden),
        cell: (cell == Cell::Lstm).then(|| plain::<B, 2>(cell_start)),
    };
    let states = stacked(cell, &plain_sequence, plain_start);
    let (outputs, last) = states.split(time);
    let output = primitive::<B, 3>(outputs);
    let prep = RecurrenceBackward { cell }
        .prepare::<NoCheckpointing>(tracked.each_ref().map(|t| t.node()))
        .compute_bound()
        .stateful();
    let tensor = match prep {
        OpsKind::Tracked(prep) => {
            let saved = Saved {
                from_input,
                weight,
                states: primitive::<B, 2>(states.states),
                kept: primitive::<B, 2>(states.kept),
            };
            prep.finish(saved, output)
        }
        OpsKind::UnTracked(prep) => prep.finish(output),
    };
    let outputs = Tensor::from_primitive::<Autodiff<B, NoCheckpointing>>(tensor);
    let last = Carry {
        hidden: Tensor::from_inner(last.hidden),
        cell: last.cell.map(Tensor::from_inner),
    };
    Some((outputs, last))
}

// Numeric comparisons with burn's own layers and op-by-op backward: model::rnn's tests and
// tests/shared/fused.rs (on the CPU and WebGPU).
#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;

    use crate::device::cpu;

    /// The CPU's autodiff tensors take the hand-written backward, not burn's op-by-op one (which
    /// the numeric comparisons would also pass).
    #[test]
    fn the_cpu_takes_the_hand_written_backward() {
        let tensor = |shape: [usize; 2]| Param::from_tensor(Tensor::<2>::ones(shape, &cpu())).val();
        let sequence = Sequence {
            from_input: tensor([6, 8]).reshape([3, 2, 8]),
            weight: tensor([2, 8]),
            bias: tensor([1, 8]),
        };
        let start = Carry {
            hidden: Tensor::zeros([2, 2], &cpu()),
            cell: Some(Tensor::zeros([2, 2], &cpu())),
        };
        let on_cpu = run_autodiff::<burn_dispatch::backends::Flex>;
        assert!(on_cpu(Cell::Lstm, &sequence, &start).is_some());
        let untracked = Sequence {
            from_input: sequence.from_input.clone().inner(),
            ..sequence
        };
        assert!(on_cpu(Cell::Lstm, &untracked, &start).is_none());
    }
}

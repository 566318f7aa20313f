//! A recurrent layer's whole sequence as one op, with backpropagation through time written by
//! hand. burn's autodiff records every op of every step, and its backward of each step's slices
//! and small elementwise ops is a kernel launch apiece on a GPU (~125 per time step of seed-lstm).
//! Here the forward steps on the backend's own tensors and one backward walks the steps in
//! reverse, each cell's derivative in closed form; the recurrent weight's gradient is one product
//! over all steps. The cells are burn's `Lstm` and `Gru` (reset after the product) with their
//! default activations, so checkpoints and the inspect views stay burn's.

use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, DispatchTensor, Tensor, TensorData};
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

/// Which row of a `[batch, 4, hidden]` view of an LSTM's gates is the forget gate, the output
/// gate and the candidate, as 0/1 masks `[1, 4, 1]`, for `lstm_back_at_once`. Built once per
/// backward pass (an upload submits the work queued before it).
struct GateMasks {
    forget: Tensor<3>,
    output: Tensor<3>,
    candidate: Tensor<3>,
}

impl GateMasks {
    fn new(device: &Device) -> Self {
        let mask = |gate: usize| {
            let rows = (0..4).map(|i| if i == gate { 1.0 } else { 0.0 }).collect();
            Tensor::from_data(TensorData::new::<f32, _>(rows, [1, 4, 1]), device)
        };
        GateMasks {
            forget: mask(1),
            output: mask(2),
            candidate: mask(3),
        }
    }
}

/// How an LSTM's backward assembles its four gates' gradients `[batch, 4 · hidden]` each step.
/// On the CPU part by part, joined by a copy (`lstm_back_by_parts`); on a GPU in one elementwise
/// pass over a `[batch, 4, hidden]` view (`lstm_back_at_once`), where each part's copy is a
/// kernel launch: seed-lstm's 97 dispatches per time step became 33 that way. On the CPU the pass
/// at once computes both activations of every gate and flips a copy, and trained lstm-1x128
/// 1.3× slower natively (300 steps: 17.9 s against 13.7 s).
fn lstm_back(
    masks: Option<&GateMasks>,
    sums: Tensor<2>,
    cells: [Tensor<2>; 2],
    d_hidden: Tensor<2>,
    d_cell: Option<Tensor<2>>,
) -> (Tensor<2>, Tensor<2>) {
    match masks {
        Some(masks) => lstm_back_at_once(masks, sums, cells, d_hidden, d_cell),
        None => lstm_back_by_parts(sums, cells, d_hidden, d_cell),
    }
}

/// One step of an LSTM backward: from the step's pre-activations `[batch, 4 · hidden]`, the
/// cells before and after it, and the gradients of its hidden state and cell, the gradient of the
/// pre-activations and of the cell before.
fn lstm_back_by_parts(
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

/// `lstm_back_by_parts` in one elementwise pass over a `[batch, 4, hidden]` view: the gates
/// flipped to meet their partners in the cell update, told apart by `masks`.
fn lstm_back_at_once(
    masks: &GateMasks,
    sums: Tensor<2>,
    [before, after]: [Tensor<2>; 2],
    d_hidden: Tensor<2>,
    d_cell: Option<Tensor<2>>,
) -> (Tensor<2>, Tensor<2>) {
    let [batch, width] = sums.dims();
    let sums = sums.reshape([batch, 4, width / 4]);
    let (sigmoids, tanhs) = (sigmoid(sums.clone()), sums.tanh());
    let gates = sigmoids.clone() + masks.candidate.clone() * (tanhs - sigmoids); // [i, f, o, g]
    let [_, forget, output, _]: [Tensor<3>; 4] = gates.clone().chunk(4, 1).try_into().unwrap();
    let squashed = after.tanh().unsqueeze_dim::<3>(1); // [batch, 1, hidden]
    let d_hidden = d_hidden.unsqueeze_dim::<3>(1);
    let through_hidden = d_hidden.clone() * output * tanh_slope(squashed.clone());
    let d_cell = match d_cell {
        Some(d) => d.unsqueeze_dim(1) + through_hidden,
        None => through_hidden,
    };
    // What multiplies each gate in the cell update, [g, c_prev, tanh c, i], and the gradient it
    // meets there: the cell's, but the hidden state's for the output gate.
    let (forget_row, output_row) = (masks.forget.clone(), masks.output.clone());
    let others = (forget_row.clone() + output_row.clone())
        .neg()
        .add_scalar(1.0);
    let partner = gates.clone().flip([1]) * others
        + before.unsqueeze_dim::<3>(1) * forget_row
        + squashed * output_row.clone();
    let upstream = d_cell.clone() + (d_hidden - d_cell.clone()) * output_row;
    let (sigmoids, tanhs) = (sigmoid_slope(gates.clone()), tanh_slope(gates));
    let slope = sigmoids.clone() + masks.candidate.clone() * (tanhs - sigmoids);
    let d_sums = (upstream * partner * slope).reshape([batch, width]);
    (d_sums, (d_cell * forget).reshape([batch, width / 4]))
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

/// What the backward keeps: the inputs `[time · batch, gates · hidden]`, the weight, what it
/// reads of each step (`step`), the hidden states (the start's `[batch, hidden]` and the output
/// `[time, batch, hidden]`) and an LSTM's cells (the start's, then each step's).
#[derive(Clone, Debug)]
struct Saved<P> {
    from_input: P,
    weight: P,
    kept: Vec<P>,
    start: P,
    outputs: P,
    cells: Vec<P>,
}

/// Step `t`'s `batch` rows of `x` `[time · batch, n]`: a view, without a copy.
fn rows(x: &Tensor<2>, t: usize, batch: usize) -> Tensor<2> {
    let n = x.dims()[1];
    x.clone().slice([t * batch..(t + 1) * batch, 0..n])
}

impl<B: Inner> Backward<B, 5> for RecurrenceBackward
where
    DispatchTensor: DispatchKindConversion<B> + DispatchKindConversion<Autodiff<B>>,
{
    type State = Saved<B::FloatTensorPrimitive>;

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [input_node, weight_node, bias_node, hidden_node, cell_node] = ops.parents;
        let saved = ops.state;
        let weight = plain::<B, 2>(saved.weight);
        let back = weight.clone().transpose(); // [gates · hidden, hidden]
        let (start, outputs) = (plain::<B, 2>(saved.start), plain::<B, 3>(saved.outputs));
        let [time, batch, size] = outputs.dims();
        // Each step's hidden state before it, [time · batch, hidden].
        let before = match time {
            1 => start,
            _ => {
                let earlier = outputs.slice([0..time - 1, 0..batch, 0..size]);
                Tensor::cat(vec![start, earlier.reshape([(time - 1) * batch, size])], 0)
            }
        };
        let cells: Vec<Tensor<2>> = saved.cells.into_iter().map(plain::<B, 2>).collect();
        let kept: Vec<Tensor<2>> = saved.kept.into_iter().map(plain::<B, 2>).collect();
        let from_input = plain::<B, 2>(saved.from_input);
        // [time · batch, hidden]: one copy here if the gradient came permuted, not one per step.
        let grad = plain::<B, 3>(grads.consume::<B>(&ops.node)).reshape([time * batch, size]);

        let start_tracked = hidden_node.is_some() || cell_node.is_some();
        let device = weight.device();
        let at_once = self.cell == Cell::Lstm && !crate::device::is_cpu(&device);
        let masks = at_once.then(|| GateMasks::new(&device));
        let mut d_h_all = Vec::with_capacity(time); // d(W_h h + b_h), per step
        let mut d_x_all = Vec::with_capacity(time); // a GRU's d(W_x x + b_x), per step
                                                    // The gradient of the hidden state after step t, the output's included.
        let mut d_hidden = Some(rows(&grad, time - 1, batch));
        let mut d_cell = None;
        for t in (0..time).rev() {
            let d_out = d_hidden.take().expect("the gradient of each step's output");
            let (d_h, skip) = match self.cell {
                Cell::Lstm => {
                    let cell_pair = [cells[t].clone(), cells[t + 1].clone()];
                    let (d_sums, d_before) = lstm_back(
                        masks.as_ref(),
                        kept[t].clone(),
                        cell_pair,
                        d_out,
                        d_cell.take(),
                    );
                    d_cell = Some(d_before);
                    (d_sums, None)
                }
                Cell::Gru => {
                    let products = [rows(&from_input, t, batch), kept[t].clone()];
                    let (d_x, d_h, skip) = gru_back(products, rows(&before, t, batch), d_out);
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
                    d = d + rows(&grad, t - 1, batch);
                }
                d_hidden = Some(d);
            }
            d_h_all.push(d_h);
        }
        d_h_all.reverse();
        d_x_all.reverse();
        let d_h_all = Tensor::cat(d_h_all, 0); // [time · batch, gates · hidden]
        if let Some(node) = weight_node {
            let d_weight = before.transpose().matmul(d_h_all.clone());
            grads.register::<B>(node.id, primitive::<B, 2>(d_weight));
        }
        if let Some(node) = bias_node {
            grads.register::<B>(node.id, primitive::<B, 2>(d_h_all.clone().sum_dim(0)));
        }
        if let Some(node) = input_node {
            let d_x = match self.cell {
                Cell::Lstm => d_h_all,
                Cell::Gru => Tensor::cat(d_x_all, 0),
            };
            grads.register::<B>(node.id, primitive::<B, 2>(d_x));
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
        hidden: plain::<B, 2>(hidden.clone()),
        cell: (cell == Cell::Lstm).then(|| plain::<B, 2>(cell_start)),
    };
    let steps = forward(cell, &plain_sequence, plain_start);
    let last = steps.carries.last().expect("the start").clone();
    let output = primitive::<B, 3>(Tensor::stack(steps.outputs, 0));
    let start_hidden = hidden;
    let prep = RecurrenceBackward { cell }
        .prepare::<NoCheckpointing>(tracked.each_ref().map(|t| t.node()))
        .compute_bound()
        .stateful();
    let tensor = match prep {
        OpsKind::Tracked(prep) => {
            let cells = steps.carries.into_iter().filter_map(|c| c.cell);
            let saved = Saved {
                from_input,
                weight,
                kept: steps.kept.into_iter().map(primitive::<B, 2>).collect(),
                start: start_hidden,
                outputs: output.clone(),
                cells: cells.map(primitive::<B, 2>).collect(),
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

    /// The GPU's one-pass LSTM step backward computes what the CPU's part-by-part one does (the
    /// browser tests compare the GPU's with burn's op-by-op backward too).
    #[test]
    fn an_lstm_step_backward_at_once_matches_it_by_parts() {
        let device = burn::tensor::Device::flex();
        let values = |n: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 37 % 23) as f32 - 11.0) * scale)
                .collect()
        };
        let tensor = |shape: [usize; 2], scale: f32| {
            let data = TensorData::new(values(shape[0] * shape[1], scale), shape);
            Tensor::<2>::from_data(data, &device)
        };
        let sums = tensor([3, 8], 0.2);
        let cells = [tensor([3, 2], 0.1), tensor([3, 2], -0.15)];
        let (d_hidden, d_cell) = (tensor([3, 2], 0.3), tensor([3, 2], -0.05));
        let masks = GateMasks::new(&device);
        let read = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
        let (a, a_cell) = lstm_back_at_once(
            &masks,
            sums.clone(),
            cells.clone(),
            d_hidden.clone(),
            Some(d_cell.clone()),
        );
        let (b, b_cell) = lstm_back_by_parts(sums, cells, d_hidden, Some(d_cell));
        for (x, y) in read(a)
            .into_iter()
            .chain(read(a_cell))
            .zip(read(b).into_iter().chain(read(b_cell)))
        {
            assert!((x - y).abs() < 1e-6, "{x} vs {y}");
        }
    }
}

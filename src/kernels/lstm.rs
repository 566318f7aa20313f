//! An LSTM layer's time steps on a GPU as one kernel launch each, forward and backward. Written
//! by hand because burn has no recurrent kernel: through its generic ops a step is a product and
//! a few fused elementwise kernels, and fusion cannot merge them across the product or the copy
//! that stacks each step's output (seed-lstm: 30 launches per time step, the target 12). Here a
//! thread owns one hidden unit of one sequence: it takes its four gates' dot products with the
//! state before the step, and writes the step's cell, hidden state and pre-activations into
//! tensors that hold every step.
//!
//! The products are plain loops over the hidden size: for Kindling's layers (≤ 512 units, a few
//! dozen sequences) a step is a few MFLOP, and the launch it saves costs more than the
//! arithmetic. Gates are burn's order: input, forget, output, candidate.

use burn::backend::fusion::custom::TensorSpec;
use burn::backend::ops::FloatTensorOps;
use burn::backend::{backend_extension, tensor::FloatTensor, Backend, Dispatch, TensorMetadata};
use burn::tensor::{Shape, Tensor};
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;

use super::{dims, empty, Launch};

/// What the forward leaves: the states `[2 · (time + 1) · batch, hidden]`, a block of `batch`
/// rows for each step's hidden state (the start's first), then one for each step's cell, and
/// each step's pre-activations `[time · batch, 4 · hidden]`.
pub struct States {
    pub batch: usize,
    pub states: Tensor<2>,
    pub sums: Tensor<2>,
}

/// The layer stepped through `from_input` (`W_x x + b_x`, `[time · batch, 4 · hidden]`) with the
/// recurrent weight `[hidden, 4 · hidden]` and bias `[1, 4 · hidden]`, from `start`'s hidden state
/// and cell `[batch, hidden]`. The tensors must be on a cubecl device and outside autodiff.
pub fn forward(from_input: Tensor<2>, weights: [Tensor<2>; 2], start: [Tensor<2>; 2]) -> States {
    run(from_input, weights, start, false)
}

/// `forward` from the layer's input `x` `[time · batch, d_input]`, each step taking the input's
/// product too: with `[W_x; W_h]` `[d_input + hidden, 4 · hidden]` and `b_x + b_h`.
pub fn forward_from_input(x: Tensor<2>, weights: [Tensor<2>; 2], start: [Tensor<2>; 2]) -> States {
    run(x, weights, start, true)
}

fn run(
    from_input: Tensor<2>,
    [weight, bias]: [Tensor<2>; 2],
    [hidden, cell]: [Tensor<2>; 2],
    project: bool,
) -> States {
    let batch = hidden.dims()[0];
    let (states, sums) = Dispatch::lstm_forward(
        from_input.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        hidden.into_dispatch(),
        cell.into_dispatch(),
        project,
    );
    States {
        batch,
        states: Tensor::from_dispatch(states),
        sums: Tensor::from_dispatch(sums),
    }
}

/// Backpropagation through `forward`'s steps, from the gradient of every step's hidden state
/// `grad` `[time · batch, hidden]`: the gradient of every step's pre-activations `[time · batch,
/// 4 · hidden]` (which is also `from_input`'s) and the start cell's `[batch, hidden]`.
pub fn backward(
    grad: Tensor<2>,
    weight: Tensor<2>,
    sums: Tensor<2>,
    states: Tensor<2>,
) -> (Tensor<2>, Tensor<2>) {
    let (d_sums, d_cell) = Dispatch::lstm_backward(
        grad.into_dispatch(),
        weight.into_dispatch(),
        sums.into_dispatch(),
        states.into_dispatch(),
    );
    (Tensor::from_dispatch(d_sums), Tensor::from_dispatch(d_cell))
}

/// The ops, each a kernel launch per step.
#[backend_extension(Cube, Fusion)]
pub trait LstmKernels: Backend {
    #[fusion(meta = forward_meta)]
    fn lstm_forward(
        from_input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
        cell: FloatTensor<Self>,
        project: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    #[fusion(meta = backward_meta)]
    fn lstm_backward(
        grad: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        sums: FloatTensor<Self>,
        states: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

fn forward_meta(
    from_input: &TensorSpec,
    _: &TensorSpec,
    _: &TensorSpec,
    hidden: &TensorSpec,
    _: &TensorSpec,
    _: &bool,
) -> (TensorSpec, TensorSpec) {
    let [rows, batch, size] = [from_input.shape[0], hidden.shape[0], hidden.shape[1]];
    let states = TensorSpec::new(Shape::new([2 * (rows + batch), size]), hidden.dtype);
    let sums = TensorSpec::new(Shape::new([rows, 4 * size]), hidden.dtype);
    (states, sums)
}

fn backward_meta(
    grad: &TensorSpec,
    _: &TensorSpec,
    sums: &TensorSpec,
    states: &TensorSpec,
) -> (TensorSpec, TensorSpec) {
    let [rows, size] = [grad.shape[0], grad.shape[1]];
    let batch = states.shape[0] / 2 - rows;
    let cell = TensorSpec::new(Shape::new([batch, size]), grad.dtype);
    (sums.clone(), cell)
}

impl LstmKernels for CubeBackend {
    fn lstm_forward(
        from_input: CubeTensor,
        weight: CubeTensor,
        bias: CubeTensor,
        hidden: CubeTensor,
        cell: CubeTensor,
        project: bool,
    ) -> (CubeTensor, CubeTensor) {
        let tensors = [from_input, weight, bias, hidden, cell];
        let [from_input, weight, bias, hidden, cell] = tensors.map(into_contiguous);
        let (rows, [batch, size]) = (from_input.shape()[0], dims(&hidden));
        let launch = Launch::new(&hidden, batch * size);
        let states = empty(&hidden, [2 * (rows + batch), size]);
        let sums = empty(&hidden, [rows, 4 * size]);
        let dtype = dtype_to_storage_type(hidden.dtype);
        for step in 0..rows / batch {
            kernels::lstm_step_kernel::launch(
                &hidden.client,
                launch.count.clone(),
                launch.dim,
                from_input.clone().into_tensor_arg(),
                weight.clone().into_tensor_arg(),
                bias.clone().into_tensor_arg(),
                hidden.clone().into_tensor_arg(),
                cell.clone().into_tensor_arg(),
                states.clone().into_tensor_arg(),
                sums.clone().into_tensor_arg(),
                step as u32,
                batch as u32,
                size as u32,
                project,
                dtype,
            );
        }
        (states, sums)
    }

    fn lstm_backward(
        grad: CubeTensor,
        weight: CubeTensor,
        sums: CubeTensor,
        states: CubeTensor,
    ) -> (CubeTensor, CubeTensor) {
        // Transposed, so that neighbouring threads (hidden units) read neighbouring weights.
        let back = Self::float_transpose(weight);
        let [grad, back, sums, states] = [grad, back, sums, states].map(into_contiguous);
        let [rows, size] = dims(&grad);
        let batch = states.shape()[0] / 2 - rows;
        let launch = Launch::new(&grad, batch * size);
        let d_sums = empty(&grad, [rows, 4 * size]);
        let d_cell = empty(&grad, [batch, size]);
        let dtype = dtype_to_storage_type(grad.dtype);
        for step in (0..rows / batch).rev() {
            kernels::lstm_step_backward_kernel::launch(
                &grad.client,
                launch.count.clone(),
                launch.dim,
                grad.clone().into_tensor_arg(),
                back.clone().into_tensor_arg(),
                sums.clone().into_tensor_arg(),
                states.clone().into_tensor_arg(),
                d_sums.clone().into_tensor_arg(),
                d_cell.clone().into_tensor_arg(),
                step as u32,
                (rows / batch) as u32,
                batch as u32,
                size as u32,
                dtype,
            );
        }
        (d_sums, d_cell)
    }
}

/// The kernels, apart: cubecl's `Tensor` is not burn's.
mod kernels {
    use burn_cubecl::cubecl::{self, prelude::*};

    #[cube]
    fn sigmoid<F: Float>(x: F) -> F {
        F::new(1.0) / (F::new(1.0) + F::exp(-x))
    }

    /// Step `step` of the forward for the hidden unit `unit % size` of sequence `unit / size`.
    /// The first step copies the start into the states' first hidden state and cell.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn lstm_step_kernel<F: Float>(
        from_input: &Tensor<F>, // [time · batch, 4 · hidden], or x [time · batch, d_input]
        weight: &Tensor<F>,     // [hidden, 4 · hidden], or [d_input + hidden, 4 · hidden]
        bias: &Tensor<F>,       // [1, 4 · hidden]
        start_hidden: &Tensor<F>, // [batch, hidden]
        start_cell: &Tensor<F>, // [batch, hidden]
        states: &mut Tensor<F>, // [2 · (time + 1) · batch, hidden]: hidden states, then cells
        sums: &mut Tensor<F>,   // [time · batch, 4 · hidden]
        step: u32,
        batch: u32,
        size: u32,
        #[comptime] project: bool,
        #[define(F)] _dtype: ElemType,
    ) {
        let (step, batch, size) = (step as usize, batch as usize, size as usize);
        let unit = ABSOLUTE_POS;
        if unit >= batch * size {
            terminate!();
        }
        let (sequence, j) = (unit / size, unit % size);
        let width = 4 * size;
        let row = (step * batch + sequence) * width;
        let mut input = bias[j];
        let mut forget = bias[size + j];
        let mut output = bias[2 * size + j];
        let mut candidate = bias[3 * size + j];
        // The weight's rows for the input come first, then those for the state.
        let first = weight.shape(0) - size;
        if project {
            let x = (step * batch + sequence) * first;
            for k in 0..first {
                let (value, w) = (from_input[x + k], k * width + j);
                input += value * weight[w];
                forget += value * weight[w + size];
                output += value * weight[w + 2 * size];
                candidate += value * weight[w + 3 * size];
            }
        } else {
            input += from_input[row + j];
            forget += from_input[row + size + j];
            output += from_input[row + 2 * size + j];
            candidate += from_input[row + 3 * size + j];
        }
        let block = batch * size;
        let cells = states.shape(0) / 2 * size; // where the cells start, after the hidden states
        let before = step * block; // the hidden state before this step (its cell: cells + before)
        for k in 0..size {
            let h = if step == 0 {
                start_hidden[sequence * size + k]
            } else {
                states[before + sequence * size + k]
            };
            let w = (first + k) * width + j;
            input += h * weight[w];
            forget += h * weight[w + size];
            output += h * weight[w + 2 * size];
            candidate += h * weight[w + 3 * size];
        }
        let c_before = if step == 0 {
            start_cell[unit]
        } else {
            states[cells + before + unit]
        };
        if step == 0 {
            states[unit] = start_hidden[unit];
            states[cells + unit] = c_before;
        }
        sums[row + j] = input;
        sums[row + size + j] = forget;
        sums[row + 2 * size + j] = output;
        sums[row + 3 * size + j] = candidate;
        let c = sigmoid::<F>(forget) * c_before + sigmoid::<F>(input) * F::tanh(candidate);
        let after = before + block;
        states[after + unit] = sigmoid::<F>(output) * F::tanh(c);
        states[cells + after + unit] = c;
    }

    /// Step `step` of the backward, for one hidden unit of one sequence: the gradient of the
    /// step's hidden state is the output's plus what the next step's pre-activations send back
    /// through the weight; `d_cell` carries the cell's gradient from step to step.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn lstm_step_backward_kernel<F: Float>(
        grad: &Tensor<F>,       // [time · batch, hidden]
        back: &Tensor<F>,       // [4 · hidden, hidden]: the weight transposed
        sums: &Tensor<F>,       // [time · batch, 4 · hidden]
        states: &Tensor<F>,     // [2 · (time + 1) · batch, hidden]: hidden states, then cells
        d_sums: &mut Tensor<F>, // [time · batch, 4 · hidden]
        d_cell: &mut Tensor<F>, // [batch, hidden]
        step: u32,
        time: u32,
        batch: u32,
        size: u32,
        #[define(F)] _dtype: ElemType,
    ) {
        let (step, time) = (step as usize, time as usize);
        let (batch, size) = (batch as usize, size as usize);
        let unit = ABSOLUTE_POS;
        if unit >= batch * size {
            terminate!();
        }
        let (sequence, j) = (unit / size, unit % size);
        let width = 4 * size;
        let block = batch * size;
        let mut d_hidden = grad[step * block + unit];
        let mut d_c = F::new(0.0);
        if step + 1 < time {
            let next = ((step + 1) * batch + sequence) * width;
            for m in 0..width {
                d_hidden += d_sums[next + m] * back[m * size + j];
            }
            d_c = d_cell[unit];
        }
        let row = (step * batch + sequence) * width;
        let input = sigmoid::<F>(sums[row + j]);
        let forget = sigmoid::<F>(sums[row + size + j]);
        let output = sigmoid::<F>(sums[row + 2 * size + j]);
        let candidate = F::tanh(sums[row + 3 * size + j]);
        let cells = states.shape(0) / 2 * size; // where the cells start, after the hidden states
        let c_before = states[cells + step * block + unit];
        let squashed = F::tanh(states[cells + (step + 1) * block + unit]);
        let one = F::new(1.0);
        d_c += d_hidden * output * (one - squashed * squashed);
        d_sums[row + j] = d_c * candidate * input * (one - input);
        d_sums[row + size + j] = d_c * c_before * forget * (one - forget);
        d_sums[row + 2 * size + j] = d_hidden * squashed * output * (one - output);
        d_sums[row + 3 * size + j] = d_c * input * (one - candidate * candidate);
        d_cell[unit] = d_c * forget;
    }
}

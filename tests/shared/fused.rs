//! The hand-written backward passes (`kindling::model::fused` and `recurrence`) against burn's op-by-op ones, on
//! any autodiff device: the native tests run it on the CPU, the browser tests on WebGPU.

use burn::module::Param;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use kindling::device::read_floats;
use kindling::model::fused;
use kindling::model::recurrence::{self, Carry, Cell, Sequence};

/// One op's comparison: the largest difference between ours and burn's, forward and gradients,
/// and the largest gradient, against which the gradients' difference is judged (and which must
/// not be negligible for the comparison to mean anything).
#[derive(Debug)]
pub struct Difference {
    pub output: f32,
    pub gradient: f32,
    pub largest_gradient: f32,
}

/// Values in `shape`, rows of different scales and offsets: a leaf that receives gradients.
fn tracked<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    let n: usize = shape.iter().product();
    let values = (0..n)
        .map(|i| ((i * 37 % 17) as f32 - 8.0) * (1.0 + (i / 32) as f32) + (i / 64) as f32)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device)).val()
}

/// A loss whose gradient differs per element, so every term of a backward counts.
fn weighted_sum<const D: usize>(y: Tensor<D>) -> Tensor<1> {
    let n = y.shape().num_elements();
    let weights = Tensor::<1>::from_data(
        TensorData::new((0..n).map(|i| (i % 7) as f32 - 3.0).collect(), [n]),
        &y.device(),
    );
    (y.reshape([n]) * weights).sum()
}

async fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    let n = tensor.shape().num_elements();
    read_floats(tensor.reshape([n])).await.unwrap()
}

/// The largest absolute difference between two equally long runs of values.
pub fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// `ours` and `theirs` applied to the same tracked input of `shape` (and gamma `[32]`, for the
/// layer norm), compared through `weighted_sum`. 32 wide: a model's rows are.
async fn compare<const D: usize>(
    device: &Device,
    shape: [usize; D],
    ours: impl Fn(Tensor<D>, Tensor<1>) -> Tensor<D>,
    theirs: impl Fn(Tensor<D>, Tensor<1>) -> Tensor<D>,
) -> Difference {
    let gamma = || {
        let values = (0..32).map(|i| 0.5 + i as f32 * 0.05).collect();
        Param::from_tensor(Tensor::<1>::from_data(
            TensorData::new(values, [32]),
            device,
        ))
        .val()
    };
    let (x, g, x2, g2) = (
        tracked(shape, device),
        gamma(),
        tracked(shape, device),
        gamma(),
    );
    let (y, y2) = (ours(x.clone(), g.clone()), theirs(x2.clone(), g2.clone()));
    let output = largest_difference(&values(y.clone()).await, &values(y2.clone()).await);
    let (grads, grads2) = (weighted_sum(y).backward(), weighted_sum(y2).backward());
    let dx = values(x.grad(&grads).unwrap()).await;
    let mut gradient = largest_difference(&dx, &values(x2.grad(&grads2).unwrap()).await);
    if let (Some(dg), Some(dg2)) = (g.grad(&grads), g2.grad(&grads2)) {
        gradient = gradient.max(largest_difference(&values(dg).await, &values(dg2).await));
    }
    let largest_gradient = dx.iter().map(|v| v.abs()).fold(0.0, f32::max);
    Difference {
        output,
        gradient,
        largest_gradient,
    }
}

/// The hand-written ops.
pub const OPS: [&str; 8] = [
    "layer_norm",
    "add_layer_norm",
    "softmax",
    "cross_entropy",
    "attention",
    "rotary_attention",
    "lstm",
    "gru",
];

/// Hand-written op `op` (one of `OPS`) against burn's, on `device` (an autodiff device).
pub async fn difference(op: &str, device: &Device) -> Difference {
    match op {
        "layer_norm" => {
            compare(device, [4, 16, 32], fused::layer_norm, |x, g| {
                burn::tensor::module::layer_norm(x, g, None, fused::LAYER_NORM_EPSILON)
            })
            .await
        }
        // The residual add and the norm after it, both results weighed: the gradient reaches the
        // input through the sum's two addends and through the norm.
        "add_layer_norm" => {
            let delta = |x: Tensor<3>| x.clone().mul_scalar(0.5).sin();
            compare(
                device,
                [4, 16, 32],
                |x, g| {
                    let (sum, normed) = fused::add_layer_norm(x.clone(), delta(x), g);
                    normed + sum.mul_scalar(0.3)
                },
                |x, g| {
                    let sum = x.clone() + delta(x);
                    let normed = burn::tensor::module::layer_norm(
                        sum.clone(),
                        g,
                        None,
                        fused::LAYER_NORM_EPSILON,
                    );
                    normed + sum.mul_scalar(0.3)
                },
            )
            .await
        }
        "softmax" => {
            compare(
                device,
                [4, 16, 32],
                |x, _| fused::softmax(x),
                |x, _| activation::softmax(x, 2),
            )
            .await
        }
        // The loss [1] broadcast to the logits' shape, so `compare` can weigh it.
        "cross_entropy" => {
            let targets = Tensor::<1, Int>::from_data(
                TensorData::new((0..64).map(|i| i * 7 % 32).collect::<Vec<i64>>(), [64]),
                device,
            );
            compare(
                device,
                [64, 32],
                |x, _| {
                    let shape = x.shape();
                    fused::cross_entropy(x, targets.clone())
                        .unsqueeze::<2>()
                        .expand(shape)
                },
                |x, _| {
                    let shape = x.shape();
                    CrossEntropyLossConfig::new()
                        .init(&x.device())
                        .forward(x, targets.clone())
                        .unsqueeze::<2>()
                        .expand(shape)
                },
            )
            .await
        }
        // Causal attention over 2 rows of 16 positions, 2 heads of 8 values (qkv [2, 16, 48],
        // the context [2, 16, 16]); with rotary positions, queries and keys turned by angles
        // that differ per position and pair.
        "attention" | "rotary_attention" => {
            let forward = |query: Tensor<4>, key: Tensor<4>, value: Tensor<4>| {
                let time = query.dims()[2];
                let future = Tensor::<2, Bool>::tril_mask([time, time], 0, &query.device())
                    .unsqueeze::<4>()
                    .expand([2, 2, time, time]);
                let scores = query.matmul(key.swap_dims(2, 3)).mul_scalar(0.5);
                let weights = activation::softmax(scores.mask_fill(future, f32::NEG_INFINITY), 3);
                (weights.clone().matmul(value), weights)
            };
            let rotation = (op == "rotary_attention").then(|| {
                let angles: Vec<f32> = (0..64).map(|i| (i * 7 % 13) as f32 * 0.3).collect();
                let angles = Tensor::<4>::from_data(
                    TensorData::new(angles, [1, 1, 16, 4]),
                    &device.clone().inner(),
                );
                [angles.clone().cos(), angles.sin()]
            });
            let turned = |[q, k, v]: [Tensor<4>; 3]| match &rotation {
                Some([cos, sin]) => [
                    fused::rotate(q, cos.clone(), sin.clone()),
                    fused::rotate(k, cos.clone(), sin.clone()),
                    v,
                ],
                None => [q, k, v],
            };
            compare(
                device,
                [2, 16, 48],
                // Scaled down so that the weights are not one-hot: their backward then counts.
                |x, _| {
                    fused::attention(x.mul_scalar(0.003), 2, 0.5, rotation.clone(), forward)
                        .expect("the hand-written backward on this device")
                },
                |x, _| {
                    let [q, k, v] = turned(fused::unpack(x.mul_scalar(0.003), 2));
                    forward(q, k, v).0.swap_dims(1, 2).reshape([2, 16, 16])
                },
            )
            .await
        }
        // A layer of 8 hidden units over 16 steps of 2 rows. "Gamma" scales the recurrent
        // weight, is the bias and, scaled, the start's state, so its gradient covers all three;
        // the inputs are scaled down so that the gates do not saturate.
        "lstm" | "gru" => {
            let (cell, width) = match op {
                "lstm" => (Cell::Lstm, 32),
                _ => (Cell::Gru, 24),
            };
            let fixed: Vec<f32> = (0..8 * width)
                .map(|i| ((i * 13 % 11) as f32 - 5.0) * 0.05)
                .collect();
            let fixed = Tensor::<2>::from_data(TensorData::new(fixed, [8, width]), device);
            let run = |x: Tensor<3>, gamma: Tensor<1>, by_hand: bool| {
                let state_from = |from: usize, scale: f32| {
                    let part = gamma.clone().slice(from..from + 8).reshape([1, 8]);
                    Tensor::<2>::ones([2, 8], device) * part.mul_scalar(scale)
                };
                let start = Carry {
                    hidden: state_from(0, 0.5),
                    cell: (cell == Cell::Lstm).then(|| state_from(8, -0.4)),
                };
                let gamma = gamma.slice(0..width).reshape([1, width]);
                let sequence = Sequence {
                    from_input: x.mul_scalar(0.05),
                    weight: fixed.clone() * gamma.clone(),
                    bias: gamma.mul_scalar(0.1),
                };
                match by_hand {
                    true => recurrence::run(cell, sequence, start).0,
                    false => recurrence::run_op_by_op(cell, sequence, start).0,
                }
            };
            compare(
                device,
                [16, 2, width],
                |x, g| run(x, g, true),
                |x, g| run(x, g, false),
            )
            .await
        }
        _ => panic!("no hand-written op {op}"),
    }
}

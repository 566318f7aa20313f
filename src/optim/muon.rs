//! Muon (Keller Jordan's, as modded-nanogpt trains with it): SGD momentum whose update is
//! replaced by the nearest semi-orthogonal matrix, found by a few Newton–Schulz iterations.
//! Every direction of a hidden matrix then moves by the same amount, which learns more per
//! step than AdamW's per-entry scaling for the 2-D weights inside the blocks.
//!
//! Why not burn's `Muon`: its momentum lives in a `MomentumState` whose tensor only burn's
//! synchronous records can read, and a checkpoint must read optimizer state asynchronously
//! from a GPU (see `adamw`). Here the momentum is a flat tensor on the model's device.

use burn::tensor::Tensor;

/// Keller Jordan's quintic coefficients: they push every singular value towards 1 fastest.
const COEFFICIENTS: (f32, f32, f32) = (3.4445, -4.775, 2.0315);
const ITERATIONS: usize = 5;
pub const MOMENTUM: f32 = 0.95;

/// `g` `[rows, cols]` orthogonalized: U Vᵀ of its singular value decomposition, approximately
/// (singular values land in about 0.7..1.2, which is what the update needs, not exactly 1).
pub fn orthogonalize(g: Tensor<2>) -> Tensor<2> {
    let [rows, cols] = g.dims();
    // Iterate on the wide orientation: X Xᵀ is then the smaller square.
    let tall = rows > cols;
    let mut x = if tall { g.transpose() } else { g };
    let norm = x.clone().square().sum().sqrt().add_scalar(1e-7);
    x = x / norm.unsqueeze();
    let (a, b, c) = COEFFICIENTS;
    for _ in 0..ITERATIONS {
        let gram = x.clone().matmul(x.clone().transpose()); // [small, small]
        let poly = gram.clone().mul_scalar(b) + gram.clone().matmul(gram).mul_scalar(c);
        x = x.clone().mul_scalar(a) + poly.matmul(x);
    }
    if tall {
        x.transpose()
    } else {
        x
    }
}

/// One Muon update of `param` `[rows, cols]` (burn's `[in, out]` layout) with Nesterov
/// momentum `velocity` (updated in place): returns the new parameter. The step is scaled by
/// √max(1, out / in), as Keller Jordan's, so wide-output matrices move as much per entry.
pub fn update(param: Tensor<2>, grad: Tensor<2>, velocity: &mut Tensor<2>, lr: f64) -> Tensor<2> {
    let [rows, cols] = param.dims();
    *velocity = velocity.clone().mul_scalar(MOMENTUM) + grad.clone().mul_scalar(1.0 - MOMENTUM);
    let nesterov = grad.mul_scalar(1.0 - MOMENTUM) + velocity.clone().mul_scalar(MOMENTUM);
    let scale = (cols as f64 / rows as f64).max(1.0).sqrt();
    param - orthogonalize(nesterov).mul_scalar(lr * scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::{cpu, read_floats};
    use burn::tensor::TensorData;

    fn matrix(rows: usize, cols: usize, seed: usize) -> Tensor<2> {
        let values = (0..rows * cols)
            .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f32 / 500.0) - 1.0)
            .collect();
        Tensor::from_data(TensorData::new(values, [rows, cols]), &cpu())
    }

    /// X Xᵀ (or Xᵀ X for a tall X) `[small, small]`, read back.
    fn gram(x: Tensor<2>) -> Vec<f32> {
        let [rows, cols] = x.dims();
        let small = rows.min(cols);
        let gram = if rows <= cols {
            x.clone().matmul(x.transpose())
        } else {
            x.clone().transpose().matmul(x)
        };
        pollster::block_on(read_floats(gram.reshape([small * small]))).unwrap()
    }

    /// The orthogonalized gradient's Gram matrix is close to the identity: its singular values
    /// are near 1. (Five iterations leave a square random matrix's smallest singular values,
    /// near 0, short of that; Muon's updates live with it, this test uses wide and tall ones.)
    #[test]
    fn the_update_is_orthogonal_within_tolerance() {
        for (rows, cols) in [(8, 32), (32, 8), (12, 48)] {
            let input = matrix(rows, cols, rows + cols);
            let small = rows.min(cols);
            // The input itself is far from it: rows of ~cols/3 squared norm.
            assert!(gram(input.clone())[0] > 2.0);
            let gram = gram(orthogonalize(input));
            for i in 0..small {
                for j in 0..small {
                    let value = gram[i * small + j];
                    if i == j {
                        // Quintic Newton–Schulz leaves singular values in about 0.7..1.2.
                        assert!(
                            (0.45..1.45).contains(&value),
                            "{rows}x{cols} [{i},{i}] = {value}"
                        );
                    } else {
                        assert!(value.abs() < 0.3, "{rows}x{cols} [{i},{j}] = {value}");
                    }
                }
            }
        }
    }
}

//! Global gradient-norm clipping, as `torch.nn.utils.clip_grad_norm_` does it.

use burn::module::Module;
use burn::optim::GradientsParams;

use crate::params::{concatenate, map_grads, visit_grads, ALIGNED_LEN};

/// Scales all gradients together so their global norm is at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_` does; burn's own clipping works per parameter. The scale
/// stays a tensor so nothing is read back to the host.
pub fn clip_global_norm<M: Module>(model: &M, grads: &mut GradientsParams, max_norm: f64) {
    let mut flat = Vec::new();
    visit_grads(model, grads, |_, _, grad| flat.extend(grad));
    if flat.is_empty() {
        return;
    }
    // All gradients in one tensor, squared and summed in one reduction and scaled in one kernel:
    // per parameter, a GPU spent a kernel on the sum of squares, one adding it to the total and
    // one scaling, where the concatenation's copy is one. The scaled gradients are views of it,
    // without a copy on a GPU where their offsets are aligned to its 256 bytes: so the lengths
    // that are not multiples of 64 values come last.
    let mut order: Vec<usize> = (0..flat.len()).collect();
    order.sort_by_key(|&i| !flat[i].dims()[0].is_multiple_of(ALIGNED_LEN));
    let mut offsets = vec![0; flat.len()];
    let mut end = 0;
    for &i in &order {
        offsets[i] = end;
        end += flat[i].dims()[0];
    }
    let flat = concatenate(order.iter().map(|&i| flat[i].clone()).collect());
    let total = flat.clone().square().sum();
    let scale = total
        .sqrt()
        .clamp_min(max_norm)
        .recip()
        .mul_scalar(max_norm);
    let scaled = flat * scale;
    let mut next = 0;
    map_grads(model, grads, |_, _, grad| {
        grad.map(|grad| {
            let start = offsets[next];
            next += 1;
            scaled.clone().slice(start..start + grad.dims()[0])
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::Tensor;
    use burn::tensor::TensorData;

    use crate::device::{cpu, read_floats};

    /// A layer's gradients (weight and bias) after a loss that makes them large.
    fn gradients(layer: &Linear) -> GradientsParams {
        let input = Tensor::<2>::from_data(
            TensorData::new((0..12).map(|i| i as f32 - 5.0).collect(), [3, 4]),
            &cpu(),
        );
        let loss = layer.forward(input).powi_scalar(2).sum();
        GradientsParams::from_grads(loss.backward(), layer)
    }

    /// The global norm of `grads`.
    fn norm(layer: &Linear, grads: &GradientsParams) -> f64 {
        let mut squares = 0.0;
        visit_grads(layer, grads, |_, _, grad| {
            let values = pollster::block_on(read_floats(grad.unwrap())).unwrap();
            squares += values.iter().map(|v| (v * v) as f64).sum::<f64>();
        });
        squares.sqrt()
    }

    #[test]
    fn gradients_are_scaled_to_the_limit_and_no_further() {
        let layer = LinearConfig::new(4, 3).init(&cpu());
        let before = norm(&layer, &gradients(&layer));
        assert!(
            before > 2.0,
            "the test needs gradients above the limit: {before}"
        );
        let clipped = |max: f64| {
            let mut grads = gradients(&layer);
            clip_global_norm(&layer, &mut grads, max);
            norm(&layer, &grads)
        };
        assert!((clipped(1.0) - 1.0).abs() < 1e-5);
        assert!((clipped(before * 2.0) - before).abs() < 1e-5 * before);
    }
}

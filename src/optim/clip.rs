//! Global gradient-norm clipping, as `torch.nn.utils.clip_grad_norm_` does it.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::params::{map_grads, visit_grads};

/// Scales all gradients together so their global norm is at most `max_norm`. burn's own
/// clipping works per parameter. The scale stays a tensor so nothing is read back to the host.
pub fn clip_global_norm<M: Module>(model: &M, grads: &mut GradientsParams, max_norm: f64) {
    let mut total: Option<Tensor<1>> = None;
    visit_grads(model, grads, |_, _, grad| {
        if let Some(grad) = grad {
            let squares = grad.powi_scalar(2).sum();
            total = Some(match total.take() {
                Some(total) => total + squares,
                None => squares,
            });
        }
    });
    let Some(total) = total else { return };
    let scale = total
        .sqrt()
        .clamp_min(max_norm)
        .recip()
        .mul_scalar(max_norm);
    map_grads(model, grads, |_, _, grad| grad.map(|g| g * scale.clone()));
}

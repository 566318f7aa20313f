//! Every walk over a module's parameters. burn visits them through generic traits
//! (`ModuleVisitor`, `ModuleMapper`) whose methods are generic over the tensor's rank; the four
//! walkers here hide that behind closures over flattened tensors, and the named functions
//! below are what the engine needs: draw, copy, flatten and place weights and gradients.
//!
//! Order: every walk visits parameters in the module's visiting order, which is the same for
//! every module built from one config; flat layouts (helpers' weights and gradients, optimizer
//! moments in checkpoints) rely on it.
//!
//! Helpers exchange only the *trainable* parameters (those that require a gradient, on a
//! training device): all of them but a LoRA model's frozen base, which never changes and so
//! never needs to travel (a replica has it from the checkpoint it was made from).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

use crate::device::read_floats;
use crate::error::Error;

/// 256 bytes of f32: WebGPU's usual storage-buffer offset alignment. A view of a flat tensor that
/// starts elsewhere is copied by each kernel that binds it.
pub const ALIGNED_LEN: usize = 64;

/// Calls `f` with each float parameter's id and value, flattened.
pub fn visit<M: Module>(module: &M, mut f: impl FnMut(ParamId, Tensor<1>)) {
    visit_grads(module, &GradientsParams::new(), |id, value, _| f(id, value));
}

/// The shape `[rows, cols]` of each 2-D float parameter of `module`, by id.
pub fn matrices<M: Module>(module: &M) -> HashMap<ParamId, [usize; 2]> {
    struct Visitor(HashMap<ParamId, [usize; 2]>);
    impl ModuleVisitor for Visitor {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let [rows, cols] = param.shape().dims::<D>()[..] {
                self.0.insert(param.id, [rows, cols]);
            }
        }
    }
    let mut visitor = Visitor(HashMap::new());
    module.visit(&mut visitor);
    visitor.0
}

// The walkers take their closure as `dyn`: each walker is then compiled once per module type,
// not once per closure, which keeps the .wasm from growing with every use.

/// Calls `f` with each float parameter's id, value and gradient in `grads` (if it has one),
/// flattened.
pub fn visit_grads<M: Module>(
    module: &M,
    grads: &GradientsParams,
    mut f: impl FnMut(ParamId, Tensor<1>, Option<Tensor<1>>),
) {
    visit_ranked(module, grads, |id, value, grad, _| f(id, value, grad));
}

/// `visit_grads`, with each parameter's rank.
pub fn visit_ranked<M: Module>(
    module: &M,
    grads: &GradientsParams,
    mut f: impl FnMut(ParamId, Tensor<1>, Option<Tensor<1>>, usize),
) {
    type F<'f> = dyn FnMut(ParamId, Tensor<1>, Option<Tensor<1>>, usize) + 'f;
    struct Visitor<'a, 'f>(&'a GradientsParams, &'a mut F<'f>);
    impl ModuleVisitor for Visitor<'_, '_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val();
            let len = value.shape().num_elements();
            let grad = self.0.get::<D>(param.id).map(|g| g.reshape([len]));
            (self.1)(param.id, value.reshape([len]), grad, D);
        }
    }
    module.visit(&mut Visitor(grads, &mut f));
}

/// `module` with each float parameter replaced by what `f` makes of it (flattened in, any
/// tensor of as many values out), or kept where `f` gives `None`. `f` also gets the
/// parameter's gradient, taken out of `grads`, and its rank. Ids are kept, so optimizer state
/// and checkpoints still match, and so is `require_grad` wherever the result can track it.
pub fn map<M: Module>(
    module: M,
    grads: &mut GradientsParams,
    mut f: impl FnMut(ParamId, Tensor<1>, Option<Tensor<1>>, usize) -> Option<Tensor<1>>,
) -> M {
    type F<'f> = dyn FnMut(ParamId, Tensor<1>, Option<Tensor<1>>, usize) -> Option<Tensor<1>> + 'f;
    struct Mapper<'a, 'f>(&'a mut GradientsParams, &'a mut F<'f>);
    impl ModuleMapper for Mapper<'_, '_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, tensor, mapper) = param.consume();
            let shape = tensor.shape();
            let len = shape.num_elements();
            let grad = self.0.remove::<D>(id).map(|g| g.reshape([len]));
            let Some(new) = (self.1)(id, tensor.clone().reshape([len]), grad, D) else {
                return Param::from_mapped_value(id, tensor, mapper);
            };
            let new: Tensor<D> = new.reshape(shape);
            let new = if tensor.is_require_grad() && new.is_autodiff() {
                new.require_grad()
            } else {
                new
            };
            Param::from_mapped_value(id, new, mapper)
        }
    }
    module.map(&mut Mapper(grads, &mut f))
}

/// Rewrites the gradients in `grads`: `f` gets each parameter's id, value and gradient (if
/// any), flattened, and returns its new gradient (`None`: none).
pub fn map_grads<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    mut f: impl FnMut(ParamId, Tensor<1>, Option<Tensor<1>>) -> Option<Tensor<1>>,
) {
    type F<'f> = dyn FnMut(ParamId, Tensor<1>, Option<Tensor<1>>) -> Option<Tensor<1>> + 'f;
    struct Rewriter<'a, 'f>(&'a mut GradientsParams, &'a mut F<'f>);
    impl ModuleVisitor for Rewriter<'_, '_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val();
            let shape = value.shape();
            let len = shape.num_elements();
            let grad = self.0.remove::<D>(param.id).map(|g| g.reshape([len]));
            if let Some(new) = (self.1)(param.id, value.reshape([len]), grad) {
                let new: Tensor<D> = new.reshape(shape);
                self.0.register(param.id, new);
            }
        }
    }
    module.visit(&mut Rewriter(grads, &mut f));
}

/// Draws every parameter that burn would otherwise draw lazily, at its first use.
pub fn initialize<M: Module>(module: &M) {
    visit(module, |_, _| {});
}

/// Each float parameter's id and number of values.
pub fn parameters<M: Module>(module: &M) -> Vec<(ParamId, usize)> {
    let mut params = Vec::new();
    visit(module, |id, value| params.push((id, value.dims()[0])));
    params
}

/// `module` with each parameter that has an entry in `values` given those values, on `device`;
/// the others are kept.
pub fn place_values<M: Module>(
    module: M,
    mut values: HashMap<ParamId, Vec<f32>>,
    device: &Device,
) -> M {
    map(module, &mut GradientsParams::new(), |id, value, _, _| {
        let values = values.remove(&id)?;
        Some(Tensor::from_data(
            TensorData::new(values, value.shape()),
            device,
        ))
    })
}

/// A copy of `module` on `device`, read back asynchronously (burn's `to_device` reads
/// synchronously, which WebGPU in a browser cannot do) in one read: a read per parameter
/// would cost a GPU round trip each.
pub async fn copy_module<M: Module>(module: &M, device: &Device) -> Result<M, Error> {
    let flat = flat_weights(module).await?;
    Ok(load_weights(module, &flat, device).expect("flat_weights reads every parameter once"))
}

/// Every float parameter's values, concatenated.
pub async fn flat_weights<M: Module>(module: &M) -> Result<Vec<f32>, Error> {
    let mut values = Vec::new();
    // Without autodiff: concatenating tracked parameters would record a graph for nothing.
    visit(module, |_, value| values.push(value.inner()));
    read_concatenated(values).await
}

/// Whether a parameter, as the walkers here pass it (flattened), trains: the flattened copy of
/// a parameter that requires a gradient is tracked by autodiff, that of a frozen one is not.
fn is_trainable(value: &Tensor<1>) -> bool {
    value.is_tracked()
}

/// Every trainable parameter's values, concatenated: the layout helpers exchange.
pub async fn trainable_weights<M: Module>(module: &M) -> Result<Vec<f32>, Error> {
    let mut values = Vec::new();
    visit(module, |_, value| {
        if is_trainable(&value) {
            values.push(value.inner());
        }
    });
    read_concatenated(values).await
}

/// Every trainable parameter's gradient in `grads`, laid out as `trainable_weights`; zeros
/// for one without a gradient.
pub async fn flat_gradients<M: Module>(
    module: &M,
    grads: &GradientsParams,
) -> Result<Vec<f32>, Error> {
    let mut flat = Vec::new();
    visit_grads(module, grads, |_, value, grad| {
        if is_trainable(&value) {
            flat.push(grad.unwrap_or_else(|| value.inner().zeros_like()));
        }
    });
    read_concatenated(flat).await
}

async fn read_concatenated(tensors: Vec<Tensor<1>>) -> Result<Vec<f32>, Error> {
    if tensors.is_empty() {
        return Ok(Vec::new());
    }
    read_floats(concatenate(tensors)).await
}

/// `parts` (at least one, outside autodiff) end to end: on a GPU six to a launch
/// (`kernels::concatenate`), where burn's `cat` takes a launch per part.
pub fn concatenate(parts: Vec<Tensor<1>>) -> Tensor<1> {
    #[cfg(feature = "webgpu")]
    if crate::kernels::on_gpu(&parts[0].device()) {
        return crate::kernels::concatenate::concatenate(parts);
    }
    Tensor::cat(parts, 0)
}

/// Replaces each gradient in `grads` by its values in `flat` (laid out as `flat_gradients`
/// writes), on `device` (without autodiff, where gradients live). Parameters without a
/// gradient stay without one, as the optimizer expects.
pub fn replace_gradients<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    flat: &[f32],
    device: &Device,
) {
    let mut rest = flat;
    map_grads(module, grads, |_, value, grad| {
        if !is_trainable(&value) {
            return grad;
        }
        let len = value.dims()[0];
        let (values, tail) = rest.split_at(len);
        rest = tail;
        grad.map(|_| Tensor::from_data(TensorData::new(values.to_vec(), [len]), device))
    });
}

/// A copy of `module` with its parameters' values replaced by `flat` (laid out as
/// `flat_weights` writes); `None` if `flat` has not exactly one value per parameter.
pub fn load_weights<M: Module>(module: &M, flat: &[f32], device: &Device) -> Option<M> {
    let params = parameters(module);
    let values = split_flat(&params, flat)?;
    Some(place_values(module.clone(), values, device))
}

/// A copy of `module` with its trainable parameters' values replaced by `flat` (laid out as
/// `trainable_weights` writes); `None` if `flat` has not exactly one value per trainable one.
pub fn load_trainable<M: Module>(module: &M, flat: &[f32], device: &Device) -> Option<M> {
    let mut trainable = Vec::new();
    visit(module, |id, value| {
        if is_trainable(&value) {
            trainable.push((id, value.dims()[0]));
        }
    });
    let values = split_flat(&trainable, flat)?;
    Some(place_values(module.clone(), values, device))
}

/// `flat` cut into each of `params`' values, or `None` if the lengths do not add up.
fn split_flat(params: &[(ParamId, usize)], flat: &[f32]) -> Option<HashMap<ParamId, Vec<f32>>> {
    if flat.len() != params.iter().map(|(_, len)| len).sum::<usize>() {
        return None;
    }
    let mut rest = flat;
    let mut values = HashMap::with_capacity(params.len());
    for &(id, len) in params {
        let (head, tail) = rest.split_at(len);
        values.insert(id, head.to_vec());
        rest = tail;
    }
    Some(values)
}

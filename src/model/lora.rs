//! LoRA fine-tuning: every weight of the base frozen, and each GPT block's linear weights
//! `W [d_in, d_out]` read as `W + (alpha / rank) · A·B` with trainable `A [d_in, rank]` and
//! `B [rank, d_out]`. burn 0.22 does this itself (`Module::apply_lora`, a reparameterization of
//! the weight), so `Linear` and the model code stay as they are; this module says which weights
//! and how the adapters are counted, merged and dropped.

use burn::module::{Lora, Module, ModuleVisitor, Param, ParamGroup};
use burn::tensor::Tensor;
use serde::Serialize;

use super::LanguageModel;

/// The LoRA paper's alpha = 2 · rank: the adapters' updates keep one scale whatever the rank,
/// so a learning rate that suits one rank suits the others.
const SCALE: f64 = 2.0;

/// `model` (a GPT: `validate` refuses the others) with rank-`rank` adapters on the linear
/// weights of its blocks (attention qkv and projection, MLP up and down); every other weight
/// frozen too. B starts at zero, so the adapted model computes what the base did.
pub fn adapt(model: LanguageModel, rank: usize) -> LanguageModel {
    let lora =
        Lora::new(rank, SCALE * rank as f64).set_param_group(ParamGroup::from_predicate("blocks"));
    model.apply_lora(lora)
}

/// `model` with its adapters folded into the weights (`W + scale · A·B`) and dropped: a plain
/// model, every weight trainable again.
pub fn merge(model: LanguageModel) -> LanguageModel {
    model.materialize().unfreeze()
}

/// How many parameters training updates and how many it only reads, with the memory each
/// needs while training: a trainable one has its weight, gradient and two AdamW moments
/// (16 bytes), a frozen one only its weight (4 bytes). Activations come on top.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct ParameterSplit {
    pub trainable: u64,
    pub frozen: u64,
    pub trainable_bytes: u64,
    pub frozen_bytes: u64,
}

/// Counts `model`'s parameters by whether they are trained: `model` must be on an autodiff
/// device (a trainer's), where a frozen parameter is one that does not require a gradient.
pub fn split(model: &LanguageModel) -> ParameterSplit {
    struct Counter(ParameterSplit);
    impl ModuleVisitor for Counter {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let count = param.val().shape().num_elements() as u64;
            if param.val().is_require_grad() {
                self.0.trainable += count;
            } else {
                self.0.frozen += count;
            }
        }
    }
    let mut counter = Counter(ParameterSplit::default());
    model.visit(&mut counter);
    let mut split = counter.0;
    split.trainable_bytes = 16 * split.trainable;
    split.frozen_bytes = 4 * split.frozen;
    split
}

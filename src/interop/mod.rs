//! Models in and out of Kindling: safetensors weights with a JSON manifest beside them, and
//! (natively) nanoGPT checkpoints. Everything a foreign file can get wrong is an `Import` error
//! naming the file's problem; nothing here panics on bad input.
//!
//! The layout (docs/formats.md): a GPT's tensors take nanoGPT's names
//! (`transformer.h.0.attn.c_attn.weight`) and PyTorch's layout (a linear weight is
//! `[out, in]`, a LayerNorm's scale `weight`), so `GPT.load_state_dict` takes them; a tied LM
//! head is written once, as the token embedding. An LSTM's or GRU's tensors keep burn's module
//! paths, in PyTorch's layout too. Every tensor is f32; LoRA adapters are merged first.
//!
//! Export is written here on the `safetensors` crate rather than burn-store's
//! `SafetensorsStore`: the page exports too, and burn-store (with the regex crate its
//! `KeyRemapper` needs) made the CPU engine every reader downloads 0.37 MB larger gzipped
//! (0.99 → 1.36 MB). Import (`import`, `nanogpt`: native only) reads through burn-store.

#[cfg(not(target_arch = "wasm32"))]
mod import;
#[cfg(not(target_arch = "wasm32"))]
pub mod nanogpt;

#[cfg(not(target_arch = "wasm32"))]
pub use import::import;

use std::collections::HashMap;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use crate::checkpoint::host_model;
use crate::config::{Activation, Config, ModelKind, Positions};
use crate::device::read_floats;
use crate::error::Error;
use crate::tokenizer::Tokenizer;
use crate::train::Trainer;

/// What `format` says in a manifest Kindling wrote.
pub const FORMAT: &str = "kindling-safetensors";
/// The safetensors metadata entry holding the manifest.
const METADATA_KEY: &str = "kindling";

/// The JSON written beside the weights: everything but the weights and the training text.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub format: String,
    pub config: Config,
    pub vocabulary: Tokenizer,
    /// Steps the model was trained for.
    pub step: usize,
    /// A GPT's shape as nanoGPT's `GPTConfig` takes it (`GPTConfig(**nanogpt)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nanogpt: Option<NanoGptArgs>,
    /// Why `nanogpt` is absent: what this model has that nanoGPT's `GPT` cannot hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_nanogpt: Option<String>,
}

/// nanoGPT's `GPTConfig`, which its checkpoints keep as `model_args`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NanoGptArgs {
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    pub block_size: usize,
    pub vocab_size: usize,
    pub bias: bool,
    pub dropout: f64,
}

/// An exported model: safetensors bytes and the manifest's JSON.
pub struct Exported {
    pub weights: Vec<u8>,
    pub manifest: String,
}

/// A Kindling GPT's module paths and nanoGPT's names for the same tensors; `{i}` is a block.
const GPT_NAMES: [(&str, &str); 9] = [
    ("token_embedding", "transformer.wte"),
    ("position_embedding", "transformer.wpe"),
    ("blocks.{i}.ln_1", "transformer.h.{i}.ln_1"),
    ("blocks.{i}.attn.qkv", "transformer.h.{i}.attn.c_attn"),
    ("blocks.{i}.attn.proj", "transformer.h.{i}.attn.c_proj"),
    ("blocks.{i}.ln_2", "transformer.h.{i}.ln_2"),
    ("blocks.{i}.mlp.up", "transformer.h.{i}.mlp.c_fc"),
    ("blocks.{i}.mlp.down", "transformer.h.{i}.mlp.c_proj"),
    ("ln_f", "transformer.ln_f"),
];

/// nanoGPT's name for the tensor at a Kindling GPT's module `path`
/// (`blocks.0.attn.qkv.weight` → `transformer.h.0.attn.c_attn.weight`); other paths as they are.
fn nanogpt_name(path: &str) -> String {
    for (ours, theirs) in GPT_NAMES {
        let (before, after) = ours.split_once("{i}").unwrap_or((ours, ""));
        let Some(rest) = path.strip_prefix(before) else {
            continue;
        };
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (block, rest) = rest.split_at(if ours.contains("{i}") { digits } else { 0 });
        if ours.contains("{i}") && block.is_empty() {
            continue;
        }
        if let Some(param) = rest.strip_prefix(after).and_then(|r| r.strip_prefix('.')) {
            return format!("{}.{param}", theirs.replace("{i}", block));
        }
    }
    path.to_string()
}

/// Every float parameter of a module with its path (enum variants left out, as burn-store
/// does), in PyTorch's layout and names: linear weights transposed to `[out, in]`, LayerNorm's
/// `gamma`/`beta` as `weight`/`bias`.
#[derive(Default)]
struct Collect {
    path: Vec<String>,
    /// The type of the struct each entered field belongs to (`Struct:Linear`, `Enum:…`).
    containers: Vec<String>,
    /// Path, shape in the file, values in the file's order.
    tensors: Vec<(String, Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        if !container_type.starts_with("Enum:") {
            self.path.push(name.to_string());
        }
        self.containers.push(container_type.to_string());
    }

    fn exit_module(&mut self, _name: &str, container_type: &str) {
        if !container_type.starts_with("Enum:") {
            self.path.pop();
        }
        self.containers.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let container = self.containers.last().map_or("", String::as_str);
        let mut path = self.path.clone();
        let tensor = param.val();
        let mut shape = tensor.dims().to_vec();
        let count = shape.iter().product::<usize>();
        let tensor = if container == "Struct:Linear" && D == 2 {
            shape.reverse();
            tensor.swap_dims(0, 1).reshape([count])
        } else {
            tensor.reshape([count])
        };
        if container == "Struct:LayerNorm" {
            if let Some(last) = path.last_mut() {
                *last = match last.as_str() {
                    "gamma" => "weight".into(),
                    "beta" => "bias".into(),
                    other => other.into(),
                };
            }
        }
        self.tensors.push((path.join("."), shape, tensor));
    }
}

/// The trainer's model as safetensors and its manifest.
pub async fn export(trainer: &Trainer) -> Result<Exported, Error> {
    let (model, config) = host_model(trainer, true).await?;
    let is_gpt = config.model == ModelKind::Gpt;
    let nanogpt = nanogpt_args(&config, trainer.tokenizer.vocab_size());
    let manifest = Manifest {
        format: FORMAT.into(),
        not_nanogpt: nanogpt.as_ref().err().map(|e| e.message.clone()),
        nanogpt: nanogpt.ok(),
        config,
        vocabulary: trainer.tokenizer.clone(),
        step: trainer.step(),
    };
    let manifest = serde_json::to_string_pretty(&manifest).expect("manifests serialize");

    let mut collect = Collect::default();
    model.visit(&mut collect);
    let mut tensors = Vec::with_capacity(collect.tensors.len());
    for (path, shape, tensor) in collect.tensors {
        let values = read_floats(tensor).await?;
        let name = if is_gpt { nanogpt_name(&path) } else { path };
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.push((name, shape, bytes));
    }
    // The manifest also rides in the file's metadata: a page download whose .json went
    // astray still imports.
    let metadata = HashMap::from([(METADATA_KEY.to_string(), manifest.clone())]);
    let views = tensors.iter().map(|(name, shape, bytes)| {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
            .expect("the shape covers the bytes: both come from one tensor");
        (name.as_str(), view)
    });
    let weights = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::device(format!("could not write the weights: {e}")))?;
    Ok(Exported { weights, manifest })
}

/// nanoGPT's `GPTConfig` for a GPT of `config`, or what nanoGPT's `GPT` cannot hold.
fn nanogpt_args(config: &Config, vocab_size: usize) -> Result<NanoGptArgs, Error> {
    let unfit = [
        (config.model != ModelKind::Gpt, "it is not a GPT"),
        (
            !config.tie_embeddings,
            "its head is not tied to the token embedding",
        ),
        (
            config.activation != Activation::Gelu,
            "its MLP uses ReLU², not GELU",
        ),
        (
            config.positions != Positions::Learned,
            "it uses rotary positions, not learned ones",
        ),
        (config.qk_norm, "it normalizes queries and keys (QK-norm)"),
    ];
    let reasons: Vec<&str> = unfit.iter().filter(|u| u.0).map(|u| u.1).collect();
    if !reasons.is_empty() {
        return Err(Error::import(format!(
            "nanoGPT's GPT cannot hold this model: {}",
            reasons.join("; ")
        )));
    }
    Ok(NanoGptArgs {
        n_layer: config.n_layer,
        n_head: config.n_head,
        n_embd: config.n_embd,
        block_size: config.block_size,
        vocab_size,
        bias: false,
        dropout: config.dropout,
    })
}

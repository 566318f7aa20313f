//! Models in and out of Kindling: safetensors weights with a JSON manifest beside them, and
//! (natively) nanoGPT checkpoints, `nanogpt`. Everything a foreign file can get wrong is an
//! `Import` error naming the file's problem; nothing here panics on bad input.
//!
//! The layout (docs/formats.md): a GPT's tensors take nanoGPT's names
//! (`transformer.h.0.attn.c_attn.weight`) and PyTorch's layout (a linear weight is
//! `[out, in]`), so `GPT.load_state_dict` takes them; a tied LM head is written once, as the
//! token embedding. An LSTM's or GRU's tensors keep burn's module paths, in PyTorch's layout too.
//! Every tensor is f32; LoRA adapters are merged into the weights first.

#[cfg(not(target_arch = "wasm32"))]
pub mod nanogpt;

use burn::store::{
    ApplyResult, BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, ModuleStore,
    PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::checkpoint::host_model;
use crate::config::{Config, ModelKind};
use crate::error::Error;
use crate::model::LanguageModel;
use crate::optim::AdamW;
use crate::tokenizer::Tokenizer;
use crate::train::{RunState, Trainer};

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

/// Renames tensors from Kindling's paths to nanoGPT's (`to_nanogpt`) or back. `extra`
/// patterns run first.
fn gpt_names(to_nanogpt: bool, extra: &[(&str, &str)]) -> KeyRemapper {
    let pattern = |path: &str| format!("^{}\\.", path.replace('.', "\\.").replace("{i}", "(\\d+)"));
    let replacement = |path: &str| format!("{}.", path.replace("{i}", "${1}"));
    let pairs = GPT_NAMES.iter().map(|&(ours, theirs)| {
        let (from, to) = if to_nanogpt {
            (ours, theirs)
        } else {
            (theirs, ours)
        };
        (pattern(from), replacement(to))
    });
    let extra = extra
        .iter()
        .map(|&(from, to)| (from.to_string(), to.to_string()));
    KeyRemapper::from_patterns(extra.chain(pairs).collect())
        .expect("the name patterns are valid regular expressions")
}

/// The trainer's model as safetensors and its manifest.
pub async fn export(trainer: &Trainer) -> Result<Exported, Error> {
    let (model, config) = host_model(trainer, true).await?;
    let is_gpt = config.model == ModelKind::Gpt;
    let manifest = Manifest {
        format: FORMAT.into(),
        nanogpt: nanogpt_args(&config, trainer.tokenizer.vocab_size()),
        config,
        vocabulary: trainer.tokenizer.clone(),
        step: trainer.step(),
    };
    let manifest = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
    // The manifest also rides in the file's metadata: a page download whose .json went
    // astray still imports.
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .skip_enum_variants(true)
        .metadata(METADATA_KEY, manifest.clone());
    if is_gpt {
        store = store.remap(gpt_names(true, &[]));
    }
    let weights = model
        .save_into(&mut store)
        .and_then(|()| store.get_bytes())
        .map_err(|e| Error::device(format!("could not write the weights: {e}")))?;
    Ok(Exported { weights, manifest })
}

/// The manifest in a safetensors file's metadata, if Kindling wrote it.
fn embedded_manifest(weights: &[u8]) -> Result<Option<String>, Error> {
    let (_, metadata) = safetensors::SafeTensors::read_metadata(weights).map_err(|e| {
        Error::import(format!(
            "this is not a safetensors file ({e}): it is truncated or not what it claims to be; export it again"
        ))
    })?;
    Ok(metadata
        .metadata()
        .as_ref()
        .and_then(|entries| entries.get(METADATA_KEY).cloned()))
}

/// nanoGPT's `GPTConfig` for a GPT of `config` (none for a model nanoGPT cannot hold).
fn nanogpt_args(config: &Config, vocab_size: usize) -> Option<NanoGptArgs> {
    (config.model == ModelKind::Gpt && config.tie_embeddings).then_some(NanoGptArgs {
        n_layer: config.n_layer,
        n_head: config.n_head,
        n_embd: config.n_embd,
        block_size: config.block_size,
        vocab_size,
        bias: false,
        dropout: config.dropout,
    })
}

/// A model from exported weights and their manifest (`None`: the one in the weights'
/// metadata), training on `text` (the text it was trained on, or the one to fine-tune it on),
/// on `device`.
pub fn import(
    weights: Vec<u8>,
    manifest: Option<&str>,
    text: String,
    device: Device,
) -> Result<Trainer, Error> {
    let embedded = embedded_manifest(&weights)?;
    let manifest = manifest.or(embedded.as_deref()).ok_or_else(|| {
        Error::import(
            "these weights carry no Kindling manifest: give the .json exported beside them",
        )
    })?;
    let manifest: Manifest = serde_json::from_str(manifest).map_err(|e| {
        Error::import(format!(
            "the manifest (.json) is not one Kindling wrote: {e}. Give the .json exported with these weights"
        ))
    })?;
    if manifest.format != FORMAT {
        return Err(Error::import(format!(
            "the manifest's format is \"{}\", not \"{FORMAT}\": give the .json exported with these weights",
            manifest.format
        )));
    }
    if manifest.vocabulary.kind() != manifest.config.tokenizer || manifest.config.lora_rank > 0 {
        return Err(Error::import(
            "the manifest is inconsistent (its vocabulary and config differ): export the model again",
        ));
    }
    let mut store = SafetensorsStore::from_bytes(Some(weights))
        .with_from_adapter(PyTorchToBurnAdapter)
        .skip_enum_variants(true)
        .validate(false)
        .allow_partial(true);
    if manifest.config.model == ModelKind::Gpt {
        store = store.remap(gpt_names(false, &[]));
    }
    let vocab = manifest.vocabulary.vocab_size();
    let model = place(&manifest.config, vocab, &device, &mut store, &[])?;
    from_parts(
        text,
        manifest.config,
        manifest.vocabulary,
        model,
        manifest.step,
        device,
    )
}

/// A model of `config`'s shape on `device` with every tensor from `store`. Tensors in the file
/// that the model has no place for are an error unless their names end with one of `ignored`.
/// Errors name tensors as the file does (nanoGPT's names for a GPT).
fn place<S: ModuleStore>(
    config: &Config,
    vocab: usize,
    device: &Device,
    store: &mut S,
    ignored: &[&str],
) -> Result<LanguageModel, Error>
where
    S::Error: std::fmt::Display,
{
    let mut model = LanguageModel::new(config, vocab, device);
    let result = model
        .load_from(store)
        .map_err(|e| Error::import(format!(
            "the weights file is unreadable ({e}): it is truncated or not what it claims to be; export it again"
        )))?;
    let to_file = gpt_names(true, &[]).to_regex_pairs();
    let file_name = |path: &str| match config.model {
        ModelKind::Gpt => to_file
            .iter()
            .fold(path.to_string(), |name, (pattern, to)| {
                pattern.replace_all(&name, to.as_str()).into_owned()
            }),
        ModelKind::Lstm | ModelKind::Gru => path.to_string(),
    };
    check_applied(&result, ignored, file_name)?;
    Ok(model)
}

/// Turns what burn-store could not place into one sentence about the file.
fn check_applied(
    result: &ApplyResult,
    ignored: &[&str],
    file_name: impl Fn(&str) -> String,
) -> Result<(), Error> {
    use burn::store::ApplyError;
    let first = |names: Vec<String>| names[..names.len().min(4)].join(", ");
    if let Some(error) = result.errors.first() {
        let message = match error {
            ApplyError::ShapeMismatch { path, expected, found } => format!(
                "the tensor {} has shape {found} where this model needs {expected}: the weights and the config describe different models",
                file_name(path)
            ),
            ApplyError::DTypeMismatch { path, found, .. } => format!(
                "the tensor {} holds {found:?} values; Kindling reads float weights only",
                file_name(path)
            ),
            other => format!("a tensor could not be read: {other}"),
        };
        return Err(Error::import(message));
    }
    if !result.missing.is_empty() {
        let names: Vec<String> = result
            .missing
            .iter()
            .map(|(path, _)| file_name(path))
            .collect();
        return Err(Error::import(format!(
            "the file has no tensor for {} of this model's weights ({}): it is not a complete model of this shape",
            names.len(),
            first(names)
        )));
    }
    let unexpected: Vec<String> = result
        .unused
        .iter()
        .map(|path| file_name(path))
        .filter(|name| !ignored.iter().any(|suffix| name.ends_with(suffix)))
        .collect();
    if !unexpected.is_empty() {
        return Err(Error::import(format!(
            "the file has {} tensor(s) this model has no place for ({}): it holds a different architecture",
            unexpected.len(),
            first(unexpected)
        )));
    }
    Ok(())
}

/// A trainer at `step` with `model`, a fresh optimizer and no history, once `text` is one the
/// tokenizer covers and long enough for `config`.
fn from_parts(
    text: String,
    config: Config,
    tokenizer: Tokenizer,
    model: LanguageModel,
    step: usize,
    device: Device,
) -> Result<Trainer, Error> {
    let encoded = tokenizer.encode(&text);
    if let Some(warning) = encoded.warning() {
        return Err(Error::import(format!(
            "the text does not fit the model's vocabulary ({warning}): give the text the model was trained on"
        )));
    }
    if let Some(problem) = config
        .validate(encoded.ids.len(), tokenizer.vocab_size())
        .into_iter()
        .next()
    {
        return Err(Error::import(format!(
            "this model cannot train on that text: {problem}"
        )));
    }
    let state = RunState {
        text,
        optimizer: AdamW::new(&config),
        config,
        tokenizer,
        model,
        step,
        history: Vec::new(),
    };
    Ok(Trainer::resume_encoded(state, encoded.ids, device))
}

//! Reading models from elsewhere through burn-store (native only): safetensors + manifest
//! here, nanoGPT's checkpoints in `nanogpt`. Both go through `place`, which turns what
//! burn-store could not place into one sentence about the file.

use burn::store::{
    ApplyResult, KeyRemapper, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::Device;

use super::{nanogpt_name, Manifest, FORMAT, GPT_NAMES, METADATA_KEY};
use crate::config::{Config, ModelKind};
use crate::error::Error;
use crate::model::LanguageModel;
use crate::optim::Optimizer;
use crate::tokenizer::Tokenizer;
use crate::train::{RunState, Trainer};

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
        store = store.remap(from_nanogpt(&[]));
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
pub(super) fn place<S: ModuleStore>(
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
    let file_name = |path: &str| match config.model {
        ModelKind::Gpt => nanogpt_name(path),
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
pub(super) fn from_parts(
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
        optimizer: Optimizer::new(&config, &model),
        config,
        tokenizer,
        model,
        step,
        history: Vec::new(),
    };
    Ok(Trainer::resume_encoded(state, encoded.ids, device))
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

/// Renames tensors from nanoGPT's names to a Kindling GPT's module paths (`GPT_NAMES`
/// reversed); `extra` patterns run first.
pub(super) fn from_nanogpt(extra: &[(&str, &str)]) -> KeyRemapper {
    let pattern = |name: &str| format!("^{}\\.", name.replace('.', "\\.").replace("{i}", "(\\d+)"));
    let replacement = |path: &str| format!("{}.", path.replace("{i}", "${1}"));
    let pairs = GPT_NAMES
        .iter()
        .map(|&(ours, theirs)| (pattern(theirs), replacement(ours)));
    let extra = extra
        .iter()
        .map(|&(from, to)| (from.to_string(), to.to_string()));
    KeyRemapper::from_patterns(extra.chain(pairs).collect())
        .expect("the name patterns are valid regular expressions")
}

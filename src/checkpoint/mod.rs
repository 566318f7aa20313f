//! One self-describing byte blob holds everything needed to continue exactly where a run
//! stopped: config, training text, vocabulary, weights, optimizer state, step and loss history.
//! This module owns every byte layout of it.
//!
//! Layout (integers little-endian, `bytes.rs`):
//! `KINDLING` · format version u32 · total length u64 · header length u32 · header (JSON) ·
//! weights section (u64 length, burnpack) · optimizer section (u64 length, `optimizer.rs`) ·
//! CRC-32 of all before it. The total length tells a truncated file from a corrupted one; the
//! checksum is checked before any length inside is trusted.

mod bytes;
mod optimizer;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::device::is_cpu;
use crate::error::Error;
use crate::model::{lora, LanguageModel};
use crate::optim::Optimizer;
use crate::params::copy_module;
use crate::tokenizer::Tokenizer;
use crate::train::{HistoryPoint, RunState, Trainer};
use crate::validate::typed;
use bytes::{crc32, Reader, Writer};

const MAGIC: &[u8; 8] = b"KINDLING";
/// 2: the optimizer section is Kindling's own AdamW state (`optimizer.rs`), not burnpack.
const VERSION: u32 = 2;
/// Magic, version, total length.
const PREAMBLE: usize = MAGIC.len() + 4 + 8;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    config: Config,
    vocabulary: Tokenizer,
    text: String,
    step: usize,
    history: Vec<HistoryPoint>,
}

/// What a saved file holds besides the run's config, text and weights.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SaveOptions {
    /// LoRA adapters folded into the weights (`lora::merge`): a plain model, as if every
    /// weight had been fine-tuned. It saves no optimizer state (the adapters' has no meaning
    /// for the merged weights).
    pub merged: bool,
    /// The optimizer's state (AdamW: two floats per trainable weight; Muon: one); without them the file is smaller
    /// and continues training with a fresh optimizer.
    pub optimizer: bool,
}

impl SaveOptions {
    /// What `toBytes` should save: the defaults with `overrides` (the page's names) applied.
    pub fn from_overrides(overrides: &Map<String, Value>) -> Result<Self, Error> {
        typed(&SaveOptions::default(), overrides, |_| None)
    }
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            merged: false,
            optimizer: true,
        }
    }
}

/// Serializes the trainer, everything included. Everything on a GPU is read back
/// asynchronously.
pub async fn save(trainer: &Trainer) -> Result<Vec<u8>, Error> {
    save_with(trainer, SaveOptions::default()).await
}

/// Serializes the trainer as `options` ask.
pub async fn save_with(trainer: &Trainer, options: SaveOptions) -> Result<Vec<u8>, Error> {
    let merge = options.merged && trainer.config.lora_rank > 0;
    let (model, config) = host_model(trainer, merge).await?;
    let optimizer = if merge || !options.optimizer {
        optimizer::write(&Optimizer::new(&config, &model), &model).await?
    } else {
        optimizer::write(trainer.optimizer(), trainer.model()).await?
    };
    let header = Header {
        config,
        vocabulary: trainer.tokenizer.clone(),
        text: trainer.text.clone(),
        step: trainer.step(),
        history: trainer.history().to_vec(),
    };
    let header = serde_json::to_vec(&header).expect("headers serialize");
    let weights = model
        .into_record()
        .into_bytes()
        .map_err(|e| Error::device(format!("could not serialize the weights: {e}")))?;

    let total = PREAMBLE + 4 + header.len() + 8 + weights.len() + 8 + optimizer.len() + 4;
    let mut out = Writer(Vec::with_capacity(total));
    out.0.extend_from_slice(MAGIC);
    out.u32(VERSION);
    out.u64(total as u64);
    out.u32(header.len() as u32);
    out.0.extend_from_slice(&header);
    out.section(&weights);
    out.section(&optimizer);
    let crc = crc32(&out.0);
    out.u32(crc);
    debug_assert_eq!(out.0.len(), total);
    Ok(out.0)
}

/// The trainer's model on the CPU (read back from a GPU) and its config; with `merge`, LoRA
/// adapters folded into the weights (`lora::merge`), a plain model.
pub(crate) async fn host_model(
    trainer: &Trainer,
    merge: bool,
) -> Result<(LanguageModel, Config), Error> {
    let mut config = trainer.config.clone();
    let mut model = if is_cpu(trainer.device()) {
        trainer.model().clone()
    } else {
        copy_module(trainer.model(), &Device::flex()).await?
    };
    if merge && config.lora_rank > 0 {
        model = lora::merge(model);
        config.lora_rank = 0;
    }
    Ok((model, config))
}

fn truncated() -> Error {
    Error::checkpoint(
        "this Kindling model file is truncated (it ends too early): download or save it again",
    )
}

/// Rebuilds the trainer on `device`. Every way the bytes can be wrong gives a `Checkpoint`
/// error that says what is wrong with the file; nothing here panics on bad input, and nothing
/// is allocated from a length the checksum has not vouched for.
pub fn load(bytes: &[u8], device: Device) -> Result<Trainer, Error> {
    let header_and_sections = checked_body(bytes)?;
    let mut reader = Reader::new(header_and_sections, truncated);
    let header_len = reader.u32()? as usize;
    let header = reader.take(header_len)?;
    let weights = reader.section()?;
    let optimizer_bytes = reader.section()?;
    if !reader.is_empty() {
        return Err(Error::checkpoint(
            "this Kindling model file has sections this Kindling does not know: it is corrupted",
        ));
    }

    let header: Header = serde_json::from_slice(header).map_err(|e| {
        Error::checkpoint(format!(
            "this Kindling model file has an unreadable header: {e}"
        ))
    })?;
    let vocab = header.vocabulary.vocab_size();
    let encoded = header.vocabulary.encode(&header.text);
    if !encoded.unknown.is_empty() || header.vocabulary.kind() != header.config.tokenizer {
        return Err(Error::checkpoint(
            "this Kindling model file is inconsistent: its text and vocabulary differ",
        ));
    }
    let ids = encoded.ids;
    if let Some(error) = header.config.validate(ids.len(), vocab).into_iter().next() {
        return Err(Error::checkpoint(format!(
            "this Kindling model file has an invalid config: {error}"
        )));
    }
    let record =
        ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec())).map_err(|e| {
            Error::checkpoint(format!(
                "the weights in this model file are unreadable: {e}"
            ))
        })?;
    let model = LanguageModel::new(&header.config, vocab, &device)
        .try_load_record(record)
        .map_err(|e| {
            Error::checkpoint(format!("the weights do not fit this model's config: {e}"))
        })?;
    let optimizer = optimizer::read(&header.config, optimizer_bytes, &model, &device)?;
    let state = RunState {
        text: header.text,
        config: header.config,
        tokenizer: header.vocabulary,
        model,
        optimizer,
        step: header.step,
        history: header.history,
    };
    Ok(Trainer::resume_encoded(state, ids, device))
}

/// What follows the preamble, up to the checksum, once magic, version, length and checksum
/// are right.
fn checked_body(bytes: &[u8]) -> Result<&[u8], Error> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::checkpoint(
            "this is not a Kindling model file (it does not start with KINDLING)",
        ));
    }
    let mut reader = Reader::new(&bytes[MAGIC.len()..], truncated);
    let version = reader.u32()?;
    if version != VERSION {
        return Err(Error::checkpoint(format!(
            "this model file has format version {version}; this Kindling reads version {VERSION}"
        )));
    }
    let total = reader.u64()?;
    if (bytes.len() as u64) < total {
        return Err(truncated());
    }
    if bytes.len() as u64 > total {
        return Err(Error::checkpoint(
            "this Kindling model file has unexpected bytes after its end: it is corrupted",
        ));
    }
    let (body, crc) = bytes.split_last_chunk::<4>().ok_or_else(truncated)?;
    if body.len() < PREAMBLE {
        return Err(truncated());
    }
    if crc32(body) != u32::from_le_bytes(*crc) {
        return Err(Error::checkpoint(
            "this Kindling model file is corrupted (its checksum does not match): download or save it again",
        ));
    }
    Ok(&body[PREAMBLE..])
}

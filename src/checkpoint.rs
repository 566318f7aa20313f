//! One self-describing byte blob holds everything needed to continue exactly where a run
//! stopped: config, training text, vocabulary, weights, optimizer state, step and loss history.
//!
//! Layout (integers little-endian):
//! `KINDLING` · format version u32 · total length u64 · header length u32 · header (JSON) ·
//! weights length u64 · weights (burnpack) · optimizer length u64 · optimizer (`AdamW::to_bytes`) ·
//! CRC-32 of all before it. The total length tells a truncated file from a corrupted one.

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use crate::adamw::AdamW;
use crate::config::Config;
use crate::device::{copy_module, is_cpu};
use crate::model::LanguageModel;
use crate::tokenizer::Tokenizer;
use crate::train::{HistoryPoint, Trainer};

const MAGIC: &[u8; 8] = b"KINDLING";
/// 2: the optimizer section is Kindling's own AdamW state (`AdamW::to_bytes`), not burnpack.
const VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    config: Config,
    vocabulary: Tokenizer,
    text: String,
    step: usize,
    history: Vec<HistoryPoint>,
}

/// Serializes the trainer. Everything on a GPU is read back asynchronously.
pub async fn save(trainer: &Trainer) -> Result<Vec<u8>, String> {
    let header = Header {
        config: trainer.config.clone(),
        vocabulary: trainer.tokenizer.clone(),
        text: trainer.text.clone(),
        step: trainer.step(),
        history: trainer.history().to_vec(),
    };
    let header = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
    let model = if is_cpu(trainer.device()) {
        trainer.model().clone()
    } else {
        copy_module(trainer.model(), &Device::flex()).await?
    };
    let weights = model
        .into_record()
        .into_bytes()
        .map_err(|e| format!("could not serialize the weights: {e}"))?;
    let optimizer = trainer.optimizer().to_bytes(trainer.model()).await?;

    let mut out = Vec::with_capacity(header.len() + weights.len() + optimizer.len() + 40);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    let total =
        MAGIC.len() + 4 + 8 + 4 + header.len() + 8 + weights.len() + 8 + optimizer.len() + 4;
    out.extend_from_slice(&(total as u64).to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    for section in [&weights[..], &optimizer[..]] {
        out.extend_from_slice(&(section.len() as u64).to_le_bytes());
        out.extend_from_slice(section);
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    debug_assert_eq!(out.len(), total);
    Ok(out)
}

/// Rebuilds the trainer on `device`. Every way the bytes can be wrong gives a message that says
/// what is wrong with the file; nothing here panics on bad input.
pub fn load(bytes: &[u8], device: Device) -> Result<Trainer, String> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err("this is not a Kindling model file (it does not start with KINDLING)".into());
    }
    let mut reader = Reader::new(&bytes[MAGIC.len()..], truncated);
    let version = u32::from_le_bytes(reader.take_array()?);
    if version != VERSION {
        return Err(format!(
            "this model file has format version {version}; this Kindling reads version {VERSION}"
        ));
    }
    let total = u64::from_le_bytes(reader.take_array()?);
    if (bytes.len() as u64) < total {
        return Err(truncated());
    }
    if bytes.len() as u64 > total {
        return Err(
            "this Kindling model file has unexpected bytes after its end: it is corrupted".into(),
        );
    }
    let (body, crc) = bytes.split_last_chunk::<4>().ok_or_else(truncated)?;
    if crc32(body) != u32::from_le_bytes(*crc) {
        return Err(
            "this Kindling model file is corrupted (its checksum does not match): download or save it again"
                .into(),
        );
    }
    // The checksum matched, so the lengths below are the ones that were written.
    let mut reader = Reader::new(&body[MAGIC.len() + 4 + 8..], truncated);
    let header_len = u32::from_le_bytes(reader.take_array()?) as usize;
    let header = reader.take(header_len)?;
    let weights_len = u64::from_le_bytes(reader.take_array()?) as usize;
    let weights = reader.take(weights_len)?;
    let optimizer_len = u64::from_le_bytes(reader.take_array()?) as usize;
    let optimizer_bytes = reader.take(optimizer_len)?;

    let header: Header = serde_json::from_slice(header)
        .map_err(|e| format!("this Kindling model file has an unreadable header: {e}"))?;
    let vocab = header.vocabulary.vocab_size();
    if Tokenizer::from_text(&header.text) != header.vocabulary {
        return Err(
            "this Kindling model file is inconsistent: its text and vocabulary differ".into(),
        );
    }
    if let Some(error) = header
        .config
        .validate(header.text.chars().count(), vocab)
        .into_iter()
        .next()
    {
        return Err(format!(
            "this Kindling model file has an invalid config: {error}"
        ));
    }
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec()))
        .map_err(|e| format!("the weights in this model file are unreadable: {e}"))?;
    let model = LanguageModel::new(&header.config, vocab, &device)
        .try_load_record(record)
        .map_err(|e| format!("the weights do not fit this model's config: {e}"))?;
    let optimizer = AdamW::from_bytes(&header.config, optimizer_bytes, &model, &device)?;

    let mut trainer = Trainer::assemble(
        header.text,
        header.config,
        header.vocabulary,
        model,
        optimizer,
        device,
    );
    trainer.restore(header.step, header.history);
    Ok(trainer)
}

fn truncated() -> String {
    "this Kindling model file is truncated (it ends too early): download or save it again".into()
}

/// Reads sections off the front of a byte slice; running short is the error `short` makes.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    short: fn() -> String,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], short: fn() -> String) -> Self {
        Reader { bytes, short }
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        if len > self.bytes.len() {
            return Err((self.short)());
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    pub(crate) fn take_array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        Ok(self
            .take(N)?
            .try_into()
            .expect("take returns exactly N bytes"))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// CRC-32 (IEEE), the checksum of zip and PNG.
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |crc, &b| {
        TABLE[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8)
    })
}

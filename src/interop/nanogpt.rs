//! nanoGPT's character-level checkpoints (`train.py`'s `ckpt.pt` with `data/*/meta.pkl`), read
//! with burn-store's PyTorch reader; the same reader reads the vocabulary's pickle.

use std::path::Path;

use burn::store::pytorch_reader::{PickleValue, PytorchReader};
use burn::store::PytorchStore;
use burn::tensor::Device;
use serde::Deserialize;

use super::import::{from_nanogpt, from_parts, place};
use super::NanoGptArgs;
use crate::config::{Config, ModelKind};
use crate::error::Error;
use crate::tokenizer::{Chars, Tokenizer, TokenizerKind};
use crate::train::Trainer;

/// What a checkpoint says besides its weights.
#[derive(Deserialize)]
struct CheckpointInfo {
    model_args: NanoGptArgs,
    #[serde(default)]
    iter_num: usize,
}

/// A Kindling model from nanoGPT's `checkpoint` and the `meta` pickle of its dataset, training
/// on `text`, on `device`. Its training settings are the baby-GPT recipe's (nanoGPT's
/// shakespeare_char recipe for a CPU), which fine-tuning changes anyway.
pub fn import(
    checkpoint: &Path,
    meta: &Path,
    text: String,
    device: Device,
) -> Result<Trainer, Error> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::import(format!(
            "{} is not a nanoGPT checkpoint Kindling can read ({e}): give the ckpt.pt that nanoGPT's train.py wrote",
            checkpoint.display()
        ))
    };
    let info: CheckpointInfo =
        PytorchReader::load_config(checkpoint, None).map_err(|e| unreadable(&e))?;
    let args = info.model_args;
    if args.bias {
        return Err(Error::import(
            "this nanoGPT model has biases (bias=True); Kindling's GPT has none: train it with bias=False, nanoGPT's default",
        ));
    }
    let tokenizer = vocabulary(meta)?;
    if tokenizer.vocab_size() != args.vocab_size {
        return Err(Error::import(format!(
            "the vocabulary in {} has {} characters but the checkpoint's model reads {}: give the meta.pkl of the dataset the model was trained on",
            meta.display(),
            tokenizer.vocab_size(),
            args.vocab_size
        )));
    }
    let config = Config {
        model: ModelKind::Gpt,
        n_layer: args.n_layer,
        n_head: args.n_head,
        n_embd: args.n_embd,
        block_size: args.block_size,
        dropout: args.dropout,
        tie_embeddings: true,
        tokenizer: TokenizerKind::Char,
        ..Config::baby_gpt()
    };
    let mut store = PytorchStore::from_file(checkpoint)
        .with_top_level_key("model")
        .remap(from_nanogpt(&[("^_orig_mod\\.", "")]))
        .skip_enum_variants(true)
        .validate(false)
        .allow_partial(true);
    // The head is tied to the token embedding (both names hold one tensor), and older
    // checkpoints keep each block's causal mask as a buffer named `bias`.
    let ignored = ["lm_head.weight", ".attn.bias"];
    let model = place(&config, args.vocab_size, &device, &mut store, &ignored)?;
    from_parts(text, config, tokenizer, model, info.iter_num, device)
}

/// The character vocabulary in nanoGPT's `meta.pkl`: `itos`, id to character.
fn vocabulary(meta: &Path) -> Result<Tokenizer, Error> {
    let bad = |why: String| {
        Error::import(format!(
            "{} is not a nanoGPT character vocabulary ({why}): give the meta.pkl that nanoGPT's data/*/prepare.py wrote",
            meta.display()
        ))
    };
    let root = PytorchReader::read_pickle_data(meta, None).map_err(|e| bad(e.to_string()))?;
    let PickleValue::Dict(mut root) = root else {
        return Err(bad("it holds no dictionary".into()));
    };
    let Some(PickleValue::Dict(itos)) = root.remove("itos") else {
        return Err(bad(
            "it has no itos table; a GPT-2 tokenizer model (no meta.pkl) is not one Kindling reads"
                .into(),
        ));
    };
    let itos_len = itos.len();
    let mut chars = vec![None; itos_len];
    for (id, token) in itos {
        let id: usize = id
            .parse()
            .map_err(|_| bad(format!("id {id:?} is not a number")))?;
        let PickleValue::String(token) = token else {
            return Err(bad(format!("token {id} is not a string")));
        };
        let mut token_chars = token.chars();
        let (Some(c), None) = (token_chars.next(), token_chars.next()) else {
            return Err(bad(format!("token {id} is {token:?}, not one character")));
        };
        let slot = chars
            .get_mut(id)
            .ok_or_else(|| bad(format!("ids skip before {id}")))?;
        *slot = Some(c);
    }
    // Every slot is filled: `itos` has as many distinct ids as slots, each below their count.
    let chars: String = chars.into_iter().flatten().collect();
    let distinct: std::collections::BTreeSet<char> = chars.chars().collect();
    if distinct.len() != itos_len {
        return Err(bad("a character appears twice".into()));
    }
    Ok(Tokenizer::Chars(Chars::from(chars)))
}

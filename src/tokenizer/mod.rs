//! Text ↔ token ids: characters (`char`, the default for training from scratch) or byte-level
//! BPE (`bpe`, merges trained on the text; any UTF-8 is covered).

pub mod bpe;
mod char;

pub use self::char::{Encoded, Tokenizer};

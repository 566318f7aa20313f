//! Text ↔ token ids: characters (`char`, the default for training from scratch) or byte-level
//! BPE (`bpe`, merges learned from the text; any UTF-8 is covered, nothing is unknown).

pub mod bpe;
mod char;

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

pub use self::char::{Chars, Encoded};
pub use bpe::{continues_utf8, Bpe, Utf8Stream};

thread_local! {
    /// The merges `Tokenizer::for_run` learned last, with the text and count they came from.
    static LAST_MERGES: RefCell<Option<(String, usize, Bpe)>> = const { RefCell::new(None) };
}

/// Which tokenizer a config asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    #[default]
    Char,
    Bpe,
}

/// A model's tokenizer. In a checkpoint, characters are their string (the format Kindling has
/// always written) and BPE is `{ "bpe": merges }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Tokenizer {
    Chars(Chars),
    Bytes { bpe: Bpe },
}

impl Tokenizer {
    /// The character tokenizer of `text`.
    pub fn from_text(text: &str) -> Self {
        Tokenizer::Chars(Chars::from_text(text))
    }

    /// The tokenizer of a run on `text` whose last `val_fraction` is held out. BPE learns its
    /// merges before that part only: merges fitted to the validation text would flatter its
    /// loss. Characters come from all of it (a character met only there must still encode).
    pub fn for_run(text: &str, kind: TokenizerKind, merges: usize, val_fraction: f64) -> Self {
        if kind == TokenizerKind::Char {
            return Tokenizer::from_text(text);
        }
        let chars = text.chars().count();
        let kept = (chars as f64 * (1.0 - val_fraction)).round() as usize;
        let end = text
            .char_indices()
            .nth(kept)
            .map_or(text.len(), |(at, _)| at);
        let seen = &text[..end];
        // The page checks a config at each change of a setting (`validate::report`) and then
        // creates the model, each learning the same merges: 150 ms for a megabyte in wasm.
        LAST_MERGES.with_borrow_mut(|last| match last {
            Some((text, count, bpe)) if *count == merges && text == seen => {
                Tokenizer::Bytes { bpe: bpe.clone() }
            }
            _ => {
                let bpe = Bpe::train(seen, merges);
                *last = Some((seen.to_string(), merges, bpe.clone()));
                Tokenizer::Bytes { bpe }
            }
        })
    }

    pub fn kind(&self) -> TokenizerKind {
        match self {
            Tokenizer::Chars(_) => TokenizerKind::Char,
            Tokenizer::Bytes { .. } => TokenizerKind::Bpe,
        }
    }

    pub fn vocab_size(&self) -> usize {
        match self {
            Tokenizer::Chars(chars) => chars.vocab_size(),
            Tokenizer::Bytes { bpe } => bpe.vocab_size(),
        }
    }

    /// Ids for `text`; characters a character tokenizer never saw are skipped and named.
    pub fn encode(&self, text: &str) -> Encoded {
        match self {
            Tokenizer::Chars(chars) => chars.encode(text),
            Tokenizer::Bytes { bpe } => Encoded {
                ids: bpe.encode(text),
                unknown: Vec::new(),
            },
        }
    }

    /// Ids of a text the tokenizer covers entirely (its training text).
    pub fn encode_known(&self, text: &str) -> Vec<u32> {
        match self {
            Tokenizer::Chars(chars) => chars.encode_known(text),
            Tokenizer::Bytes { bpe } => bpe.encode(text),
        }
    }

    /// The text of `ids`; bytes that form no character show as U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        match self {
            Tokenizer::Chars(chars) => chars.decode(ids),
            Tokenizer::Bytes { bpe } => String::from_utf8_lossy(&bpe.decode(ids)).into_owned(),
        }
    }

    /// Token `id` as a person should see it alone: its character, or its bytes as text where
    /// they form characters and as `\xNN` where they do not (a piece of a character).
    pub fn token_text(&self, id: u32) -> String {
        match self {
            Tokenizer::Chars(chars) => chars.token(id).to_string(),
            Tokenizer::Bytes { bpe } => visible_bytes(bpe.token_bytes(id)),
        }
    }

    /// How this tokenizer cuts the start of `text` (at most `max_chars` characters): one segment
    /// per token, except that tokens ending inside a character join the next (a segment is
    /// always whole characters). Characters it does not know are left out. For showing token
    /// boundaries.
    pub fn segments(&self, text: &str, max_chars: usize) -> Vec<Segment> {
        let end = text
            .char_indices()
            .nth(max_chars)
            .map_or(text.len(), |(at, _)| at);
        let mut stream = TextStream::default();
        let mut segments = Vec::new();
        let mut tokens = 0;
        for id in self.encode(&text[..end]).ids {
            tokens += 1;
            let text = stream.push(self, id);
            if !text.is_empty() {
                segments.push(Segment { text, tokens });
                tokens = 0;
            }
        }
        segments
    }

    /// Sets to -∞ the logits of the tokens that cannot come next in valid UTF-8 after the
    /// `pending` bytes of an unfinished character (`TextStream::pending`; none at a character
    /// boundary), so that sampling from what is left only ever writes whole, valid characters.
    /// With `finishing`, only tokens that go on with `pending`'s character and begin no other
    /// are left: the end of a generation completes its last character in at most three tokens.
    /// Character tokens are always whole: nothing changes.
    pub fn mask_invalid(&self, pending: &[u8], finishing: bool, logits: &mut [f32]) {
        let Tokenizer::Bytes { bpe } = self else {
            return;
        };
        let room = bpe::bytes_to_finish(pending);
        for (id, logit) in logits.iter_mut().enumerate() {
            let bytes = bpe.token_bytes(id as u32);
            if !continues_utf8(pending, bytes) || (finishing && bytes.len() > room) {
                *logit = f32::NEG_INFINITY;
            }
        }
    }

    /// What generation starts from when the prompt is empty: a newline if the tokenizer has
    /// one (a fresh line is a natural start), else its first token.
    pub fn start_id(&self) -> u32 {
        match self {
            Tokenizer::Chars(chars) => chars.start_id(),
            Tokenizer::Bytes { .. } => u32::from(b'\n'),
        }
    }
}

/// Whole characters of a text and how many tokens they are (see `Tokenizer::segments`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Segment {
    pub text: String,
    pub tokens: usize,
}

/// Generated ids to text: a BPE token may end inside a character, so its bytes wait for the
/// rest (`Utf8Stream`); a character token is always whole.
#[derive(Clone, Debug, Default)]
pub struct TextStream {
    bytes: Utf8Stream,
}

impl TextStream {
    /// The whole characters that `id` completes (possibly none).
    pub fn push(&mut self, tokenizer: &Tokenizer, id: u32) -> String {
        match tokenizer {
            Tokenizer::Chars(chars) => chars.token(id).to_string(),
            Tokenizer::Bytes { bpe } => self.bytes.push(bpe.token_bytes(id)),
        }
    }

    /// The bytes of a character begun but not finished (empty at a character boundary).
    pub fn pending(&self) -> &[u8] {
        self.bytes.pending()
    }
}

/// `bytes` as text, each byte that is not part of a whole character written `\xNN`.
fn visible_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bpe(text: &str, merges: usize) -> Tokenizer {
        Tokenizer::Bytes {
            bpe: Bpe::train(text, merges),
        }
    }

    #[test]
    fn segments_are_whole_characters_and_count_their_tokens() {
        let bpe = bpe("the cat the cat the cat", 6);
        let pieces = bpe.segments("the 猫 sat", 100);
        let text: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(text, "the 猫 sat");
        // 猫 is three bytes no merge joins: one piece of three tokens.
        assert!(
            pieces.contains(&Segment {
                text: "猫".into(),
                tokens: 3
            }),
            "{pieces:?}"
        );
        assert!(
            pieces.iter().any(|p| p.text.chars().count() > 1),
            "merges join characters"
        );
        assert_eq!(
            bpe.segments("the 猫 sat", 4)
                .iter()
                .map(|p| p.text.as_str())
                .collect::<String>(),
            "the "
        );
    }

    #[test]
    fn a_run_learns_its_merges_before_the_held_out_text() {
        // "xy" occurs only in the last tenth, the validation part.
        let text = format!("{}{}", "ab ".repeat(90), "xy ".repeat(10));
        let run = Tokenizer::for_run(&text, TokenizerKind::Bpe, 8, 0.1);
        let everything = bpe(&text, 8);
        assert_eq!(everything.encode_known(" xy").len(), 1);
        assert_eq!(run.encode_known(" xy").len(), 3);
        assert_eq!(run.encode_known("ab").len(), 1);
        let chars = Tokenizer::for_run(&text, TokenizerKind::Char, 0, 0.1);
        assert_eq!(chars.encode_known(&text).len(), text.len());
        // The last merges are kept, never handed to another text or count.
        let fewer = Tokenizer::for_run(&text, TokenizerKind::Bpe, 1, 0.1);
        assert_eq!(fewer.vocab_size(), 257);
        let other = Tokenizer::for_run(&"xy ".repeat(100), TokenizerKind::Bpe, 8, 0.1);
        assert_eq!(other.encode_known(" xy").len(), 1);
        assert_eq!(Tokenizer::for_run(&text, TokenizerKind::Bpe, 8, 0.1), run);
    }

    #[test]
    fn a_checkpoint_written_before_bpe_still_reads_as_characters() {
        let old: Tokenizer = serde_json::from_str("\"\\nabc\"").unwrap();
        assert_eq!(old, Tokenizer::from_text("cab\n"));
        let bpe = bpe("the the the", 3);
        let json = serde_json::to_string(&bpe).unwrap();
        assert!(json.starts_with("{\"bpe\":"), "{json}");
        assert_eq!(serde_json::from_str::<Tokenizer>(&json).unwrap(), bpe);
    }

    #[test]
    fn a_piece_of_a_character_is_shown_as_its_bytes() {
        let bytes = bpe("", 0);
        assert_eq!(bytes.token_text(0xE5), "\\xE5");
        assert_eq!(bytes.token_text(u32::from(b'a')), "a");
        let mut stream = TextStream::default();
        let pieces: Vec<String> = "天"
            .bytes()
            .map(|b| stream.push(&bytes, u32::from(b)))
            .collect();
        assert_eq!(pieces, ["", "", "天"]);
    }
}

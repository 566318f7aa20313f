//! Byte-level BPE: the 256 bytes, then merges learned from a text, most frequent pair first.
//! Any UTF-8 text encodes (nothing is ever unknown); a token may end inside a character, so
//! streams decode through `Utf8Stream`.
//!
//! Written here rather than taken from HuggingFace `tokenizers`: measured in Chromium, that
//! crate learned 512 merges from 1 MB in 935 ms against this module's 150 ms, and alone weighs
//! 600 KB gzipped against ~26 KB (docs/benchmarks.md, "Byte-level BPE").
//!
//! Merges never cross a chunk boundary (`chunks`: a word with its leading space, a run of
//! punctuation, a newline), as in GPT-2: the pieces stay word-like, and training counts each
//! distinct chunk once, which keeps it to milliseconds for a megabyte of text.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// Ids below this are the bytes themselves.
pub const BYTES: u32 = 256;
/// Long runs without a boundary (CJK has no spaces) are cut here: encoding a chunk costs its
/// length squared, and merges longer than this are rare and little worth.
const MAX_CHUNK_CHARS: usize = 16;

/// A pair of adjacent token ids.
type Pair = (u32, u32);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Pair>", into = "Vec<Pair>")]
pub struct Bpe {
    /// Merge `rank` makes token `BYTES + rank` from the pair.
    merges: Vec<Pair>,
    ranks: HashMap<Pair, u32>,
    /// Each token's bytes, by id.
    bytes: Vec<Vec<u8>>,
}

impl From<Vec<Pair>> for Bpe {
    fn from(merges: Vec<Pair>) -> Self {
        let mut bytes: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        for &(a, b) in &merges {
            let joined = [&bytes[a as usize][..], &bytes[b as usize][..]].concat();
            bytes.push(joined);
        }
        let ranks = merges
            .iter()
            .enumerate()
            .map(|(rank, &pair)| (pair, rank as u32))
            .collect();
        Bpe {
            merges,
            ranks,
            bytes,
        }
    }
}

impl From<Bpe> for Vec<Pair> {
    fn from(bpe: Bpe) -> Self {
        bpe.merges
    }
}

impl Bpe {
    /// Learns up to `merges` merges from `text` (fewer when no pair occurs twice any more).
    /// The same text and count always give the same merges; ties go to the smaller pair.
    pub fn train(text: &str, merges: usize) -> Self {
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for chunk in chunks(text) {
            *counts.entry(chunk).or_default() += 1;
        }
        let mut words: Vec<(Vec<u32>, u64)> = counts
            .into_iter()
            .map(|(chunk, n)| (chunk.bytes().map(u32::from).collect(), n))
            .collect();
        words.sort_unstable();
        let mut pairs = PairCounts::default();
        for (index, (symbols, n)) in words.iter().enumerate() {
            pairs.add(index, symbols, *n as i64);
        }
        let mut learned = Vec::with_capacity(merges);
        while learned.len() < merges {
            let Some(best) = pairs.most_frequent() else {
                break;
            };
            let id = BYTES + learned.len() as u32;
            for index in pairs.words_with(best) {
                let (symbols, n) = &mut words[index];
                pairs.add(index, symbols, -(*n as i64));
                *symbols = merged(symbols, best, id);
                pairs.add(index, symbols, *n as i64);
            }
            learned.push(best);
        }
        Bpe::from(learned)
    }

    pub fn vocab_size(&self) -> usize {
        self.bytes.len()
    }

    pub fn merges(&self) -> usize {
        self.merges.len()
    }

    /// The bytes token `id` stands for.
    pub fn token_bytes(&self, id: u32) -> &[u8] {
        &self.bytes[id as usize]
    }

    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut known: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut ids = Vec::with_capacity(text.len() / 2);
        for chunk in chunks(text) {
            let encoded = known
                .entry(chunk)
                .or_insert_with(|| self.encode_chunk(chunk));
            ids.extend_from_slice(encoded);
        }
        ids
    }

    /// Applies the merges in the order they were learned, as training did.
    fn encode_chunk(&self, chunk: &str) -> Vec<u32> {
        let mut symbols: Vec<u32> = chunk.bytes().map(u32::from).collect();
        loop {
            let best = symbols
                .windows(2)
                .filter_map(|w| self.ranks.get(&(w[0], w[1])))
                .min();
            let Some(&rank) = best else {
                return symbols;
            };
            symbols = merged(&symbols, self.merges[rank as usize], BYTES + rank);
        }
    }

    pub fn decode(&self, ids: &[u32]) -> Vec<u8> {
        ids.iter()
            .flat_map(|&id| self.token_bytes(id).iter().copied())
            .collect()
    }
}

/// `symbols` with each non-overlapping occurrence of `pair`, left to right, replaced by `id`.
fn merged(symbols: &[u32], pair: Pair, id: u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(symbols.len());
    let mut i = 0;
    while i < symbols.len() {
        if i + 1 < symbols.len() && (symbols[i], symbols[i + 1]) == pair {
            out.push(id);
            i += 2;
        } else {
            out.push(symbols[i]);
            i += 1;
        }
    }
    out
}

/// How often each pair occurs, weighted by its words' counts, and in which words.
#[derive(Default)]
struct PairCounts {
    counts: HashMap<Pair, i64>,
    /// May list words that no longer hold the pair: `add` never removes, merging checks.
    words: HashMap<Pair, HashSet<usize>>,
}

impl PairCounts {
    fn add(&mut self, word: usize, symbols: &[u32], n: i64) {
        for w in symbols.windows(2) {
            let pair = (w[0], w[1]);
            *self.counts.entry(pair).or_default() += n;
            if n > 0 {
                self.words.entry(pair).or_default().insert(word);
            }
        }
    }

    /// The pair to merge next: the most frequent, the smaller pair on a tie; none once no
    /// pair occurs twice.
    fn most_frequent(&mut self) -> Option<Pair> {
        self.counts.retain(|_, n| *n > 0);
        let (&pair, &n) = self
            .counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
        (n >= 2).then_some(pair)
    }

    /// The words that held `pair`, in order; `pair` is forgotten.
    fn words_with(&mut self, pair: Pair) -> Vec<usize> {
        self.counts.remove(&pair);
        let mut words: Vec<usize> = self
            .words
            .remove(&pair)
            .unwrap_or_default()
            .into_iter()
            .collect();
        words.sort_unstable();
        words
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Class {
    Word,
    Space,
    Newline,
    Other,
}

fn class(c: char) -> Class {
    match c {
        '\n' => Class::Newline,
        c if c.is_alphanumeric() || c == '\'' => Class::Word,
        c if c.is_whitespace() => Class::Space,
        _ => Class::Other,
    }
}

/// `text` cut where merges may not cross: each newline alone; a run of letters and digits, or
/// of punctuation, with the one space before it; runs of other spaces; at most
/// `MAX_CHUNK_CHARS` characters each. The chunks concatenate back to `text`.
pub fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let mut chars = rest.char_indices().peekable();
        let (_, first) = chars.next()?;
        let mut kind = class(first);
        // One space joins the run after it, as GPT-2's " word" pieces do.
        if first == ' ' {
            if let Some(&(_, next)) = chars.peek() {
                if matches!(class(next), Class::Word | Class::Other) {
                    kind = class(next);
                    chars.next();
                }
            }
        }
        let taken = 1 + usize::from(kind != class(first));
        let mut end = chars
            .zip(taken..)
            .find(|&((_, c), count)| {
                kind == Class::Newline || class(c) != kind || count == MAX_CHUNK_CHARS
            })
            .map_or(rest.len(), |((i, _), _)| i);
        // A run of spaces leaves its last one to the word after it.
        let joins_next = |c: char| matches!(class(c), Class::Word | Class::Other);
        if kind == Class::Space
            && end > 1
            && rest[..end].ends_with(' ')
            && rest[end..].chars().next().is_some_and(joins_next)
        {
            end -= 1;
        }
        let (chunk, after) = rest.split_at(end);
        rest = after;
        Some(chunk)
    })
}

/// Turns a stream of bytes into text one whole character at a time: bytes that end inside a
/// character wait for the rest, so a streamed piece never shows half a character. Bytes that
/// can never form a character show as U+FFFD.
#[derive(Clone, Debug, Default)]
pub struct Utf8Stream {
    held: Vec<u8>,
}

impl Utf8Stream {
    /// The whole characters `bytes` complete (possibly none).
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.held.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.held) {
                Ok(text) => {
                    out.push_str(text);
                    self.held.clear();
                    return out;
                }
                Err(error) => {
                    let valid = error.valid_up_to();
                    out.push_str(std::str::from_utf8(&self.held[..valid]).expect("checked"));
                    match error.error_len() {
                        // Incomplete at the end: wait for more.
                        None => {
                            self.held.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.held.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Whatever is still held, once no more bytes will come.
    pub fn finish(&mut self) -> String {
        let held = std::mem::take(&mut self.held);
        String::from_utf8_lossy(&held).into_owned()
    }

    /// The bytes of the character begun but not finished (none, or 1 to 3 bytes).
    pub fn pending(&self) -> &[u8] {
        &self.held
    }
}

/// Whether `bytes` may follow `pending` (the valid start of an unfinished character, or
/// nothing) in valid UTF-8: together they are whole characters, or whole characters and the
/// valid start of one more. A continuation byte cannot start a character, a lead byte must get
/// the continuation bytes it announces, and overlong forms and surrogates never begin.
pub fn continues_utf8(pending: &[u8], bytes: &[u8]) -> bool {
    // Only the bytes that finish `pending`'s character join it; the rest starts afresh.
    let need = bytes_to_finish(pending).min(bytes.len());
    let mut head = [0u8; 4];
    let head_len = pending.len() + need;
    if head_len > head.len() {
        return false;
    }
    head[..pending.len()].copy_from_slice(pending);
    head[pending.len()..head_len].copy_from_slice(&bytes[..need]);
    valid_prefix(&head[..head_len]) && valid_prefix(&bytes[need..])
}

/// `bytes` are whole characters, or whole characters and the valid start of one more.
fn valid_prefix(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none(),
    }
}

/// How many more bytes the character begun by `pending` needs (0 when nothing is pending).
pub fn bytes_to_finish(pending: &[u8]) -> usize {
    let Some(&lead) = pending.first() else {
        return 0;
    };
    let length: usize = match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    };
    length.saturating_sub(pending.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGLISH: &str = "the cat sat on the mat. the dog sat on the log. \
        then the cat and the dog sat together on the mat, and that was that.\n";

    #[test]
    fn utf8_continuation_follows_the_encoding_rules() {
        let tian = "天".as_bytes(); // E5 A4 A9
        assert!(continues_utf8(&[], b"ab"));
        assert!(
            continues_utf8(&[], &tian[..1]),
            "a lead byte may start a character"
        );
        assert!(
            !continues_utf8(&[], &tian[1..2]),
            "a continuation byte cannot"
        );
        assert!(continues_utf8(&tian[..1], &tian[1..]));
        assert!(continues_utf8(&tian[..2], &[tian[2], b'x']));
        assert!(
            !continues_utf8(&tian[..1], b"a"),
            "the character needs its continuation"
        );
        assert!(
            !continues_utf8(&tian[..2], &[0xA9, 0xA9]),
            "one continuation byte too many"
        );
        assert!(!continues_utf8(&[], &[0xC0, 0x80]), "overlong");
        assert!(!continues_utf8(&[0xED], &[0xA0]), "a surrogate");
        assert!(!continues_utf8(&[], &[0xF5]), "past U+10FFFF");
        assert_eq!(bytes_to_finish(&[]), 0);
        assert_eq!(bytes_to_finish(&tian[..1]), 2);
        assert_eq!(bytes_to_finish(&"🎩".as_bytes()[..3]), 1);
    }

    #[test]
    fn chunks_cover_the_text_and_keep_one_leading_space() {
        let text = "Hello, world!  It's 2026.\n\n天地玄黄，宇宙洪荒。";
        let pieces: Vec<&str> = chunks(text).collect();
        assert_eq!(pieces.concat(), text);
        assert_eq!(
            pieces,
            [
                "Hello",
                ",",
                " world",
                "!",
                " ",
                " It's",
                " 2026",
                ".",
                "\n",
                "\n",
                "天地玄黄",
                "，",
                "宇宙洪荒",
                "。"
            ]
        );
    }

    #[test]
    fn training_is_deterministic_and_grows_the_vocabulary() {
        let text = ENGLISH.repeat(20);
        let a = Bpe::train(&text, 25);
        assert_eq!(a, Bpe::train(&text, 25));
        assert_eq!(a.merges(), 25);
        assert_eq!(a.vocab_size(), 256 + 25);
        // Once every chunk is one token nothing repeats inside a chunk: training stops early.
        assert!(Bpe::train(&text, 1000).merges() < 100);
        // A shorter training is the first merges of a longer one.
        assert_eq!(Bpe::train(&text, 10).merges[..], a.merges[..10]);
        // The most frequent piece of this text becomes one token.
        assert_eq!(a.encode(" the"), [a.encode(" the")[0]]);
        assert!(a.encode(&text).len() * 2 < text.len(), "compresses");
    }

    #[test]
    fn zero_merges_is_plain_bytes_and_training_stops_when_nothing_repeats() {
        let bytes = Bpe::train(ENGLISH, 0);
        assert_eq!(bytes.encode("hé"), [104, 0xC3, 0xA9]);
        assert!(Bpe::train("abcdefg", 100).merges() == 0);
    }

    #[test]
    fn merges_survive_serialization() {
        let bpe = Bpe::train(&ENGLISH.repeat(5), 30);
        let json = serde_json::to_string(&bpe).unwrap();
        let back: Bpe = serde_json::from_str(&json).unwrap();
        assert_eq!(back, bpe);
        assert_eq!(back.encode(ENGLISH), bpe.encode(ENGLISH));
    }

    #[test]
    fn a_stream_shows_only_whole_characters() {
        let text = "天地 🔥 e\u{301}";
        let mut stream = Utf8Stream::default();
        let mut shown = String::new();
        for byte in text.bytes() {
            let piece = stream.push(&[byte]);
            assert!(!piece.contains(char::REPLACEMENT_CHARACTER));
            shown.push_str(&piece);
        }
        assert_eq!(shown + &stream.finish(), text);
        // A byte that can never start a character is shown as U+FFFD, and the stream goes on.
        assert_eq!(stream.push(&[0xFF, b'a']), "\u{FFFD}a");
        assert_eq!(stream.push(&[0xE5, 0xA4]), "");
        assert_eq!(stream.finish(), "\u{FFFD}");
    }
}

// proptest is a native dev-dependency only.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decode_inverts_encode_for_any_text(
            training in "[a-z \n天地🔥é\u{301}]{0,200}",
            text in any::<String>(),
            merges in 0usize..60,
        ) {
            let bpe = Bpe::train(&training, merges);
            prop_assert_eq!(bpe.decode(&bpe.encode(&text)), text.as_bytes());
            prop_assert_eq!(bpe.decode(&bpe.encode(&training)), training.as_bytes());
        }

        /// Cutting any text into pieces of bytes, each piece may follow what the pieces before
        /// left pending; and the rule agrees with the standard library on every short sequence.
        #[test]
        fn the_pieces_of_valid_text_continue_it_and_nothing_invalid_does(
            text in any::<String>(),
            cut in 1usize..6,
            pending_and_next in proptest::collection::vec(any::<u8>(), 1..6),
        ) {
            let mut stream = Utf8Stream::default();
            for piece in text.as_bytes().chunks(cut) {
                prop_assert!(continues_utf8(stream.pending(), piece), "{:?} after {:?}", piece, stream.pending());
                stream.push(piece);
            }
            let (pending, next) = pending_and_next.split_at(pending_and_next.len() / 2);
            // What a stream holds: the start of one character, nothing before it.
            let unfinished = std::str::from_utf8(pending)
                .is_err_and(|e| e.valid_up_to() == 0 && e.error_len().is_none());
            if unfinished {
                prop_assert_eq!(continues_utf8(pending, next), valid_prefix(&pending_and_next));
            }
        }

        #[test]
        fn streaming_any_split_gives_back_the_text(text in any::<String>(), cut in 1usize..5) {
            let bytes = text.as_bytes();
            let mut stream = Utf8Stream::default();
            let mut shown = String::new();
            for piece in bytes.chunks(cut) {
                shown.push_str(&stream.push(piece));
            }
            shown.push_str(&stream.finish());
            prop_assert_eq!(shown, text);
        }
    }
}

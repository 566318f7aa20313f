//! The character-level tokenizer, over Unicode scalar values.
//!
//! The vocabulary is the set of distinct characters of the training text, sorted by code point,
//! so the same text always gives the same ids. Prompt characters never seen in training are
//! skipped, and the caller gets a warning naming them: mapping them to an "unknown" id would
//! feed the model a token it never learned.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Chars {
    chars: Vec<char>,
    ids: HashMap<char, u32>,
}

/// Ids for the characters the tokenizer knows, and the characters it had to skip.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub unknown: Vec<char>,
}

impl Encoded {
    /// A sentence for the person who typed the prompt, if anything was skipped.
    pub fn warning(&self) -> Option<String> {
        if self.unknown.is_empty() {
            return None;
        }
        let mut distinct: Vec<char> = self.unknown.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let shown: String = distinct.iter().map(|c| format!("{c:?} ")).collect();
        Some(format!(
            "skipped {} character(s) the model never saw in training: {}",
            self.unknown.len(),
            shown.trim_end()
        ))
    }
}

impl Chars {
    pub fn from_text(text: &str) -> Self {
        let distinct: BTreeSet<char> = text.chars().collect();
        Self::from_chars(distinct.into_iter().collect())
    }

    fn from_chars(chars: Vec<char>) -> Self {
        let ids = chars
            .iter()
            .enumerate()
            .map(|(id, &c)| (c, id as u32))
            .collect();
        Chars { chars, ids }
    }

    pub fn vocab_size(&self) -> usize {
        self.chars.len()
    }

    pub fn encode(&self, text: &str) -> Encoded {
        let mut encoded = Encoded::default();
        for c in text.chars() {
            match self.ids.get(&c) {
                Some(&id) => encoded.ids.push(id),
                None => encoded.unknown.push(c),
            }
        }
        encoded
    }

    /// Ids of a text the vocabulary was built from; every character is known.
    pub fn encode_known(&self, text: &str) -> Vec<u32> {
        text.chars().map(|c| self.ids[&c]).collect()
    }

    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter().map(|&id| self.token(id)).collect()
    }

    pub fn token(&self, id: u32) -> char {
        self.chars[id as usize]
    }

    /// What generation starts from when the prompt is empty: a newline if the text has one (a
    /// fresh line is a natural start), else the first character of the vocabulary.
    pub fn start_id(&self) -> u32 {
        self.ids.get(&'\n').copied().unwrap_or(0)
    }
}

impl From<String> for Chars {
    fn from(chars: String) -> Self {
        Self::from_chars(chars.chars().collect())
    }
}

impl From<Chars> for String {
    fn from(tokenizer: Chars) -> Self {
        tokenizer.chars.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) {
        let tokenizer = Chars::from_text(text);
        let encoded = tokenizer.encode(text);
        assert!(encoded.unknown.is_empty());
        assert_eq!(tokenizer.decode(&encoded.ids), text);
    }

    #[test]
    fn round_trips_ascii_cjk_emoji_combining_marks_and_newlines() {
        round_trip("Hello, world!\n");
        round_trip("天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。");
        round_trip("fire 🔥 and family 👨‍👩‍👧 and flags 🇫🇷");
        round_trip("e\u{301}te\u{301} naïve");
        round_trip("unix\nwindows\r\nold mac\rend");
    }

    #[test]
    fn vocabulary_is_sorted_and_deterministic() {
        let a = Chars::from_text("banana");
        let b = Chars::from_text("nab");
        assert_eq!(a, b);
        assert_eq!(a.decode(&[0, 1, 2]), "abn");
    }

    #[test]
    fn unknown_prompt_characters_are_skipped_with_a_warning() {
        let tokenizer = Chars::from_text("abc\n");
        let encoded = tokenizer.encode("a🙂bz");
        assert_eq!(tokenizer.decode(&encoded.ids), "ab");
        assert_eq!(encoded.unknown, vec!['🙂', 'z']);
        let warning = encoded.warning().unwrap();
        assert!(warning.contains("2 character"), "{warning}");
        assert!(tokenizer.encode("abc").warning().is_none());
    }

    #[test]
    fn serializes_as_its_characters() {
        let tokenizer = Chars::from_text("héllo 世界");
        let json = serde_json::to_string(&tokenizer).unwrap();
        let back: Chars = serde_json::from_str(&json).unwrap();
        assert_eq!(back, tokenizer);
    }

    #[test]
    fn generation_starts_from_a_newline_when_there_is_one() {
        assert_eq!(
            Chars::from_text("b\na").token(Chars::from_text("b\na").start_id()),
            '\n'
        );
        assert_eq!(Chars::from_text("ba").start_id(), 0);
    }
}

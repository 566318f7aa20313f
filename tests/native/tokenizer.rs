//! Byte-level BPE end to end: a model trains on its tokens, writes whole characters, reports
//! bits per character, and its checkpoint carries its merges.

use crate::common::bpe_config;

use kindling::config::Config;
use kindling::device::cpu;
use kindling::inspect::InspectOptions;
use kindling::rng::Rng;
use kindling::sample::{Sampler, SamplingOptions};
use kindling::session::{Placement, Session};
use kindling::tokenizer::{Tokenizer, TokenizerKind};
use kindling::{checkpoint, Trainer};

/// English and Chinese: every CJK character is 3 bytes, so BPE tokens can end inside one.
fn mixed_text() -> String {
    "天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。the quick brown fox jumps over the lazy dog.\n"
        .repeat(40)
}

/// Sampled pieces of text after `prompt`.
fn pieces(trainer: &Trainer, prompt: &str, max_tokens: usize) -> Vec<String> {
    let options = SamplingOptions {
        max_tokens,
        temperature: 1.0,
        seed: 3,
        ..SamplingOptions::default()
    };
    let ids = trainer.tokenizer.encode(prompt).ids;
    let mut generator = trainer.generator(ids, options);
    let mut out = Vec::new();
    let mut tokens = 0;
    while let Some(piece) = pollster::block_on(generator.next()).unwrap() {
        tokens += piece.tokens as usize;
        out.push(piece.text);
    }
    // The pieces hold every token asked for, however they were grouped, and up to three more
    // that finish the last character.
    assert!((max_tokens..=max_tokens + 3).contains(&tokens), "{tokens}");
    out
}

#[test]
fn a_bpe_model_learns_and_never_streams_half_a_character() {
    let mut trainer = Trainer::new(mixed_text(), bpe_config(60), cpu()).unwrap();
    assert!(matches!(trainer.tokenizer, Tokenizer::Bytes { .. }));
    assert_eq!(trainer.tokenizer.vocab_size(), 256 + 60);
    let first = pollster::block_on(trainer.train_steps(1)).unwrap();
    let later = pollster::block_on(trainer.train_steps(150)).unwrap();
    assert!(
        later.train_loss < first.train_loss * 0.6,
        "{first:?} -> {later:?}"
    );
    // Tokens hold more than one character here: a token's bits are spread over them.
    assert!(later.train_bits_per_char < later.train_loss as f64 / std::f64::consts::LN_2);

    let written = pieces(&trainer, "天地", 120);
    assert!(!written.is_empty());
    // Every piece, the last too, is whole characters.
    for piece in &written {
        assert!(
            !piece.is_empty() && !piece.contains('\u{FFFD}'),
            "{written:?}"
        );
    }
    assert!(
        written.concat().chars().any(|c| "天地玄黄宇宙".contains(c)),
        "{written:?}"
    );
}

#[test]
fn characters_report_bits_per_character_as_their_loss_in_bits() {
    let mut trainer = Trainer::new(mixed_text(), Config::tiny(), cpu()).unwrap();
    let metrics = pollster::block_on(trainer.train_steps(3)).unwrap();
    let bits = metrics.train_loss as f64 / std::f64::consts::LN_2;
    assert!((metrics.train_bits_per_char - bits).abs() < 1e-9);
}

#[test]
fn a_checkpoint_carries_the_merges() {
    let mut trainer = Trainer::new(mixed_text(), bpe_config(40), cpu()).unwrap();
    pollster::block_on(trainer.train_steps(5)).unwrap();
    let bytes = pollster::block_on(checkpoint::save(&trainer)).unwrap();
    let loaded = checkpoint::load(&bytes, cpu()).unwrap();
    assert_eq!(loaded.tokenizer, trainer.tokenizer);
    assert_eq!(loaded.config, trainer.config);
    assert_eq!(pieces(&loaded, "the ", 30), pieces(&trainer, "the ", 30));
}

#[test]
fn an_inspection_of_a_bpe_model_reads_tokens_and_says_so() {
    let trainer = Trainer::new(mixed_text(), bpe_config(60), cpu()).unwrap();
    let session = Session::new(trainer, Placement::cpu(None));
    let text = "the quick brown fox";
    let options = InspectOptions::default();
    let inspection = pollster::block_on(session.inspect(text, options)).unwrap();
    assert_eq!(inspection.tokenizer, TokenizerKind::Bpe);
    assert!(
        inspection.tokens.len() < text.len(),
        "{:?}",
        inspection.tokens
    );
    let read: String = inspection.tokens.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(read, text);
}

/// Characters of one to four bytes, and enough repeats for merges to form.
const ALPHABET: &[&str] = &["a", "b", " ", "é", "ñ", "天", "地", "。", "🎩", "⚽", "\n"];

/// Logits no model would give but any model could: mostly noise, and now and then one token
/// far ahead of the rest, most often a lone byte that cannot start or go on with a character.
fn hostile_logits(vocab: usize, rng: &mut Rng) -> Vec<f32> {
    let mut logits: Vec<f32> = (0..vocab)
        .map(|_| (rng.unit() * 8.0 - 4.0) as f32)
        .collect();
    if rng.unit() < 0.7 {
        let favourite = if rng.unit() < 0.7 {
            0x80 + rng.below(0x80)
        } else {
            rng.below(vocab)
        };
        logits[favourite] = 40.0;
    }
    logits
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..Default::default()
    })]

    /// Whatever a model says and however it is sampled, a byte-level stream is whole, valid
    /// characters: its tokens' bytes are valid UTF-8, nothing is held at the end, and the pieces
    /// are those bytes.
    #[test]
    fn a_byte_level_stream_is_valid_utf8_whatever_the_logits(
        words in proptest::collection::vec(proptest::sample::select(ALPHABET), 1..60),
        merges in 0usize..40,
        max_tokens in 1usize..40,
        temperature in proptest::sample::select(&[0.0, 0.5, 1.0, 3.0][..]),
        top_k in 0usize..8,
        top_p in 0.05f64..=1.0,
        penalty in proptest::sample::select(&[1.0, 1.5][..]),
        seed in 1u64..u64::MAX,
    ) {
        let text = words.concat().repeat(3);
        let tokenizer = Tokenizer::for_run(&text, TokenizerKind::Bpe, merges, 0.0);
        let options = SamplingOptions {
            max_tokens,
            temperature,
            top_k,
            top_p,
            repetition_penalty: penalty,
            seed,
        };
        let prompt = tokenizer.encode_known(&words[0].repeat(2));
        let mut sampler = Sampler::new(tokenizer.clone(), &prompt, options);
        let mut logits_rng = Rng::new(seed ^ 0x5eed);
        let (mut ids, mut streamed) = (Vec::new(), String::new());
        while !sampler.done() {
            let (id, piece) = sampler.draw(hostile_logits(tokenizer.vocab_size(), &mut logits_rng));
            ids.push(id);
            streamed.push_str(&piece.map(|p| p.text).unwrap_or_default());
            proptest::prop_assert!(ids.len() <= max_tokens + 3, "{} tokens", ids.len());
        }
        // The tokens' bytes are valid UTF-8 as they stand (a decoder's U+FFFD would hide an
        // invalid sequence; the model may still write U+FFFD itself, as EF BF BD).
        let Tokenizer::Bytes { bpe } = &tokenizer else { unreachable!("a BPE run") };
        let bytes: Vec<u8> = ids.iter().flat_map(|&id| bpe.token_bytes(id).to_vec()).collect();
        proptest::prop_assert_eq!(std::str::from_utf8(&bytes).ok(), Some(streamed.as_str()));
        proptest::prop_assert_eq!(tokenizer.decode(&ids), streamed);
    }
}

//! Scratch: HuggingFace tokenizers' BPE trainer in wasm32, for issue 15's measurement.
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{
    DecoderWrapper, Model, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper,
    TokenizerBuilder,
};
use wasm_bindgen::prelude::*;

/// Learns `merges` byte-level merges from `text`; returns how many tokens encode it.
#[wasm_bindgen]
pub fn train(text: &str, merges: usize) -> usize {
    let mut trainer = BpeTrainerBuilder::new()
        .vocab_size(256 + merges)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .show_progress(false)
        .build();
    let mut tokenizer = TokenizerBuilder::<
        BPE,
        NormalizerWrapper,
        PreTokenizerWrapper,
        PostProcessorWrapper,
        DecoderWrapper,
    >::new()
    .with_model(BPE::default())
    .with_pre_tokenizer(Some(ByteLevel::default().into()))
    .build()
    .unwrap();
    tokenizer.train(&mut trainer, text.lines()).unwrap();
    let _ = tokenizer.get_model().get_vocab_size();
    tokenizer.encode(text, false).unwrap().get_ids().len()
}

//! Helpers shared by the native tests.

use burn::tensor::Tensor;
use kindling::config::Config;
use kindling::device::{cpu, read_floats};
use kindling::model::{tokens, LanguageModel};
use kindling::tokenizer::TokenizerKind;

pub use crate::fused::shared::largest_difference;

pub const PHRASE: &str = "the quick brown fox jumps over the lazy dog. ";

pub fn repeated_text() -> String {
    PHRASE.repeat(60)
}

/// The model's logits for the token after `ids`.
pub fn last_logits(model: &LanguageModel, ids: &[u32]) -> Vec<f32> {
    let logits = model.forward(tokens(ids, &cpu().inner()));
    let [_, time, vocab] = logits.dims();
    let last: Tensor<1> = logits
        .slice([0..1, time - 1..time, 0..vocab])
        .reshape([vocab]);
    pollster::block_on(read_floats(last)).unwrap()
}

/// `tiny` with byte-level BPE of `merges` merges.
pub fn bpe_config(merges: usize) -> Config {
    Config {
        tokenizer: TokenizerKind::Bpe,
        merges,
        ..Config::tiny()
    }
}

/// `kindling train` with `args` (its evaluations every 20 steps), once it is under way: by
/// work, not by time, after its first evaluation's line. The rest of its stderr is left to read.
pub fn train_until_first_evaluation(
    args: &[&str],
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStderr>,
) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kindling"))
        .arg("train")
        .args(args)
        .args(["--set", "evalInterval=20"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("step 20:"), "{line}");
    (child, stderr)
}

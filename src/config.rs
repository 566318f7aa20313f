//! One config type travels unchanged from the page to the trainer: the model's shape and the
//! training run's settings. Presets are named configs; the estimates say what a config costs
//! before anything is allocated. Checking a config is `validate`'s job.

use serde::{Deserialize, Serialize};

use crate::tokenizer::TokenizerKind;

/// Refuse configs whose estimated training memory exceeds this. Browsers give a wasm32 module
/// at most 4 GiB and tabs often die well before that; 1 GiB leaves room for the page.
pub const MEMORY_LIMIT_BYTES: u64 = 1 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Gpt,
    Lstm,
    Gru,
}

/// Everything that shapes a model and its training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    pub model: ModelKind,
    pub n_layer: usize,
    /// Attention heads (gpt only).
    pub n_head: usize,
    /// Embedding size.
    pub n_embd: usize,
    /// Recurrent state size (lstm and gru only).
    pub hidden_size: usize,
    /// Context length: tokens seen at once while training (gpt: also when generating).
    pub block_size: usize,
    pub dropout: f64,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub min_learning_rate: f64,
    pub warmup_steps: usize,
    /// Steps of the whole run; the learning rate reaches its minimum here.
    pub max_steps: usize,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    /// Global gradient-norm clip; 0 turns clipping off.
    pub grad_clip: f64,
    /// Evaluate on the validation split every this many steps (0: never automatically).
    pub eval_interval: usize,
    pub eval_batches: usize,
    /// Share of the text (its end) held out for validation.
    pub val_fraction: f64,
    /// gpt only: the LM head reuses the token embedding matrix.
    pub tie_embeddings: bool,
    pub seed: u64,
    /// How text becomes tokens: "char" (one per character) or "bpe" (byte-level BPE learned
    /// from the text). Absent from checkpoints written before BPE: characters.
    #[serde(default)]
    pub tokenizer: TokenizerKind,
    /// bpe only: merges learned from the text; the vocabulary is the 256 bytes and these.
    #[serde(default = "default_merges")]
    pub merges: usize,
    /// gpt only: 0 trains every weight; a rank of 1 to 64 fine-tunes low-rank adapters of the
    /// blocks' linear weights and freezes the rest (`model::lora`). Only for fine-tuning.
    #[serde(default)]
    pub lora_rank: usize,
    /// Keep the weights of the best validation loss: a run that ends worse than its best
    /// evaluation goes back to that evaluation's weights (training budgets set it; a longer
    /// budget then never leaves a worse model than a shorter one). The run evaluates at its
    /// last step too.
    #[serde(default)]
    pub keep_best: bool,
    /// gpt only: the MLP's nonlinearity. Absent from checkpoints written before: GELU.
    #[serde(default)]
    pub activation: Activation,
    /// gpt only: how attention tells positions apart. Absent before: learned embeddings.
    #[serde(default)]
    pub positions: Positions,
    /// gpt only: queries and keys are RMS-normalized per head before their dot product, which
    /// bounds the attention logits and so tolerates higher learning rates.
    #[serde(default)]
    pub qk_norm: bool,
    /// What updates the weights. Absent before: AdamW for all of them.
    #[serde(default)]
    pub optimizer: OptimizerKind,
    /// muon only: the hidden matrices' peak learning rate (the schedule scales it as it scales
    /// `learning_rate`). Muon's steps are whole orthogonal matrices, so its rate is larger.
    #[serde(default = "default_muon_learning_rate")]
    pub muon_learning_rate: f64,
    /// The learning rate's fall from its peak after warmup to `min_learning_rate` at
    /// `max_steps`. Absent before: cosine.
    #[serde(default)]
    pub decay: Decay,
}

/// The GPT MLP's nonlinearity: nanoGPT's GELU, or ReLU² (modded-nanogpt's: cheaper than GELU's
/// `erf`, and as good or better at these sizes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    Gelu,
    Relu2,
}

/// Learned position embeddings added to the input (nanoGPT), or rotary embeddings that turn
/// queries and keys by their position (no weights; attention then sees relative positions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Positions {
    #[default]
    Learned,
    Rotary,
}

/// AdamW for every weight, or Muon for the hidden matrices (the blocks' 2-D weights) and AdamW
/// for the rest (embeddings, head, gains), as modded-nanogpt trains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    #[default]
    Adamw,
    Muon,
}

/// The shape of the learning rate's fall after warmup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Decay {
    #[default]
    Cosine,
    Linear,
}

fn default_merges() -> usize {
    256
}

fn default_muon_learning_rate() -> f64 {
    0.02
}

pub const PRESET_NAMES: [&str; 4] = ["tiny", "baby-gpt", "seed-lstm", "gru"];

impl Config {
    /// Trains visibly in seconds on a CPU; the default.
    pub fn tiny() -> Self {
        Config {
            model: ModelKind::Gpt,
            n_layer: 2,
            n_head: 2,
            n_embd: 32,
            hidden_size: 64,
            block_size: 32,
            dropout: 0.0,
            batch_size: 16,
            learning_rate: 3e-3,
            min_learning_rate: 3e-4,
            warmup_steps: 20,
            max_steps: 500,
            weight_decay: 0.1,
            beta1: 0.9,
            beta2: 0.99,
            grad_clip: 1.0,
            eval_interval: 100,
            eval_batches: 4,
            val_fraction: 0.1,
            tie_embeddings: true,
            seed: 1337,
            tokenizer: TokenizerKind::Char,
            merges: default_merges(),
            lora_rank: 0,
            keep_best: false,
            activation: Activation::Gelu,
            positions: Positions::Learned,
            qk_norm: false,
            optimizer: OptimizerKind::Adamw,
            muon_learning_rate: default_muon_learning_rate(),
            decay: Decay::Cosine,
        }
    }

    /// nanoGPT's shakespeare_char recipe for a CPU.
    pub fn baby_gpt() -> Self {
        Config {
            n_layer: 4,
            n_head: 4,
            n_embd: 128,
            block_size: 64,
            batch_size: 12,
            learning_rate: 1e-3,
            min_learning_rate: 1e-4,
            warmup_steps: 100,
            max_steps: 2000,
            eval_interval: 250,
            eval_batches: 20,
            ..Self::tiny()
        }
    }

    /// The char-rnn LSTM this project grew from: Adam (no weight decay) at a constant 1e-3.
    pub fn seed_lstm() -> Self {
        Config {
            model: ModelKind::Lstm,
            n_layer: 2,
            n_embd: 256,
            hidden_size: 512,
            block_size: 100,
            dropout: 0.5,
            batch_size: 32,
            learning_rate: 1e-3,
            min_learning_rate: 1e-3,
            warmup_steps: 0,
            max_steps: 2000,
            weight_decay: 0.0,
            beta2: 0.999,
            eval_interval: 250,
            eval_batches: 10,
            ..Self::tiny()
        }
    }

    /// The preset called `name` (one of `PRESET_NAMES`).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "tiny" => Some(Self::tiny()),
            "baby-gpt" => Some(Self::baby_gpt()),
            "seed-lstm" => Some(Self::seed_lstm()),
            "gru" => Some(Config {
                model: ModelKind::Gru,
                ..Self::seed_lstm()
            }),
            _ => None,
        }
    }

    /// Trainable parameters for a vocabulary of `vocab` tokens, counted the way the burn modules
    /// in `model/` allocate them (a test checks the two agree).
    pub fn parameter_count(&self, vocab: usize) -> u64 {
        let (v, d, h, l) = (
            vocab as u64,
            self.n_embd as u64,
            self.hidden_size as u64,
            self.n_layer as u64,
        );
        match self.model {
            ModelKind::Gpt => {
                let positions = match self.positions {
                    Positions::Learned => self.block_size as u64 * d,
                    Positions::Rotary => 0,
                };
                let embeddings = v * d + positions;
                // ln_1, attention (qkv + out), ln_2, mlp (4x up and down); no biases.
                let block = d + 4 * d * d + d + 8 * d * d;
                let head = if self.tie_embeddings { 0 } else { d * v };
                embeddings + l * block + d + head
            }
            ModelKind::Lstm | ModelKind::Gru => {
                let gates = if self.model == ModelKind::Lstm { 4 } else { 3 };
                // Each gate: input and hidden transforms, both with bias.
                let layer = |input: u64| gates * (input * h + h + h * h + h);
                v * d + layer(d) + (l - 1) * layer(h) + h * v + v
            }
        }
    }

    /// Bytes a training step needs, roughly: weights, gradients and two Adam moments, plus the
    /// activations autodiff keeps for the backward pass. An estimate to refuse the absurd, not
    /// a promise.
    pub fn memory_estimate(&self, vocab: usize) -> u64 {
        let params = self.parameter_count(vocab);
        let tokens = (self.batch_size * self.block_size) as u64;
        let (d, l, v) = (self.n_embd as u64, self.n_layer as u64, vocab as u64);
        let per_token = match self.model {
            ModelKind::Gpt => {
                let attention = 3 * self.n_head as u64 * self.block_size as u64;
                l * (20 * d + attention) + 3 * v
            }
            ModelKind::Lstm | ModelKind::Gru => d + l * 12 * self.hidden_size as u64 + 3 * v,
        };
        4 * (4 * params + tokens * per_token)
    }
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

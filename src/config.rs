//! One config type travels unchanged from the page to the trainer. Presets are just named
//! configs; validation lives here so the page and the engine give the same messages.

use serde::{Deserialize, Serialize};

/// Refuse configs whose estimated training memory exceeds this. Browsers give a wasm32 module
/// at most 4 GiB and tabs often die well before that; 1 GiB leaves room for the page.
pub const MEMORY_LIMIT_BYTES: u64 = 1 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Gpt,
    Lstm,
    Gru,
}

/// Everything that shapes a model and its training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// Context length: characters seen at once while training (gpt: also when generating).
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

    pub fn preset(name: &str) -> Result<Self, String> {
        match name {
            "tiny" => Ok(Self::tiny()),
            "baby-gpt" => Ok(Self::baby_gpt()),
            "seed-lstm" => Ok(Self::seed_lstm()),
            "gru" => Ok(Config {
                model: ModelKind::Gru,
                ..Self::seed_lstm()
            }),
            other => Err(format!(
                "unknown preset \"{other}\": choose one of {}",
                PRESET_NAMES.join(", ")
            )),
        }
    }

    /// Learning rate at `step`: linear warmup, then cosine decay to the minimum at `max_steps`
    /// (nanoGPT's `get_lr`). burn's schedulers are stateful iterators; a pure function of the
    /// step makes a resumed run follow exactly the same schedule.
    pub fn learning_rate_at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.learning_rate * (step + 1) as f64 / (self.warmup_steps + 1) as f64;
        }
        if step >= self.max_steps {
            return self.min_learning_rate;
        }
        let progress =
            (step - self.warmup_steps) as f64 / (self.max_steps - self.warmup_steps).max(1) as f64;
        let coeff = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.min_learning_rate + coeff * (self.learning_rate - self.min_learning_rate)
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
                let embeddings = v * d + self.block_size as u64 * d;
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

/// A config value a person has to change, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(field: &str, message: String) -> Self {
        ConfigError {
            field: field.to_string(),
            message,
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Sizes beyond these are refused before any estimate: they are typos, not experiments.
const MAX_LAYERS: usize = 64;
const MAX_WIDTH: usize = 8192;
const MAX_CONTEXT: usize = 4096;
const MAX_BATCH: usize = 4096;
const MAX_STEPS: usize = 10_000_000;

impl Config {
    /// Every problem with this config for a text of `text_chars` characters (`vocab` distinct),
    /// checked before anything is allocated. Empty means it is fine.
    pub fn validate(&self, text_chars: usize, vocab: usize) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let mut check = |ok: bool, field: &str, message: String| {
            if !ok {
                errors.push(ConfigError::new(field, message));
            }
        };
        let is_gpt = self.model == ModelKind::Gpt;

        check(
            (1..=MAX_LAYERS).contains(&self.n_layer),
            "nLayer",
            format!(
                "layers must be between 1 and {MAX_LAYERS} (got {})",
                self.n_layer
            ),
        );
        check(
            (1..=MAX_WIDTH).contains(&self.n_embd),
            "nEmbd",
            format!(
                "embedding size must be between 1 and {MAX_WIDTH} (got {})",
                self.n_embd
            ),
        );
        if is_gpt {
            check(
                (1..=self.n_embd.max(1)).contains(&self.n_head),
                "nHead",
                format!(
                    "heads must be between 1 and the embedding size {} (got {})",
                    self.n_embd, self.n_head
                ),
            );
            check(
                self.n_head == 0 || self.n_embd.is_multiple_of(self.n_head),
                "nEmbd",
                format!(
                    "embedding size {} is not divisible by {} heads",
                    self.n_embd, self.n_head
                ),
            );
        } else {
            check(
                (1..=MAX_WIDTH).contains(&self.hidden_size),
                "hiddenSize",
                format!(
                    "hidden size must be between 1 and {MAX_WIDTH} (got {})",
                    self.hidden_size
                ),
            );
        }
        check(
            (1..=MAX_CONTEXT).contains(&self.block_size),
            "blockSize",
            format!(
                "context must be between 1 and {MAX_CONTEXT} (got {})",
                self.block_size
            ),
        );
        check(
            (1..=MAX_BATCH).contains(&self.batch_size),
            "batchSize",
            format!(
                "batch size must be between 1 and {MAX_BATCH} (got {})",
                self.batch_size
            ),
        );
        check(
            self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout),
            "dropout",
            format!(
                "dropout must be at least 0 and below 1 (got {})",
                self.dropout
            ),
        );
        check(
            self.learning_rate.is_finite() && self.learning_rate > 0.0,
            "learningRate",
            format!(
                "learning rate must be a number above 0 (got {})",
                self.learning_rate
            ),
        );
        check(
            self.min_learning_rate.is_finite()
                && self.min_learning_rate >= 0.0
                && self.min_learning_rate <= self.learning_rate,
            "minLearningRate",
            format!(
                "minimum learning rate must be between 0 and the learning rate (got {})",
                self.min_learning_rate
            ),
        );
        check(
            (1..=MAX_STEPS).contains(&self.max_steps),
            "maxSteps",
            format!(
                "steps must be between 1 and {MAX_STEPS} (got {})",
                self.max_steps
            ),
        );
        check(
            self.warmup_steps <= self.max_steps,
            "warmupSteps",
            format!(
                "warmup ({} steps) is longer than the whole run ({} steps)",
                self.warmup_steps, self.max_steps
            ),
        );
        check(
            self.weight_decay.is_finite() && (0.0..=1.0).contains(&self.weight_decay),
            "weightDecay",
            format!(
                "weight decay must be between 0 and 1 (got {})",
                self.weight_decay
            ),
        );
        for (field, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            check(
                beta.is_finite() && (0.0..1.0).contains(&beta),
                field,
                format!("{field} must be at least 0 and below 1 (got {beta})"),
            );
        }
        check(
            self.grad_clip.is_finite() && self.grad_clip >= 0.0,
            "gradClip",
            format!(
                "gradient clip must be 0 (off) or more (got {})",
                self.grad_clip
            ),
        );
        check(
            (1..=1000).contains(&self.eval_batches),
            "evalBatches",
            format!(
                "validation batches must be between 1 and 1000 (got {})",
                self.eval_batches
            ),
        );
        check(
            self.val_fraction.is_finite() && self.val_fraction > 0.0 && self.val_fraction < 0.5,
            "valFraction",
            format!(
                "the validation share must be above 0 and below 0.5 (got {})",
                self.val_fraction
            ),
        );
        if !errors.is_empty() {
            return errors;
        }
        errors.extend(self.validate_text(text_chars, vocab));
        if errors.is_empty() {
            let bytes = self.memory_estimate(vocab);
            if bytes > MEMORY_LIMIT_BYTES {
                errors.push(ConfigError::new(
                    "memory",
                    format!(
                        "this model needs about {} to train, above the {} limit: make it smaller (layers, width, context or batch)",
                        human_bytes(bytes),
                        human_bytes(MEMORY_LIMIT_BYTES)
                    ),
                ));
            }
        }
        errors
    }

    fn validate_text(&self, text_chars: usize, vocab: usize) -> Option<ConfigError> {
        let message = if text_chars == 0 || vocab == 0 {
            "the text is empty: paste some text to train on".to_string()
        } else if vocab < 2 {
            "the text uses a single character: a model needs at least two different characters to learn anything".to_string()
        } else {
            let (train, val) = split_sizes(text_chars, self.val_fraction);
            let needed = self.block_size + 1;
            if train < needed || val < needed {
                let total_needed = needed as f64 / self.val_fraction.min(1.0 - self.val_fraction);
                format!(
                    "the text has {text_chars} characters but the context is {}: paste more text (at least {} characters) or shorten the context",
                    self.block_size,
                    total_needed.ceil() as usize
                )
            } else {
                return None;
            }
        };
        Some(ConfigError::new("text", message))
    }
}

/// Train and validation token counts: validation is the last `val_fraction` of the text.
pub fn split_sizes(tokens: usize, val_fraction: f64) -> (usize, usize) {
    let train = ((tokens as f64) * (1.0 - val_fraction)).round() as usize;
    (train, tokens - train)
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

/// The options a caller gives: a preset name plus any config fields to override it with.
/// Keys that are not config fields are the caller's business (text, backend) and are ignored
/// by the caller before this is reached.
pub fn resolve(
    preset: Option<&str>,
    overrides: &serde_json::Map<String, serde_json::Value>,
) -> Result<Config, Vec<ConfigError>> {
    let base = Config::preset(preset.unwrap_or("tiny"))
        .map_err(|message| vec![ConfigError::new("preset", message)])?;
    let serde_json::Value::Object(mut merged) =
        serde_json::to_value(&base).expect("a config always serializes")
    else {
        unreachable!("a config serializes to an object")
    };
    let mut errors = Vec::new();
    for (key, value) in overrides {
        let Some(default) = merged.get(key) else {
            errors.push(ConfigError::new(
                "options",
                format!("unknown setting \"{key}\""),
            ));
            continue;
        };
        if let Err(message) = check_type(default, value) {
            errors.push(ConfigError::new(key, format!("{key} {message}")));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    merged.extend(overrides.clone());
    serde_json::from_value(serde_json::Value::Object(merged))
        .map_err(|e| vec![ConfigError::new("options", e.to_string())])
}

/// Whether `value` can stand where the preset has `default`; the error completes a sentence
/// that starts with the field's name.
fn check_type(default: &serde_json::Value, value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    let ok = match default {
        Value::Number(n) if n.is_u64() => value.as_u64().is_some(),
        Value::Number(_) => value.as_f64().is_some_and(f64::is_finite),
        Value::Bool(_) => value.is_boolean(),
        Value::String(_) => matches!(value.as_str(), Some("gpt" | "lstm" | "gru")),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let expected = match default {
        Value::Number(n) if n.is_u64() => "must be a whole number of 0 or more",
        Value::Number(_) => "must be a finite number",
        Value::Bool(_) => "must be true or false",
        _ => "must be gpt, lstm or gru",
    };
    Err(format!("{expected} (got {value})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEXT_CHARS: usize = 10_000;
    const VOCAB: usize = 60;

    fn messages(config: &Config) -> Vec<String> {
        config
            .validate(TEXT_CHARS, VOCAB)
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    fn first_error(config: Config, text_chars: usize, vocab: usize) -> ConfigError {
        config
            .validate(text_chars, vocab)
            .into_iter()
            .next()
            .expect("an error")
    }

    #[test]
    fn presets_are_valid_and_named() {
        for name in PRESET_NAMES {
            let config = Config::preset(name).unwrap();
            assert!(
                messages(&config).is_empty(),
                "{name}: {:?}",
                messages(&config)
            );
        }
        let baby = Config::preset("baby-gpt").unwrap();
        assert_eq!(
            (baby.n_layer, baby.n_head, baby.n_embd, baby.block_size),
            (4, 4, 128, 64)
        );
        assert_eq!(baby.dropout, 0.0);
        let seed = Config::preset("seed-lstm").unwrap();
        assert_eq!(
            (seed.model, seed.n_embd, seed.hidden_size, seed.n_layer),
            (ModelKind::Lstm, 256, 512, 2)
        );
        assert_eq!((seed.dropout, seed.learning_rate), (0.5, 1e-3));
        assert_eq!(Config::preset("gru").unwrap().model, ModelKind::Gru);
        assert!(Config::preset("huge")
            .unwrap_err()
            .contains("tiny, baby-gpt"));
    }

    #[test]
    fn heads_must_divide_the_embedding() {
        let config = Config {
            n_embd: 130,
            n_head: 4,
            ..Config::tiny()
        };
        assert_eq!(
            messages(&config),
            ["embedding size 130 is not divisible by 4 heads"]
        );
    }

    #[test]
    fn short_text_names_its_length_and_the_context() {
        let config = Config {
            block_size: 64,
            ..Config::tiny()
        };
        let error = first_error(config, 40, 10);
        assert_eq!(error.field, "text");
        assert!(
            error
                .message
                .starts_with("the text has 40 characters but the context is 64: paste more text"),
            "{}",
            error.message
        );
    }

    #[test]
    fn empty_and_single_character_texts_are_refused() {
        assert!(first_error(Config::tiny(), 0, 0)
            .message
            .contains("the text is empty"));
        assert!(first_error(Config::tiny(), 500, 1)
            .message
            .contains("single character"));
    }

    #[test]
    fn impossible_values_are_explained() {
        let cases: Vec<(Config, &str)> = vec![
            (
                Config {
                    n_layer: 0,
                    ..Config::tiny()
                },
                "nLayer",
            ),
            (
                Config {
                    batch_size: 0,
                    ..Config::tiny()
                },
                "batchSize",
            ),
            (
                Config {
                    learning_rate: -0.1,
                    ..Config::tiny()
                },
                "learningRate",
            ),
            (
                Config {
                    learning_rate: f64::NAN,
                    ..Config::tiny()
                },
                "learningRate",
            ),
            (
                Config {
                    learning_rate: f64::INFINITY,
                    ..Config::tiny()
                },
                "learningRate",
            ),
            (
                Config {
                    dropout: 1.0,
                    ..Config::tiny()
                },
                "dropout",
            ),
            (
                Config {
                    block_size: 0,
                    ..Config::tiny()
                },
                "blockSize",
            ),
            (
                Config {
                    max_steps: 0,
                    ..Config::tiny()
                },
                "maxSteps",
            ),
        ];
        for (config, field) in cases {
            let errors = config.validate(TEXT_CHARS, VOCAB);
            assert!(
                errors.iter().any(|e| e.field == field),
                "{field}: {errors:?}"
            );
        }
    }

    #[test]
    fn absurd_sizes_are_refused_by_their_memory_estimate() {
        let config = Config {
            n_layer: 48,
            n_embd: 4096,
            n_head: 32,
            ..Config::tiny()
        };
        let error = first_error(config, TEXT_CHARS, VOCAB);
        assert_eq!(error.field, "memory");
        assert!(
            error
                .message
                .contains("GiB to train, above the 1.0 GiB limit"),
            "{}",
            error.message
        );
    }

    #[test]
    fn overrides_apply_on_top_of_a_preset() {
        let overrides = json!({ "model": "lstm", "nLayer": 3, "learningRate": 0.01 });
        let config = resolve(Some("tiny"), overrides.as_object().unwrap()).unwrap();
        assert_eq!(
            (config.model, config.n_layer, config.learning_rate),
            (ModelKind::Lstm, 3, 0.01)
        );
        assert_eq!(config.n_embd, Config::tiny().n_embd);
    }

    #[test]
    fn overrides_of_the_wrong_kind_name_the_field() {
        let overrides =
            json!({ "nLayer": -2, "learningRate": "NaN", "model": "transformer", "colour": 1 });
        let errors = resolve(None, overrides.as_object().unwrap()).unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
        assert!(
            text.contains(&"nLayer must be a whole number of 0 or more (got -2)".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"learningRate must be a finite number (got \"NaN\")".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"model must be gpt, lstm or gru (got \"transformer\")".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"unknown setting \"colour\"".to_string()),
            "{text:?}"
        );
    }

    #[test]
    fn learning_rate_warms_up_then_decays_to_the_minimum() {
        let config = Config::baby_gpt();
        assert!(config.learning_rate_at(0) < config.learning_rate_at(50));
        assert!((config.learning_rate_at(100) - 1e-3).abs() < 1e-9);
        assert!(config.learning_rate_at(1000) < 1e-3 && config.learning_rate_at(1000) > 1e-4);
        assert!((config.learning_rate_at(2000) - 1e-4).abs() < 1e-12);
        assert!((config.learning_rate_at(5000) - 1e-4).abs() < 1e-12);
    }

    #[test]
    fn split_sizes_add_up() {
        assert_eq!(split_sizes(1000, 0.1), (900, 100));
        assert_eq!(split_sizes(1_115_394, 0.1), (1_003_855, 111_539));
    }
}

//! Every check of what a caller sends, before anything is allocated: config fields, sampling
//! options, step counts, and the typing of JSON overrides. One voice for all of them: a field,
//! a kind of problem, and a sentence that says what to do.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::{
    human_bytes, Config, ModelKind, OptimizerKind, Positions, MEMORY_LIMIT_BYTES, PRESET_NAMES,
};
use crate::data::split_sizes;
use crate::error::{Error, FieldError, Problem};
use crate::tokenizer::{Tokenizer, TokenizerKind};

/// One end of an allowed range; `Open` ends exclude their value.
#[derive(Clone, Copy)]
pub(crate) enum End {
    Closed(f64),
    Open(f64),
    Unbounded,
}

/// Collects problems; `range` is the one range check every numeric field goes through.
#[derive(Default)]
pub(crate) struct Checks(Vec<FieldError>);

impl Checks {
    pub(crate) fn require(
        &mut self,
        ok: bool,
        field: &str,
        kind: Problem,
        message: impl FnOnce() -> String,
    ) {
        if !ok {
            self.0.push(FieldError::new(field, kind, message()));
        }
    }

    /// `value` (finite) between `low` and `high`; the message reads "`label` must be ...".
    pub(crate) fn range(&mut self, field: &str, label: &str, x: f64, low: End, high: End) {
        let fits_low = match low {
            End::Closed(l) => x >= l,
            End::Open(l) => x > l,
            End::Unbounded => true,
        };
        let fits_high = match high {
            End::Closed(h) => x <= h,
            End::Open(h) => x < h,
            End::Unbounded => true,
        };
        self.require(
            x.is_finite() && fits_low && fits_high,
            field,
            Problem::OutOfRange,
            || format!("{label} must be {} (got {x})", describe(low, high)),
        );
    }

    /// A whole-number field from 1 to `max`.
    /// The problems found, in the order checked.
    pub(crate) fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    pub(crate) fn count(&mut self, field: &str, label: &str, value: usize, max: usize) {
        self.range(
            field,
            label,
            value as f64,
            End::Closed(1.0),
            End::Closed(max as f64),
        );
    }
}

fn describe(low: End, high: End) -> String {
    let n = |x: f64| x.to_string();
    match (low, high) {
        (End::Closed(l), End::Closed(h)) => format!("between {} and {}", n(l), n(h)),
        (End::Closed(l), End::Open(h)) => format!("at least {} and below {}", n(l), n(h)),
        (End::Open(l), End::Closed(h)) => format!("above {} and at most {}", n(l), n(h)),
        (End::Open(l), End::Open(h)) => format!("above {} and below {}", n(l), n(h)),
        (End::Closed(l), End::Unbounded) => format!("a number of at least {}", n(l)),
        (End::Open(l), End::Unbounded) => format!("a number above {}", n(l)),
        (End::Unbounded, _) => "a finite number".to_string(),
    }
}

/// Sizes beyond these are refused before any estimate: they are typos, not experiments.
const MAX_LAYERS: usize = 64;
const MAX_WIDTH: usize = 8192;
const MAX_CONTEXT: usize = 4096;
const MAX_BATCH: usize = 4096;
pub const MAX_STEPS: usize = 10_000_000;
/// `trainSteps` runs at most this many steps per call, so a call stays interruptible.
pub const MAX_STEPS_PER_CALL: usize = 100_000;
/// BPE merges: a vocabulary of up to 8,448 tokens, already more than a tiny model can use.
const MAX_MERGES: usize = 8192;
/// `tokenize` shows token boundaries; past this many characters nobody reads them.
pub const MAX_SEGMENT_CHARS: usize = 1_000_000;
/// Higher ranks than this adapt a tiny model about as much as training every weight does.
pub const MAX_LORA_RANK: usize = 64;

/// A number in the config, as `Config::validate` checks it and the page's form reads it
/// (`Kindling.configFields`): one home for every limit. An upper end that depends on another
/// field (`atMost`) is that field's value, or `max` if lower.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct FieldRule {
    pub field: &'static str,
    /// As messages name it: "layers must be between 1 and 64".
    pub label: &'static str,
    pub min: f64,
    /// The minimum itself is refused (a learning rate must be above 0).
    pub min_excluded: bool,
    /// `None`: no upper end but `atMost`'s.
    pub max: Option<f64>,
    pub max_excluded: bool,
    /// The field whose value caps this one (heads at the width).
    pub at_most: Option<&'static str>,
    /// A whole number (a count, a size).
    pub integer: bool,
    /// The model types that use the field; empty: every one.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "ModelKind[]"))]
    pub models: &'static [ModelKind],
    /// The tokenizers that use the field; empty: every one.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "TokenizerKind[]"))]
    pub tokenizers: &'static [TokenizerKind],
    /// Only with this optimizer.
    pub optimizer: Option<OptimizerKind>,
    /// A training setting, which a fine-tune may change (the others shape the weights).
    pub training: bool,
}

/// A rule with the defaults most fields share: a whole number from 1, for every model.
const fn count(field: &'static str, label: &'static str, max: usize) -> FieldRule {
    FieldRule {
        field,
        label,
        min: 1.0,
        min_excluded: false,
        max: Some(max as f64),
        max_excluded: false,
        at_most: None,
        integer: true,
        models: &[],
        tokenizers: &[],
        optimizer: None,
        training: false,
    }
}

/// A real number from `min`, unbounded above unless the rule says.
const fn real(field: &'static str, label: &'static str, min: f64) -> FieldRule {
    FieldRule {
        integer: false,
        max: None,
        min,
        ..count(field, label, 0)
    }
}

const RNN: &[ModelKind] = &[ModelKind::Lstm, ModelKind::Gru];

/// Every number in the config, in the order the page shows them.
pub const FIELD_RULES: &[FieldRule] = &[
    FieldRule {
        min: 0.0,
        tokenizers: &[TokenizerKind::Bpe],
        ..count("merges", "BPE merges", MAX_MERGES)
    },
    count("nLayer", "layers", MAX_LAYERS),
    FieldRule {
        max: None,
        at_most: Some("nEmbd"),
        models: &[ModelKind::Gpt],
        ..count("nHead", "heads", 0)
    },
    count("nEmbd", "embedding size", MAX_WIDTH),
    FieldRule {
        models: RNN,
        ..count("hiddenSize", "hidden size", MAX_WIDTH)
    },
    count("blockSize", "context", MAX_CONTEXT),
    FieldRule {
        max: Some(1.0),
        max_excluded: true,
        training: true,
        ..real("dropout", "dropout", 0.0)
    },
    FieldRule {
        training: true,
        ..count("batchSize", "batch size", MAX_BATCH)
    },
    FieldRule {
        min_excluded: true,
        training: true,
        ..real("learningRate", "learning rate", 0.0)
    },
    FieldRule {
        at_most: Some("learningRate"),
        training: true,
        ..real("minLearningRate", "minimum learning rate", 0.0)
    },
    FieldRule {
        min_excluded: true,
        max: Some(1.0),
        optimizer: Some(OptimizerKind::Muon),
        training: true,
        ..real("muonLearningRate", "Muon's learning rate", 0.0)
    },
    FieldRule {
        training: true,
        ..count("maxSteps", "steps", MAX_STEPS)
    },
    FieldRule {
        max: Some(1.0),
        training: true,
        ..real("weightDecay", "weight decay", 0.0)
    },
    FieldRule {
        max: Some(1.0),
        max_excluded: true,
        training: true,
        ..real("beta1", "beta1", 0.0)
    },
    FieldRule {
        max: Some(1.0),
        max_excluded: true,
        training: true,
        ..real("beta2", "beta2", 0.0)
    },
    FieldRule {
        training: true,
        ..real("gradClip", "gradient clip (0 turns it off)", 0.0)
    },
    FieldRule {
        training: true,
        ..count("evalBatches", "validation batches", 1000)
    },
    FieldRule {
        min_excluded: true,
        max: Some(0.5),
        max_excluded: true,
        training: true,
        ..real("valFraction", "the validation share", 0.0)
    },
    FieldRule {
        min: 0.0,
        max: Some(MAX_LORA_RANK as f64),
        at_most: Some("nEmbd"),
        models: &[ModelKind::Gpt],
        training: true,
        ..count("loraRank", "LoRA rank", 0)
    },
];

impl FieldRule {
    /// Whether `config` uses this field.
    pub fn applies(&self, config: &Config) -> bool {
        (self.models.is_empty() || self.models.contains(&config.model))
            && (self.tokenizers.is_empty() || self.tokenizers.contains(&config.tokenizer))
            && self.optimizer.is_none_or(|o| o == config.optimizer)
    }

    /// The allowed range in `config` (whose numbers are `json`).
    fn range(&self, json: &Map<String, Value>) -> (End, End) {
        let bound = |x: f64, excluded: bool| {
            if excluded {
                End::Open(x)
            } else {
                End::Closed(x)
            }
        };
        let cap = self.at_most.and_then(|field| json[field].as_f64());
        let high = match (self.max, cap) {
            (Some(max), Some(cap)) if cap < max => End::Closed(cap),
            (Some(max), _) => bound(max, self.max_excluded),
            (None, Some(cap)) => End::Closed(cap),
            (None, None) => End::Unbounded,
        };
        (bound(self.min, self.min_excluded), high)
    }
}

impl Config {
    /// Every problem with this config for a text of `text_tokens` tokens (`vocab` distinct).
    /// Empty means it is fine.
    pub fn validate(&self, text_tokens: usize, vocab: usize) -> Vec<FieldError> {
        let mut c = Checks::default();
        let Value::Object(json) = serde_json::to_value(self).expect("configs serialize") else {
            unreachable!("a config serializes to an object")
        };
        for rule in FIELD_RULES.iter().filter(|rule| rule.applies(self)) {
            let (low, high) = rule.range(&json);
            let value = json[rule.field].as_f64().unwrap_or(f64::NAN);
            c.range(rule.field, rule.label, value, low, high);
        }
        if self.model == ModelKind::Gpt {
            c.require(
                self.n_head == 0 || self.n_embd.is_multiple_of(self.n_head),
                "nEmbd",
                Problem::Inconsistent,
                || {
                    format!(
                        "embedding size {} is not divisible by {} heads",
                        self.n_embd, self.n_head
                    )
                },
            );
            let head_dim = self.n_embd / self.n_head.max(1);
            c.require(
                self.positions != Positions::Rotary || head_dim.is_multiple_of(2),
                "positions",
                Problem::Inconsistent,
                || {
                    format!(
                        "rotary positions turn pairs of each head's {head_dim} dimensions: give each head an even size (nEmbd / nHead)"
                    )
                },
            );
        }
        c.require(
            self.lora_rank == 0 || self.model == ModelKind::Gpt,
            "loraRank",
            Problem::Inconsistent,
            || "LoRA adapts a GPT's linear layers: fine-tune an LSTM or GRU with every weight (LoRA rank 0)".to_string(),
        );
        c.require(
            self.warmup_steps <= self.max_steps,
            "warmupSteps",
            Problem::Inconsistent,
            || {
                format!(
                    "warmup ({} steps) is longer than the whole run ({} steps)",
                    self.warmup_steps, self.max_steps
                )
            },
        );
        if !c.0.is_empty() {
            return c.0;
        }
        if let Some(error) = self.text_problem(text_tokens, vocab) {
            return vec![error];
        }
        let bytes = self.memory_estimate(vocab);
        c.require(bytes <= MEMORY_LIMIT_BYTES, "memory", Problem::TooLarge, || {
            format!(
                "this model needs about {} to train, above the {} limit: make it smaller (layers, width, context or batch)",
                human_bytes(bytes),
                human_bytes(MEMORY_LIMIT_BYTES)
            )
        });
        c.0
    }

    fn text_problem(&self, text_tokens: usize, vocab: usize) -> Option<FieldError> {
        let unit = match self.tokenizer {
            TokenizerKind::Char => "characters",
            TokenizerKind::Bpe => "tokens",
        };
        let message = if text_tokens == 0 || vocab == 0 {
            "the text is empty: paste some text to train on".to_string()
        } else if vocab < 2 {
            "the text uses a single character: a model needs at least two different characters to learn anything".to_string()
        } else {
            let (train, val) = split_sizes(text_tokens, self.val_fraction);
            let needed = self.block_size + 1;
            if train >= needed && val >= needed {
                return None;
            }
            let total_needed = needed as f64 / self.val_fraction.min(1.0 - self.val_fraction);
            format!(
                "the text has {text_tokens} {unit} but the context is {}: paste more text (at least {} {unit}) or shorten the context",
                self.block_size,
                total_needed.ceil() as usize
            )
        };
        Some(FieldError::new("text", Problem::Text, message))
    }
}

/// A step count as JS sends it (any number): a whole number from 1 to `MAX_STEPS_PER_CALL`.
pub fn steps(value: f64) -> Result<usize, Error> {
    whole("steps", value, 1, MAX_STEPS_PER_CALL)
}

/// A whole number from `min` to `max` as JS sends it (any number, never wrapped or truncated).
pub fn whole(field: &str, value: f64, min: usize, max: usize) -> Result<usize, Error> {
    let mut c = Checks::default();
    let (low, high) = (End::Closed(min as f64), End::Closed(max as f64));
    c.range(field, field, value, low, high);
    c.require(value.fract() == 0.0, field, Problem::WrongType, || {
        format!("{field} must be a whole number (got {value})")
    });
    match c.0.into_iter().next() {
        Some(error) => Err(error.into()),
        None => Ok(value as usize),
    }
}

/// The values of `Config::model`.
const MODEL_KINDS: &[&str] = &["gpt", "lstm", "gru"];
/// The values of `Config::tokenizer`.
const TOKENIZER_KINDS: &[&str] = &["char", "bpe"];

/// The values a config's string field takes, for its messages.
fn config_choices(field: &str) -> Option<&'static [&'static str]> {
    match field {
        "model" => Some(MODEL_KINDS),
        "tokenizer" => Some(TOKENIZER_KINDS),
        "activation" => Some(&["gelu", "relu2"]),
        "positions" => Some(&["learned", "rotary"]),
        "optimizer" => Some(&["adamw", "muon"]),
        "decay" => Some(&["cosine", "linear"]),
        _ => None,
    }
}

/// The config of a preset (default `tiny`) with `overrides` (any config fields) applied.
pub fn config(preset: Option<&str>, overrides: &Map<String, Value>) -> Result<Config, Error> {
    let name = preset.unwrap_or("tiny");
    let base = Config::preset(name).ok_or_else(|| {
        Error::from(FieldError::new(
            "preset",
            Problem::Unknown,
            format!(
                "unknown preset \"{name}\": choose one of {}",
                PRESET_NAMES.join(", ")
            ),
        ))
    })?;
    typed(&base, overrides, config_choices)
}

/// The config's choices that shape a model's weights and tokenizer, beside the numbers whose
/// `FieldRule` is not `training`: fine-tuning keeps the base's.
const SHAPE_CHOICES: &[&str] = &[
    "model",
    "tieEmbeddings",
    "tokenizer",
    "activation",
    "positions",
    "qkNorm",
];

fn shapes_the_model(field: &str) -> bool {
    SHAPE_CHOICES.contains(&field)
        || FIELD_RULES
            .iter()
            .any(|rule| rule.field == field && !rule.training)
}

/// The config of a run fine-tuning `base`: its config with `overrides` of the training
/// settings (steps, learning rate, `loraRank`, …); the fields that shape the weights cannot
/// change. Every weight trains unless `overrides` ask for LoRA, whatever the base did, and the
/// warmup is at most a tenth of the run unless `overrides` set it.
pub fn fine_tune_config(base: &Config, overrides: &Map<String, Value>) -> Result<Config, Error> {
    let fixed: Vec<FieldError> = overrides
        .keys()
        .filter(|key| shapes_the_model(key))
        .map(|key| {
            let message = format!("{key} is the base model's: fine-tuning cannot change it");
            FieldError::new(key, Problem::Inconsistent, message)
        })
        .collect();
    if !fixed.is_empty() {
        return Err(Error::fields(fixed));
    }
    let base = Config {
        lora_rank: 0,
        ..base.clone()
    };
    let mut config: Config = typed(&base, overrides, config_choices)?;
    // The base's warmup suits its own run; a fine-tune shorter than it would be refused for a
    // setting the reader never chose. A tenth of the run, as long as the base's at most.
    if !overrides.contains_key("warmupSteps") {
        config.warmup_steps = base.warmup_steps.min(config.max_steps / 10);
    }
    Ok(config)
}

/// `base` with each of `overrides` in place, after checking that each names a field of `base`
/// and has its type (whole numbers where `base` has one; `choices` lists a string field's
/// values). serde's own messages ("invalid type: floating point `-3.0`, expected usize") are
/// for programmers; these complete a sentence that starts with the field's name.
pub(crate) fn typed<T: Serialize + DeserializeOwned>(
    base: &T,
    overrides: &Map<String, Value>,
    choices: impl Fn(&str) -> Option<&'static [&'static str]>,
) -> Result<T, Error> {
    let Value::Object(mut merged) = serde_json::to_value(base).expect("engine types serialize")
    else {
        unreachable!("configs and options serialize to objects")
    };
    let mut errors = Vec::new();
    for (key, value) in overrides {
        let Some(default) = merged.get(key) else {
            errors.push(FieldError::new(
                "options",
                Problem::Unknown,
                format!("unknown setting \"{key}\""),
            ));
            continue;
        };
        if let Err((kind, expected)) = check_type(default, value, choices(key)) {
            errors.push(FieldError::new(
                key,
                kind,
                format!("{key} {expected} (got {value})"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Error::fields(errors));
    }
    merged.extend(overrides.clone());
    // Every field was checked above, so this cannot fail on what a caller sends.
    serde_json::from_value(Value::Object(merged))
        .map_err(|e| FieldError::new("options", Problem::WrongType, e.to_string()).into())
}

/// Whether `value` can stand where the base has `default`; the error completes "`field` ...".
fn check_type(
    default: &Value,
    value: &Value,
    choices: Option<&[&str]>,
) -> Result<(), (Problem, String)> {
    match default {
        Value::Number(n) if n.is_u64() => match value.as_f64() {
            _ if value.is_u64() => Ok(()),
            Some(x) if x.is_finite() && x < 0.0 && x.fract() == 0.0 => {
                Err((Problem::OutOfRange, "must be 0 or more".into()))
            }
            _ => Err((
                Problem::WrongType,
                "must be a whole number of 0 or more".into(),
            )),
        },
        Value::Number(_) if value.as_f64().is_some_and(f64::is_finite) => Ok(()),
        Value::Number(_) => Err((Problem::WrongType, "must be a finite number".into())),
        Value::Bool(_) if value.is_boolean() => Ok(()),
        Value::Bool(_) => Err((Problem::WrongType, "must be true or false".into())),
        Value::String(_) => match (value.as_str(), choices) {
            (Some(s), Some(choices)) if choices.contains(&s) => Ok(()),
            (Some(_), None) => Ok(()),
            (_, Some(choices)) => Err((
                Problem::Unknown,
                format!("must be one of {}", choices.join(", ")),
            )),
            (None, None) => Err((Problem::WrongType, "must be a string".into())),
        },
        _ => Ok(()),
    }
}

/// What `validate` answers: the problems, and what the model would be.
#[derive(Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub ok: bool,
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Config>,
    pub parameter_count: u64,
    pub memory_bytes: u64,
    pub vocab_size: usize,
    pub train_tokens: usize,
    pub val_tokens: usize,
    /// The compression: characters of the text per token (1 for characters).
    pub chars_per_token: f64,
}

/// Checks a config (or the error whose fields kept it from being made) against `text`.
pub fn report(text: &str, config: Result<Config, Error>) -> Report {
    let tokenizer = match &config {
        Ok(c) if c.tokenizer == TokenizerKind::Bpe && c.merges <= MAX_MERGES => {
            Tokenizer::for_run(text, c.tokenizer, c.merges, c.val_fraction)
        }
        _ => Tokenizer::from_text(text),
    };
    let vocab = tokenizer.vocab_size();
    let tokens = tokenizer.encode_known(text).len();
    let chars = text.chars().count();
    let (errors, config) = match config {
        Ok(config) => (config.validate(tokens, vocab), Some(config)),
        Err(error) => (error.fields, None),
    };
    // Values out of range would overflow the estimates and the split; a text or memory
    // problem is reported with them, so the page can say how big the model would be.
    let sized = errors
        .iter()
        .all(|e| matches!(e.kind, Problem::Text | Problem::TooLarge));
    let (train_tokens, val_tokens) = match &config {
        Some(c) if sized => split_sizes(tokens, c.val_fraction),
        _ => (0, 0),
    };
    let estimate = |f: fn(&Config, usize) -> u64| match &config {
        Some(c) if sized => f(c, vocab),
        _ => 0,
    };
    Report {
        ok: errors.is_empty(),
        parameter_count: estimate(Config::parameter_count),
        memory_bytes: estimate(Config::memory_estimate),
        errors,
        config,
        vocab_size: vocab,
        train_tokens,
        val_tokens,
        chars_per_token: if tokens == 0 {
            0.0
        } else {
            chars as f64 / tokens as f64
        },
    }
}

//! What every engine call can fail with: a kind a caller tests and a sentence a person reads.
//! The page tells the two apart (`error.kind === 'helper'`), never by matching the sentence.

use std::fmt::Display;

use serde::Serialize;

/// Why a call failed, as the JS `error.kind` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Options that cannot make a model or a generation; `fields` says which and why.
    Config,
    /// A method argument out of range or of the wrong type.
    Argument,
    /// Another call on the same model has not finished.
    Busy,
    /// A helper worker failed, timed out or replied with something else than its shard: training
    /// can go on without helpers.
    Helper,
    /// The GPU (or reading results back from it) failed.
    Device,
    /// The loss became NaN or infinite; the weights were restored.
    Diverged,
    /// Bytes that are not a complete, consistent Kindling model file.
    Checkpoint,
    /// A model from elsewhere (safetensors and its manifest, a nanoGPT checkpoint and its
    /// vocabulary) that cannot become a Kindling model: the message says what is wrong with it.
    Import,
    /// WebGPU was asked for and cannot start.
    WebgpuUnavailable,
    /// The compute peer asked for refused the secret.
    PeerRefused,
    /// The compute peer asked for could not be reached at its address (or is no peer).
    PeerUnreachable,
    /// A call on a model or token stream after its `free()`. Thrown by the package's JS
    /// entries (www/api/), which guard the generated classes: Rust never sees such a call.
    Freed,
}

/// What is wrong with one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "kebab-case")]
pub enum Problem {
    /// A number outside its allowed range.
    OutOfRange,
    /// Not a number, a whole number, true/false or a string where one is expected.
    WrongType,
    /// A setting or a choice that does not exist.
    Unknown,
    /// Fields that are each fine but not together (heads and width, warmup and steps).
    Inconsistent,
    /// The text cannot train this model (empty, one character, shorter than the context).
    Text,
    /// The model would need more memory than a tab can give.
    TooLarge,
}

/// A value a person has to change, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct FieldError {
    pub field: String,
    pub kind: Problem,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, kind: Problem, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            kind,
            message: message.into(),
        }
    }
}

impl Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Per-field problems of a `Config` error (empty for the other kinds).
    pub fields: Vec<FieldError>,
    /// For a `Diverged` error: the step of the weights that were restored, the last ones whose
    /// loss was finite (`None` for the other kinds).
    pub step: Option<usize>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            fields: Vec::new(),
            step: None,
        }
    }

    /// A `Config` error listing every problem in `fields` (at least one).
    pub fn fields(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Error {
            fields,
            ..Error::new(ErrorKind::Config, message)
        }
    }

    /// The loss became NaN or infinite; training went back to the weights of `step`.
    pub fn diverged(step: usize) -> Self {
        let message = format!(
            "the loss became NaN or infinite: the learning rate is probably too high. Training stopped and the last good weights (step {step}) were restored; lower the learning rate and train again"
        );
        Error {
            step: Some(step),
            ..Error::new(ErrorKind::Diverged, message)
        }
    }

    pub fn argument(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Argument, message)
    }

    pub fn device(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Device, message)
    }

    pub fn helper(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Helper, message)
    }

    pub fn checkpoint(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Checkpoint, message)
    }

    pub fn import(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Import, message)
    }
}

impl From<Vec<FieldError>> for Error {
    fn from(fields: Vec<FieldError>) -> Self {
        Error::fields(fields)
    }
}

impl From<FieldError> for Error {
    fn from(field: FieldError) -> Self {
        Error::fields(vec![field])
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

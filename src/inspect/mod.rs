//! Looking inside a model as it reads a text: what it expects next at each position, where a
//! GPT's heads attend and what each of its layers would already predict (the logit lens), what
//! an LSTM's or GRU's units and gates do, and where its token embeddings lie. The forward pass
//! is the one training and generation run (`Gpt::forward_traced`, `Rnn::forward_traced`), so
//! what is shown is what the model computes.

mod pca;

pub use pca::{project, Projection};

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::ModelKind;
use crate::device::read_floats;
use crate::error::{Error, FieldError};
use crate::model::gpt::{Gpt, Trace};
use crate::model::rnn::{LayerTrace, Rnn};
use crate::model::{tokens, LanguageModel};
use crate::sample::{softmax, top, Alternative};
use crate::tokenizer::{Tokenizer, TokenizerKind};
use crate::validate::{typed, Checks, End};

/// The most guesses shown per position.
pub const MAX_TOP_K: usize = 20;
/// An RNN reads any length, but past this the activations of a wide model run to tens of MB.
pub const MAX_RNN_TOKENS: usize = 2048;
/// A GPT reads at most its context, and at most this: attention grows with its square (a
/// 12-layer, 12-head model's over 256 positions is already 9.4 M numbers).
pub const MAX_GPT_TOKENS: usize = 256;

/// What to inspect (checked by `validate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct InspectOptions {
    /// Guesses per position, for the predictions and the logit lens: 1 to `MAX_TOP_K`.
    pub top_k: usize,
}

impl InspectOptions {
    /// The defaults with `overrides` (the page's names) applied, checked.
    pub fn from_overrides(overrides: &Map<String, Value>) -> Result<Self, Error> {
        let options: InspectOptions = typed(&InspectOptions::default(), overrides, |_| None)?;
        let errors = options.validate();
        if errors.is_empty() {
            Ok(options)
        } else {
            Err(Error::fields(errors))
        }
    }

    pub fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        let (low, high) = (End::Closed(1.0), End::Closed(MAX_TOP_K as f64));
        c.range("topK", "top-k", self.top_k as f64, low, high);
        c.into_errors()
    }
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions { top_k: 5 }
    }
}

/// Numbers with their shape, row-major. `values` crosses to JS as a Float32Array (see `web`):
/// as a JS array, a million numbers are slow to build and to post between threads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Floats {
    pub dims: Vec<usize>,
    #[serde(skip)]
    pub values: Vec<f32>,
}

impl Floats {
    fn new(dims: Vec<usize>, values: Vec<f32>) -> Self {
        debug_assert_eq!(dims.iter().product::<usize>(), values.len());
        Floats { dims, values }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Piece {
    pub id: u32,
    pub text: String,
}

/// An RNN's gate activations `[layers, gates, time, units]`, the gates in `names`' order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gates {
    pub names: Vec<String>,
    #[serde(flatten)]
    pub floats: Floats,
}

/// The token embedding on its first two principal components: `[vocab, 2]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmbeddingMap {
    /// Each token's text, by id.
    pub tokens: Vec<String>,
    #[serde(flatten)]
    pub points: Floats,
    pub explained: [f32; 2],
}

/// What `inspect` found, per position of the text read (`time` of them).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    pub model: ModelKind,
    /// What a position is: a character, or a byte-level BPE token.
    pub tokenizer: TokenizerKind,
    pub tokens: Vec<Piece>,
    /// Leading tokens of the text not read: a GPT reads at most its context.
    pub skipped: usize,
    /// Characters the model never saw, which were left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// `[time][top_k]`: the model's guesses for the token after each position.
    pub predictions: Vec<Vec<Alternative>>,
    /// `[vocab]`: the logits after the last position, before any sampling setting; -∞ for the
    /// tokens that cannot come next in valid UTF-8 (byte-level BPE: `Tokenizer::mask_invalid`).
    pub next_logits: Floats,
    /// GPT: `[layers, heads, time, time]`, each row a distribution over positions up to its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention: Option<Floats>,
    /// GPT: `[layers][time][top_k]`, the guesses read from the residual stream after each block
    /// (final LayerNorm and head applied early). The last layer's are `predictions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lens: Option<Vec<Vec<Vec<Alternative>>>>,
    /// LSTM/GRU: the hidden state `[layers, time, units]` after each position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Floats>,
    /// LSTM: the cell state `[layers, time, units]` after each position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<Floats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gates: Option<Gates>,
    pub embedding: EmbeddingMap,
}

/// Runs `model` over `text` on `device` from a fresh state (a GPT over the last `block_size`
/// tokens, at most `MAX_GPT_TOKENS`) and reads back what happens inside. `options` must be
/// valid.
pub async fn inspect(
    model: &LanguageModel,
    tokenizer: &Tokenizer,
    text: &str,
    options: &InspectOptions,
    device: &Device,
) -> Result<Inspection, Error> {
    let encoded = tokenizer.encode(text);
    if encoded.ids.is_empty() {
        let message = if text.is_empty() {
            "there is no text to inspect: type some, or generate some first"
        } else {
            "none of the text's characters were in the training text: type text like it"
        };
        return Err(Error::argument(message));
    }
    let window = match model {
        LanguageModel::Gpt(gpt) => gpt.block_size().min(MAX_GPT_TOKENS),
        LanguageModel::Rnn(_) => MAX_RNN_TOKENS,
    };
    let skipped = encoded.ids.len().saturating_sub(window);
    let ids = &encoded.ids[skipped..];
    let input = tokens(ids, device);
    let (logits, inside) = match model {
        LanguageModel::Gpt(gpt) => inspect_gpt(gpt, input, options, tokenizer).await,
        LanguageModel::Rnn(rnn) => inspect_rnn(rnn, input).await,
    }?;
    let vocab = tokenizer.vocab_size();
    let predictions = logits
        .chunks_exact(vocab)
        .map(|row| top(&softmax(row, 1.0), options.top_k, tokenizer))
        .collect();
    // The text ends on a whole character: what may come next is what sampling may draw.
    let mut next_logits = logits[logits.len() - vocab..].to_vec();
    tokenizer.mask_invalid(&[], false, &mut next_logits);
    Ok(Inspection {
        model: inside.model,
        tokenizer: tokenizer.kind(),
        tokens: ids
            .iter()
            .map(|&id| Piece {
                id,
                text: tokenizer.token_text(id),
            })
            .collect(),
        skipped,
        warning: encoded.warning(),
        predictions,
        next_logits: Floats::new(vec![vocab], next_logits),
        attention: inside.attention,
        lens: inside.lens,
        hidden: inside.hidden,
        cell: inside.cell,
        gates: inside.gates,
        embedding: embedding_map(model, tokenizer).await?,
    })
}

/// The parts of an `Inspection` that depend on the kind of model.
struct Inside {
    model: ModelKind,
    attention: Option<Floats>,
    lens: Option<Vec<Vec<Vec<Alternative>>>>,
    hidden: Option<Floats>,
    cell: Option<Floats>,
    gates: Option<Gates>,
}

/// The logits `[time * vocab]` and what the GPT's blocks did.
async fn inspect_gpt(
    gpt: &Gpt,
    input: Tensor<2, burn::tensor::Int>,
    options: &InspectOptions,
    tokenizer: &Tokenizer,
) -> Result<(Vec<f32>, Inside), Error> {
    let mut trace = Trace::default();
    let logits = gpt.forward_traced(input, &mut trace);
    // Each block's `[1, ...]` stacked on the batch axis: `[layers, ...]`.
    let attention = Tensor::cat(trace.attention, 0);
    let lens = gpt.read_out(Tensor::cat(trace.residual, 0));
    let [layers, time, vocab] = lens.dims();
    let heads = attention.dims()[1];
    let lens = read_floats(lens).await?;
    let lens = lens
        .chunks_exact(time * vocab)
        .map(|layer| {
            let guesses = |row: &[f32]| top(&softmax(row, 1.0), options.top_k, tokenizer);
            layer.chunks_exact(vocab).map(guesses).collect()
        })
        .collect();
    let inside = Inside {
        model: ModelKind::Gpt,
        attention: Some(Floats::new(
            vec![layers, heads, time, time],
            read_floats(attention).await?,
        )),
        lens: Some(lens),
        hidden: None,
        cell: None,
        gates: None,
    };
    Ok((read_floats(logits).await?, inside))
}

/// The logits `[time * vocab]` and the RNN's states and gates.
async fn inspect_rnn(
    rnn: &Rnn,
    input: Tensor<2, burn::tensor::Int>,
) -> Result<(Vec<f32>, Inside), Error> {
    let mut trace: Vec<LayerTrace> = Vec::new();
    let logits = rnn.forward_traced(input, &mut trace);
    let first = &rnn.layers()[0];
    let names: Vec<String> = first.gate_names().iter().map(|n| n.to_string()).collect();
    let [_, time, units] = trace[0].output.dims();
    let layers = trace.len();
    let mut outputs = Vec::with_capacity(layers);
    let mut gates = Vec::with_capacity(layers);
    for (layer, LayerTrace { input, output }) in rnn.layers().iter().zip(trace) {
        // `[gates, time, units]` per layer, then `[layers, gates, time, units]`.
        gates.push(Tensor::stack::<3>(layer.gates(input, output.clone()), 0).unsqueeze::<4>());
        outputs.push(output);
    }
    let hidden = read_floats(Tensor::cat(outputs, 0)).await?;
    let gates = read_floats(Tensor::cat(gates, 0)).await?;
    let is_lstm = names[0] == "input";
    let cell = is_lstm.then(|| lstm_cells(&gates, layers, time, units));
    let inside = Inside {
        model: if is_lstm {
            ModelKind::Lstm
        } else {
            ModelKind::Gru
        },
        attention: None,
        lens: None,
        hidden: Some(Floats::new(vec![layers, time, units], hidden)),
        cell: cell.map(|cell| Floats::new(vec![layers, time, units], cell)),
        gates: Some(Gates {
            floats: Floats::new(vec![layers, names.len(), time, units], gates),
            names,
        }),
    };
    Ok((read_floats(logits).await?, inside))
}

/// An LSTM's cell state `[layers, time, units]` from its gates `[layers, 4, time, units]`
/// (input, forget, output, candidate): c_t = f_t * c_{t-1} + i_t * g_t from c_0 = 0. A few
/// multiply-adds per unit and step: cheaper here than a loop of tensor ops over time.
fn lstm_cells(gates: &[f32], layers: usize, time: usize, units: usize) -> Vec<f32> {
    let plane = time * units;
    let mut cells = vec![0.0; layers * plane];
    for layer in 0..layers {
        let gate = |g: usize, t: usize| &gates[(layer * 4 + g) * plane + t * units..][..units];
        let mut cell = vec![0.0f32; units];
        for t in 0..time {
            let (input, forget, candidate) = (gate(0, t), gate(1, t), gate(3, t));
            for u in 0..units {
                cell[u] = forget[u] * cell[u] + input[u] * candidate[u];
            }
            cells[layer * plane + t * units..][..units].copy_from_slice(&cell);
        }
    }
    cells
}

async fn embedding_map(
    model: &LanguageModel,
    tokenizer: &Tokenizer,
) -> Result<EmbeddingMap, Error> {
    let weight = model.token_embedding();
    let [vocab, width] = weight.dims();
    let projection = project(&read_floats(weight).await?, vocab, width);
    Ok(EmbeddingMap {
        tokens: (0..vocab as u32)
            .map(|id| tokenizer.token_text(id))
            .collect(),
        points: Floats::new(vec![vocab, 2], projection.points),
        explained: projection.explained,
    })
}

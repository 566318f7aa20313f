//! Generation, one token at a time: the model gives logits, `choose` turns them into a token
//! with its probability and the best alternatives.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::device::read_floats;
use crate::error::{Error, FieldError};
use crate::model::{DecoderState, LanguageModel};
use crate::rng::Rng;
use crate::tokenizer::{TextStream, Tokenizer};
use crate::validate::{typed, Checks, End};

/// How many alternatives each token reports.
pub const TOP_ALTERNATIVES: usize = 5;
/// The repetition penalty looks this far back.
const PENALTY_WINDOW: usize = 64;

/// How to pick each token (checked by `validate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SamplingOptions {
    pub max_tokens: usize,
    /// 0 picks the most likely token every time.
    pub temperature: f64,
    /// Keep only the k most likely tokens; 0 keeps all.
    pub top_k: usize,
    /// Keep the fewest most likely tokens whose probabilities add up to at least this.
    pub top_p: f64,
    /// Above 1 makes recently seen tokens less likely.
    pub repetition_penalty: f64,
    /// 0: a fresh sample on every call (see `Session::generate`).
    pub seed: u64,
}

/// The longest generation one call may ask for, in tokens.
const MAX_TOKENS: usize = 100_000;

impl SamplingOptions {
    /// The defaults with `overrides` (the page's names) applied; `validate` checks the values.
    pub fn from_overrides(overrides: &Map<String, Value>) -> Result<Self, Error> {
        typed(&SamplingOptions::default(), overrides, |_| None)
    }

    pub fn validate(&self) -> Vec<FieldError> {
        let mut c = Checks::default();
        c.count("maxTokens", "length in tokens", self.max_tokens, MAX_TOKENS);
        c.range(
            "temperature",
            "temperature",
            self.temperature,
            End::Closed(0.0),
            End::Closed(10.0),
        );
        c.range(
            "topP",
            "top-p",
            self.top_p,
            End::Open(0.0),
            End::Closed(1.0),
        );
        c.range(
            "repetitionPenalty",
            "repetition penalty",
            self.repetition_penalty,
            End::Closed(0.1),
            End::Closed(10.0),
        );
        c.into_errors()
    }
}

impl Default for SamplingOptions {
    fn default() -> Self {
        SamplingOptions {
            max_tokens: 200,
            temperature: 0.8,
            top_k: 0,
            top_p: 1.0,
            repetition_penalty: 1.0,
            seed: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Alternative {
    pub id: u32,
    pub text: String,
    pub prob: f32,
}

/// A generated piece of text: one token, or, with byte-level BPE, the few tokens it takes to
/// complete a character (a token can end inside one; a piece never shows half a character).
/// `prob` and `top` are the model's own probabilities (softmax of its logits), before
/// temperature and truncation: they say how sure the model was. With byte-level BPE they are
/// over the tokens that can come next in valid UTF-8 (`Tokenizer::mask_invalid`), the only
/// ones sampling draws from. For a piece of several tokens, `id` is the last one's, `prob` the
/// product of theirs, `top` the first one's alternatives.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Token {
    pub id: u32,
    pub text: String,
    pub prob: f32,
    pub top: Vec<Alternative>,
    /// How many of the model's tokens this piece holds (1 but for such BPE pieces).
    pub tokens: u32,
}

pub fn softmax(logits: &[f32], temperature: f64) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let exps: Vec<f64> = logits
        .iter()
        .map(|&l| ((l as f64 - max) / temperature).exp())
        .collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Ids ordered from most to least likely (ties by id, so the order is deterministic).
fn ranked(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order
}

/// The tokens `choose` may pick from `logits` after the repetition penalty (given the `recent`
/// ids), temperature, top-k and top-p, most likely first, with the probabilities it draws them
/// by (they sum to 1). Temperature 0 keeps only the most likely token.
pub fn kept(logits: &[f32], recent: &[u32], options: &SamplingOptions) -> Vec<(usize, f64)> {
    let mut logits = logits.to_vec();
    if options.repetition_penalty != 1.0 {
        let mut seen = vec![false; logits.len()];
        for &id in recent.iter().rev().take(PENALTY_WINDOW) {
            seen[id as usize] = true;
        }
        let penalty = options.repetition_penalty as f32;
        for (logit, _) in logits.iter_mut().zip(seen).filter(|(_, seen)| *seen) {
            *logit = if *logit > 0.0 {
                *logit / penalty
            } else {
                *logit * penalty
            };
        }
    }
    if options.temperature == 0.0 {
        let as_f64: Vec<f64> = logits.iter().map(|&l| l as f64).collect();
        return vec![(ranked(&as_f64)[0], 1.0)];
    }
    let probs = softmax(&logits, options.temperature);
    let order = ranked(&probs);
    let k = if options.top_k == 0 {
        order.len()
    } else {
        options.top_k.min(order.len())
    };
    let mut kept = Vec::with_capacity(k);
    let mut mass = 0.0;
    // A token of probability 0 (masked at -∞, or so unlikely that it underflowed) is never
    // drawn. NaN stays: weights blown up by a huge learning rate still generate, as garbage.
    for &id in order[..k].iter().filter(|&&id| probs[id] != 0.0) {
        kept.push(id);
        mass += probs[id];
        if mass >= options.top_p {
            break;
        }
    }
    kept.into_iter().map(|id| (id, probs[id] / mass)).collect()
}

/// `kept` as a distribution over the whole vocabulary (0 for the tokens left out): what the
/// sampling settings make of the model's distribution, for showing beside it.
pub fn sampling_distribution(logits: &[f32], options: &SamplingOptions) -> Vec<f64> {
    let mut probs = vec![0.0; logits.len()];
    for (id, prob) in kept(logits, &[], options) {
        probs[id] = prob;
    }
    probs
}

/// Picks the next token id from `logits`, given the `recent` ids for the repetition penalty.
pub fn choose(logits: &[f32], recent: &[u32], options: &SamplingOptions, rng: &mut Rng) -> u32 {
    let kept = kept(logits, recent, options);
    let mut target = rng.unit();
    for &(id, prob) in &kept {
        target -= prob;
        if target < 0.0 {
            return id as u32;
        }
    }
    kept.last().expect("at least one token is always kept").0 as u32
}

/// The `k` most likely tokens of `probs` (by id), most likely first.
pub fn top(probs: &[f64], k: usize, tokenizer: &Tokenizer) -> Vec<Alternative> {
    ranked(probs)
        .into_iter()
        .filter(|&id| probs[id] != 0.0)
        .take(k)
        .map(|id| Alternative {
            id: id as u32,
            text: tokenizer.token_text(id as u32),
            prob: probs[id] as f32,
        })
        .collect()
}

/// Streams tokens from a snapshot of a model: training may go on while this generates.
pub struct Generator {
    model: LanguageModel,
    device: Device,
    state: DecoderState,
    /// Ids to feed the model before the next token: the prompt, then each sampled token.
    pending: Vec<u32>,
    sampler: Sampler,
}

impl Generator {
    /// `prompt_ids` must be non-empty and already encoded by `tokenizer`.
    pub fn new(
        model: LanguageModel,
        device: Device,
        tokenizer: Tokenizer,
        prompt_ids: Vec<u32>,
        options: SamplingOptions,
    ) -> Self {
        let state = model.start();
        Generator {
            model,
            device,
            state,
            sampler: Sampler::new(tokenizer, &prompt_ids, options),
            pending: prompt_ids,
        }
    }

    /// The next piece of text (see `Token`), or `None` once the sampler is done
    /// (`Sampler::done`).
    pub async fn next(&mut self) -> Result<Option<Token>, Error> {
        while !self.sampler.done() {
            let fed = std::mem::take(&mut self.pending);
            let logits = self.model.feed(&mut self.state, &fed, &self.device);
            let (id, piece) = self.sampler.draw(read_floats(logits).await?);
            self.pending.push(id);
            if piece.is_some() {
                return Ok(piece);
            }
        }
        Ok(None)
    }
}

/// Turns each step's logits into the next token and the text it completes; knows nothing of
/// the model, so that tests can hand it any logits at all.
pub struct Sampler {
    tokenizer: Tokenizer,
    options: SamplingOptions,
    rng: Rng,
    text: TextStream,
    recent: Vec<u32>,
    produced: usize,
    /// The tokens drawn since the last whole character.
    piece: Option<Token>,
}

impl Sampler {
    pub fn new(tokenizer: Tokenizer, prompt_ids: &[u32], options: SamplingOptions) -> Self {
        Sampler {
            tokenizer,
            rng: Rng::new(options.seed),
            options,
            recent: prompt_ids.to_vec(),
            text: TextStream::default(),
            produced: 0,
            piece: None,
        }
    }

    /// `max_tokens` tokens drawn and the last character whole: with byte-level BPE that may
    /// take up to three tokens more, so a stream never ends inside a character.
    pub fn done(&self) -> bool {
        self.produced >= self.options.max_tokens && self.text.pending().is_empty()
    }

    /// Draws the next token from `logits` (`[vocab]`, the model's after everything drawn so
    /// far): its id, and the piece of text it completes, if it completes one.
    pub fn draw(&mut self, mut logits: Vec<f32>) -> (u32, Option<Token>) {
        let finishing = self.produced >= self.options.max_tokens;
        self.tokenizer
            .mask_invalid(self.text.pending(), finishing, &mut logits);
        let id = choose(&logits, &self.recent, &self.options, &mut self.rng);
        self.recent.push(id);
        if self.recent.len() > PENALTY_WINDOW {
            self.recent.remove(0);
        }
        self.produced += 1;
        let token = self.describe(id, &logits);
        let text = self.text.push(&self.tokenizer, id);
        let piece = self.piece.get_or_insert_with(|| Token {
            text: String::new(),
            prob: 1.0,
            tokens: 0,
            ..token.clone()
        });
        piece.id = id;
        piece.prob *= token.prob;
        piece.tokens += 1;
        piece.text.push_str(&text);
        if text.is_empty() {
            return (id, None);
        }
        (id, self.piece.take())
    }

    fn describe(&self, id: u32, logits: &[f32]) -> Token {
        let probs = softmax(logits, 1.0);
        Token {
            id,
            text: self.tokenizer.token_text(id),
            prob: probs[id as usize] as f32,
            top: top(&probs, TOP_ALTERNATIVES, &self.tokenizer),
            tokens: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGITS: [f32; 6] = [1.0, 3.0, 0.5, 2.0, -1.0, 2.5];

    fn options(temperature: f64, top_k: usize, top_p: f64) -> SamplingOptions {
        SamplingOptions {
            temperature,
            top_k,
            top_p,
            ..SamplingOptions::default()
        }
    }

    fn draws(options: &SamplingOptions, seed: u64, n: usize) -> Vec<u32> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| choose(&LOGITS, &[], options, &mut rng))
            .collect()
    }

    #[test]
    fn temperature_zero_is_argmax() {
        assert!(draws(&options(0.0, 0, 1.0), 7, 50)
            .iter()
            .all(|&id| id == 1));
    }

    #[test]
    fn top_k_never_yields_a_token_outside_the_k_best() {
        let seen = draws(&options(5.0, 3, 1.0), 3, 2000);
        assert!(seen.iter().all(|id| [1, 5, 3].contains(id)), "{seen:?}");
        // A high temperature spreads the draws over all three.
        for id in [1, 5, 3] {
            assert!(seen.contains(&id));
        }
    }

    #[test]
    fn top_p_keeps_the_smallest_set_reaching_the_mass() {
        let probs = softmax(&LOGITS, 1.0);
        // Ranked: 1 (0.45), 5 (0.27), 3 (0.17), ... so p = 0.6 keeps exactly {1, 5}.
        assert!(probs[1] < 0.6 && probs[1] + probs[5] >= 0.6);
        let seen = draws(&options(1.0, 0, 0.6), 11, 2000);
        assert!(seen.iter().all(|id| [1, 5].contains(id)), "{seen:?}");
        assert!(seen.contains(&5));
    }

    #[test]
    fn same_seed_same_tokens_other_seed_other_tokens() {
        let opts = options(1.0, 0, 1.0);
        assert_eq!(draws(&opts, 42, 100), draws(&opts, 42, 100));
        assert_ne!(draws(&opts, 42, 100), draws(&opts, 43, 100));
    }

    #[test]
    fn sampling_follows_the_distribution() {
        let probs = softmax(&LOGITS, 1.0);
        let n = 20_000;
        let seen = draws(&options(1.0, 0, 1.0), 5, n);
        for (id, p) in probs.iter().enumerate() {
            let freq = seen.iter().filter(|&&s| s == id as u32).count() as f64 / n as f64;
            assert!((freq - p).abs() < 0.02, "token {id}: {freq} vs {p}");
        }
    }

    #[test]
    fn the_sampling_distribution_is_what_choose_draws_from() {
        let opts = options(0.7, 3, 0.9);
        let probs = sampling_distribution(&LOGITS, &opts);
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        // Top-3 keeps 1, 5, 3; a lower temperature sharpens what is kept.
        let kept: Vec<usize> = (0..6).filter(|&id| probs[id] > 0.0).collect();
        assert!(kept.iter().all(|id| [1, 5, 3].contains(id)));
        assert!(probs[1] > softmax(&LOGITS, 1.0)[1]);
        let n = 20_000;
        let seen = draws(&opts, 9, n);
        for (id, p) in probs.iter().enumerate() {
            let freq = seen.iter().filter(|&&s| s == id as u32).count() as f64 / n as f64;
            assert!((freq - p).abs() < 0.02, "token {id}: {freq} vs {p}");
        }
        let greedy = sampling_distribution(&LOGITS, &options(0.0, 0, 1.0));
        assert_eq!(greedy, [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn masked_tokens_are_never_drawn_and_nan_logits_do_not_panic() {
        let mut logits = LOGITS;
        logits[1] = f32::NEG_INFINITY;
        let seen = {
            let mut rng = Rng::new(1);
            (0..500)
                .map(|_| choose(&logits, &[], &options(3.0, 0, 1.0), &mut rng))
                .collect::<Vec<_>>()
        };
        assert!(!seen.contains(&1));
        assert_eq!(
            choose(&logits, &[], &options(0.0, 0, 1.0), &mut Rng::new(1)),
            5
        );
        let nan = [f32::NAN; 6];
        for opts in [
            options(1.0, 0, 1.0),
            options(0.7, 3, 0.9),
            options(0.0, 0, 1.0),
        ] {
            assert!(choose(&nan, &[], &opts, &mut Rng::new(2)) < 6);
        }
    }

    #[test]
    fn repetition_penalty_demotes_recent_tokens() {
        let opts = SamplingOptions {
            temperature: 0.0,
            repetition_penalty: 2.0,
            ..SamplingOptions::default()
        };
        // Token 1 (logit 3) halves to 1.5, below token 5 (2.5).
        assert_eq!(choose(&LOGITS, &[1], &opts, &mut Rng::new(0)), 5);
    }
}

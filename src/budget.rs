//! Training budgets: "train for one minute" instead of a step count. The page measures this
//! device (a few steps of each candidate shape, `shapes`), and `plan` picks the shape whose
//! predicted validation loss after the steps that fit is lowest, with a schedule that ends when
//! the budget does. The predictions are measured (`SWEEP`), not guessed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{Activation, Config, Decay, ModelKind, OptimizerKind, Positions};
use crate::error::{Error, FieldError, Problem};

/// A shape a budget may choose, with the batch and learning rate that go with it.
struct Shape {
    name: &'static str,
    model: ModelKind,
    n_layer: usize,
    n_embd: usize,
    /// GPT: attention heads; LSTM/GRU: the recurrent state size.
    heads_or_hidden: usize,
    block_size: usize,
    batch_size: usize,
    learning_rate: f64,
}

const fn shape(
    name: &'static str,
    model: ModelKind,
    [n_layer, n_embd, heads_or_hidden, block_size, batch_size]: [usize; 5],
    learning_rate: f64,
) -> Shape {
    Shape {
        name,
        model,
        n_layer,
        n_embd,
        heads_or_hidden,
        block_size,
        batch_size,
        learning_rate,
    }
}

/// The candidates, smallest first (ties go to the smaller: it shows progress sooner). The same
/// shapes and settings as bench/budget-sweep.sh.
const SHAPES: [Shape; 7] = [
    shape("gpt-2x32", ModelKind::Gpt, [2, 32, 2, 32, 16], 3e-3),
    shape("gpt-2x64", ModelKind::Gpt, [2, 64, 2, 64, 16], 3e-3),
    shape("gpt-3x96", ModelKind::Gpt, [3, 96, 3, 64, 16], 2e-3),
    shape("gpt-4x128", ModelKind::Gpt, [4, 128, 4, 64, 12], 1e-3),
    shape("lstm-1x128", ModelKind::Lstm, [1, 64, 128, 64, 16], 3e-3),
    shape("lstm-2x256", ModelKind::Lstm, [2, 128, 256, 64, 16], 2e-3),
    shape("gru-1x128", ModelKind::Gru, [1, 64, 128, 64, 16], 3e-3),
];

/// The two text lengths the sweep measured, in characters: tinyshakespeare's first 20,000 and
/// all of it. Between them the prediction is interpolated in log length; outside, clamped.
const SHORT_TEXT: f64 = 20_000.0;
const LONG_TEXT: f64 = 1_115_394.0;

/// Validation loss (nats per character) kept after N steps of a schedule that ends at N (the
/// best of its evaluations, as `keep_best` keeps it), as `(N, loss)` on the long text and on
/// the short one, with the budget's recipe (`config_of`). Measured by `bench/budget-sweep.sh`
/// (bench/results/budget-sweep.json) on a 2-core Intel Xeon VM, 2026-12-06. Loss after N steps
/// is no more the machine's than the seed is; how many steps fit is the reader's device's,
/// which the page measures.
struct Swept {
    shape: &'static str,
    long: &'static [(usize, f32)],
    short: &'static [(usize, f32)],
}

const SWEEP: &[Swept] = &[
    Swept {
        shape: "gpt-2x32",
        long: &[(250, 2.3984), (1000, 2.0502), (4000, 1.8945)],
        short: &[(250, 2.3066), (1000, 1.9367)],
    },
    Swept {
        shape: "gpt-2x64",
        long: &[(250, 2.1628), (1000, 1.8276), (4000, 1.7028)],
        short: &[(250, 2.0023), (1000, 1.9777)],
    },
    Swept {
        shape: "gpt-3x96",
        long: &[
            (250, 2.0756),
            (1000, 1.7322),
            (2000, 1.6676),
            (4000, 1.6145),
        ],
        short: &[(250, 1.9718), (1000, 2.0154)],
    },
    Swept {
        shape: "gpt-4x128",
        long: &[
            (250, 2.0849),
            (1000, 1.7246),
            (2000, 1.6509),
            (4000, 1.5693),
        ],
        short: &[(250, 2.0295), (1000, 1.978)],
    },
    Swept {
        shape: "lstm-1x128",
        long: &[(250, 2.0414), (1000, 1.7456)],
        short: &[(250, 1.9177), (1000, 1.8827)],
    },
    Swept {
        shape: "lstm-2x256",
        long: &[(250, 1.8897), (1000, 1.5726)],
        short: &[(250, 1.9192), (1000, 1.991)],
    },
    Swept {
        shape: "gru-1x128",
        long: &[(250, 2.0047), (1000, 1.76)],
        short: &[(250, 1.8942), (1000, 1.868)],
    },
];

/// Beyond the longest run measured, the loss is taken to fall on as it did, up to this many
/// times that run's steps, and no further: a guess past what was measured stays modest.
const EXTRAPOLATION: f64 = 4.0;

/// Muon's peak rate for the hidden matrices: for a GPT 0.01 and 0.02 did as well and 0.03
/// worse, for an LSTM 0.05 as well as 0.02 (bench/recipe-tries.sh, docs/benchmarks.md).
const MUON_LEARNING_RATE: f64 = 0.02;

/// The share of a budget left to evaluations and the page's messages.
const OVERHEAD: f64 = 0.05;

/// "Until I stop" plans for this long, and its learning rate never decays.
const OPEN_ENDED_SECONDS: f64 = 1800.0;

/// The longest budget: a day.
const MAX_SECONDS: f64 = 86_400.0;

/// What the page asks: how long, which kind of model, how much text, and what it measured.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetRequest {
    /// Seconds of training; 0 trains until the reader stops it.
    pub seconds: f64,
    pub model: ModelKind,
    /// The text's training tokens (`validate`'s `trainTokens`).
    pub train_tokens: usize,
    /// Milliseconds per training step measured on this device, by shape name (`shapes`).
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Record<string, number>"))]
    pub measured: BTreeMap<String, f64>,
}

/// The budget's choice and why, in words a learner reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct BudgetPlan {
    pub shape: String,
    /// The whole config to create the model with: `maxSteps` is the steps that fit.
    pub config: Config,
    /// Validation loss the sweep predicts for this shape after `config.maxSteps` steps.
    pub predicted_val_loss: f32,
    pub why: String,
}

/// A shape to measure before planning: its name and the config to create a probe with.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct BudgetShape {
    pub name: String,
    pub config: Config,
}

/// The shapes to measure for `model`, smallest first.
pub fn shapes(model: ModelKind) -> Vec<BudgetShape> {
    SHAPES
        .iter()
        .filter(|s| s.model == model)
        .map(|s| BudgetShape {
            name: s.name.to_string(),
            config: config_of(s, 1000, false),
        })
        .collect()
}

/// The config a budget trains shape `name` with for `steps` (what `plan` gives when it picks
/// that shape); none for a name `shapes` never lists. bench/budget-sweep.sh trains these.
pub fn shape_config(name: &str, steps: usize) -> Option<Config> {
    SHAPES
        .iter()
        .find(|s| s.name == name)
        .map(|s| config_of(s, steps, false))
}

/// The shape and schedule for `request`: for each measured shape, the steps that fit, and the
/// loss the sweep predicts after them; the lowest wins.
pub fn plan(request: &BudgetRequest) -> Result<BudgetPlan, Error> {
    check(request)?;
    let open_ended = request.seconds == 0.0;
    let seconds = planned_seconds(request);
    let Candidate {
        shape: best,
        steps,
        predicted,
        fit,
    } = request
        .measured
        .iter()
        .map(|(name, &ms)| candidate(request, find(name), ms))
        .min_by(|a, b| {
            a.predicted
                .total_cmp(&b.predicted)
                .then(size(a.shape).cmp(&size(b.shape)))
        })
        .expect("checked: at least one shape");
    let config = config_of(best, steps, open_ended);
    let why = if steps < fit {
        explain_early(best, steps, seconds * steps as f64 / fit as f64)
    } else {
        explain(best, steps, seconds, open_ended)
    };
    Ok(BudgetPlan {
        shape: best.name.to_string(),
        config,
        predicted_val_loss: predicted,
        why,
    })
}

/// Whether timing shape `name` can change `request`'s plan, given the shapes measured so far
/// (`request.measured`, maybe none). A larger shape is never faster per step, so the slowest
/// smaller shape measured bounds its cost from below: if even at that speed the sweep predicts
/// no better loss than the plan already has, the probe skips it and saves the reader its
/// steps (a 4 × 128 GPT's probe took ~2.4 s of a one-minute budget in Chromium).
pub fn worth_measuring(request: &BudgetRequest, name: &str) -> Result<bool, Error> {
    let shape = SHAPES
        .iter()
        .find(|s| s.name == name && s.model == request.model)
        .ok_or_else(|| {
            Error::argument(format!(
                "\"{name}\" is not a shape of a {} budget: use one `budgetShapes` lists",
                model_name(request.model)
            ))
        })?;
    if request.measured.is_empty() {
        return Ok(true);
    }
    let best = plan(request)?;
    let fastest = request
        .measured
        .iter()
        .filter(|(measured, _)| size(find(measured)) < size(shape))
        .map(|(_, &ms)| ms)
        .fold(None, |slowest: Option<f64>, ms| {
            Some(slowest.map_or(ms, |s| s.max(ms)))
        });
    let Some(fastest) = fastest else {
        return Ok(true);
    };
    Ok(candidate(request, shape, fastest).predicted < best.predicted_val_loss)
}

/// The seconds a request plans for: "until I stop" plans for OPEN_ENDED_SECONDS.
fn planned_seconds(request: &BudgetRequest) -> f64 {
    if request.seconds == 0.0 {
        OPEN_ENDED_SECONDS
    } else {
        request.seconds
    }
}

/// A shape at `ms` per step: the steps `request`'s budget trains it and the loss the sweep
/// predicts after them (`fit`: the steps that fit at all).
struct Candidate {
    shape: &'static Shape,
    steps: usize,
    predicted: f32,
    fit: usize,
}

fn candidate(request: &BudgetRequest, shape: &'static Shape, ms: f64) -> Candidate {
    let fit = ((planned_seconds(request) * 1000.0 * (1.0 - OVERHEAD) / ms) as usize).max(1);
    let (steps, predicted) = if request.seconds == 0.0 {
        (fit, predict(shape.name, fit, request.train_tokens))
    } else {
        best_steps(shape.name, fit, request.train_tokens)
    };
    Candidate {
        shape,
        steps,
        predicted,
        fit,
    }
}

/// A shape `check` has accepted.
fn find(name: &str) -> &'static Shape {
    SHAPES.iter().find(|s| s.name == name).expect("checked")
}

fn size(shape: &Shape) -> usize {
    SHAPES
        .iter()
        .position(|s| s.name == shape.name)
        .unwrap_or(0)
}

fn check(request: &BudgetRequest) -> Result<(), Error> {
    let mut errors = Vec::new();
    if !(0.0..=MAX_SECONDS).contains(&request.seconds) {
        errors.push(FieldError::new(
            "seconds",
            Problem::OutOfRange,
            format!("a budget is 0 (until you stop) to {MAX_SECONDS} seconds"),
        ));
    }
    if request.measured.is_empty() {
        errors.push(FieldError::new(
            "measured",
            Problem::OutOfRange,
            "measure at least one of the shapes `budgetShapes` lists before planning",
        ));
    }
    for (name, &ms) in &request.measured {
        let known = SHAPES
            .iter()
            .any(|s| s.name == name && s.model == request.model);
        if !known {
            errors.push(FieldError::new(
                "measured",
                Problem::Unknown,
                format!(
                    "\"{name}\" is not a shape of a {} budget: measure the shapes `budgetShapes` lists",
                    model_name(request.model)
                ),
            ));
        } else if !(ms.is_finite() && ms > 0.0) {
            errors.push(FieldError::new(
                "measured",
                Problem::OutOfRange,
                format!("{name}: a step takes a positive number of milliseconds, not {ms}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::fields(errors))
    }
}

/// The steps, up to `fit`, after which the sweep predicts `shape`'s lowest loss on a text of
/// `tokens` tokens, and that loss. On a short text a longer run can end worse than a shorter
/// one (it learns the text by heart: the sweep's short-text curves rise), so a budget trains
/// no longer than its best; a longer budget then never predicts a worse model.
fn best_steps(shape: &str, fit: usize, tokens: usize) -> (usize, f32) {
    let swept = SWEEP
        .iter()
        .find(|s| s.shape == shape)
        .expect("every shape was swept");
    let measured = swept.long.iter().chain(swept.short).map(|&(n, _)| n);
    measured
        .filter(|&n| n < fit)
        .chain([fit])
        .map(|n| (n, predict(shape, n, tokens)))
        .min_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .expect("fit is always a candidate")
}

/// The loss the sweep predicts for `shape` after `steps`, on a text of `tokens` training tokens.
fn predict(shape: &str, steps: usize, tokens: usize) -> f32 {
    let swept = SWEEP
        .iter()
        .find(|s| s.shape == shape)
        .expect("every shape was swept");
    let at = |points: &[(usize, f32)], extrapolation: f64| {
        let curve: Vec<(f64, f64)> = points
            .iter()
            .map(|&(n, loss)| ((n as f64).ln(), f64::from(loss)))
            .collect();
        let last = points.last().expect("measured").0 as f64;
        interpolate(&curve, (steps as f64).min(last * extrapolation).ln())
    };
    let t = ((tokens as f64).max(1.0).ln() - SHORT_TEXT.ln()) / (LONG_TEXT.ln() - SHORT_TEXT.ln());
    let t = t.clamp(0.0, 1.0);
    // Past its last measurement a short text is assumed learnt: no further gain.
    (at(swept.short, 1.0) * (1.0 - t) + at(swept.long, EXTRAPOLATION) * t) as f32
}

/// `curve` (x ascending, at least two points) at `x`: linear between points, extended past
/// either end along the nearest segment.
fn interpolate(curve: &[(f64, f64)], x: f64) -> f64 {
    let segment = curve
        .windows(2)
        .position(|w| x <= w[1].0)
        .unwrap_or(curve.len() - 2);
    let ((x0, y0), (x1, y1)) = (curve[segment], curve[segment + 1]);
    y0 + (y1 - y0) * (x - x0) / (x1 - x0)
}

/// `shape` trained for `steps`: warmup a twentieth (at most 100), then the rate falls until the
/// last step (or, open-ended, stays constant), an evaluation every tenth of the run, no
/// dropout (short runs do not overfit enough to need it), and the best weights kept. Each
/// model learns with what won at equal wall time (docs/benchmarks.md, "The recipe"): Muon for
/// the hidden matrices; a GPT also ReLU², rotary positions and a linear fall to zero, an LSTM
/// or GRU nanoGPT's cosine to a tenth (linear did worse there).
fn config_of(shape: &Shape, steps: usize, open_ended: bool) -> Config {
    let gpt = shape.model == ModelKind::Gpt;
    let base = Config::tiny();
    let recipe = Config {
        optimizer: OptimizerKind::Muon,
        muon_learning_rate: MUON_LEARNING_RATE,
        ..base
    };
    let (recipe, floor) = if gpt {
        let gpt = Config {
            activation: Activation::Relu2,
            positions: Positions::Rotary,
            decay: Decay::Linear,
            ..recipe
        };
        (gpt, 0.0)
    } else {
        (recipe, shape.learning_rate / 10.0)
    };
    Config {
        model: shape.model,
        n_layer: shape.n_layer,
        n_embd: shape.n_embd,
        n_head: if gpt {
            shape.heads_or_hidden
        } else {
            base.n_head
        },
        hidden_size: if gpt {
            base.hidden_size
        } else {
            shape.heads_or_hidden
        },
        block_size: shape.block_size,
        batch_size: shape.batch_size,
        dropout: 0.0,
        learning_rate: shape.learning_rate,
        min_learning_rate: if open_ended {
            shape.learning_rate
        } else {
            floor
        },
        warmup_steps: (steps / 20).min(100),
        max_steps: if open_ended {
            crate::validate::MAX_STEPS
        } else {
            steps
        },
        eval_interval: if open_ended { 500 } else { (steps / 10).max(1) },
        keep_best: true,
        ..recipe
    }
}

fn model_name(model: ModelKind) -> &'static str {
    match model {
        ModelKind::Gpt => "GPT",
        ModelKind::Lstm => "LSTM",
        ModelKind::Gru => "GRU",
    }
}

/// "GPT of 4 layers × 96, context 64".
fn describe(shape: &Shape) -> String {
    let layers = match shape.n_layer {
        1 => "1 layer".to_string(),
        n => format!("{n} layers"),
    };
    let width = if shape.model == ModelKind::Gpt {
        shape.n_embd
    } else {
        shape.heads_or_hidden
    };
    format!(
        "{} of {layers} × {width}, context {}",
        model_name(shape.model),
        shape.block_size
    )
}

/// "GPT of 4 layers × 96, context 64: about 2,300 steps fit in 1 minute here."
fn explain(shape: &Shape, steps: usize, seconds: f64, open_ended: bool) -> String {
    let what = describe(shape);
    if open_ended {
        return format!(
            "{what}: the size that learns most in half an hour here; it trains until you stop it."
        );
    }
    format!(
        "{what}: about {} steps fit in {} here.",
        thousands(round_steps(steps)),
        duration(seconds)
    )
}

/// "GPT of 3 layers × 96, context 64: about 1,000 steps (25 seconds here); more would only learn
/// this text by heart."
fn explain_early(shape: &Shape, steps: usize, seconds: f64) -> String {
    format!(
        "{}: about {} steps (about {} here); more would only learn this text by heart.",
        describe(shape),
        thousands(round_steps(steps)),
        duration(seconds.max(1.0))
    )
}

/// Two significant figures: an estimate should not read as exact.
fn round_steps(steps: usize) -> usize {
    let magnitude = 10usize.pow((steps.max(1) as f64).log10().floor() as u32);
    let unit = (magnitude / 10).max(1);
    (steps + unit / 2) / unit * unit
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn duration(seconds: f64) -> String {
    let minutes = seconds / 60.0;
    if minutes >= 1.0 && minutes.fract() == 0.0 {
        let m = minutes as usize;
        return if m == 1 {
            "1 minute".into()
        } else {
            format!("{m} minutes")
        };
    }
    format!("{} seconds", seconds.round())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::learning_rate_at;

    /// Every GPT shape measured at `ms(shape index)` ms per step.
    fn request(seconds: f64, train_tokens: usize, ms: impl Fn(usize) -> f64) -> BudgetRequest {
        let measured = shapes(ModelKind::Gpt)
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s.name, ms(i)))
            .collect();
        BudgetRequest {
            seconds,
            model: ModelKind::Gpt,
            train_tokens,
            measured,
        }
    }

    /// Roughly how this machine's tab ran them: each shape costs about 2.5× the one before.
    fn here(i: usize) -> f64 {
        12.0 * 2.5f64.powi(i as i32)
    }

    /// The GPT shapes measured so far: the first `count` at `ms(i)`.
    fn measured_so_far(seconds: f64, count: usize, ms: impl Fn(usize) -> f64) -> BudgetRequest {
        let mut request = request(seconds, 1_000_000, ms);
        let names: Vec<String> = shapes(ModelKind::Gpt).into_iter().map(|s| s.name).collect();
        request
            .measured
            .retain(|name, _| names[..count].contains(name));
        request
    }

    #[test]
    fn the_probe_skips_a_shape_that_cannot_beat_the_plan_even_as_fast_as_a_smaller_one() {
        // Chromium here, with a helper: 2 × 64 at 33 ms, 3 × 96 at 92 ms.
        let ms = |i: usize| [10.0, 33.0, 92.0, 192.0][i];
        let first = measured_so_far(60.0, 0, ms);
        assert!(
            worth_measuring(&first, "gpt-2x32").unwrap(),
            "nothing measured yet"
        );
        let two = measured_so_far(60.0, 2, ms);
        assert!(worth_measuring(&two, "gpt-3x96").unwrap());
        // In a minute, 4 × 128 at 92 ms or slower fits ~600 steps: worse than 2 × 64's ~1,700.
        let three = measured_so_far(60.0, 3, ms);
        assert!(!worth_measuring(&three, "gpt-4x128").unwrap());
        // In five minutes it fits ~3,100 at 92 ms: it may win, so it is timed.
        let three = measured_so_far(300.0, 3, ms);
        assert!(worth_measuring(&three, "gpt-4x128").unwrap());
        // A skipped shape never was the plan's choice: with it measured, the plan stays.
        let all = request(60.0, 1_000_000, ms);
        assert_eq!(
            plan(&all).unwrap(),
            plan(&measured_so_far(60.0, 3, ms)).unwrap()
        );
        let wrong = worth_measuring(&three, "lstm-1x128").unwrap_err();
        assert_eq!(wrong.kind, crate::error::ErrorKind::Argument);
    }

    #[test]
    fn the_same_measurements_and_budget_give_the_same_plan() {
        let a = plan(&request(60.0, 1_000_000, here)).unwrap();
        let b = plan(&request(60.0, 1_000_000, here)).unwrap();
        assert_eq!(a, b);
        // The steps that fit, less the overhead, at the chosen shape's measured speed.
        let ms = request(60.0, 1_000_000, here).measured[&a.shape];
        let expected = (60_000.0 * (1.0 - OVERHEAD) / ms) as usize;
        assert_eq!(a.config.max_steps, expected);
    }

    #[test]
    fn the_schedule_reaches_its_minimum_exactly_when_the_budget_ends() {
        let plan = plan(&request(60.0, 1_000_000, here)).unwrap();
        let config = &plan.config;
        let last = config.max_steps;
        assert!(learning_rate_at(config, last - 1) > config.min_learning_rate);
        assert!((learning_rate_at(config, last) - config.min_learning_rate).abs() < 1e-12);
        assert!(config.keep_best);
        assert!(
            config.validate(1_000_000, 65).is_empty(),
            "{:?}",
            config.validate(1_000_000, 65)
        );
        // The last step is evaluated (keep_best), and nine more along the way.
        assert_eq!(config.eval_interval, last / 10);
    }

    #[test]
    fn more_time_or_a_faster_device_never_picks_a_smaller_shape() {
        let index = |p: &BudgetPlan| SHAPES.iter().position(|s| s.name == p.shape).unwrap();
        let mut previous = 0;
        for seconds in [10.0, 60.0, 300.0, 1800.0] {
            let chosen = index(&plan(&request(seconds, 1_000_000, here)).unwrap());
            assert!(
                chosen >= previous,
                "{seconds} s chose {chosen} after {previous}"
            );
            previous = chosen;
        }
        let slow = index(&plan(&request(60.0, 1_000_000, |i| here(i) * 8.0)).unwrap());
        let fast = index(&plan(&request(60.0, 1_000_000, |i| here(i) / 8.0)).unwrap());
        assert!(fast >= slow, "fast {fast}, slow {slow}");
    }

    #[test]
    fn a_short_text_never_gets_a_larger_shape_than_a_long_one() {
        let index = |p: &BudgetPlan| SHAPES.iter().position(|s| s.name == p.shape).unwrap();
        for seconds in [60.0, 300.0] {
            let short = index(&plan(&request(seconds, 5_000, here)).unwrap());
            let long = index(&plan(&request(seconds, 1_000_000, here)).unwrap());
            assert!(
                short <= long,
                "{seconds} s: short text {short}, long {long}"
            );
        }
    }

    #[test]
    fn a_longer_budget_never_predicts_a_worse_model() {
        for tokens in [5_000, 18_000, 100_000, 1_000_000] {
            let mut previous = f32::INFINITY;
            for seconds in [10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0] {
                let plan = plan(&request(seconds, tokens, here)).unwrap();
                assert!(
                    plan.predicted_val_loss <= previous,
                    "{tokens} tokens, {seconds} s: {} after {previous}",
                    plan.predicted_val_loss
                );
                previous = plan.predicted_val_loss;
            }
        }
    }

    #[test]
    fn a_short_text_stops_where_more_steps_would_only_learn_it_by_heart() {
        // gpt-3x96 ends worse after 1,000 steps of the short text than after 250.
        let (steps, loss) = best_steps("gpt-3x96", 5_000, 18_000);
        assert_eq!(steps, 250);
        assert_eq!(loss, predict("gpt-3x96", 250, 18_000));
        let mut request = request(1800.0, 18_000, here);
        request.measured.retain(|name, _| name == "gpt-3x96");
        let plan = plan(&request).unwrap();
        let fit = (1_800_000.0 * (1.0 - OVERHEAD) / here(2)) as usize;
        assert!(
            plan.config.max_steps < fit,
            "{} of {fit}",
            plan.config.max_steps
        );
        assert!(plan.why.contains("by heart"), "{}", plan.why);
        // The schedule still ends where the run does.
        let last = plan.config.max_steps;
        assert_eq!(
            learning_rate_at(&plan.config, last),
            plan.config.min_learning_rate
        );
    }

    #[test]
    fn until_stopped_never_decays_and_never_ends() {
        let plan = plan(&request(0.0, 1_000_000, here)).unwrap();
        let config = &plan.config;
        assert_eq!(config.max_steps, crate::validate::MAX_STEPS);
        assert_eq!(config.min_learning_rate, config.learning_rate);
        assert!(plan.why.contains("until you stop"), "{}", plan.why);
    }

    #[test]
    fn the_plan_says_what_it_chose_in_words() {
        let plan = plan(&request(60.0, 1_000_000, |_| 25.0)).unwrap();
        assert!(plan.why.contains("fit in 1 minute here"), "{}", plan.why);
        assert!(plan.why.contains("about 2,300 steps"), "{}", plan.why);
        assert_eq!(round_steps(2280), 2300);
        assert_eq!(round_steps(87), 87);
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(duration(300.0), "5 minutes");
        assert_eq!(duration(45.0), "45 seconds");
    }

    #[test]
    fn a_bad_request_names_its_field() {
        let fields = |r: BudgetRequest| -> Vec<(String, Problem)> {
            plan(&r)
                .unwrap_err()
                .fields
                .into_iter()
                .map(|e| (e.field, e.kind))
                .collect()
        };
        let mut negative = request(-1.0, 1000, here);
        assert_eq!(
            fields(negative.clone()),
            [("seconds".into(), Problem::OutOfRange)]
        );
        negative.seconds = 60.0;
        negative.measured.clear();
        assert_eq!(fields(negative), [("measured".into(), Problem::OutOfRange)]);
        let mut lstm_shape = request(60.0, 1000, here);
        lstm_shape.measured.insert("lstm-1x128".into(), 10.0);
        assert_eq!(fields(lstm_shape), [("measured".into(), Problem::Unknown)]);
        let zero = request(60.0, 1000, |_| 0.0);
        assert!(fields(zero).iter().all(|f| f.1 == Problem::OutOfRange));
    }

    #[test]
    fn every_shape_was_swept_and_its_loss_falls_with_steps_on_the_long_text() {
        for shape in &SHAPES {
            let swept = SWEEP.iter().find(|s| s.shape == shape.name).unwrap();
            for points in [swept.long, swept.short] {
                assert!(points.len() >= 2, "{}", shape.name);
                for pair in points.windows(2) {
                    assert!(pair[0].0 < pair[1].0);
                }
            }
            // The short text may be learnt by heart (its loss then rises); the long one not.
            for pair in swept.long.windows(2) {
                assert!(pair[1].1 < pair[0].1, "{}: {pair:?}", shape.name);
            }
        }
        for model in [ModelKind::Gpt, ModelKind::Lstm, ModelKind::Gru] {
            for s in shapes(model) {
                assert!(s.config.validate(1_000_000, 65).is_empty(), "{}", s.name);
            }
        }
    }
}

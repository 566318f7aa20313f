//! `kindling train`: a new run from a text and a config, or a saved one continued, with a
//! progress bar, saved atomically at the end, on an error, and on Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use burn::tensor::Device;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::{load, read_text, write_atomically, BackendArgs};
use crate::config::{Config, PRESET_NAMES};
use crate::error::{Error, ErrorKind};
use crate::parallel::Alone;
use crate::session::Session;
use crate::train::Metrics;
use crate::{budget, checkpoint, Trainer};

/// Steps per call of `train_steps`: each call reads the loss back (a GPU sync), and Ctrl-C is
/// answered between calls.
const CHUNK: usize = 10;

#[derive(Args)]
pub struct TrainArgs {
    /// The text to learn from (UTF-8).
    #[arg(long, required_unless_present = "resume")]
    text: Option<PathBuf>,
    /// A named config to start from: tiny, baby-gpt, seed-lstm or gru.
    #[arg(long, default_value = "tiny")]
    preset: String,
    /// The kind of model, replacing the preset's.
    #[arg(long, value_parser = ["gpt", "lstm", "gru"])]
    model: Option<String>,
    /// A config field by the page's name, as often as needed: --set nEmbd=256 --set dropout=0.1
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Steps to train now. A new run also takes it as its length (maxSteps) unless --set
    /// gives one; a resumed run trains this many more.
    #[arg(long)]
    steps: Option<usize>,
    /// Train for this many seconds, as the page's "Train for" does: each budget shape of the
    /// model type is timed here for a few steps, and the one predicted to learn most in the
    /// time left trains with a schedule that ends with it (src/budget.rs).
    #[arg(long, conflicts_with_all = ["resume", "steps", "shape"])]
    budget: Option<f64>,
    /// A budget's shape by name (gpt-3x96, lstm-1x128, ...: src/budget.rs) with the budget's
    /// settings for --steps steps, in place of the preset's.
    #[arg(long, requires = "steps", conflicts_with_all = ["resume", "model"])]
    shape: Option<String>,
    /// A saved model to continue: its text, config, optimizer and step.
    #[arg(long, conflicts_with_all = ["text", "model", "set"])]
    resume: Option<PathBuf>,
    /// Where to save the model (written whole or not at all).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    backend: BackendArgs,
}

pub fn run(args: TrainArgs) -> Result<ExitCode, Error> {
    let placement = args.backend.placement()?;
    let device = placement.device.clone();
    let trainer = match &args.resume {
        Some(path) => load(path, device)?,
        None => new_run(&args, device)?,
    };
    let mut session = Session::new(trainer, placement);
    let trainer = session.trainer();
    let target = match (args.steps, &args.resume) {
        (Some(steps), Some(_)) => trainer.step() + steps,
        (Some(steps), None) => steps,
        (None, _) => trainer.config.max_steps,
    };
    if target <= trainer.step() {
        return Err(Error::argument(format!(
            "the model is already at step {} of its {} (maxSteps): pass --steps N to train N more",
            trainer.step(),
            trainer.config.max_steps
        )));
    }
    let interrupted = on_interrupt()?;
    let (first_step, started) = (trainer.step(), std::time::Instant::now());
    let bar = progress_bar(trainer.step(), target);
    let mut failure = None;
    let mut notice = None;
    while session.trainer().step() < target && !interrupted.load(Ordering::SeqCst) {
        let steps = CHUNK.min(target - session.trainer().step());
        match pollster::block_on(session.train(steps as f64, None::<&mut Alone>)) {
            Ok(trained) => {
                if trained.notice.is_some() && trained.notice != notice {
                    notice = trained.notice;
                    say(
                        &bar,
                        format!("kindling: {}", notice.as_deref().unwrap_or_default()),
                    );
                }
                show(&bar, session.trainer(), &trained.metrics);
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    bar.finish_and_clear();
    let trainer = session.trainer();
    let (steps, seconds) = (trainer.step() - first_step, started.elapsed().as_secs_f64());
    if steps > 0 {
        let per_step = 1000.0 * seconds / steps as f64;
        eprintln!("{steps} steps in {seconds:.1} s: {per_step:.1} ms/step");
    }
    save(trainer, &args)?;
    let step = trainer.step();
    let out = args.out.display();
    if let Some(error) = failure {
        return Err(Error {
            message: format!("{} (step {step} saved to {out})", error.message),
            ..error
        });
    }
    if interrupted.load(Ordering::SeqCst) {
        eprintln!("interrupted: step {step} saved to {out}");
        return Ok(ExitCode::from(130));
    }
    eprintln!("step {step} saved to {out}");
    Ok(ExitCode::SUCCESS)
}

fn new_run(args: &TrainArgs, device: Device) -> Result<Trainer, Error> {
    let path = args
        .text
        .as_ref()
        .expect("clap requires --text without --resume");
    let text = read_text(path)?;
    let config = match args.budget {
        Some(seconds) => budget_config(seconds, config(args)?, &text, &device)?,
        None => config(args)?,
    };
    Trainer::new(text, config, device)
}

/// Steps each probe takes before it is timed (the first compile and allocate), and timed.
const PROBE_WARMUP: usize = 2;
const PROBE_TIMED: usize = 5;

/// The budget's plan for `seconds` on this machine, for `asked`'s model type, tokenizer and
/// seed: the page's flow (www/worker/budget-probe.js) with the probe's own time taken off.
fn budget_config(
    seconds: f64,
    asked: Config,
    text: &str,
    device: &Device,
) -> Result<Config, Error> {
    let started = std::time::Instant::now();
    let keep = |config: Config| Config {
        tokenizer: asked.tokenizer,
        merges: asked.merges,
        seed: asked.seed,
        ..config
    };
    let left = || {
        if seconds == 0.0 {
            0.0
        } else {
            (seconds - started.elapsed().as_secs_f64()).max(1.0)
        }
    };
    let mut request = budget::BudgetRequest {
        seconds: left(),
        model: asked.model,
        train_tokens: 0,
        measured: std::collections::BTreeMap::new(),
    };
    for shape in budget::shapes(asked.model) {
        request.seconds = left();
        if !budget::worth_measuring(&request, &shape.name)? {
            eprintln!(
                "kindling: {} cannot beat the shapes timed so far",
                shape.name
            );
            continue;
        }
        let mut probe = Trainer::new(text.to_string(), keep(shape.config), device.clone())?;
        request.train_tokens = probe.data().train.len();
        pollster::block_on(probe.train_steps(PROBE_WARMUP))?;
        let timed = std::time::Instant::now();
        pollster::block_on(probe.train_steps(PROBE_TIMED))?;
        let ms = timed.elapsed().as_secs_f64() * 1000.0 / PROBE_TIMED as f64;
        eprintln!("kindling: {} takes {ms:.1} ms a step here", shape.name);
        request.measured.insert(shape.name, ms);
    }
    request.seconds = left();
    let plan = budget::plan(&request)?;
    eprintln!("kindling: {}", plan.why);
    Ok(keep(plan.config))
}

/// The preset with `--model`, `--set` and `--steps` applied, through the same serde names and
/// validation as the page's config.
fn config(args: &TrainArgs) -> Result<Config, Error> {
    let preset = match &args.shape {
        Some(name) => {
            let steps = args.steps.expect("clap requires --steps with --shape");
            budget::shape_config(name, steps).ok_or_else(|| {
                Error::argument(format!(
                    "there is no budget shape {name:?}: see src/budget.rs's SHAPES"
                ))
            })?
        }
        None => Config::preset(&args.preset).ok_or_else(|| {
            Error::argument(format!(
                "there is no preset {:?}: choose one of {}",
                args.preset,
                PRESET_NAMES.join(", ")
            ))
        })?,
    };
    let Value::Object(mut fields) = serde_json::to_value(&preset).expect("configs serialize")
    else {
        unreachable!("a config serializes as an object")
    };
    if let Some(model) = &args.model {
        fields.insert("model".into(), Value::String(model.clone()));
    }
    if let (Some(steps), None) = (args.steps, &args.shape) {
        // As for a fine-tune (`validate::fine_tune_config`): a short run keeps its warmup to a
        // tenth of it, or tiny's 20 warmup steps would refuse `--steps 10`. `--set` may say
        // otherwise.
        let warmup = preset.warmup_steps.min(steps / 10);
        fields.insert("maxSteps".into(), steps.into());
        fields.insert("warmupSteps".into(), warmup.into());
    }
    for setting in &args.set {
        let (name, value) = setting.split_once('=').ok_or_else(|| {
            Error::argument(format!(
                "--set {setting}: write FIELD=VALUE, e.g. --set nEmbd=256"
            ))
        })?;
        if !fields.contains_key(name) {
            let names: Vec<&str> = fields.keys().map(String::as_str).collect();
            return Err(Error::argument(format!(
                "--set {name}: there is no such config field; the fields are {}",
                names.join(", ")
            )));
        }
        // Numbers and booleans as JSON; anything else (gpt, bpe) as a string.
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
        fields.insert(name.into(), value);
        // Checked one at a time, so the message can say which setting is wrong.
        serde_json::from_value::<Config>(Value::Object(fields.clone()))
            .map_err(|e| Error::new(ErrorKind::Config, format!("--set {setting}: {e}")))?;
    }
    serde_json::from_value(Value::Object(fields))
        .map_err(|e| Error::new(ErrorKind::Config, format!("the config: {e}")))
}

/// A flag set by the first Ctrl-C; a second one exits at once.
fn on_interrupt() -> Result<Arc<AtomicBool>, Error> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    ctrlc::set_handler(move || {
        if set.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\nstopping after this step to save the model (Ctrl-C again quits without saving)"
        );
    })
    .map_err(|e| Error::device(format!("cannot listen for Ctrl-C: {e}")))?;
    Ok(flag)
}

fn progress_bar(step: usize, target: usize) -> ProgressBar {
    let bar = ProgressBar::new(target as u64).with_position(step as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} step {pos}/{len} · {msg} · ETA {eta}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}

/// Updates the bar; an evaluation also gets a line of its own.
fn show(bar: &ProgressBar, trainer: &Trainer, metrics: &Metrics) {
    bar.set_position(metrics.step as u64);
    bar.set_message(format!(
        "train {:.4} · {:.0} tok/s",
        metrics.train_loss, metrics.tokens_per_second
    ));
    if let Some(val) = metrics.val_loss {
        let line = format!(
            "step {}: train {:.4} · val {val:.4} ({:.3} bits/char)",
            metrics.step,
            metrics.train_loss,
            trainer.bits_per_char(val)
        );
        say(bar, line);
    }
}

/// A line above the bar, or alone when stderr is not a terminal and the bar is hidden.
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

fn save(trainer: &Trainer, args: &TrainArgs) -> Result<(), Error> {
    let bytes = pollster::block_on(checkpoint::save(trainer))?;
    write_atomically(&args.out, &bytes)
}

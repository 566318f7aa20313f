//! A model being trained in this tab and where it runs: the rules between what a page asks
//! for and the trainer. Which backend (`prefer-webgpu` falls back to the CPU with a notice), moving to
//! the CPU when the GPU is lost mid-training, helpers only on the CPU, the bound on steps per
//! call, and generation's defaults. The wasm-bindgen layer (`web`) only converts to and from
//! JS; everything here is tested natively (tests/native/session.rs).

use std::future::Future;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::budget;
use crate::checkpoint::SaveOptions;
use crate::device::{self, Backend};
use crate::error::{Error, ErrorKind, FieldError, Problem};
use crate::inspect::{self, InspectOptions, Inspection};
use crate::model::lora::{self, ParameterSplit};
use crate::model::LanguageModel;
use crate::parallel::{Alone, Helpers, Shard, ShardGradients};
use crate::params::copy_module;
use crate::sample::{self, Generator, SamplingOptions};
use crate::tokenizer::Segment;
use crate::train::{Metrics, Trainer};
use crate::validate;
use crate::{checkpoint, Config, PRESET_NAMES};

/// More workers than this never share a step (a batch is split among them).
const MAX_SHARDS: usize = 64;
/// How much of the training text `warm_up` prompts with.
const WARM_UP_PROMPT_CHARS: usize = 16;

/// Which backend a caller asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// WebGPU when the browser has it, else the CPU with a notice: `"prefer-webgpu"`, the
    /// default. Not `"auto"`: that is the playground element's, which measures both.
    PreferWebGpu,
    Cpu,
    /// WebGPU or an error.
    WebGpu,
    /// A compute peer's device, or an error (`peer`: the address `kindling peer` printed;
    /// builds with `remote-client` only; docs/remote.md).
    Remote {
        peer: String,
        secret: String,
    },
}

/// The backend part of the options: `backend` (with `peer` and `secret` for `remote`), and
/// `debugFailWebgpu`, which makes WebGPU fail to start so the fallback can be tested in a
/// browser that has WebGPU.
#[derive(Clone, Debug)]
pub struct BackendRequest {
    pub choice: BackendChoice,
    pub fail_webgpu: bool,
}

impl BackendRequest {
    /// Takes `backend`, `peer`, `secret` and `debugFailWebgpu` out of `options`.
    pub fn take(options: &mut Map<String, Value>) -> Result<Self, Error> {
        let peer = take_peer_field(options, "peer")?;
        let secret = take_peer_field(options, "secret")?;
        let choice = match options.remove("backend") {
            None => BackendChoice::PreferWebGpu,
            Some(Value::String(name)) if name == "prefer-webgpu" => BackendChoice::PreferWebGpu,
            Some(Value::String(name)) if name == "auto" => {
                return Err(FieldError::new(
                    "backend",
                    Problem::Unknown,
                    "backend \"auto\" is the playground element's, which measures where training runs \
                     faster; the engine takes \"prefer-webgpu\" (the default: WebGPU when the browser \
                     has it, else the CPU), \"cpu\", \"webgpu\" or \"remote\"",
                )
                .into())
            }
            Some(Value::String(name)) if name == "cpu" => BackendChoice::Cpu,
            Some(Value::String(name)) if name == "webgpu" => BackendChoice::WebGpu,
            Some(Value::String(name)) if name == "remote" => {
                let missing = |field: &str| {
                    let message = format!(
                        "backend \"remote\" needs the peer's {field}, as `kindling peer --transport iroh` printed it"
                    );
                    FieldError::new(field, Problem::WrongType, message)
                };
                BackendChoice::Remote {
                    peer: peer.ok_or_else(|| missing("peer"))?,
                    secret: secret.ok_or_else(|| missing("secret"))?,
                }
            }
            Some(other) => {
                return Err(FieldError::new(
                    "backend",
                    Problem::Unknown,
                    format!(
                        "unknown backend {other}: use \"prefer-webgpu\", \"cpu\", \"webgpu\" or \"remote\""
                    ),
                )
                .into())
            }
        };
        let fail_webgpu = options.remove("debugFailWebgpu") == Some(Value::Bool(true));
        Ok(BackendRequest {
            choice,
            fail_webgpu,
        })
    }
}

/// `field` (a string; empty counts as absent) out of `options`, if there.
fn take_peer_field(options: &mut Map<String, Value>, field: &str) -> Result<Option<String>, Error> {
    match options.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => {
            Ok(Some(value.trim().to_string()).filter(|value| !value.is_empty()))
        }
        Some(_) => {
            let message = format!("{field} must be a string: the peer's {field}");
            Err(FieldError::new(field, Problem::WrongType, message).into())
        }
    }
}

/// What `create` and `validate` take apart: the text, the backend and the config (or why
/// there is none).
pub struct Request {
    pub text: String,
    pub backend: BackendRequest,
    pub config: Result<Config, Error>,
}

impl Request {
    /// `options`: `text`, `preset`, `backend` and any config field.
    pub fn parse(mut options: Map<String, Value>) -> Result<Self, Error> {
        let text = take_text(&mut options)?;
        let backend = BackendRequest::take(&mut options)?;
        let preset = match options.remove("preset") {
            Some(Value::String(preset)) => Some(preset),
            None => None,
            Some(_) => {
                let message = format!("preset must be one of {}", PRESET_NAMES.join(", "));
                return Err(FieldError::new("preset", Problem::WrongType, message).into());
            }
        };
        Ok(Request {
            text,
            backend,
            config: validate::config(preset.as_deref(), &options),
        })
    }
}

/// Takes `text` (a string; absent: empty) out of `options`.
fn take_text(options: &mut Map<String, Value>) -> Result<String, Error> {
    match options.remove("text") {
        Some(Value::String(text)) => Ok(text),
        None => Ok(String::new()),
        Some(_) => Err(FieldError::new("text", Problem::WrongType, "text must be a string").into()),
    }
}

/// Where a model runs, and what the page should know about that choice.
pub struct Placement {
    pub device: burn::tensor::Device,
    pub backend: Backend,
    pub adapter: Option<String>,
    pub notice: Option<String>,
}

impl Placement {
    /// `device` (with autodiff) of `backend`, which calls itself `adapter`.
    pub fn on(device: burn::tensor::Device, backend: Backend, adapter: String) -> Self {
        Placement {
            device,
            backend,
            adapter: Some(adapter),
            notice: None,
        }
    }

    pub fn cpu(notice: Option<String>) -> Self {
        Placement {
            device: device::cpu(),
            backend: Backend::Cpu,
            adapter: None,
            notice,
        }
    }
}

/// Places a model as `request` asks, starting the GPU with `gpu` only if it may be used.
pub async fn place_with<F>(
    request: BackendRequest,
    gpu: impl FnOnce() -> F,
) -> Result<Placement, Error>
where
    F: Future<Output = Result<Placement, Error>>,
{
    match &request.choice {
        BackendChoice::Cpu => return Ok(Placement::cpu(None)),
        BackendChoice::Remote { peer, secret } => return remote_placement(peer, secret).await,
        BackendChoice::PreferWebGpu | BackendChoice::WebGpu => {}
    }
    let gpu = if request.fail_webgpu {
        Err(Error::device(
            "initialization failed on purpose (debugFailWebgpu)",
        ))
    } else {
        gpu().await
    };
    // Whatever kind the GPU's error had, the caller learns that WebGPU is unavailable.
    match (gpu, request.choice) {
        (Ok(placement), _) => Ok(placement),
        (Err(error), BackendChoice::WebGpu) => Err(Error::new(
            ErrorKind::WebgpuUnavailable,
            format!(
                "WebGPU is not available: {}. Use backend \"cpu\" or \"prefer-webgpu\"",
                error.message
            ),
        )),
        (Err(error), _) => Ok(Placement::cpu(Some(format!(
            "WebGPU is not available ({}); training on the CPU",
            error.message
        )))),
    }
}

/// Places a model on this build's GPU or the CPU. A build without WebGPU says nothing about
/// it when `prefer-webgpu` lands on the CPU: there was nothing else to choose.
pub async fn place(request: BackendRequest) -> Result<Placement, Error> {
    if !cfg!(feature = "webgpu") && request.choice == BackendChoice::PreferWebGpu {
        return Ok(Placement::cpu(None));
    }
    place_with(request, gpu_placement).await
}

/// Connects to the compute peer `options` names (`peer`, `secret`) without making a model,
/// as a page checks a peer before its first model; the peer's device name.
pub async fn reach_peer(mut options: Map<String, Value>) -> Result<String, Error> {
    options.insert("backend".into(), Value::String("remote".into()));
    let placement = place(BackendRequest::take(&mut options)?).await?;
    Ok(placement.adapter.unwrap_or_default())
}

/// The device of the peer at `peer`, named as the peer declares it.
#[cfg(feature = "remote-client")]
async fn remote_placement(peer: &str, secret: &str) -> Result<Placement, Error> {
    let address: crate::remote::PeerAddress = peer.parse()?;
    let device = crate::remote::connect(&address, secret).await?;
    Ok(Placement::on(device, Backend::Remote, address.device()))
}

#[cfg(not(feature = "remote-client"))]
async fn remote_placement(_: &str, _: &str) -> Result<Placement, Error> {
    Err(Error::new(
        ErrorKind::PeerUnreachable,
        "this build of Kindling has no remote client: backend \"remote\" needs pkg-remote/",
    ))
}

#[cfg(feature = "webgpu")]
async fn gpu_placement() -> Result<Placement, Error> {
    let gpu = crate::gpu::gpu().await?;
    Ok(Placement::on(
        gpu.device.clone(),
        Backend::WebGpu,
        gpu.adapter.clone(),
    ))
}

#[cfg(not(feature = "webgpu"))]
async fn gpu_placement() -> Result<Placement, Error> {
    Err(Error::device("this build of Kindling has no WebGPU"))
}

/// What one `train` call reports: the trainer's metrics and, when the backend changed or fell
/// back, a sentence about it.
#[derive(Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Trained {
    #[serde(flatten)]
    pub metrics: Metrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// The shapes a training budget for `model` ("gpt", "lstm" or "gru") chooses among, each to be
/// measured for a few steps on this device before `plan_budget`.
pub fn budget_shapes(model: &str) -> Result<Vec<budget::BudgetShape>, Error> {
    let kind = serde_json::from_value(Value::String(model.to_string())).map_err(|_| {
        Error::argument(format!(
            "\"{model}\" is not a kind of model: use \"gpt\", \"lstm\" or \"gru\""
        ))
    })?;
    Ok(budget::shapes(kind))
}

/// The shape and schedule that fit a budget (`budget::BudgetRequest` as JSON fields).
pub fn plan_budget(request: Map<String, Value>) -> Result<budget::BudgetPlan, Error> {
    budget::plan(&budget_request(request)?)
}

/// Whether the budget probe should time shape `name`, given what it measured so far
/// (`budget::worth_measuring`).
pub fn budget_worth_measuring(request: Map<String, Value>, name: &str) -> Result<bool, Error> {
    budget::worth_measuring(&budget_request(request)?, name)
}

fn budget_request(request: Map<String, Value>) -> Result<budget::BudgetRequest, Error> {
    serde_json::from_value(Value::Object(request)).map_err(|e| {
        Error::argument(format!(
            "a budget request is {{ seconds, model, trainTokens, measured }}: {e}"
        ))
    })
}

/// What sampling with `options` makes of `logits` (see `sample::sampling_distribution`), as
/// `f32`s; `logits` must hold one number per token, finite or -∞ for a token that cannot be
/// drawn (`Tokenizer::mask_invalid`), at least one finite.
pub fn sampling_distribution(logits: &[f32], options: &SamplingOptions) -> Result<Vec<f32>, Error> {
    let drawable = |l: &f32| l.is_finite() || *l == f32::NEG_INFINITY;
    if !logits.iter().all(drawable) || !logits.iter().any(|l| l.is_finite()) {
        return Err(Error::argument(
            "logits must be one number per token, finite or -Infinity for a token that cannot be drawn, at least one finite (an inspection's nextLogits)",
        ));
    }
    let errors = options.validate();
    if !errors.is_empty() {
        return Err(errors.into());
    }
    Ok(sample::sampling_distribution(logits, options)
        .into_iter()
        .map(|p| p as f32)
        .collect())
}

/// A model being trained, and where.
pub struct Session {
    trainer: Trainer,
    backend: Backend,
    adapter: Option<String>,
    notice: Option<String>,
    /// On a GPU: the weights of the last completed chunk, on the CPU, and its step, to carry on
    /// with if the GPU is lost (its memory cannot be read any more then).
    cpu_weights: Option<(LanguageModel, usize)>,
    /// Tests only: the next chunk fails as on a lost GPU (see `simulate_device_loss`).
    device_lost: bool,
}

impl Session {
    pub fn new(trainer: Trainer, placement: Placement) -> Self {
        Session {
            trainer,
            backend: placement.backend,
            adapter: placement.adapter,
            notice: placement.notice,
            cpu_weights: None,
            device_lost: false,
        }
    }

    /// A new model from `options` (see `Request::parse`).
    pub async fn create(options: Map<String, Value>) -> Result<Self, Error> {
        let request = Request::parse(options)?;
        let config = request.config?;
        let placement = place(request.backend).await?;
        let trainer = Trainer::new(request.text, config, placement.device.clone())?;
        Ok(Session::new(trainer, placement))
    }

    /// A model saved by `checkpoint::save`, placed as `options` (`backend`) ask.
    pub async fn open(bytes: &[u8], mut options: Map<String, Value>) -> Result<Self, Error> {
        let placement = place(BackendRequest::take(&mut options)?).await?;
        let trainer = checkpoint::load(bytes, placement.device.clone())?;
        Ok(Session::new(trainer, placement))
    }

    /// A new run that fine-tunes the model saved in `bytes` on `options.text`: the base's
    /// weights, shape and tokenizer, its training settings unless `options` change them
    /// (`validate::fine_tune_config`), placed as `options.backend` asks.
    pub async fn fine_tune(bytes: &[u8], mut options: Map<String, Value>) -> Result<Self, Error> {
        let text = take_text(&mut options)?;
        let placement = place(BackendRequest::take(&mut options)?).await?;
        let base = checkpoint::load(bytes, placement.device.clone())?;
        let config = validate::fine_tune_config(&base.config, &options)?;
        let trainer = Trainer::fine_tune(base, text, config)?;
        Ok(Session::new(trainer, placement))
    }

    pub fn trainer(&self) -> &Trainer {
        &self.trainer
    }

    /// How the tokenizer cuts the start of `text`, at most `max_chars` characters (default
    /// 10,000): for showing token boundaries.
    pub fn tokenize(&self, text: &str, max_chars: Option<f64>) -> Result<Vec<Segment>, Error> {
        let max_chars = match max_chars {
            Some(n) => validate::whole("maxChars", n, 1, validate::MAX_SEGMENT_CHARS)?,
            None => 10_000,
        };
        Ok(self.trainer.tokenizer.segments(text, max_chars))
    }

    /// Trainable and frozen parameters, and the memory each needs while training.
    pub fn parameters(&self) -> ParameterSplit {
        lora::split(self.trainer.model())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn adapter(&self) -> Option<&str> {
        self.adapter.as_deref()
    }

    /// A sentence about the backend choice worth showing (fallback to the CPU, lost GPU).
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Runs `steps` (a whole number from 1 to `validate::MAX_STEPS_PER_CALL`, as JS sends it)
    /// training steps. `helpers` share the work on the CPU only: a GPU does a step at once. If
    /// the GPU is lost, training moves to the CPU from the last completed chunk and says so.
    /// Moves the end of the schedule to `max_steps` (see `Trainer::retarget`).
    pub fn retarget(&mut self, max_steps: f64) -> Result<(), Error> {
        let max_steps = validate::whole("maxSteps", max_steps, 1, validate::MAX_STEPS)?;
        self.trainer.retarget(max_steps)
    }

    pub async fn train<H: Helpers>(
        &mut self,
        steps: f64,
        helpers: Option<&mut H>,
    ) -> Result<Trained, Error> {
        let steps = validate::steps(steps)?;
        let result = match helpers {
            Some(helpers) if self.backend == Backend::Cpu => {
                self.trainer.train_steps_with(steps, helpers).await
            }
            _ => self.trainer.train_steps_with(steps, &mut Alone).await,
        };
        // As when the device goes while the chunk's results are read back: its steps were
        // counted, its weights are gone.
        let result = if std::mem::take(&mut self.device_lost) {
            result.and(Err(Error::device("the device was lost (simulated)")))
        } else {
            result
        };
        // A chunk whose weights cannot be read back failed too: its steps are done again on
        // the CPU from the last weights that were.
        let result = match result {
            Ok(metrics) if self.backend != Backend::Cpu => {
                let weights = copy_module(self.trainer.model(), &device::cpu()).await;
                weights.map(|weights| {
                    self.cpu_weights = Some((weights, self.trainer.step()));
                    metrics
                })
            }
            other => other,
        };
        let metrics = match result {
            Err(error) if error.kind == ErrorKind::Device && self.backend != Backend::Cpu => {
                self.fall_back_to_cpu(&error.message)?;
                self.trainer.train_steps(steps).await
            }
            other => other,
        }?;
        Ok(Trained {
            metrics,
            notice: self.notice.clone(),
        })
    }

    /// Tests only: the next `train` call fails once its chunk has run, as it would on a GPU lost
    /// mid-chunk (the browser tests destroy a real WebGPU device instead; see
    /// `Kindling.debugLoseGpu`).
    #[doc(hidden)]
    pub fn simulate_device_loss(&mut self) {
        self.device_lost = true;
    }

    /// Moves training to the CPU with the weights of the last completed chunk.
    fn fall_back_to_cpu(&mut self, reason: &str) -> Result<(), Error> {
        let device = match self.backend {
            Backend::Remote => "compute peer",
            Backend::Cpu | Backend::WebGpu | Backend::Cuda => "GPU",
        };
        let (weights, step) = self.cpu_weights.take().ok_or_else(|| {
            Error::device(format!(
                "the {device} failed before any step completed ({reason}): create the model again"
            ))
        })?;
        self.trainer = self.trainer.continue_on(weights, step, device::cpu());
        self.backend = Backend::Cpu;
        self.adapter = None;
        // A peer's reason is burn's error chain over several lines; its first says enough.
        let reason = reason.lines().next().unwrap_or(reason);
        self.notice = Some(format!(
            "The {device} was lost ({reason}); training moved to the CPU and continues from step {}",
            self.trainer.step()
        ));
        Ok(())
    }

    /// A token stream continuing `prompt`. Seed 0 (the default) means a fresh sample on every
    /// call, as a person pressing Generate again expects: `fresh_seed` gives one. An empty
    /// prompt starts from the tokenizer's start token. Characters the model never saw are
    /// skipped (an "unknown" id would feed it a token it never learned); the second value
    /// names them.
    pub fn generate(
        &self,
        prompt: &str,
        mut options: SamplingOptions,
        fresh_seed: impl FnOnce() -> u64,
    ) -> Result<(Generator, Option<String>), Error> {
        let errors = options.validate();
        if !errors.is_empty() {
            return Err(errors.into());
        }
        if options.seed == 0 {
            options.seed = fresh_seed().max(1);
        }
        let tokenizer = &self.trainer.tokenizer;
        let encoded = tokenizer.encode(prompt);
        let mut ids = encoded.ids.clone();
        if ids.is_empty() {
            ids.push(tokenizer.start_id());
        }
        Ok((self.trainer.generator(ids, options), encoded.warning()))
    }

    /// Generates a few tokens from the start of the training text and drops them; changes
    /// nothing (no step, no random stream). Why: V8 compiles each wasm function at its first
    /// call, so a fresh page's first `generate` paid ~25 ms compiling the generation path
    /// before its first token (bench/profile-browser.mjs --mode generate); the binding calls
    /// this as it makes a model, so that cost lands there. CPU only: on a GPU the first
    /// token's cost is shader compilation, which is not worth moving.
    pub async fn warm_up(&self) -> Result<(), Error> {
        if self.backend != Backend::Cpu {
            return Ok(());
        }
        // A prompt of several tokens and two tokens after it: the prompt's matmuls (several
        // rows) and each new token's (one row) take different kernels.
        let prompt: String = self
            .trainer
            .text
            .chars()
            .take(WARM_UP_PROMPT_CHARS)
            .collect();
        let options = SamplingOptions {
            max_tokens: 2,
            seed: 1,
            ..SamplingOptions::default()
        };
        let (mut generator, _) = self.generate(&prompt, options, || 1)?;
        while generator.next().await?.is_some() {}
        Ok(())
    }

    /// What happens inside the model as it reads `text` (see `inspect::inspect`), from a
    /// snapshot of the current weights.
    pub async fn inspect(&self, text: &str, options: InspectOptions) -> Result<Inspection, Error> {
        let errors = options.validate();
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let trainer = &self.trainer;
        let device = trainer.device().clone().inner();
        let model = trainer.inference_model();
        inspect::inspect(&model, &trainer.tokenizer, text, &options, &device).await
    }

    /// A helper's part of another worker's step (see `Trainer::shard_gradients`): rows `rank`
    /// of `count` shards of step `step`, numbers as JS sends them.
    pub async fn shard_gradients(
        &mut self,
        step: f64,
        rank: f64,
        count: f64,
        weights: &[f32],
    ) -> Result<ShardGradients, Error> {
        let step = validate::whole("step", step, 0, validate::MAX_STEPS)?;
        let shard = Shard {
            rank: validate::whole("rank", rank, 0, MAX_SHARDS - 1)?,
            count: validate::whole("count", count, 1, MAX_SHARDS)?,
        };
        self.trainer.shard_gradients(step, shard, weights).await
    }

    /// The model as bytes that open on either backend: everything needed to continue
    /// later, unless `options` leave something out.
    pub async fn save(&self, options: SaveOptions) -> Result<Vec<u8>, Error> {
        checkpoint::save_with(&self.trainer, options).await
    }
}

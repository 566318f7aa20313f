//! The wasm-bindgen layer and nothing else: JS values in, engine calls out, errors back as JS
//! `Error`s whose message a person can act on.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use js_sys::{Array, Float32Array, Function, Object, Promise, Reflect, Uint8Array};
use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::config::{self, Config, ConfigError, PRESET_NAMES};
use crate::device::Backend;
use crate::model::LanguageModel;
use crate::parallel::{Helpers, Shard, ShardGradients};
use crate::sample::{Generator, SamplingOptions};
use crate::tokenizer::Tokenizer;
use crate::train::{TrainError, Trainer};
use crate::{checkpoint, device};

unsafe extern "C" {
    fn __wasm_call_ctors();
}

/// cubecl registers its kernels through `inventory`, i.e. wasm constructors. When a module has
/// constructors, the linker makes every exported function run `__wasm_call_ctors` on entry,
/// including wasm-bindgen's externref helpers that WebGPU calls constantly: steady training
/// steps become ~40x slower. Calling the constructors once ourselves (the linker then skips
/// them) avoids that. Called from `start` and every static entry point, because
/// wasm-bindgen-test never calls `start`.
fn run_constructors_once() {
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::SeqCst) {
        // SAFETY: the linker-provided constructor list, run exactly once.
        unsafe { __wasm_call_ctors() };
    }
}

#[wasm_bindgen(start)]
pub fn start() {
    run_constructors_once();
    // Without this a Rust panic shows up as a bare "unreachable executed".
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("Kindling crashed: {info}").into());
    }));
}

fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("engine values always serialize")
}

fn error(message: impl AsRef<str>) -> JsValue {
    JsError::new(message.as_ref()).into()
}

/// An `Error` whose message lists every problem and whose `errors` property holds them as
/// `{ field, message }` objects, so a form can put each next to its field.
fn config_error(errors: &[ConfigError]) -> JsValue {
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    let js = error(messages.join("; "));
    let _ = Reflect::set(&js, &"errors".into(), &to_js(&errors));
    js
}

/// The options object as JSON. Non-finite numbers, which JSON cannot hold, become their text so
/// that validation names them ("must be a finite number (got \"NaN\")").
fn options_map(options: &JsValue) -> Result<Map<String, Value>, JsValue> {
    let mut map = Map::new();
    if options.is_undefined() || options.is_null() {
        return Ok(map);
    }
    if !options.is_object() {
        return Err(error("options must be an object, like { text, preset }"));
    }
    for entry in Object::entries(options.unchecked_ref()).iter() {
        let entry: js_sys::Array = entry.unchecked_into();
        let key = entry.get(0).as_string().unwrap_or_default();
        let value = entry.get(1);
        let json = if let Some(n) = value.as_f64() {
            number(n)
        } else if let Some(s) = value.as_string() {
            Value::String(s)
        } else if let Some(b) = value.as_bool() {
            Value::Bool(b)
        } else if value.is_undefined() || value.is_null() {
            continue;
        } else {
            return Err(error(format!(
                "{key} must be a number, a string or true/false"
            )));
        };
        map.insert(key, json);
    }
    Ok(map)
}

/// JS has only doubles; whole ones become JSON integers so they fit integer fields.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or_else(|| Value::String(n.to_string()), Value::Number)
    }
}

/// What `create` and `validate` take apart: the text, the backend and the config.
struct Request {
    text: String,
    backend: BackendRequest,
    config: Result<Config, Vec<ConfigError>>,
}

fn request(options: &JsValue) -> Result<Request, JsValue> {
    let mut map = options_map(options)?;
    let text = match map.remove("text") {
        Some(Value::String(text)) => text,
        None => String::new(),
        Some(_) => return Err(error("text must be a string")),
    };
    let backend = backend_request(&mut map)?;
    let preset = match map.remove("preset") {
        Some(Value::String(preset)) => Some(preset),
        None => None,
        Some(_) => {
            return Err(error(format!(
                "preset must be one of {}",
                PRESET_NAMES.join(", ")
            )))
        }
    };
    Ok(Request {
        text,
        backend,
        config: config::resolve(preset.as_deref(), &map),
    })
}

/// Which backend the caller asked for. `debugFailWebgpu` makes WebGPU initialization fail,
/// so the CPU fallback can be tested in a browser that has WebGPU.
struct BackendRequest {
    name: String,
    fail_webgpu: bool,
}

fn backend_request(map: &mut Map<String, Value>) -> Result<BackendRequest, JsValue> {
    let name = match map.remove("backend") {
        Some(Value::String(name)) if ["auto", "cpu", "webgpu"].contains(&name.as_str()) => name,
        None => "auto".to_string(),
        Some(other) => {
            return Err(error(format!(
                "unknown backend {other}: use \"auto\", \"cpu\" or \"webgpu\""
            )))
        }
    };
    let fail_webgpu = map.remove("debugFailWebgpu") == Some(Value::Bool(true));
    Ok(BackendRequest { name, fail_webgpu })
}

/// Where a model runs, and what the page should know about that choice.
struct Placement {
    device: burn::tensor::Device,
    backend: Backend,
    adapter: Option<String>,
    notice: Option<String>,
}

/// `cpu` is the CPU; `webgpu` is WebGPU or an error; `auto` is WebGPU when the browser has
/// it, else the CPU with a one-line notice.
async fn place(request: &BackendRequest) -> Result<Placement, JsValue> {
    let on_cpu = |notice| Placement {
        device: device::cpu(),
        backend: Backend::Cpu,
        adapter: None,
        notice,
    };
    if request.name == "cpu" {
        return Ok(on_cpu(None));
    }
    if !cfg!(feature = "webgpu") && request.name == "auto" {
        return Ok(on_cpu(None));
    }
    let gpu = if request.fail_webgpu {
        Err("initialization failed on purpose (debugFailWebgpu)".to_string())
    } else {
        gpu_placement().await
    };
    match (gpu, request.name.as_str()) {
        (Ok(placement), _) => Ok(placement),
        (Err(reason), "webgpu") => Err(error(format!(
            "WebGPU is not available: {reason}. Use backend \"cpu\" or \"auto\""
        ))),
        (Err(reason), _) => Ok(on_cpu(Some(format!(
            "WebGPU is not available ({reason}); training on the CPU"
        )))),
    }
}

#[cfg(feature = "webgpu")]
async fn gpu_placement() -> Result<Placement, String> {
    let gpu = crate::gpu::gpu().await?;
    Ok(Placement {
        device: gpu.device.clone(),
        backend: Backend::WebGpu,
        adapter: Some(gpu.adapter.clone()),
        notice: None,
    })
}

#[cfg(not(feature = "webgpu"))]
async fn gpu_placement() -> Result<Placement, String> {
    Err("this build of Kindling has no WebGPU support yet".into())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Validation {
    ok: bool,
    errors: Vec<ConfigError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<Config>,
    parameter_count: u64,
    memory_bytes: u64,
    vocab_size: usize,
    train_tokens: usize,
    val_tokens: usize,
}

/// A model being trained in this tab, and where it runs.
struct Session {
    trainer: Trainer,
    backend: Backend,
    adapter: Option<String>,
    notice: Option<String>,
    /// On WebGPU: the weights of the last completed step, on the CPU, to carry on with if the
    /// GPU is lost (its memory cannot be read any more then).
    cpu_weights: Option<LanguageModel>,
}

impl Session {
    fn new(trainer: Trainer, placement: Placement) -> Self {
        Session {
            trainer,
            backend: placement.backend,
            adapter: placement.adapter,
            notice: placement.notice,
            cpu_weights: None,
        }
    }

    /// Helpers share the work on the CPU only: WebGPU does a step at once.
    async fn train(
        &mut self,
        steps: usize,
        helpers: Option<HelperWorkers>,
    ) -> Result<JsValue, JsValue> {
        let result = match helpers {
            Some(mut helpers) if self.backend == Backend::Cpu => {
                self.trainer.train_steps_with(steps, &mut helpers).await
            }
            _ => self.trainer.train_steps(steps).await,
        };
        let metrics = match result {
            Err(TrainError::Device(reason)) if self.backend == Backend::WebGpu => {
                self.fall_back_to_cpu(&reason)?;
                self.trainer.train_steps(steps).await
            }
            other => other,
        }
        .map_err(|e| error(e.to_string()))?;
        if self.backend == Backend::WebGpu {
            let weights = device::copy_module(self.trainer.model(), &device::cpu()).await;
            match weights {
                Ok(weights) => self.cpu_weights = Some(weights),
                Err(reason) => self.fall_back_to_cpu(&reason)?,
            }
        }
        let metrics = to_js(&metrics);
        if let Some(notice) = &self.notice {
            Reflect::set(&metrics, &"notice".into(), &notice.into())?;
        }
        Ok(metrics)
    }

    /// Moves training to the CPU with the weights of the last completed step.
    fn fall_back_to_cpu(&mut self, reason: &str) -> Result<(), JsValue> {
        let weights = self.cpu_weights.take().ok_or_else(|| {
            error(format!(
                "the GPU failed before any step completed ({reason}): create the model again"
            ))
        })?;
        self.trainer = self.trainer.continue_on(weights, device::cpu());
        self.backend = Backend::Cpu;
        self.adapter = None;
        self.notice = Some(format!(
            "The GPU was lost ({reason}); training moved to the CPU and continues from step {}",
            self.trainer.step()
        ));
        Ok(())
    }
}

/// Workers holding replicas of the model, as the page passes them to `trainSteps`: an object
/// `{ count, gradients(step, shards, weights) }` whose `gradients` sends each of helpers
/// 1..`shards` its shard and resolves to their `[{ loss, grads, model }]` (see `parallel`).
struct HelperWorkers {
    object: JsValue,
    count: usize,
    gradients: Function,
}

impl HelperWorkers {
    fn from_js(value: Option<Object>) -> Result<Option<Self>, JsValue> {
        let Some(object) = value else {
            return Ok(None);
        };
        let invalid =
            || error("helpers must be an object { count, gradients(step, shards, weights) }");
        let count = Reflect::get(&object, &"count".into())?
            .as_f64()
            .filter(|n| n.fract() == 0.0 && (0.0..=64.0).contains(n))
            .ok_or_else(invalid)?;
        let gradients = Reflect::get(&object, &"gradients".into())?
            .dyn_into::<Function>()
            .map_err(|_| invalid())?;
        Ok(Some(HelperWorkers {
            object: object.into(),
            count: count as usize,
            gradients,
        }))
    }
}

impl Helpers for HelperWorkers {
    fn count(&self) -> usize {
        self.count
    }

    fn gradients(
        &mut self,
        step: usize,
        shards: usize,
        weights: Vec<f32>,
    ) -> impl std::future::Future<Output = Result<Vec<ShardGradients>, String>> {
        // Called now, not when the future is polled: the helpers start before this trainer
        // computes its own shard.
        let called = self.gradients.call3(
            &self.object,
            &(step as f64).into(),
            &(shards as f64).into(),
            &Float32Array::from(&weights[..]),
        );
        // `resolve` and `dyn_into` check what JS returned: a JS exception thrown through the
        // wasm frames would leave this session borrowed for good. The JsFuture is made now so
        // that a rejection is handled even if this trainer's own shard fails first.
        let replies = called.map(|value| JsFuture::from(Promise::resolve(&value)));
        async move {
            let replies = replies.map_err(js_message)?.await.map_err(js_message)?;
            let replies: Array = replies
                .dyn_into()
                .map_err(|_| "helpers.gradients() must resolve to an array of replies")?;
            if replies.length() as usize != shards - 1 {
                return Err(format!(
                    "{} helper replies for {} shards: a helper worker is missing",
                    replies.length(),
                    shards
                ));
            }
            replies.iter().map(reply_gradients).collect()
        }
    }
}

fn reply_gradients(reply: JsValue) -> Result<ShardGradients, String> {
    let field = |name: &str| Reflect::get(&reply, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let loss = field("loss").as_f64();
    let grads = field("grads").dyn_into::<Float32Array>().ok();
    let model = field("model").as_f64();
    match (loss, grads, model) {
        (Some(loss), Some(grads), Some(model)) => Ok(ShardGradients {
            loss: loss as f32,
            grads: grads.to_vec(),
            model: model as u32,
        }),
        _ => Err("a helper worker replied without { loss, grads, model }".into()),
    }
}

/// The message of a JS exception or rejection.
fn js_message(value: JsValue) -> String {
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => value.as_string().unwrap_or_else(|| format!("{value:?}")),
    }
}

/// A model being trained in this tab: its tokenizer, weights, optimizer and data.
#[wasm_bindgen]
pub struct Kindling {
    session: Rc<RefCell<Session>>,
}

fn busy() -> JsValue {
    error("the model is busy with another call (trainSteps, evaluate or toBytes): wait for it to finish")
}

#[wasm_bindgen]
impl Kindling {
    /// Builds tokenizer, model and optimizer; rejects with the validation messages.
    pub async fn create(options: JsValue) -> Result<Kindling, JsValue> {
        run_constructors_once();
        let request = request(&options)?;
        let config = request.config.map_err(|errors| config_error(&errors))?;
        let placement = place(&request.backend).await?;
        let trainer = Trainer::new(request.text, config, placement.device.clone())
            .map_err(|errors| config_error(&errors))?;
        Ok(Kindling::from(Session::new(trainer, placement)))
    }

    /// Restores a model saved by `toBytes`; rejects with a clear message for bytes that are not
    /// a complete Kindling checkpoint.
    #[wasm_bindgen(js_name = fromBytes)]
    pub async fn from_bytes(bytes: Uint8Array, options: JsValue) -> Result<Kindling, JsValue> {
        run_constructors_once();
        let placement = place(&backend_request(&mut options_map(&options)?)?).await?;
        let trainer = checkpoint::load(&bytes.to_vec(), placement.device.clone()).map_err(error)?;
        Ok(Kindling::from(Session::new(trainer, placement)))
    }

    /// The named presets, as config objects.
    pub fn presets() -> JsValue {
        run_constructors_once();
        let presets: serde_json::Map<String, Value> = PRESET_NAMES
            .iter()
            .map(|name| {
                let config = Config::preset(name).expect("listed presets exist");
                (
                    name.to_string(),
                    serde_json::to_value(config).expect("configs serialize"),
                )
            })
            .collect();
        to_js(&presets)
    }

    /// Checks options without building anything: `{ ok, errors, config, parameterCount,
    /// memoryBytes, vocabSize, trainTokens, valTokens }`.
    pub fn validate(options: JsValue) -> Result<JsValue, JsValue> {
        run_constructors_once();
        let request = request(&options)?;
        let tokenizer = Tokenizer::from_text(&request.text);
        let chars = request.text.chars().count();
        let vocab = tokenizer.vocab_size();
        let (errors, config) = match request.config {
            Ok(config) => (config.validate(chars, vocab), Some(config)),
            Err(errors) => (errors, None),
        };
        let (train_tokens, val_tokens) = config
            .as_ref()
            .map_or((0, 0), |c| config::split_sizes(chars, c.val_fraction));
        Ok(to_js(&Validation {
            ok: errors.is_empty(),
            errors,
            parameter_count: config.as_ref().map_or(0, |c| c.parameter_count(vocab)),
            memory_bytes: config.as_ref().map_or(0, |c| c.memory_estimate(vocab)),
            config,
            vocab_size: vocab,
            train_tokens,
            val_tokens,
        }))
    }

    fn read<T>(&self, f: impl FnOnce(&Session) -> T) -> Result<T, JsValue> {
        Ok(f(&*self.session.try_borrow().map_err(|_| busy())?))
    }

    /// `"cpu"` or `"webgpu"`; changes to `"cpu"` if the GPU is lost during training.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> Result<String, JsValue> {
        self.read(|s| s.backend.name().to_string())
    }

    /// The GPU adapter's name, when training on WebGPU.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> Result<Option<String>, JsValue> {
        self.read(|s| s.adapter.clone())
    }

    /// A sentence about the backend choice worth showing (fallback to the CPU, lost GPU).
    #[wasm_bindgen(getter)]
    pub fn notice(&self) -> Result<Option<String>, JsValue> {
        self.read(|s| s.notice.clone())
    }

    #[wasm_bindgen(getter)]
    pub fn step(&self) -> Result<usize, JsValue> {
        self.read(|s| s.trainer.step())
    }

    #[wasm_bindgen(getter, js_name = vocabSize)]
    pub fn vocab_size(&self) -> Result<usize, JsValue> {
        self.read(|s| s.trainer.tokenizer.vocab_size())
    }

    #[wasm_bindgen(getter, js_name = parameterCount)]
    pub fn parameter_count(&self) -> Result<f64, JsValue> {
        use burn::module::Module;
        self.read(|s| s.trainer.model().num_params() as f64)
    }

    #[wasm_bindgen(getter)]
    pub fn config(&self) -> Result<JsValue, JsValue> {
        self.read(|s| to_js(&s.trainer.config))
    }

    /// The text the model trains on (restored with the model by `fromBytes`).
    #[wasm_bindgen(getter)]
    pub fn text(&self) -> Result<String, JsValue> {
        self.read(|s| s.trainer.text.clone())
    }

    /// The loss curve so far: `[{ step, trainLoss, valLoss? }]`.
    #[wasm_bindgen(getter)]
    pub fn history(&self) -> Result<JsValue, JsValue> {
        self.read(|s| to_js(&s.trainer.history()))
    }

    // The borrows below are held across awaits on purpose: they make overlapping calls fail
    // with a "busy" error (every entry point uses try_borrow) instead of interleaving.

    /// Runs `steps` training steps: `{ step, trainLoss, valLoss?, lr, tokensPerSecond,
    /// notice? }`. If the GPU is lost, training moves to the CPU and `notice` says so.
    /// `helpers` (optional, see `HelperWorkers`) compute part of each batch on the CPU.
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(js_name = trainSteps)]
    pub fn train_steps(&self, steps: u32, helpers: Option<Object>) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            if !(1..=100_000).contains(&steps) {
                return Err(error(format!(
                    "steps must be between 1 and 100000 (got {steps})"
                )));
            }
            let helpers = HelperWorkers::from_js(helpers)?;
            let mut session = session.try_borrow_mut().map_err(|_| busy())?;
            session.train(steps as usize, helpers).await
        })
    }

    /// A helper worker's part of another worker's training step: the loss and gradient of
    /// rows `rank` of `count` shards of step `step`'s batch, at `weights`. Resolves to
    /// `{ loss, grads, model }`: `grads` a Float32Array, `model` this replica's fingerprint.
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(js_name = shardGradients)]
    pub fn shard_gradients(
        &self,
        step: u32,
        rank: u32,
        count: u32,
        weights: Float32Array,
    ) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            let mut session = session.try_borrow_mut().map_err(|_| busy())?;
            let shard = Shard {
                rank: rank as usize,
                count: count as usize,
            };
            let gradients = session
                .trainer
                .shard_gradients(step as usize, shard, &weights.to_vec())
                .await
                .map_err(error)?;
            let result = Object::new();
            Reflect::set(&result, &"loss".into(), &gradients.loss.into())?;
            Reflect::set(
                &result,
                &"grads".into(),
                &Float32Array::from(&gradients.grads[..]),
            )?;
            Reflect::set(&result, &"model".into(), &gradients.model.into())?;
            Ok(result.into())
        })
    }

    /// Mean validation loss over the fixed validation batches.
    #[allow(clippy::await_holding_refcell_ref)]
    pub fn evaluate(&self) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            let session = session.try_borrow().map_err(|_| busy())?;
            let loss = session.trainer.evaluate().await.map_err(error)?;
            Ok(JsValue::from_f64(loss as f64))
        })
    }

    /// A token stream continuing `prompt`. Options: `{ maxTokens, temperature, topK, topP,
    /// repetitionPenalty, seed }`; without a seed each call samples differently.
    pub fn generate(&self, prompt: &str, options: JsValue) -> Result<GenerationStream, JsValue> {
        let mut options: SamplingOptions = if options.is_undefined() || options.is_null() {
            SamplingOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| error(format!("generation options: {e}")))?
        };
        // Seed 0 (the default) means a fresh sample on every call, as a person pressing
        // Generate again expects; tests and embeds pass a seed to repeat a sample.
        if options.seed == 0 {
            options.seed = random_seed();
        }
        let errors = options.validate();
        if !errors.is_empty() {
            return Err(config_error(&errors));
        }
        self.read(|session| {
            let trainer = &session.trainer;
            let encoded = trainer.tokenizer.encode(prompt);
            let mut ids = encoded.ids.clone();
            if ids.is_empty() {
                ids.push(trainer.tokenizer.start_id());
            }
            let generator = trainer.generator(ids, options);
            GenerationStream {
                generator: Rc::new(RefCell::new(generator)),
                warning: encoded.warning(),
            }
        })
    }

    /// Everything needed to continue later, as bytes, on either backend.
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            let session = session.try_borrow().map_err(|_| busy())?;
            let bytes = checkpoint::save(&session.trainer).await.map_err(error)?;
            Ok(Uint8Array::from(&bytes[..]).into())
        })
    }

    /// Test hook: destroys the GPU device, as a driver crash would.
    #[cfg(feature = "webgpu")]
    #[wasm_bindgen(js_name = debugLoseGpu)]
    pub async fn debug_lose_gpu() -> Result<(), JsValue> {
        crate::gpu::gpu().await.map_err(error)?.destroy();
        Ok(())
    }
}

impl From<Session> for Kindling {
    fn from(session: Session) -> Self {
        Kindling {
            session: Rc::new(RefCell::new(session)),
        }
    }
}

fn random_seed() -> u64 {
    (js_sys::Math::random() * 9.0e15) as u64 + 1
}

/// Tokens, one per `next()`, from a snapshot of the model taken when generation started.
#[wasm_bindgen]
pub struct GenerationStream {
    generator: Rc<RefCell<Generator>>,
    warning: Option<String>,
}

#[wasm_bindgen]
impl GenerationStream {
    /// `{ done, value: { text, id, prob, top: [{ text, id, prob }] } }`, like an iterator.
    #[allow(clippy::await_holding_refcell_ref)] // see Kindling::train_steps
    pub fn next(&self) -> Promise {
        let generator = self.generator.clone();
        future_to_promise(async move {
            let mut generator = generator
                .try_borrow_mut()
                .map_err(|_| error("next() was called before the previous next() finished"))?;
            let token = generator.next().await.map_err(error)?;
            let result = Object::new();
            Reflect::set(&result, &"done".into(), &token.is_none().into())?;
            if let Some(token) = token {
                Reflect::set(&result, &"value".into(), &to_js(&token))?;
            }
            Ok(result.into())
        })
    }

    /// Set when the prompt had characters the model never saw; they were skipped.
    #[wasm_bindgen(getter)]
    pub fn warning(&self) -> Option<String> {
        self.warning.clone()
    }
}

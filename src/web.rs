//! The wasm-bindgen layer and nothing else: JS values in, engine calls out, errors back as JS
//! `Error`s whose message a person can act on.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::config::{self, Config, ConfigError, PRESET_NAMES};
use crate::sample::{Generator, SamplingOptions};
use crate::tokenizer::Tokenizer;
use crate::train::Trainer;
use crate::{checkpoint, device};

#[wasm_bindgen(start)]
pub fn start() {
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
    backend: String,
    config: Result<Config, Vec<ConfigError>>,
}

fn request(options: &JsValue) -> Result<Request, JsValue> {
    let mut map = options_map(options)?;
    let text = match map.remove("text") {
        Some(Value::String(text)) => text,
        None => String::new(),
        Some(_) => return Err(error("text must be a string")),
    };
    let backend = match map.remove("backend") {
        Some(Value::String(backend)) => backend,
        None => "auto".to_string(),
        Some(_) => return Err(error("backend must be \"auto\", \"cpu\" or \"webgpu\"")),
    };
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

/// The training device for a requested backend. WebGPU arrives with its own issue; until then
/// "auto" means the CPU.
fn device_for(backend: &str) -> Result<burn::tensor::Device, JsValue> {
    match backend {
        "auto" | "cpu" => Ok(device::cpu()),
        "webgpu" => Err(error(
            "WebGPU is not available in this version of Kindling yet: use backend \"cpu\" or \"auto\"",
        )),
        other => Err(error(format!(
            "unknown backend \"{other}\": use \"auto\", \"cpu\" or \"webgpu\""
        ))),
    }
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

/// A model being trained in this tab: its tokenizer, weights, optimizer and data.
#[wasm_bindgen]
pub struct Kindling {
    trainer: Rc<RefCell<Trainer>>,
    backend: String,
}

fn busy() -> JsValue {
    error("the model is busy with another call (trainSteps, evaluate or toBytes): wait for it to finish")
}

#[wasm_bindgen]
impl Kindling {
    /// Builds tokenizer, model and optimizer; rejects with the validation messages.
    pub async fn create(options: JsValue) -> Result<Kindling, JsValue> {
        let request = request(&options)?;
        let config = request.config.map_err(|errors| config_error(&errors))?;
        let device = device_for(&request.backend)?;
        let trainer =
            Trainer::new(request.text, config, device).map_err(|errors| config_error(&errors))?;
        Ok(Kindling {
            trainer: Rc::new(RefCell::new(trainer)),
            backend: "cpu".to_string(),
        })
    }

    /// Restores a model saved by `toBytes`; rejects with a clear message for bytes that are not
    /// a complete Kindling checkpoint.
    #[wasm_bindgen(js_name = fromBytes)]
    pub async fn from_bytes(bytes: Uint8Array, options: JsValue) -> Result<Kindling, JsValue> {
        let backend = match options_map(&options)?.remove("backend") {
            Some(Value::String(backend)) => backend,
            _ => "auto".to_string(),
        };
        let trainer = checkpoint::load(&bytes.to_vec(), device_for(&backend)?).map_err(error)?;
        Ok(Kindling {
            trainer: Rc::new(RefCell::new(trainer)),
            backend: "cpu".to_string(),
        })
    }

    /// The named presets, as config objects.
    pub fn presets() -> JsValue {
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

    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn step(&self) -> Result<usize, JsValue> {
        Ok(self.trainer.try_borrow().map_err(|_| busy())?.step())
    }

    #[wasm_bindgen(getter, js_name = vocabSize)]
    pub fn vocab_size(&self) -> Result<usize, JsValue> {
        Ok(self
            .trainer
            .try_borrow()
            .map_err(|_| busy())?
            .tokenizer
            .vocab_size())
    }

    #[wasm_bindgen(getter, js_name = parameterCount)]
    pub fn parameter_count(&self) -> Result<f64, JsValue> {
        use burn::module::Module;
        Ok(self
            .trainer
            .try_borrow()
            .map_err(|_| busy())?
            .model()
            .num_params() as f64)
    }

    #[wasm_bindgen(getter)]
    pub fn config(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(
            &self.trainer.try_borrow().map_err(|_| busy())?.config,
        ))
    }

    /// The text the model trains on (restored with the model by `fromBytes`).
    #[wasm_bindgen(getter)]
    pub fn text(&self) -> Result<String, JsValue> {
        Ok(self.trainer.try_borrow().map_err(|_| busy())?.text.clone())
    }

    /// The loss curve so far: `[{ step, trainLoss, valLoss? }]`.
    #[wasm_bindgen(getter)]
    pub fn history(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(
            &self.trainer.try_borrow().map_err(|_| busy())?.history(),
        ))
    }

    // The borrows below are held across awaits on purpose: they make overlapping calls fail
    // with a "busy" error (every entry point uses try_borrow) instead of interleaving.

    /// Runs `steps` training steps: `{ step, trainLoss, valLoss?, lr, tokensPerSecond }`.
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(js_name = trainSteps)]
    pub fn train_steps(&self, steps: u32) -> Promise {
        let trainer = self.trainer.clone();
        future_to_promise(async move {
            if !(1..=100_000).contains(&steps) {
                return Err(error(format!(
                    "steps must be between 1 and 100000 (got {steps})"
                )));
            }
            let mut trainer = trainer.try_borrow_mut().map_err(|_| busy())?;
            let metrics = trainer
                .train_steps(steps as usize)
                .await
                .map_err(|e| error(e.to_string()))?;
            Ok(to_js(&metrics))
        })
    }

    /// Mean validation loss over the fixed validation batches.
    #[allow(clippy::await_holding_refcell_ref)]
    pub fn evaluate(&self) -> Promise {
        let trainer = self.trainer.clone();
        future_to_promise(async move {
            let trainer = trainer.try_borrow().map_err(|_| busy())?;
            let loss = trainer.evaluate().await.map_err(error)?;
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
        let trainer = self.trainer.try_borrow().map_err(|_| busy())?;
        let encoded = trainer.tokenizer.encode(prompt);
        let mut ids = encoded.ids.clone();
        if ids.is_empty() {
            ids.push(trainer.tokenizer.start_id());
        }
        let generator = Generator::new(
            trainer.inference_model(),
            trainer.device().clone().inner(),
            trainer.tokenizer.clone(),
            ids,
            options,
        );
        Ok(GenerationStream {
            generator: Rc::new(RefCell::new(generator)),
            warning: encoded.warning(),
        })
    }

    /// Everything needed to continue later, as bytes.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Promise {
        let trainer = self.trainer.clone();
        future_to_promise(async move {
            let trainer = trainer.try_borrow().map_err(|_| busy())?;
            let bytes = checkpoint::save(&trainer).map_err(error)?;
            Ok(Uint8Array::from(&bytes[..]).into())
        })
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

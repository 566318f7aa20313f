//! The wasm-bindgen layer and nothing else: JS values in (`convert`), `Session` calls out,
//! errors back as `KindlingError`s with a kind. Every rule lives in `session` and below, where
//! native tests reach it.

mod convert;
mod helpers;
mod types;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use js_sys::{Float32Array, Object, Promise, Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::checkpoint::SaveOptions;
use crate::error::{Error, ErrorKind};
use crate::inspect::InspectOptions;
use crate::parallel::Alone;
use crate::sample::{Generator, SamplingOptions};
use crate::session::sampling_distribution;
use crate::session::{self, Request, Session};
use crate::{validate, Config, PRESET_NAMES};
use convert::to_js;
use helpers::HelperWorkers;

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

fn busy() -> JsValue {
    Error::new(
        ErrorKind::Busy,
        "the model is busy with another call (trainSteps, evaluate or toBytes): wait for it to finish",
    )
    .into()
}

/// A model being trained in this tab: its tokenizer, weights, optimizer and data.
#[wasm_bindgen]
pub struct Kindling {
    session: Rc<RefCell<Session>>,
}

impl From<Session> for Kindling {
    fn from(session: Session) -> Self {
        Kindling {
            session: Rc::new(RefCell::new(session)),
        }
    }
}

#[wasm_bindgen]
impl Kindling {
    /// Builds tokenizer, model and optimizer; rejects with the validation messages.
    pub async fn create(
        #[wasm_bindgen(unchecked_param_type = "CreateOptions")] options: JsValue,
    ) -> Result<Kindling, JsValue> {
        run_constructors_once();
        let session = Session::create(convert::options(&options)?).await?;
        session.warm_up().await?;
        Ok(session.into())
    }

    /// Restores a model saved by `toBytes`; rejects (kind `checkpoint`) with a clear message
    /// for bytes that are not a complete Kindling checkpoint.
    #[wasm_bindgen(js_name = fromBytes)]
    pub async fn from_bytes(
        bytes: Uint8Array,
        #[wasm_bindgen(unchecked_optional_param_type = "OpenOptions")] options: JsValue,
    ) -> Result<Kindling, JsValue> {
        run_constructors_once();
        let session = Session::open(&bytes.to_vec(), convert::options(&options)?).await?;
        session.warm_up().await?;
        Ok(session.into())
    }

    /// A new run that fine-tunes a model saved by `toBytes` on `options.text`, from its weights
    /// and tokenizer; `options` may change its training settings (steps, learning rate, …), not
    /// its shape (kind `config`), and choose the `backend`.
    #[wasm_bindgen(js_name = fineTune)]
    pub async fn fine_tune(
        bytes: Uint8Array,
        #[wasm_bindgen(unchecked_param_type = "FineTuneOptions")] options: JsValue,
    ) -> Result<Kindling, JsValue> {
        run_constructors_once();
        let session = Session::fine_tune(&bytes.to_vec(), convert::options(&options)?).await?;
        session.warm_up().await?;
        Ok(session.into())
    }

    /// Connects to a compute peer (`{ peer, secret }`, as `kindling peer --transport iroh`
    /// printed them) without making a model; resolves to the peer's device name. Rejects with
    /// kind `peer-refused` (the secret), `peer-unreachable` or `argument` (the address).
    #[wasm_bindgen(js_name = reachPeer)]
    pub async fn reach_peer(
        #[wasm_bindgen(unchecked_param_type = "BackendOptions")] options: JsValue,
    ) -> Result<String, JsValue> {
        run_constructors_once();
        Ok(session::reach_peer(convert::options(&options)?).await?)
    }

    /// Every number in the config with its limits, the model types and tokenizers that use
    /// it, and whether a fine-tune may change it: what the page's form offers.
    #[wasm_bindgen(js_name = configFields, unchecked_return_type = "FieldRule[]")]
    pub fn config_fields() -> JsValue {
        to_js(&crate::validate::FIELD_RULES)
    }

    /// The named presets, as config objects.
    #[wasm_bindgen(unchecked_return_type = "Record<PresetName, Config>")]
    pub fn presets() -> JsValue {
        run_constructors_once();
        let presets: serde_json::Map<String, Value> = PRESET_NAMES
            .iter()
            .map(|name| {
                let config = Config::preset(name).expect("listed presets exist");
                let json = serde_json::to_value(config).expect("configs serialize");
                (name.to_string(), json)
            })
            .collect();
        to_js(&presets)
    }

    /// The shapes a training budget for `model` chooses among: `[{ name, config }]`, each to
    /// be created and timed for a few steps here before `planBudget`.
    #[wasm_bindgen(js_name = budgetShapes, unchecked_return_type = "BudgetShape[]")]
    pub fn budget_shapes(
        #[wasm_bindgen(unchecked_param_type = "ModelKind")] model: String,
    ) -> Result<JsValue, JsValue> {
        run_constructors_once();
        Ok(to_js(&session::budget_shapes(&model)?))
    }

    /// The shape and schedule that fit `{ seconds, model, trainTokens, measured }` (seconds 0:
    /// until stopped; measured: ms per step by shape name): `{ shape, config,
    /// predictedValLoss, why }`. Rejects with kind `config` (per field) or `argument`.
    #[wasm_bindgen(js_name = planBudget, unchecked_return_type = "BudgetPlan")]
    pub fn plan_budget(
        #[wasm_bindgen(unchecked_param_type = "BudgetRequest")] request: JsValue,
    ) -> Result<JsValue, JsValue> {
        run_constructors_once();
        Ok(to_js(&session::plan_budget(convert::options(&request)?)?))
    }

    /// Whether timing shape `name` can still change the plan for `request` (its `measured`: the
    /// shapes timed so far, maybe none): false when, even as fast as the slowest smaller shape
    /// measured, it could not beat them. Rejects like `planBudget`, or with kind `argument` for
    /// a name `budgetShapes` does not list.
    #[wasm_bindgen(js_name = budgetWorthMeasuring)]
    pub fn budget_worth_measuring(
        #[wasm_bindgen(unchecked_param_type = "BudgetRequest")] request: JsValue,
        name: String,
    ) -> Result<bool, JsValue> {
        run_constructors_once();
        Ok(session::budget_worth_measuring(
            convert::options(&request)?,
            &name,
        )?)
    }

    /// Checks options without building anything: `{ ok, errors, config, parameterCount,
    /// memoryBytes, vocabSize, trainTokens, valTokens }`.
    #[wasm_bindgen(unchecked_return_type = "Report")]
    pub fn validate(
        #[wasm_bindgen(unchecked_param_type = "CreateOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        run_constructors_once();
        let request = Request::parse(convert::options(&options)?)?;
        Ok(to_js(&validate::report(&request.text, request.config)))
    }

    fn read<T>(&self, f: impl FnOnce(&Session) -> T) -> Result<T, JsValue> {
        Ok(f(&*self.session.try_borrow().map_err(|_| busy())?))
    }

    /// `"cpu"`, `"webgpu"` or `"remote"` (a compute peer); changes to `"cpu"` if the GPU is
    /// lost during training.
    #[wasm_bindgen(getter, unchecked_return_type = "\"cpu\" | \"webgpu\" | \"remote\"")]
    pub fn backend(&self) -> Result<String, JsValue> {
        self.read(|s| s.backend().name().to_string())
    }

    /// The GPU adapter's name, when training on WebGPU.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> Result<Option<String>, JsValue> {
        self.read(|s| s.adapter().map(str::to_string))
    }

    /// A sentence about the backend choice worth showing (fallback to the CPU, lost GPU).
    #[wasm_bindgen(getter)]
    pub fn notice(&self) -> Result<Option<String>, JsValue> {
        self.read(|s| s.notice().map(str::to_string))
    }

    #[wasm_bindgen(getter)]
    pub fn step(&self) -> Result<usize, JsValue> {
        self.read(|s| s.trainer().step())
    }

    #[wasm_bindgen(getter, js_name = vocabSize)]
    pub fn vocab_size(&self) -> Result<usize, JsValue> {
        self.read(|s| s.trainer().tokenizer.vocab_size())
    }

    #[wasm_bindgen(getter, js_name = parameterCount)]
    pub fn parameter_count(&self) -> Result<f64, JsValue> {
        use burn::module::Module;
        self.read(|s| s.trainer().model().num_params() as f64)
    }

    /// Trainable and frozen parameters (LoRA freezes the base) and the memory each needs
    /// while training.
    #[wasm_bindgen(getter, unchecked_return_type = "ParameterSplit")]
    pub fn parameters(&self) -> Result<JsValue, JsValue> {
        self.read(|s| to_js(&s.parameters()))
    }

    #[wasm_bindgen(getter, unchecked_return_type = "Config")]
    pub fn config(&self) -> Result<JsValue, JsValue> {
        self.read(|s| to_js(&s.trainer().config))
    }

    /// The text the model trains on (restored with the model by `fromBytes`).
    #[wasm_bindgen(getter)]
    pub fn text(&self) -> Result<String, JsValue> {
        self.read(|s| s.trainer().text.clone())
    }

    /// How the model's tokenizer cuts the start of `text` (`maxChars`, default 10,000):
    /// `[{ text, tokens }]`, whole characters each (see `Tokenizer::segments`).
    #[wasm_bindgen(unchecked_return_type = "Segment[]")]
    pub fn tokenize(&self, text: String, max_chars: Option<f64>) -> Result<JsValue, JsValue> {
        Ok(to_js(&self.read(|s| s.tokenize(&text, max_chars))??))
    }

    /// The loss curve so far: `[{ step, trainLoss, valLoss? }]`.
    #[wasm_bindgen(getter, unchecked_return_type = "HistoryPoint[]")]
    pub fn history(&self) -> Result<JsValue, JsValue> {
        self.read(|s| to_js(&s.trainer().history()))
    }

    /// Ends the learning-rate schedule at step `maxSteps` instead (after the current step):
    /// a budget run that measured its speed ends its schedule when its time does.
    #[wasm_bindgen(js_name = setMaxSteps)]
    pub fn set_max_steps(&self, max_steps: f64) -> Result<(), JsValue> {
        let mut session = self.session.try_borrow_mut().map_err(|_| busy())?;
        session.retarget(max_steps).map_err(Into::into)
    }

    // The borrows below are held across awaits on purpose: they make overlapping calls fail
    // with a "busy" error (every entry point uses try_borrow) instead of interleaving.

    /// Runs `steps` training steps: `{ step, trainLoss, valLoss?, lr, tokensPerSecond,
    /// notice? }`. If the GPU is lost, training moves to the CPU and `notice` says so.
    /// `helpers` (optional, see `web::helpers`) compute part of each batch on the CPU.
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(js_name = trainSteps, unchecked_return_type = "Promise<Trained>")]
    pub fn train_steps(
        &self,
        steps: f64,
        #[wasm_bindgen(unchecked_optional_param_type = "HelperPool | null")] helpers: Option<
            Object,
        >,
    ) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            let mut helpers = HelperWorkers::from_js(helpers)?;
            let mut session = session.try_borrow_mut().map_err(|_| busy())?;
            let trained = match helpers.as_mut() {
                Some(helpers) => session.train(steps, Some(helpers)).await,
                None => session.train(steps, None::<&mut Alone>).await,
            }?;
            Ok(to_js(&trained))
        })
    }

    /// A helper worker's part of another worker's training step: the loss and gradient of
    /// rows `rank` of `count` shards of step `step`'s batch, at `weights`. Resolves to
    /// `{ loss, grads, model }`: `grads` a Float32Array, `model` this replica's fingerprint.
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(js_name = shardGradients, unchecked_return_type = "Promise<ShardReply>")]
    pub fn shard_gradients(
        &self,
        step: f64,
        rank: f64,
        count: f64,
        weights: Float32Array,
    ) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            let mut session = session.try_borrow_mut().map_err(|_| busy())?;
            let weights = weights.to_vec();
            let gradients = session.shard_gradients(step, rank, count, &weights).await?;
            let result = Object::new();
            Reflect::set(&result, &"loss".into(), &gradients.loss.into())?;
            let grads = Float32Array::from(&gradients.grads[..]);
            Reflect::set(&result, &"grads".into(), &grads)?;
            Reflect::set(&result, &"model".into(), &gradients.model.into())?;
            Ok(result.into())
        })
    }

    /// Mean validation loss over the fixed validation batches.
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn evaluate(&self) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            let session = session.try_borrow().map_err(|_| busy())?;
            let loss = session.trainer().evaluate().await?;
            Ok(JsValue::from_f64(loss as f64))
        })
    }

    /// A token stream continuing `prompt`. Options: `{ maxTokens, temperature, topK, topP,
    /// repetitionPenalty, seed }`; without a seed each call samples differently.
    pub fn generate(
        &self,
        prompt: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "GenerateOptions")] options: JsValue,
    ) -> Result<GenerationStream, JsValue> {
        let options = SamplingOptions::from_overrides(&convert::options(&options)?)?;
        let random_seed = || (js_sys::Math::random() * 9.0e15) as u64;
        let (generator, warning) =
            self.read(|session| session.generate(prompt, options, random_seed))??;
        Ok(GenerationStream {
            generator: Rc::new(RefCell::new(generator)),
            warning,
        })
    }

    /// What happens inside the model as it reads `text`: per position its guesses, a GPT's
    /// attention and logit lens or an RNN's states and gates, and the embedding map (see
    /// `inspect::Inspection`). Options: `{ topK }`.
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(unchecked_return_type = "Promise<Inspection>")]
    pub fn inspect(
        &self,
        text: String,
        #[wasm_bindgen(unchecked_optional_param_type = "InspectOptions")] options: JsValue,
    ) -> Promise {
        let session = self.session.clone();
        let options =
            convert::options(&options).and_then(|options| InspectOptions::from_overrides(&options));
        future_to_promise(async move {
            let options = options?;
            let session = session.try_borrow().map_err(|_| busy())?;
            Ok(convert::inspection(&session.inspect(&text, options).await?))
        })
    }

    /// The probabilities the sampler draws from once `options` (`temperature`, `topK`,
    /// `topP`) have reshaped `logits`; the repetition penalty is left out.
    #[wasm_bindgen(js_name = samplingDistribution)]
    pub fn sampling_distribution(
        logits: Float32Array,
        #[wasm_bindgen(unchecked_optional_param_type = "GenerateOptions")] options: JsValue,
    ) -> Result<Float32Array, JsValue> {
        run_constructors_once();
        let options = SamplingOptions::from_overrides(&convert::options(&options)?)?;
        let probs = sampling_distribution(&logits.to_vec(), &options)?;
        Ok(Float32Array::from(&probs[..]))
    }

    /// Everything needed to continue later, as bytes, on either backend. Options:
    /// `{ merged }` folds LoRA adapters into the weights, `{ optimizer: false }` leaves out
    /// the optimizer state (see `checkpoint::SaveOptions`).
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(js_name = toBytes, unchecked_return_type = "Promise<Uint8Array>")]
    pub fn to_bytes(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "SaveOptions")] options: JsValue,
    ) -> Promise {
        let session = self.session.clone();
        let options =
            convert::options(&options).and_then(|options| SaveOptions::from_overrides(&options));
        future_to_promise(async move {
            let options = options?;
            let session = session.try_borrow().map_err(|_| busy())?;
            let bytes = session.save(options).await?;
            Ok(Uint8Array::from(&bytes[..]).into())
        })
    }

    /// The model as safetensors (nanoGPT's names and PyTorch's layout for a GPT; LoRA merged)
    /// and the manifest to save beside it (`interop`).
    #[allow(clippy::await_holding_refcell_ref)]
    #[wasm_bindgen(js_name = toSafetensors, unchecked_return_type = "Promise<SafetensorsExport>")]
    pub fn to_safetensors(&self) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            let session = session.try_borrow().map_err(|_| busy())?;
            let exported = crate::interop::export(session.trainer()).await?;
            let result = Object::new();
            let weights = Uint8Array::from(&exported.weights[..]);
            Reflect::set(&result, &"weights".into(), &weights)?;
            Reflect::set(&result, &"manifest".into(), &exported.manifest.into())?;
            Ok(result.into())
        })
    }

    /// Test hook: destroys the GPU device, as a driver crash would.
    #[cfg(feature = "webgpu")]
    #[wasm_bindgen(js_name = debugLoseGpu)]
    pub async fn debug_lose_gpu() -> Result<(), JsValue> {
        crate::gpu::gpu().await?.destroy();
        Ok(())
    }
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
    #[wasm_bindgen(unchecked_return_type = "Promise<TokenStep>")]
    pub fn next(&self) -> Promise {
        let generator = self.generator.clone();
        future_to_promise(async move {
            let mut generator = generator.try_borrow_mut().map_err(|_| {
                Error::new(
                    ErrorKind::Busy,
                    "next() was called before the previous next() finished",
                )
            })?;
            let token = generator.next().await?;
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

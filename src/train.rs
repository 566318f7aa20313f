//! The training loop, nanoGPT's `train.py` in steps a caller can interleave with other work:
//! random windows from the train split, AdamW, warmup + cosine learning rate, global gradient
//! clipping, and a validation loss over a fixed set of held-out windows.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::data::{batch, Dataset};
use crate::device::{now_ms, read_floats, read_scalar};
use crate::error::{Error, FieldError, Problem};
use crate::model::{fused, lora, LanguageModel};
use crate::optim::{clip_global_norm, learning_rate_at, Optimizer};
use crate::parallel::{Alone, Helpers, Shard, ShardGradients};
use crate::params::{
    flat_gradients, initialize, load_trainable, replace_gradients, trainable_weights,
};
use crate::rng::Rng;
use crate::sample::{Generator, SamplingOptions};
use crate::tokenizer::Tokenizer;
use crate::validate::MAX_STEPS;

/// Separate random streams of one seeded run.
const BATCH_STREAM: u64 = 1;
const DROPOUT_STREAM: u64 = 2;
const VAL_STREAM: u64 = 3;
const INIT_STREAM: u64 = 4;
/// Windows per forward pass in `evaluate_all`.
const EVAL_ALL_BATCH: usize = 64;

/// What one call of `train_steps` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub step: usize,
    /// Mean training loss over the steps of this call.
    pub train_loss: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f32>,
    /// Learning rate of the last step.
    pub lr: f64,
    pub tokens_per_second: f64,
    /// `train_loss` in bits per character of the text: comparable across tokenizers.
    pub train_bits_per_char: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_bits_per_char: Option<f64>,
    /// `val_loss` in bits per byte of the text's UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_bits_per_byte: Option<f64>,
    /// With `keepBest`, at the run's last step: the step whose weights were kept because its
    /// validation loss was lower than the last one (validation stopped improving there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_best_from: Option<usize>,
}

/// A point of the loss curve, kept with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    pub step: usize,
    pub train_loss: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f32>,
}

/// Mean next-token cross-entropy of `model` on one batch.
fn loss(model: &LanguageModel, inputs: Tensor<2, Int>, targets: Tensor<2, Int>) -> Tensor<1> {
    let logits = model.forward(inputs);
    let [batch, time, vocab] = logits.dims();
    fused::cross_entropy(
        logits.reshape([batch * time, vocab]),
        targets.reshape([batch * time]),
    )
}

/// A run as a checkpoint holds it: everything a trainer is but its device and derived data.
pub struct RunState {
    pub text: String,
    pub config: Config,
    pub tokenizer: Tokenizer,
    pub model: LanguageModel,
    pub optimizer: Optimizer,
    pub step: usize,
    pub history: Vec<HistoryPoint>,
}

/// A model, its optimizer and its data, at some step of a seeded run.
pub struct Trainer {
    pub config: Config,
    pub tokenizer: Tokenizer,
    pub text: String,
    data: Dataset,
    /// Taken out while a step updates it (see `step_once`), present otherwise.
    model: Option<LanguageModel>,
    optimizer: Optimizer,
    device: Device,
    step: usize,
    history: Vec<HistoryPoint>,
    /// Identifies the config and text, so a helper's replica can be checked (see `parallel`).
    fingerprint: u32,
    /// The text's characters and UTF-8 bytes per token, which turn a loss per token into
    /// bits per character or byte.
    chars_per_token: f64,
    bytes_per_token: f64,
    /// With `keep_best`: the weights of the lowest validation loss seen in this trainer.
    best: Option<Best>,
    /// Where the last successful `train_steps` call started: its first loss vouched for those
    /// weights, while its last update is vouched for only by the next call's first loss.
    vouched: Option<Snapshot>,
}

/// A trainer as a failed call goes back to it.
struct Snapshot {
    model: LanguageModel,
    optimizer: Optimizer,
    step: usize,
    /// How many history points it had.
    history: usize,
}

/// Why a call's steps failed, as far as restoring is concerned.
enum Failure {
    /// The weights the call started from already gave a NaN or infinite loss.
    AtFirstStep,
    /// Anything else; the call's start is good.
    Later(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Later(error)
    }
}

/// Weights worth going back to, and when they were evaluated.
struct Best {
    val_loss: f32,
    step: usize,
    model: LanguageModel,
}

impl Trainer {
    /// Checks everything, then builds the tokenizer, model and optimizer on `device` (which
    /// must have autodiff).
    pub fn new(text: String, config: Config, device: Device) -> Result<Self, Error> {
        let tokenizer =
            Tokenizer::for_run(&text, config.tokenizer, config.merges, config.val_fraction);
        let ids = tokenizer.encode_known(&text);
        let mut errors = config.validate(ids.len(), tokenizer.vocab_size());
        if config.lora_rank > 0 {
            let message = "LoRA adapts a trained model: start from a base model or a model file, or set the LoRA rank to 0";
            errors.push(FieldError::new("loraRank", Problem::Inconsistent, message));
        }
        if !errors.is_empty() {
            return Err(Error::fields(errors));
        }
        device.seed(Rng::derive(config.seed, INIT_STREAM, 0).next_u64());
        let model = LanguageModel::new(&config, tokenizer.vocab_size(), &device);
        // Now, while the seed above holds: drawn lazily, the weights would depend on what the
        // RNG did before their first use, and an untrained model's first generation would wait
        // for the draw (~30 ms for baby-GPT in wasm).
        initialize(&model);
        let optimizer = Optimizer::new(&config, &model);
        let state = RunState {
            text,
            config,
            tokenizer,
            model,
            optimizer,
            step: 0,
            history: Vec::new(),
        };
        Ok(Self::resume_encoded(state, ids, device))
    }

    /// A new run on `text` that starts from `base`'s weights and tokenizer, with `config` (the
    /// base's shape: see `validate::fine_tune_config`): step 0, a fresh optimizer and history.
    /// A character tokenizer must know every character of `text`. A base with LoRA adapters
    /// has them merged first; `config.lora_rank` then says whether new ones are trained.
    pub fn fine_tune(base: Trainer, text: String, config: Config) -> Result<Self, Error> {
        let encoded = base.tokenizer.encode(&text);
        if !encoded.unknown.is_empty() {
            let mut unknown = encoded.unknown;
            unknown.sort_unstable();
            unknown.dedup();
            let shown: Vec<String> = unknown.iter().take(10).map(|c| format!("{c:?}")).collect();
            let message = format!(
                "the base model never saw {} of this text's characters ({}): remove them, or start from a byte-level (BPE) model, which reads any text",
                unknown.len(),
                shown.join(" ")
            );
            return Err(FieldError::new("text", Problem::Text, message).into());
        }
        let errors = config.validate(encoded.ids.len(), base.tokenizer.vocab_size());
        if !errors.is_empty() {
            return Err(Error::fields(errors));
        }
        let mut model = base.model.expect("a trainer holds its model between steps");
        if base.config.lora_rank > 0 {
            model = lora::merge(model);
        }
        if config.lora_rank > 0 {
            model = lora::adapt(model, config.lora_rank);
        }
        let state = RunState {
            text,
            optimizer: Optimizer::new(&config, &model),
            config,
            tokenizer: base.tokenizer,
            model,
            step: 0,
            history: Vec::new(),
        };
        Ok(Self::resume_encoded(state, encoded.ids, base.device))
    }

    /// Continues a run from its state (already checked: see `checkpoint::load`); `state.model`
    /// must be on `device`.
    pub fn resume(state: RunState, device: Device) -> Self {
        let ids = state.tokenizer.encode_known(&state.text);
        Self::resume_encoded(state, ids, device)
    }

    /// `resume`, given `ids`, the state's text encoded by its tokenizer: encoding a megabyte
    /// with BPE takes tens of milliseconds, and the callers that checked the text have them.
    pub fn resume_encoded(state: RunState, ids: Vec<u32>, device: Device) -> Self {
        let per_token = |n: usize| n as f64 / ids.len().max(1) as f64;
        let (chars_per_token, bytes_per_token) = (
            per_token(state.text.chars().count()),
            per_token(state.text.len()),
        );
        let data = Dataset::new(ids, state.config.val_fraction);
        // Where the schedule ends does not change a step's gradients: a budget run moves it
        // (`retarget`) while its helpers' replicas keep the first value.
        let shape = Config {
            max_steps: 0,
            ..state.config.clone()
        };
        let config_json = serde_json::to_string(&shape).expect("configs serialize");
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(config_json.as_bytes());
        hasher.update(state.text.as_bytes());
        Trainer {
            fingerprint: hasher.finalize(),
            config: state.config,
            tokenizer: state.tokenizer,
            text: state.text,
            data,
            model: Some(state.model),
            optimizer: state.optimizer,
            device,
            step: state.step,
            history: state.history,
            chars_per_token,
            bytes_per_token,
            best: None,
            vouched: None,
        }
    }

    /// A loss in nats per token as bits per `per_token` (characters or bytes per token).
    fn bits(loss: f32, per_token: f64) -> f64 {
        loss as f64 / std::f64::consts::LN_2 / per_token
    }

    pub fn step(&self) -> usize {
        self.step
    }

    /// A loss (nats per token) on this run's text in bits per character.
    pub fn bits_per_char(&self, loss: f32) -> f64 {
        Self::bits(loss, self.chars_per_token)
    }

    pub fn history(&self) -> &[HistoryPoint] {
        &self.history
    }

    pub fn data(&self) -> &Dataset {
        &self.data
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn model(&self) -> &LanguageModel {
        self.model
            .as_ref()
            .expect("the model is only taken out during a step")
    }

    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// The same run continued on `device` from `model` (already there), the weights of `step`:
    /// the history up to that step, the same data. The optimizer's moments start afresh: they
    /// were on the device being left, which may be lost.
    pub fn continue_on(&self, model: LanguageModel, step: usize, device: Device) -> Trainer {
        let state = RunState {
            text: self.text.clone(),
            config: self.config.clone(),
            tokenizer: self.tokenizer.clone(),
            optimizer: Optimizer::new(&self.config, &model),
            model,
            step,
            history: self
                .history
                .iter()
                .filter(|p| p.step <= step)
                .cloned()
                .collect(),
        };
        Trainer::resume(state, device)
    }

    /// A token stream continuing `prompt_ids` (non-empty, from this tokenizer), from a snapshot
    /// of the current weights: training may go on meanwhile.
    pub fn generator(&self, prompt_ids: Vec<u32>, options: SamplingOptions) -> Generator {
        Generator::new(
            self.inference_model(),
            self.device.clone().inner(),
            self.tokenizer.clone(),
            prompt_ids,
            options,
        )
    }

    /// Moves the end of the learning-rate schedule to `max_steps`, after the current step: a
    /// budget run that measured its speed ends its schedule when its time does. Steps taken
    /// keep the rates they had; from here the rate follows the new schedule.
    pub fn retarget(&mut self, max_steps: usize) -> Result<(), Error> {
        let low = (self.step + 1).max(self.config.warmup_steps);
        let max_steps = crate::validate::whole("maxSteps", max_steps as f64, low, MAX_STEPS)?;
        self.config.max_steps = max_steps;
        Ok(())
    }

    /// The model without autodiff, for evaluation and generation.
    pub fn inference_model(&self) -> LanguageModel {
        self.model().valid()
    }

    /// Runs `steps` (at least one) optimizer steps. If the loss turns NaN or infinite, or the
    /// device fails, the model and optimizer go back to where this call started.
    pub async fn train_steps(&mut self, steps: usize) -> Result<Metrics, Error> {
        self.train_steps_with(steps, &mut Alone).await
    }

    /// `train_steps` with `helpers` computing part of each batch (see `parallel`). A helper's
    /// failure fails the call like a device failure, with kind `Helper`.
    pub async fn train_steps_with<H: Helpers>(
        &mut self,
        steps: usize,
        helpers: &mut H,
    ) -> Result<Metrics, Error> {
        let start = self.snapshot();
        match self.run_steps(steps, helpers).await {
            Ok(metrics) => {
                self.vouched = Some(start);
                Ok(metrics)
            }
            // The call's first loss was finite: its steps are void, its start is good.
            Err(Failure::Later(error)) => {
                self.restore(start);
                Err(error)
            }
            // The last update of an earlier call made weights whose loss is not finite: back
            // to that call's start, the latest weights a finite loss vouched for.
            Err(Failure::AtFirstStep) => {
                let good = self.vouched.take().unwrap_or(start);
                let step = good.step;
                self.restore(good);
                Err(Error::diverged(step))
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            model: self.model().clone(),
            optimizer: self.optimizer.clone(),
            step: self.step,
            history: self.history.len(),
        }
    }

    fn restore(&mut self, snapshot: Snapshot) {
        self.model = Some(snapshot.model);
        self.optimizer = snapshot.optimizer;
        self.step = snapshot.step;
        self.history.truncate(snapshot.history);
    }

    async fn run_steps<H: Helpers>(
        &mut self,
        steps: usize,
        helpers: &mut H,
    ) -> Result<Metrics, Failure> {
        let started = now_ms();
        let first_step = self.step;
        let mut first_loss: Option<Tensor<1>> = None;
        let mut loss_sum: Option<Tensor<1>> = None;
        let mut val_loss = None;
        let shards = (helpers.count() + 1).min(self.config.batch_size);
        for _ in 0..steps {
            let loss = if shards > 1 {
                self.step_shared(helpers, shards).await?
            } else {
                self.step_once()
            };
            first_loss.get_or_insert_with(|| loss.clone());
            loss_sum = Some(match loss_sum {
                Some(sum) => sum + loss,
                None => loss,
            });
            let interval = self.config.eval_interval;
            let last = self.config.keep_best && self.step == self.config.max_steps;
            if (interval > 0 && self.step.is_multiple_of(interval)) || last {
                let val = self.evaluate().await?;
                self.remember_if_best(val);
                val_loss = Some(val);
            }
        }
        let kept_best_from = self.keep_best_at_the_end();
        let (Some(first_loss), Some(loss_sum)) = (first_loss, loss_sum) else {
            return Err(Error::device("no steps to run").into());
        };
        // Each loss is of the weights before its step. One read-back for both.
        let losses = read_floats(Tensor::cat(vec![first_loss, loss_sum], 0)).await?;
        let train_loss = losses[1] / steps as f32;
        if !losses[0].is_finite() {
            return Err(Failure::AtFirstStep);
        }
        if !(train_loss.is_finite() && val_loss.is_none_or(f32::is_finite)) {
            return Err(Error::diverged(first_step).into());
        }
        let elapsed_ms = (now_ms() - started).max(1e-3);
        let tokens = (steps * self.config.batch_size * self.config.block_size) as f64;
        self.history.push(HistoryPoint {
            step: self.step,
            train_loss,
            val_loss,
        });
        Ok(Metrics {
            step: self.step,
            train_loss,
            val_loss,
            lr: learning_rate_at(&self.config, self.step - 1),
            tokens_per_second: tokens / elapsed_ms * 1000.0,
            train_bits_per_char: Self::bits(train_loss, self.chars_per_token),
            val_bits_per_char: val_loss.map(|loss| Self::bits(loss, self.chars_per_token)),
            val_bits_per_byte: val_loss.map(|loss| Self::bits(loss, self.bytes_per_token)),
            kept_best_from,
        })
    }

    /// With `keep_best`, holds on to the weights just evaluated if they are the best so far.
    fn remember_if_best(&mut self, val_loss: f32) {
        let better = self.best.as_ref().is_none_or(|b| val_loss < b.val_loss);
        if self.config.keep_best && val_loss.is_finite() && better {
            self.best = Some(Best {
                val_loss,
                step: self.step,
                model: self.model().clone(),
            });
        }
    }

    /// At the run's last step, with `keep_best`: back to the best weights if the last ones are
    /// worse; returns their step then.
    fn keep_best_at_the_end(&mut self) -> Option<usize> {
        if !self.config.keep_best || self.step != self.config.max_steps {
            return None;
        }
        let best = self.best.as_ref()?;
        if best.step == self.step {
            return None;
        }
        self.model = Some(best.model.clone());
        Some(best.step)
    }

    /// One optimizer step; returns its loss (detached, still on the device).
    fn step_once(&mut self) -> Tensor<1> {
        let model = self.take_model();
        let (loss, grads) = self.shard_loss(&model, self.step, Shard::WHOLE);
        self.update(model, grads);
        loss
    }

    /// One optimizer step over the gradients of this trainer's shard and the helpers' shards.
    async fn step_shared<H: Helpers>(
        &mut self,
        helpers: &mut H,
        shards: usize,
    ) -> Result<Tensor<1>, Error> {
        let model = self.take_model();
        let weights = trainable_weights(&model).await?;
        let others = helpers.gradients(self.step, shards, weights);
        let shard = Shard {
            rank: 0,
            count: shards,
        };
        let (loss, mut grads) = self.shard_loss(&model, self.step, shard);
        let mut loss = read_scalar(loss).await?;
        let mut sum = flat_gradients(&model, &grads).await?;
        // Whatever failed in a helper (its device, its arguments), this call failed because of
        // a helper: kind `Helper` tells the caller it can train on without them.
        let others = others.await.map_err(|e| Error::helper(e.message))?;
        for other in others {
            if other.model != self.fingerprint || other.grads.len() != sum.len() {
                return Err(Error::helper(
                    "a helper worker holds another model (other text, settings or shape)",
                ));
            }
            loss += other.loss;
            sum.iter_mut().zip(&other.grads).for_each(|(a, b)| *a += b);
        }
        let device = self.device.clone().inner();
        replace_gradients(&model, &mut grads, &sum, &device);
        self.update(model, grads);
        Ok(Tensor::from_floats([loss], &device))
    }

    /// This replica's part of step `step` at `weights` (from the trainer's `trainable_weights`),
    /// for the trainer that asked: the loss and gradient of `shard`'s rows. The optimizer and
    /// the step count are untouched; the weights stay.
    pub async fn shard_gradients(
        &mut self,
        step: usize,
        shard: Shard,
        weights: &[f32],
    ) -> Result<ShardGradients, Error> {
        if !(shard.rank < shard.count && shard.count <= self.config.batch_size) {
            return Err(Error::argument(format!(
                "shard {} of {} does not fit a batch of {}",
                shard.rank, shard.count, self.config.batch_size
            )));
        }
        let model = load_trainable(self.model(), weights, &self.device).ok_or_else(|| {
            Error::helper(format!(
                "a replica was sent {} weights where its model trains {}: it holds another model",
                weights.len(),
                crate::model::lora::split(self.model()).trainable
            ))
        })?;
        let (loss, grads) = self.shard_loss(&model, step, shard);
        let gradients = ShardGradients {
            loss: read_scalar(loss).await?,
            grads: flat_gradients(&model, &grads).await?,
            model: self.fingerprint,
        };
        self.model = Some(model);
        Ok(gradients)
    }

    fn take_model(&mut self) -> LanguageModel {
        self.model
            .take()
            .expect("the model is present between steps")
    }

    /// The loss of `shard`'s rows of step `step`'s batch (detached) and its gradient, both
    /// scaled by the shard's share of the batch.
    fn shard_loss(
        &self,
        model: &LanguageModel,
        step: usize,
        shard: Shard,
    ) -> (Tensor<1>, GradientsParams) {
        let config = &self.config;
        // Each step draws from its own streams, so a run resumed from a checkpoint at step n
        // sees exactly the batches and dropout masks of an uninterrupted one. Each shard
        // draws its own dropout masks.
        let dropout_seed = Rng::derive(config.seed, DROPOUT_STREAM, step as u64).next_u64();
        self.device
            .seed(dropout_seed.wrapping_add(shard.rank as u64));
        let mut rng = Rng::derive(config.seed, BATCH_STREAM, step as u64);
        let rows = shard.rows(config.batch_size);
        let share = rows.len() as f64 / config.batch_size as f64;
        let (inputs, targets) = batch(
            &self.data.train,
            config.batch_size,
            config.block_size,
            rows,
            &mut rng,
            &self.device,
        );
        let mut loss = loss(model, inputs, targets);
        if shard.count > 1 {
            loss = loss.mul_scalar(share);
        }
        let grads = GradientsParams::from_grads(loss.backward(), model);
        (loss.detach(), grads)
    }

    /// Clips `grads`, takes the optimizer step and counts it.
    fn update(&mut self, model: LanguageModel, mut grads: GradientsParams) {
        let config = &self.config;
        if config.grad_clip > 0.0 {
            clip_global_norm(&model, &mut grads, config.grad_clip);
        }
        let lr = learning_rate_at(config, self.step);
        self.model = Some(self.optimizer.step(lr, model, grads));
        self.step += 1;
    }

    /// Mean loss over the whole validation split, cut into consecutive windows of the context
    /// length (the remainder left out): the same windows for any model of that context, and
    /// for PyTorch's side of `scripts/bench-speedrun.sh`, so losses compare exactly.
    pub async fn evaluate_all(&self) -> Result<f32, Error> {
        let model = self.inference_model();
        let device = self.device.clone().inner();
        let (block, val) = (self.config.block_size, &self.data.val);
        let windows = val.len().saturating_sub(1) / block;
        if windows == 0 {
            return Err(Error::argument(format!(
                "the validation split ({} tokens) is shorter than one window of {block}",
                val.len()
            )));
        }
        let mut total = 0.0;
        for first in (0..windows).step_by(EVAL_ALL_BATCH) {
            let rows = EVAL_ALL_BATCH.min(windows - first);
            let ids = |offset: usize| -> Vec<i64> {
                let start = first * block + offset;
                val[start..start + rows * block]
                    .iter()
                    .map(|&id| id as i64)
                    .collect()
            };
            let tensor =
                |data: Vec<i64>| Tensor::from_data(TensorData::new(data, [rows, block]), &device);
            let loss = loss(&model, tensor(ids(0)), tensor(ids(1)));
            total += read_scalar(loss).await? as f64 * rows as f64;
        }
        Ok((total / windows as f64) as f32)
    }

    /// Mean loss over `eval_batches` fixed windows of the validation split.
    pub async fn evaluate(&self) -> Result<f32, Error> {
        let model = self.inference_model();
        let device = self.device.clone().inner();
        let mut rng = Rng::derive(self.config.seed, VAL_STREAM, 0);
        let mut total: Option<Tensor<1>> = None;
        for _ in 0..self.config.eval_batches {
            let (inputs, targets) = batch(
                &self.data.val,
                self.config.batch_size,
                self.config.block_size,
                0..self.config.batch_size,
                &mut rng,
                &device,
            );
            let loss = loss(&model, inputs, targets);
            total = Some(match total {
                Some(total) => total + loss,
                None => loss,
            });
        }
        let total = total.expect("validation uses at least one batch");
        let total = read_scalar(total).await?;
        Ok(total / self.config.eval_batches as f32)
    }
}

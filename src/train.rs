//! The training loop, nanoGPT's `train.py` in steps a caller can interleave with other work:
//! random windows from the train split, AdamW, warmup + cosine learning rate, global gradient
//! clipping, and a validation loss over a fixed set of held-out windows.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::ops::Range;

use crate::adamw::AdamW;
use crate::config::{split_sizes, Config, ConfigError};
use crate::device::{initialize, now_ms, read_scalar};
use crate::model::LanguageModel;
use crate::parallel::{flat_gradients, flat_weights, load_weights, replace_gradients};
use crate::parallel::{Alone, Helpers, Shard, ShardGradients};
use crate::rng::Rng;
use crate::sample::{Generator, SamplingOptions};
use crate::tokenizer::Tokenizer;

/// Separate random streams of one seeded run.
const BATCH_STREAM: u64 = 1;
const DROPOUT_STREAM: u64 = 2;
const VAL_STREAM: u64 = 3;
const INIT_STREAM: u64 = 4;

/// What one call of `train_steps` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
}

/// A point of the loss curve, kept with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    pub step: usize,
    pub train_loss: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f32>,
}

/// The text as token ids, split by position: validation is the end of the text, so no window
/// of one split overlaps the other.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub train: Vec<u32>,
    pub val: Vec<u32>,
}

impl Dataset {
    pub fn new(ids: Vec<u32>, val_fraction: f64) -> Self {
        let (train_len, _) = split_sizes(ids.len(), val_fraction);
        let mut train = ids;
        let val = train.split_off(train_len);
        Dataset { train, val }
    }
}

/// Rows `rows` of a batch of `batch` random windows of `block` tokens from `ids`, with their
/// next-token targets. Every window is drawn, so the shards of one step share one batch.
pub fn batch(
    ids: &[u32],
    batch: usize,
    block: usize,
    rows: Range<usize>,
    rng: &mut Rng,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let starts: Vec<usize> = (0..batch).map(|_| rng.below(ids.len() - block)).collect();
    let mut inputs = Vec::with_capacity(rows.len() * block);
    let mut targets = Vec::with_capacity(rows.len() * block);
    for &start in &starts[rows.clone()] {
        inputs.extend(ids[start..start + block].iter().map(|&id| id as i64));
        targets.extend(
            ids[start + 1..start + block + 1]
                .iter()
                .map(|&id| id as i64),
        );
    }
    let tensor =
        |data: Vec<i64>| Tensor::from_data(TensorData::new(data, [rows.len(), block]), device);
    (tensor(inputs), tensor(targets))
}

/// Mean next-token cross-entropy of `model` on one batch.
fn loss(model: &LanguageModel, inputs: Tensor<2, Int>, targets: Tensor<2, Int>) -> Tensor<1> {
    let logits = model.forward(inputs);
    let [batch, time, vocab] = logits.dims();
    CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(
            logits.reshape([batch * time, vocab]),
            targets.reshape([batch * time]),
        )
}

/// FNV-1a over `parts`: the same on every platform and build.
fn fnv1a(parts: &[&[u8]]) -> u32 {
    let mut hash = 0x811c_9dc5_u32;
    for byte in parts.iter().flat_map(|part| part.iter()) {
        hash = (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193);
    }
    hash
}

/// Sums the squares of every gradient, for the global norm.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squares = grad.powi_scalar(2).sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + squares,
                None => squares,
            });
        }
    }
}

struct ScaleGrads<'a> {
    grads: &'a mut GradientsParams,
    scale: Tensor<1>,
}

impl ModuleVisitor for ScaleGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            let scale = self.scale.clone().unsqueeze::<D>();
            self.grads.register(param.id, grad * scale);
        }
    }
}

/// Scales all gradients together so their global norm is at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_` does. burn's own clipping works per parameter. The scale
/// stays a tensor so nothing is read back to the host.
fn clip_global_norm(model: &LanguageModel, grads: &mut GradientsParams, max_norm: f64) {
    let mut norm = SquaredNorm { grads, total: None };
    model.visit(&mut norm);
    let Some(total) = norm.total else { return };
    let scale = total
        .sqrt()
        .clamp_min(max_norm)
        .recip()
        .mul_scalar(max_norm);
    model.visit(&mut ScaleGrads { grads, scale });
}

/// Why training stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainError {
    /// The loss became NaN or infinite; the weights are back to where the chunk started.
    Diverged {
        step: usize,
    },
    Device(String),
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::Diverged { step } => write!(
                f,
                "the loss became NaN or infinite before step {step}: the learning rate is probably too high. Training stopped and the last good weights (step {step}) were restored; lower the learning rate and train again"
            ),
            TrainError::Device(message) => f.write_str(message),
        }
    }
}

/// A model, its optimizer and its data, at some step of a seeded run.
pub struct Trainer {
    pub config: Config,
    pub tokenizer: Tokenizer,
    pub text: String,
    data: Dataset,
    /// Taken out while a step updates it (see `step_once`), present otherwise.
    model: Option<LanguageModel>,
    optimizer: AdamW,
    device: Device,
    step: usize,
    history: Vec<HistoryPoint>,
    /// Identifies the config and text, so a helper's replica can be checked (see `parallel`).
    fingerprint: u32,
}

impl Trainer {
    /// Checks everything, then builds the tokenizer, model and optimizer on `device` (which
    /// must have autodiff).
    pub fn new(text: String, config: Config, device: Device) -> Result<Self, Vec<ConfigError>> {
        let tokenizer = Tokenizer::from_text(&text);
        let errors = config.validate(text.chars().count(), tokenizer.vocab_size());
        if !errors.is_empty() {
            return Err(errors);
        }
        device.seed(Rng::derive(config.seed, INIT_STREAM, 0).next_u64());
        let model = LanguageModel::new(&config, tokenizer.vocab_size(), &device);
        // Now, while the seed above holds: drawn lazily, the weights would depend on what the
        // RNG did before their first use, and an untrained model's first generation would wait
        // for the draw (~30 ms for baby-GPT in wasm).
        initialize(&model);
        let optimizer = AdamW::new(&config);
        Ok(Self::assemble(
            text, config, tokenizer, model, optimizer, device,
        ))
    }

    /// Puts together a trainer from parts already checked (a checkpoint).
    pub(crate) fn assemble(
        text: String,
        config: Config,
        tokenizer: Tokenizer,
        model: LanguageModel,
        optimizer: AdamW,
        device: Device,
    ) -> Self {
        let data = Dataset::new(tokenizer.encode_known(&text), config.val_fraction);
        let config_json = serde_json::to_string(&config).expect("configs serialize");
        let fingerprint = fnv1a(&[config_json.as_bytes(), text.as_bytes()]);
        Trainer {
            fingerprint,
            config,
            tokenizer,
            text,
            data,
            model: Some(model),
            optimizer,
            device,
            step: 0,
            history: Vec::new(),
        }
    }

    pub fn step(&self) -> usize {
        self.step
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

    pub fn optimizer(&self) -> &AdamW {
        &self.optimizer
    }

    pub(crate) fn restore(&mut self, step: usize, history: Vec<HistoryPoint>) {
        self.step = step;
        self.history = history;
    }

    /// The same run continued on `device` with `model` (already there): same step, history
    /// and data. The optimizer's moments start afresh: they were on the device being left, which
    /// may be lost.
    pub fn continue_on(&self, model: LanguageModel, device: Device) -> Trainer {
        let mut trainer = Trainer::assemble(
            self.text.clone(),
            self.config.clone(),
            self.tokenizer.clone(),
            model,
            AdamW::new(&self.config),
            device,
        );
        trainer.restore(self.step, self.history.clone());
        trainer
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

    /// The model without autodiff, for evaluation and generation.
    pub fn inference_model(&self) -> LanguageModel {
        self.model().valid()
    }

    /// Runs `steps` (at least one) optimizer steps. If the loss turns NaN or infinite, or the
    /// device fails, the model and optimizer go back to where this call started.
    pub async fn train_steps(&mut self, steps: usize) -> Result<Metrics, TrainError> {
        self.train_steps_with(steps, &mut Alone).await
    }

    /// `train_steps` with `helpers` computing part of each batch (see `parallel`). A helper's
    /// failure fails the call like a device failure.
    pub async fn train_steps_with<H: Helpers>(
        &mut self,
        steps: usize,
        helpers: &mut H,
    ) -> Result<Metrics, TrainError> {
        let last_good = (self.model().clone(), self.optimizer.clone(), self.step);
        let result = self.run_steps(steps, helpers).await;
        if result.is_err() {
            // Diverged, or the device failed: either way the steps of this call are void.
            let (model, optimizer, step) = last_good;
            self.model = Some(model);
            self.optimizer = optimizer;
            self.step = step;
        }
        result
    }

    async fn run_steps<H: Helpers>(
        &mut self,
        steps: usize,
        helpers: &mut H,
    ) -> Result<Metrics, TrainError> {
        let started = now_ms();
        let first_step = self.step;
        let mut loss_sum: Option<Tensor<1>> = None;
        let mut val_loss = None;
        let shards = (helpers.count() + 1).min(self.config.batch_size);
        for _ in 0..steps {
            let loss = if shards > 1 {
                self.step_shared(helpers, shards)
                    .await
                    .map_err(TrainError::Device)?
            } else {
                self.step_once()
            };
            loss_sum = Some(match loss_sum {
                Some(sum) => sum + loss,
                None => loss,
            });
            let interval = self.config.eval_interval;
            if interval > 0 && self.step.is_multiple_of(interval) {
                val_loss = Some(self.evaluate().await.map_err(TrainError::Device)?);
            }
        }
        let Some(loss_sum) = loss_sum else {
            return Err(TrainError::Device("no steps to run".into()));
        };
        let train_loss = read_scalar(loss_sum).await.map_err(TrainError::Device)? / steps as f32;
        if !(train_loss.is_finite() && val_loss.is_none_or(f32::is_finite)) {
            return Err(TrainError::Diverged { step: first_step });
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
            lr: self.config.learning_rate_at(self.step - 1),
            tokens_per_second: tokens / elapsed_ms * 1000.0,
        })
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
    ) -> Result<Tensor<1>, String> {
        let model = self.take_model();
        let others = helpers.gradients(self.step, shards, flat_weights(&model).await?);
        let shard = Shard {
            rank: 0,
            count: shards,
        };
        let (loss, mut grads) = self.shard_loss(&model, self.step, shard);
        let mut loss = read_scalar(loss).await?;
        let mut sum = flat_gradients(&model, &grads).await?;
        for other in others.await? {
            if other.model != self.fingerprint || other.grads.len() != sum.len() {
                return Err(
                    "a helper worker holds another model (other text, settings or shape)".into(),
                );
            }
            loss += other.loss;
            sum.iter_mut().zip(&other.grads).for_each(|(a, b)| *a += b);
        }
        let device = self.device.clone().inner();
        replace_gradients(&model, &mut grads, &sum, &device);
        self.update(model, grads);
        Ok(Tensor::from_floats([loss], &device))
    }

    /// This replica's part of step `step` at `weights` (from the trainer's `flat_weights`), for
    /// the trainer that asked: the loss and gradient of `shard`'s rows. The optimizer and the
    /// step count are untouched; the weights stay.
    pub async fn shard_gradients(
        &mut self,
        step: usize,
        shard: Shard,
        weights: &[f32],
    ) -> Result<ShardGradients, String> {
        if !(shard.rank < shard.count && shard.count <= self.config.batch_size) {
            return Err(format!(
                "shard {} of {} does not fit a batch of {}",
                shard.rank, shard.count, self.config.batch_size
            ));
        }
        let model = load_weights(self.model(), weights, &self.device)?;
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
        let lr = config.learning_rate_at(self.step);
        self.model = Some(self.optimizer.step(lr, model, grads));
        self.step += 1;
    }

    /// Mean loss over `eval_batches` fixed windows of the validation split.
    pub async fn evaluate(&self) -> Result<f32, String> {
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
        Ok(read_scalar(total).await? / self.config.eval_batches as f32)
    }
}

// @ts-check
// The Train card's read-outs (step, losses, speed, time left, the loss chart, the status and
// error lines, the autosave line), the backend badge, and the compact modes' one-line model
// summary: what the engine worker says about training, shown.
import * as format from '../format.js';
import { LossChart } from '../loss-chart.js';
import { OPEN_ENDED_STEPS, continueNote, finishedNote } from '../budget.js';
import { nodes, say, setNumber } from './markup.js';

/** @typedef {import('../../pkg/kindling.js').Config} Config */
/** @typedef {import('../../pkg/kindling.js').HistoryPoint} HistoryPoint */
/** @typedef {import('../protocol.js').Request} Request */
/** @typedef {import('../protocol.js').ModelInfo} ModelInfo */
/** @typedef {import('../protocol.js').ModelOrigin} ModelOrigin */
/** @typedef {import('../protocol.js').Setup} Setup */
/** @typedef {import('../protocol.js').MetricsMessage} MetricsMessage */
/** @typedef {import('../protocol.js').PausedMessage} PausedMessage */
/** @typedef {import('../protocol.js').FinishedMessage} FinishedMessage */
/** @typedef {import('../protocol.js').SavedMessage} SavedMessage */
/** @typedef {import('../protocol.js').Backend} Backend */

/**
 * What the read-outs show; an undefined loss keeps the one shown, null clears it.
 * @typedef {object} Readouts
 * @property {number} step
 * @property {number} total
 * @property {number | null} [trainLoss]
 * @property {number | null} [valLoss]
 * @property {number | null} [trainBitsPerChar]
 * @property {number | null} [valBitsPerChar]
 * @property {number} [valBitsPerByte]
 * @property {number} [tokensPerSecond]
 * @property {number} [stepsPerSecond]
 */

/**
 * Where a model computes, as a model's info, a chunk's metrics or a `backend` message say.
 * @typedef {object} Placement
 * @property {Backend} backend
 * @property {string} [adapter]
 * @property {string} [notice]
 * @property {number} [workers]
 * @property {string} [workersNote]
 */

/**
 * @typedef {Record<'step' | 'loss' | 'trainBits' | 'valLoss' | 'valBits' | 'speed' | 'eta'
 *   | 'trainStatus' | 'trainError' | 'backend' | 'modelLine' | 'saveStatus', HTMLElement>
 *   & { progress: HTMLProgressElement, chart: HTMLCanvasElement }} TrainingNodes
 */

const MODEL_NAMES = { gpt: 'GPT', lstm: 'LSTM', gru: 'GRU' };

export class TrainingView {
  // The worker's messages this takes: the element hands it these and no others.
  accepts = /** @type {const} */ (['model', 'metrics', 'backend', 'paused', 'finished']);

  /** @param {ShadowRoot} root */
  constructor(root) {
    this.$ = /** @type {TrainingNodes} */ (
      nodes(
        root,
        'step loss train-bits val-loss val-bits speed eta progress chart train-status train-error backend model-line save-status',
      )
    );
    this.chart = new LossChart(this.$.chart);
    this.totalSteps = 0;
    this.step = 0;
    /** @type {Backend | null} */
    this.backend = null; // where the shown model computes: 'cpu' | 'webgpu' | 'remote'
    this.compact = false;
    this.runSteps = 0; // the shown model's maxSteps: what a Continue adds
    this.continuable = false; // a budget's model (keepBest): trains on once finished
    /** @type {string | null} */
    this.budgetLabel = null; // the chosen budget, before a model is made ("1 minute"; train-for.js)
  }

  /** @param {string | undefined} text undefined clears the line, as '' does */
  status(text) {
    this.$.trainStatus.textContent = /** @type {string} */ (text);
  }

  /** @param {string} message */
  error(message) {
    say(this.$.trainError, message);
  }

  // Requests to the worker show at once.
  /** @param {{ type: Request['type'], budget?: { seconds: number }, more?: boolean }} message */
  sent({ type, budget, more }) {
    if (type === 'create') this.status(budget ? 'Measuring this device…' : 'Building the model…');
    else if (type === 'train') this.status(more ? continueNote(this.runSteps, this.step + this.runSteps) : 'Training…');
  }

  /** @param {import('./parts.js').Accepted<TrainingView['accepts']>} message */
  received(message) {
    switch (message.type) {
      case 'model':
        // A model's message names its origin: only the page's own (no model) leaves it out.
        return message.info
          ? this.show(message.info, /** @type {ModelOrigin} */ (message.origin), message.setup)
          : this.clear();
      case 'metrics':
        return this.chunk(message);
      case 'backend':
        // 'auto' measured both backends: the figures are news.
        if (message.measured) this.status(message.notice);
        return this.showBackend(message);
      case 'paused':
        return this.paused(message);
      case 'finished':
        return this.finished(message);
    }
  }

  /** @param {boolean} compact */
  setCompact(compact) {
    this.compact = compact;
    this.$.modelLine.hidden = !compact || !this.$.modelLine.textContent;
    this.chart.redraw();
  }

  // No model: empty chart and read-outs.
  clear() {
    this.chart.setHistory([], 0);
    this.metrics({ step: 0, total: 0 });
    this.status('');
    this.$.saveStatus.textContent = '';
    this.backend = null;
    this.continuable = false;
  }

  // A model was made, opened or restored: its history, read-outs and badge. A budget's model
  // (`setup.budget`) says why it is this size.
  /**
   * @param {ModelInfo} info
   * @param {ModelOrigin} origin
   * @param {Setup} [setup]
   */
  show(info, origin, setup) {
    this.totalSteps = info.config.maxSteps;
    this.runSteps = info.config.maxSteps;
    this.continuable = Boolean(info.config.keepBest);
    this.showBackend(info);
    this.modelLine(info.config, info.parameterCount, info.step);
    this.chart.setHistory(info.history, this.totalSteps);
    const last = /** @type {Partial<HistoryPoint>} */ (info.history.at(-1) ?? {});
    const lastVal = info.history.findLast((point) => Number.isFinite(point.valLoss));
    // The history keeps the losses only: the bits per character are unknown until the next chunk.
    const bits = { trainBitsPerChar: null, valBitsPerChar: null };
    this.metrics({
      step: info.step,
      total: this.totalSteps,
      trainLoss: last.trainLoss,
      valLoss: lastVal?.valLoss,
      ...bits,
    });
    /** @type {Partial<Record<ModelOrigin, string>>} */
    const said = {
      create: setup?.budget?.why ?? 'Training…',
      restore: `Restored at step ${info.step}. Press ${this.continuable && info.step >= this.totalSteps ? 'Continue' : 'Resume'} to keep training.`,
      open: `Opened a model at step ${info.step}.`,
      'model-src': `Loaded a model trained for ${info.step} steps.`,
      recovered: `Stopped at step ${info.step}; the last good weights are back.`,
    };
    this.status(said[origin]);
  }

  // One chunk of training done (or many, if the page was busy): plot and read out.
  /** @param {MetricsMessage} message */
  chunk(message) {
    if (message.backend) this.showBackend(message);
    this.chart.add(message);
    this.metrics(message);
    this.$.chart.setAttribute(
      'aria-label',
      `Loss chart: train loss ${format.loss(message.trainLoss)} at step ${message.step}`,
    );
  }

  // The losses are in nats per token, as the chart plots them; the bits per character of the
  // text say the same in units that compare across tokenizers. An undefined value keeps the
  // last one shown (a chunk without an evaluation), null clears it.
  // A model trained until stopped has no end: no total, no time left, no progress to show.
  /** @param {Readouts} readouts */
  metrics({
    step,
    total,
    trainLoss,
    valLoss,
    trainBitsPerChar,
    valBitsPerChar,
    valBitsPerByte,
    tokensPerSecond,
    stepsPerSecond,
  }) {
    this.step = step;
    this.totalSteps = total;
    const { progress } = this.$;
    const openEnded = total >= OPEN_ENDED_STEPS;
    this.$.step.textContent = openEnded ? String(step) : `${step} / ${total || '—'}`;
    this.$.step.dataset.value = String(step);
    this.$.step.dataset.total = String(total ?? '');
    progress.hidden = openEnded;
    progress.value = total ? step / total : 0;
    progress.setAttribute('aria-valuetext', `step ${step} of ${total}`);
    if (trainLoss !== undefined) setNumber(this.$.loss, trainLoss, format.loss);
    if (trainBitsPerChar !== undefined) setNumber(this.$.trainBits, trainBitsPerChar, format.loss);
    if (valLoss !== undefined) setNumber(this.$.valLoss, valLoss, format.loss);
    if (valBitsPerChar !== undefined) this.valBits(valBitsPerChar, valBitsPerByte);
    if (step === 0) {
      for (const node of [this.$.loss, this.$.trainBits, this.$.valLoss]) setNumber(node, undefined, format.loss);
      this.valBits(undefined);
    }
    this.$.speed.textContent = tokensPerSecond ? format.compact(tokensPerSecond) : '—';
    const eta = openEnded ? 'until stopped' : stepsPerSecond ? format.duration((total - step) / stepsPerSecond) : '—';
    this.$.eta.textContent = eta;
  }

  // Bits per byte (of the text's UTF-8) in the tooltip: the measure byte-level models report.
  /**
   * @param {number | null | undefined} perChar
   * @param {number} [perByte]
   */
  valBits(perChar, perByte) {
    setNumber(this.$.valBits, perChar, format.loss);
    if (Number.isFinite(perByte))
      this.$.valBits.title = `${format.loss(/** @type {number} */ (perByte))} bits per byte`;
    else this.$.valBits.removeAttribute('title');
  }

  /** @param {PausedMessage} message */
  paused({ step, reason }) {
    this.status(
      {
        hidden: `Paused at step ${step} because the tab was hidden; training resumes when you come back.`,
        offscreen: `Paused at step ${step} while out of view; training resumes when you scroll back.`,
      }[reason] ?? `Paused at step ${step}.`,
    );
  }

  /** @param {FinishedMessage} message */
  finished({ step, keptBestFrom }) {
    this.status(finishedNote({ step, keptBestFrom, continuable: this.continuable }));
    this.$.eta.textContent = '—';
  }

  /** @param {SavedMessage} message */
  saved({ step, savedAt }) {
    this.$.saveStatus.textContent = `Autosaved at step ${step} (${new Date(savedAt).toLocaleTimeString()}).`;
  }

  // The badge names the backend; its tooltip the GPU adapter (or the peer's device), or why the
  // CPU (no WebGPU here). Moving to the CPU mid-run (a lost GPU or peer) is news, so that notice
  // also goes where training status is read; starting on the CPU is not.
  // `workers`: how many workers share each training step on the CPU (known once training runs);
  // `workersNote`: for workers "auto", what each count measured and the count chosen.
  /** @param {Placement} placement */
  showBackend({ backend, adapter, notice, workers = 1, workersNote }) {
    // Training's metrics name the backend only: the adapter stays what it was.
    if (adapter === undefined && backend === this.backend) adapter = this.adapter;
    /** @type {string | undefined} */
    this.adapter = adapter;
    const badge = this.$.backend;
    const sharing = workers > 1 ? `, each step shared by ${workers} workers` : '';
    /** @type {Partial<Record<Backend, string>>} */
    const names = { webgpu: 'WebGPU', remote: `Remote: ${adapter || 'peer'}` };
    badge.textContent = names[backend] ?? (workers > 1 ? `CPU ×${workers}` : 'CPU');
    /** @type {Partial<Record<Backend, string>>} */
    const where = {
      webgpu: `WebGPU: ${adapter || 'adapter'}.`,
      remote: `Computing on a compute peer's device: ${adapter || 'unnamed'}.`,
    };
    const measured = workersNote && `Workers measured: ${workersNote}.`;
    badge.title = [where[backend] ?? `Computing on the CPU${sharing}.`, measured, notice].filter(Boolean).join(' ');
    if (notice && /** @type {string} */ (this.backend) in where && backend === 'cpu') this.status(notice);
    this.backend = backend;
  }

  // The summary of the form's model, before one is made: a budget's size is chosen at Train.
  /**
   * @param {Config} config
   * @param {number} [parameterCount]
   */
  formLine(config, parameterCount) {
    if (this.budgetLabel === null) return this.modelLine(config, parameterCount, 0);
    const model = MODEL_NAMES[config.model] ?? config.model;
    const sized =
      this.budgetLabel === 'until you stop'
        ? 'sized for this device, trained until you stop'
        : `sized for ${this.budgetLabel} on this device`;
    this.$.modelLine.textContent = `${model} · ${sized}`;
    this.$.modelLine.hidden = !this.compact;
  }

  // The compact modes' one-line summary of the model under the name.
  /**
   * @param {Config} config
   * @param {number | undefined} parameterCount
   * @param {number} step
   */
  modelLine(config, parameterCount, step) {
    const parts = [MODEL_NAMES[config.model] ?? config.model];
    if (parameterCount) parts.push(`${format.compact(parameterCount)} parameters`);
    parts.push(
      step ? `trained ${step.toLocaleString('en')} steps` : `${config.maxSteps.toLocaleString('en')} training steps`,
    );
    this.$.modelLine.textContent = parts.join(' · ');
    this.$.modelLine.hidden = !this.compact;
  }

  connect() {
    this.chart.connect();
  }

  disconnect() {
    this.chart.disconnect();
  }
}

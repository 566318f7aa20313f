// @ts-check
// "Start from: Scratch | Base model | A model file…" in the Train card: what Train starts from.
// Scratch creates a model from the Model card's settings. The others fine-tune a saved model
// (its weights and tokenizer, so its shape) on the text card's text with the form's training
// settings (Kindling.fineTune, in the engine worker): every weight, or LoRA adapters of a
// chosen rank with the weights frozen. The page keeps the start point's bytes: Train may start
// from them again, and the Before / after panel generates with them.
import * as format from '../format.js';
import { nodes, say, sentence } from './markup.js';

/** @typedef {import('../kindling-playground.js').KindlingPlayground} KindlingPlayground */
/** @typedef {import('./engine-client.js').EngineClient} EngineClient */
/** @typedef {import('./config-form.js').ConfigForm} ConfigForm */
/** @typedef {import('./training-view.js').TrainingView} TrainingView */
/** @typedef {import('../protocol.js').ModelMessage} ModelMessage */
/** @typedef {import('../protocol.js').ModelInfo} ModelInfo */
/** @typedef {import('../protocol.js').Setup} Setup */
/** @typedef {import('../protocol.js').FineTuneRequest} FineTuneRequest */
/** @typedef {import('../../pkg/kindling.js').FineTuneOptions} FineTuneOptions */
/** @typedef {import('../../pkg/kindling.js').Config} Config */
/** @typedef {import('../../pkg/kindling.js').ParameterSplit} ParameterSplit */

/** @typedef {'scratch' | FineTuneRequest['startFrom']} StartSource what Train starts from */

/**
 * A start point's model file, by name.
 * @typedef {object} StartPoint
 * @property {string} name
 * @property {Uint8Array} bytes
 */

/**
 * @typedef {Record<'startFrom' | 'fineTuneMode' | 'loraRankField' | 'startNote' | 'startError'
 *   | 'paramSplit', HTMLElement>
 *   & Record<'startFile' | 'loraRank', HTMLInputElement>
 *   & { chooseStartFile: HTMLButtonElement }} StartNodes
 */

// The project's pretrained byte-level GPT, next to the module like the rest of www/; the
// base-model-src attribute may name another (relative to the page, like model-src).
const BASE_MODEL_URL = new URL('../models/base.kindling', import.meta.url);
const MODEL_NAMES = { gpt: 'a GPT', lstm: 'an LSTM', gru: 'a GRU' };
const TOKENIZERS = { char: 'one token per character', bpe: 'byte-level BPE' };
const SHAPE_NOTE =
  'The model’s type, tokenizer and sizes are its start point’s (Start from, in the Train card); the training settings here apply.';

export class StartFrom {
  // host: the element; engine: its EngineClient; form: its ConfigForm; training: its
  // TrainingView; readFile(file) and fetchModel(url): a model's bytes (model-files.js).
  /**
   * @param {ShadowRoot} root
   * @param {object} parts
   * @param {KindlingPlayground} parts.host
   * @param {EngineClient} parts.engine
   * @param {ConfigForm} parts.form
   * @param {TrainingView} parts.training
   * @param {(file: File) => Promise<Uint8Array>} parts.readFile
   * @param {(url: URL) => Promise<Uint8Array>} parts.fetchModel
   */
  constructor(root, { host, engine, form, training, readFile, fetchModel }) {
    this.host = host;
    this.engine = engine;
    this.form = form;
    this.training = training;
    this.readFile = readFile;
    this.fetchModel = fetchModel;
    this.$ = /** @type {StartNodes} */ (
      nodes(
        root,
        'start-from choose-start-file start-file fine-tune-mode lora-rank-field lora-rank start-note start-error param-split',
      )
    );
    /** @type {StartSource} */
    this.source = 'scratch'; // 'scratch' | 'base' | 'file'
    /** @type {{ href: string, name: string, bytes: Uint8Array | null } | null} */
    this.base = null; // { href, name, bytes }; bytes null while fetched
    /** @type {StartPoint | null} */
    this.file = null; // { name, bytes } the picked model file
    this.fetchId = 0;
    /** @type {StartPoint | null} */
    this.pending = null; // { name, bytes } sent to the worker, until it answers
    /** @type {StartPoint | null} */
    this.starting = null; // { name, bytes } the start point of the fine-tuned model shown
    const { startFrom, chooseStartFile, startFile, fineTuneMode } = this.$;
    // A click on "A model file…" opens the picker at once; arrowing through the choices does
    // not (a dialog popping up mid-group would trap a keyboard reader): the button does.
    this.pointer = false;
    startFrom.addEventListener('pointerdown', () => (this.pointer = true));
    startFrom.addEventListener('keydown', () => (this.pointer = false));
    startFrom.addEventListener('change', ({ target }) =>
      this.choose(/** @type {StartSource} */ (/** @type {HTMLInputElement} */ (target).value)),
    );
    chooseStartFile.addEventListener('click', () => startFile.click());
    startFile.addEventListener('change', () => this.picked(/** @type {FileList} */ (startFile.files)[0]));
    fineTuneMode.addEventListener('change', () => this.showMode());
  }

  // Train fine-tunes rather than creates.
  get fineTunes() {
    return this.source !== 'scratch';
  }

  // Train can start: the start point's bytes are here and no fine-tune is under way.
  get ready() {
    if (this.pending) return false;
    if (this.source === 'base') return Boolean(this.base?.bytes);
    return this.source === 'scratch' || Boolean(this.file);
  }

  get lora() {
    const checked = this.$.fineTuneMode.querySelector('input:checked');
    return /** @type {HTMLInputElement} */ (checked).value === 'lora';
  }

  /** @param {StartSource} source */
  choose(source) {
    this.source = source;
    say(this.$.startError, '');
    this.$.fineTuneMode.hidden = !this.fineTunes;
    this.$.chooseStartFile.hidden = source !== 'file';
    this.showMode();
    this.form.fixShape(this.fineTunes ? SHAPE_NOTE : null);
    this.host.trainFor.refresh(); // budgets are for training from scratch
    if (source === 'base') this.loadBase();
    // Clicked for the first time, the file is asked for at once.
    if (source === 'file' && !this.file && this.pointer) this.$.startFile.click();
    this.showStart();
  }

  showMode() {
    this.$.loraRankField.hidden = !this.fineTunes || !this.lora;
  }

  // The engine's rules arrived (form.rules): the rank's spinner stops at the engine's largest.
  // Its least stays the page's 1: the engine's 0 means no LoRA, which is "All weights" here.
  rulesChanged() {
    const max = this.form.rule('loraRank')?.max;
    if (max === undefined) this.$.loraRank.removeAttribute('max');
    else this.$.loraRank.max = String(max);
  }

  // What Train starts from, in a line under the control.
  showStart() {
    /** @type {(what: string, start: StartPoint) => string} */
    const loaded = (what, { name, bytes }) =>
      `${what}: ${name} (${format.bytes(bytes.length)}). Train fine-tunes it on this text.`;
    const lines = {
      scratch: '', // Train for says how big (train-for.js)
      base: this.base?.bytes
        ? loaded('Base model', /** @type {StartPoint} */ (this.base))
        : this.base
          ? 'Fetching the base model…'
          : '',
      file: this.file ? loaded('Model file', this.file) : 'Choose a model file saved with “Download model”.',
    };
    this.$.startNote.textContent = lines[this.source];
    this.$.chooseStartFile.textContent = this.file ? 'Choose another file…' : 'Choose a file…';
    this.host.update();
  }

  baseUrl() {
    const src = this.host.getAttribute('base-model-src');
    return src ? new URL(src, document.baseURI) : BASE_MODEL_URL;
  }

  // The base model, fetched once per address; a failed fetch is tried again when chosen again.
  async loadBase() {
    const url = this.baseUrl();
    if (this.base?.href === url.href) return;
    const id = ++this.fetchId;
    const name = url.pathname.split('/').pop() || url.href;
    this.base = { href: url.href, name, bytes: null };
    this.showStart();
    let bytes;
    try {
      bytes = await this.fetchModel(url);
    } catch (error) {
      if (id !== this.fetchId) return;
      this.base = null;
      const src = this.host.getAttribute('base-model-src') ?? 'models/base.kindling';
      const message =
        `Could not fetch the base model (${src}): ` +
        `${sentence(/** @type {Error} */ (error).message)} ` +
        'Start from Scratch or a model file instead, or check the base-model-src attribute.';
      this.showStart();
      say(this.$.startError, message);
      this.host.emit('kindling-error', { source: 'base-model', kind: 'fetch', message });
      return;
    }
    if (id !== this.fetchId) return;
    this.base.bytes = bytes;
    this.showStart();
  }

  // base-model-src changed: the next Train fetches the new address.
  baseChanged() {
    this.fetchId++;
    this.base = null;
    if (this.source === 'base') this.loadBase();
  }

  /** @param {File | undefined} file */
  async picked(file) {
    this.$.startFile.value = '';
    if (!file) return;
    say(this.$.startError, '');
    try {
      this.file = { name: file.name, bytes: await this.readFile(file) };
    } catch (error) {
      say(this.$.startError, `${/** @type {Error} */ (error).message} Choose another file.`);
    }
    this.showStart();
  }

  // Train pressed with a start point other than Scratch: the worker answers with a `model`
  // (origin 'fine-tune') and trains, or with an error.
  start() {
    if (!this.ready) return;
    say(this.$.startError, '');
    const from = /** @type {StartPoint} */ (this.source === 'base' ? this.base : this.file);
    const { options, error } = this.settings();
    if (error) return this.refuse(from.name, error);
    this.pending = { name: from.name, bytes: from.bytes };
    this.training.error('');
    this.training.status(`Preparing to fine-tune ${from.name}…`);
    this.host.update();
    // The worker gets a copy: the page keeps the start point.
    const bytes = from.bytes.slice();
    /** @type {FineTuneRequest} */
    const message = {
      type: 'fine-tune',
      bytes,
      options: /** @type {FineTuneOptions} */ (options), // there was no error
      name: from.name,
      startFrom: /** @type {FineTuneRequest['startFrom']} */ (this.source), // not 'scratch' here
      train: true,
    };
    this.engine.send(message, [bytes.buffer]);
  }

  // The text, the form's training settings and the LoRA rank, or an { error } to show.
  /**
   * @returns {{ options: FineTuneOptions, error?: undefined }
   *   | { options?: undefined, error: string }}
   */
  settings() {
    const { options, errors } = this.form.read();
    if (errors) return { error: 'a setting in the Model card is not a number' };
    // read() leaves the decay floor out when the learning rate is the preset's: the preset's floor.
    const preset = /** @type {string} */ (options.preset); // undefined: no preset's floor
    const floor = options.minLearningRate ?? this.form.presets[preset]?.minLearningRate;
    const chosen = { ...options, minLearningRate: floor };
    // What a fine-tune may change is the engine's rule (`training`), the form's fields or not.
    const fields = Object.values(this.form.rules)
      .filter((rule) => rule.training)
      .map((rule) => /** @type {keyof Config} */ (rule.field));
    const training = fields.filter((name) => chosen[name] !== undefined);
    const settings = {
      text: /** @type {string} */ (options.text), // read() always gives the text
      ...Object.fromEntries(training.map((name) => [name, chosen[name]])),
    };
    if (!this.lora) return { options: settings };
    const rank = Number(this.$.loraRank.value);
    const max = this.form.rule('loraRank')?.max; // undefined: the engine's check alone
    if (!Number.isInteger(rank) || rank < 1 || rank > (max ?? rank)) {
      return { error: `the LoRA rank must be a whole number from 1${max === undefined ? '' : ` to ${max}`}` };
    }
    return { options: { ...settings, loraRank: rank } };
  }

  // The worker's `model` messages: a model made, opened or dropped settles the last refusal.
  /** @param {ModelMessage} message */
  received({ origin, info, setup }) {
    say(this.$.startError, '');
    const fineTuned = origin === 'fine-tune';
    if (fineTuned) this.starting = this.pending;
    else if (origin !== 'recovered') this.starting = null;
    this.pending = null;
    this.showParameters(info, setup);
    this.host.update();
    if (!fineTuned) return;
    // A fine-tuned model's message has both.
    const { config, parameterCount, step } = /** @type {ModelInfo} */ (info);
    const { fineTunedFrom } = /** @type {Setup} */ (setup);
    const model = [
      MODEL_NAMES[config.model] ?? config.model,
      `${format.compact(parameterCount)} parameters`,
      TOKENIZERS[config.tokenizer ?? 'char'],
    ].join(', ');
    const lora = /** @type {number} */ (config.loraRank) > 0; // absent: no LoRA
    const how = lora ? `LoRA adapters of rank ${config.loraRank}` : 'all weights';
    this.training.status(`Fine-tuning ${fineTunedFrom} (${model}; ${how}) on this text from step ${step}.`);
  }

  // What training changes and what it leaves alone, with the memory each needs while training.
  /**
   * @param {ModelInfo | null} info
   * @param {Setup} [setup]
   */
  showParameters(info, setup) {
    const split = this.$.paramSplit;
    const parameters = info?.parameters;
    const rank = /** @type {number} */ (info?.config.loraRank); // absent: no LoRA (undefined > 0)
    split.hidden = !parameters || !(rank > 0 || setup?.fineTunedFrom);
    if (split.hidden) return;
    const { trainable, frozen, trainableBytes, frozenBytes } = /** @type {ParameterSplit} */ (parameters);
    const how = rank > 0 ? `LoRA r=${rank}` : 'All weights';
    const kept = frozen ? `${format.compact(frozen)} frozen (${format.bytes(frozenBytes)})` : 'none frozen';
    split.textContent = `${how}: ${trainable.toLocaleString('en')} trainable (${format.bytes(trainableBytes)} with gradients and AdamW moments) · ${kept}`;
    Object.assign(split.dataset, { trainable, frozen });
  }

  // A fine-tune request failed (a character model that lacks some of the text's characters,
  // a file that is no model, LoRA on an LSTM); the worker kept what it had.
  /**
   * @param {string} message
   * @returns {true}
   */
  failed(message) {
    const { name } = this.pending ?? {};
    this.pending = null;
    this.training.status('');
    // The engine names the fix in its own terms (LoRA rank 0); the page's is a choice above.
    const lora = this.lora && /LSTM or GRU/.test(message) ? ' Choose “All weights” to fine-tune it.' : '';
    this.refuse(name, `${sentence(message)}${lora}`);
    this.host.update();
    return true;
  }

  /**
   * @param {string | undefined} name
   * @param {string} message
   */
  refuse(name, message) {
    say(this.$.startError, `Could not fine-tune “${name}”: ${sentence(message)} Nothing was changed.`);
  }
}

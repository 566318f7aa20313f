// @ts-check
// A model's ways in and out of the element: the autosave offered after a reload, "Download
// model" (a Kindling file — a LoRA model's as base + adapters or merged — or safetensors with
// its JSON manifest, for PyTorch and nanoGPT: src/interop), "Open model…", the start points
// Train fine-tunes (start-from.js), and the model-src attribute's file. The engine worker reads
// and writes the bytes; this fetches them, asks for them and says how it went.
import * as format from '../format.js';
import { loadAutosaveSummary, clearAutosave } from '../autosave-store.js';
import { el, nodes, say, sentence } from './markup.js';
import { workerSettings } from './attributes.js';
import { StartFrom } from './start-from.js';

/** @typedef {import('../kindling-playground.js').KindlingPlayground} KindlingPlayground */
/** @typedef {import('./engine-client.js').EngineClient} EngineClient */
/** @typedef {import('./config-form.js').ConfigForm} ConfigForm */
/** @typedef {import('./header-view.js').HeaderView} HeaderView */
/** @typedef {import('./training-view.js').TrainingView} TrainingView */

/**
 * The bytes the worker is opening, and where they came from.
 * @typedef {object} Opening
 * @property {string} name
 * @property {'file' | 'model-src'} from
 */

/**
 * @typedef {Record<'resumeOffer' | 'resumeText' | 'resumeError' | 'downloadAsField' | 'fileError'
 *   | 'saveError', HTMLElement>
 *   & Record<'resume' | 'discard' | 'download' | 'openModel', HTMLButtonElement>
 *   & Record<'downloadFormat' | 'downloadAs', HTMLSelectElement>
 *   & { modelFile: HTMLInputElement }} FileNodes
 */

// No model the engine can train fits in more: its memory limit (src/config.rs,
// MEMORY_LIMIT_BYTES, a copy: the engine exports no such number) holds the weights and more.
// Checked before a byte is read, so a huge file picked by mistake costs nothing.
const MAX_MODEL_BYTES = 1024 * 1024 * 1024;
// A slow server gets a line saying so; the fetch itself goes on, as the reader may wait.
const SLOW_MODEL_MS = 5000;

export class ModelFiles {
  // The worker's messages this takes (it hands the models on to its StartFrom): the element
  // hands it these and no others.
  accepts = /** @type {const} */ (['saved', 'model']);

  // host: the element (its attributes and state); engine: its EngineClient; form: its
  // ConfigForm (an opened model keeps the form's settings for what it lacks); header and
  // training: the views that show the status and the autosave line.
  /**
   * @param {ShadowRoot} root
   * @param {object} parts
   * @param {KindlingPlayground} parts.host
   * @param {EngineClient} parts.engine
   * @param {ConfigForm} parts.form
   * @param {HeaderView} parts.header
   * @param {TrainingView} parts.training
   */
  constructor(root, { host, engine, form, header, training }) {
    this.host = host;
    this.engine = engine;
    this.form = form;
    this.header = header;
    this.training = training;
    this.$ = /** @type {FileNodes} */ (
      nodes(
        root,
        'resume-offer resume-text resume-error resume discard download download-format download-as-field download-as ' +
          'open-model model-file ' +
          'file-error save-error',
      )
    );
    this.modelSrcId = 0;
    /** @type {Opening | null} */
    this.opening = null; // { name, from: 'file' | 'model-src' } while the worker opens bytes
    const { resume, discard, download, downloadFormat, openModel, modelFile } = this.$;
    this.lora = false;
    resume.addEventListener('click', () => this.resume());
    discard.addEventListener('click', () => this.discard());
    download.addEventListener('click', () => this.download());
    downloadFormat.addEventListener('change', () => this.showDownloadAs());
    openModel.addEventListener('click', () => modelFile.click());
    modelFile.addEventListener('change', () => this.openFile(/** @type {FileList} */ (modelFile.files)[0]));
    this.startFrom = new StartFrom(root, { host, engine, form, training, readFile: readModelFile, fetchModel });
  }

  // ---- the autosave -----------------------------------------------------------------

  async offerAutosave() {
    let saved;
    try {
      saved = await loadAutosaveSummary(workerSettings(this.host).name);
    } catch (error) {
      return say(this.$.saveError, /** @type {Error} */ (error).message);
    }
    if (!saved || this.host.phase !== 'empty') return;
    const lastLoss = /** @type {number} */ (saved.lastLoss); // undefined is not finite
    const loss = Number.isFinite(lastLoss) ? `, loss ${format.loss(lastLoss)}` : '';
    this.$.resumeText.textContent = `A ${saved.preset ?? saved.model} model was saved at step ${saved.step} of ${saved.maxSteps}${loss}, ${format.ago(saved.savedAt)}.`;
    this.$.resumeOffer.hidden = false;
  }

  hideOffer() {
    this.$.resumeOffer.hidden = true;
  }

  resume() {
    say(this.$.resumeError, '');
    this.engine.send({ type: 'restore' });
  }

  async discard() {
    try {
      await clearAutosave(workerSettings(this.host).name);
      this.hideOffer();
    } catch (error) {
      say(this.$.resumeError, /** @type {Error} */ (error).message);
    }
  }

  // The worker's `model` and `saved` messages.
  /** @param {import('./parts.js').Accepted<ModelFiles['accepts']>} message */
  received(message) {
    if (message.type === 'saved') {
      say(this.$.saveError, '');
      this.training.saved(message);
    } else if (message.type === 'model') {
      this.clearError();
      this.startFrom.received(message);
      this.lora = /** @type {number} */ (message.info?.config.loraRank) > 0;
      this.showDownloadAs();
      if (message.setup) this.hideOffer();
      if (message.origin === 'model-src') this.modelSrcLoaded();
    }
  }

  // ---- files ------------------------------------------------------------------------

  // A LoRA model's Kindling file saves as base + adapters (it goes on training as LoRA) or
  // merged (an ordinary model); safetensors are always merged.
  showDownloadAs() {
    this.$.downloadAsField.hidden = !(this.lora && this.$.downloadFormat.value === 'kindling');
  }

  async download() {
    const format = /** @type {'kindling' | 'safetensors'} */ (this.$.downloadFormat.value);
    const merged = !this.$.downloadAsField.hidden && this.$.downloadAs.value === 'merged';
    let reply;
    try {
      reply = await this.engine.request({ type: 'export', merged, format });
    } catch (error) {
      return say(this.$.fileError, /** @type {Error} */ (error).message);
    }
    const { step, config } = reply;
    const name = `kindling-${config.model}-step${step}`;
    if (format === 'safetensors') {
      saveModelFile(/** @type {Uint8Array} */ (reply.weights), `${name}.safetensors`);
      saveModelFile(new TextEncoder().encode(reply.manifest), `${name}.json`, 'application/json');
      return;
    }
    const lora = merged
      ? '-merged'
      : /** @type {number} */ (config.loraRank) > 0 // absent: no LoRA
        ? `-lora${config.loraRank}`
        : '';
    saveModelFile(/** @type {Uint8Array} */ (reply.bytes), `${name}${lora}.kindling`);
  }

  /** @param {File | undefined} file */
  async openFile(file) {
    this.$.modelFile.value = '';
    if (!file) return;
    this.clearError();
    let bytes;
    try {
      bytes = await readModelFile(file);
    } catch (error) {
      return say(this.$.fileError, `${/** @type {Error} */ (error).message} Your current model is unchanged.`);
    }
    this.open(bytes, { name: file.name, from: 'file' });
  }

  // The worker answers with a `model` message (origin 'open' or 'model-src') or an error.
  /**
   * @param {Uint8Array} bytes
   * @param {Opening} opening
   */
  open(bytes, opening) {
    this.opening = opening;
    const { options } = this.form.read();
    const origin = opening.from === 'model-src' ? 'model-src' : undefined;
    this.engine.send({ type: 'open', bytes, options: options ?? {}, origin, name: opening.name }, [bytes.buffer]);
  }

  clearError() {
    say(this.$.fileError, '');
  }

  // ---- model-src ----------------------------------------------------------------------

  // Fetches model-src (relative to the page, like any link) and opens it in the worker.
  async loadModelSrc() {
    const id = ++this.modelSrcId;
    const src = this.host.getAttribute('model-src');
    if (!src || !this.host.ready) return;
    this.header.notice('');
    this.header.status('Loading the model…');
    this.host.update({ loadingModel: true });
    const url = new URL(src, document.baseURI);
    const slow = setTimeout(() => {
      if (id === this.modelSrcId) this.header.status('Loading the model… (the server is slow)');
    }, SLOW_MODEL_MS);
    let bytes;
    try {
      bytes = await fetchModel(url);
    } catch (error) {
      if (id !== this.modelSrcId) return;
      const message = `Could not load the model “${src}”: ${sentence(/** @type {Error} */ (error).message)}`;
      this.modelSrcFailed(message);
      this.host.emit('kindling-error', { source: 'model-src', kind: 'fetch', message });
      return;
    } finally {
      clearTimeout(slow);
    }
    if (id !== this.modelSrcId || !this.host.ready) return;
    this.open(bytes, { name: src, from: 'model-src' });
  }

  modelSrcLoaded() {
    this.opening = null;
    this.header.status('Ready');
    this.host.update({ loadingModel: false });
  }

  /** @param {string} message */
  modelSrcFailed(message) {
    this.header.status('No model');
    this.header.notice(message);
    this.host.update({ loadingModel: false });
  }

  // The engine is gone: a model-src on its way is no longer wanted.
  forget() {
    this.modelSrcId++;
    this.opening = null;
  }

  // Shows the errors that belong here; false for the others.
  /**
   * @param {string} source
   * @param {string} message
   * @returns {boolean}
   */
  showError(source, message) {
    if (source === 'fine-tune') return this.startFrom.failed(message);
    if (source === 'open') {
      const { name, from } = this.opening ?? {};
      this.opening = null;
      if (from === 'model-src') this.modelSrcFailed(`Could not open the model “${name}”: ${sentence(message)}`);
      else say(this.$.fileError, `Could not open “${name}”: ${sentence(message)} Your current model is unchanged.`);
      return true;
    }
    const place = { storage: this.$.saveError, export: this.$.fileError, restore: this.$.resumeError }[source];
    if (place) say(place, message);
    return Boolean(place);
  }
}

// Hands a model's bytes to the browser as a download named `name`.
/**
 * @param {Uint8Array} bytes
 * @param {string} name
 * @param {string} [type]
 */
export function saveModelFile(bytes, name, type = 'application/octet-stream') {
  // From the worker or IndexedDB: never shared memory, which a Blob refuses.
  const part = /** @type {Uint8Array<ArrayBuffer>} */ (bytes);
  const url = URL.createObjectURL(new Blob([part], { type }));
  el('a', { href: url, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// A picked model file's bytes, or an error that says why not: too large, gone, or more than
// the browser could hold.
/**
 * @param {File} file
 * @returns {Promise<Uint8Array>}
 */
async function readModelFile(file) {
  if (file.size > MAX_MODEL_BYTES) {
    const size = `${format.bytes(file.size)}; the limit is ${format.bytes(MAX_MODEL_BYTES)}`;
    throw new Error(`Could not open “${file.name}”: it is ${size}.`);
  }
  try {
    return new Uint8Array(await file.arrayBuffer());
  } catch (error) {
    throw new Error(`Could not read “${file.name}”: ${sentence(/** @type {Error} */ (error).message)}`);
  }
}

// model-src's (or the base model's) bytes, or an error that says what to do: a page instead of a file, a file too
// large to be a model, another origin that refuses the page (no CORS, or the page's CSP).
/**
 * @param {URL} url
 * @returns {Promise<Uint8Array>}
 */
async function fetchModel(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    if (url.origin === location.origin) throw error;
    throw new Error(
      `it is on another origin (${url.origin}), which did not allow this page to read it: ` +
        'that server must send Access-Control-Allow-Origin, and a Content-Security-Policy must list it in connect-src',
    );
  }
  if (!response.ok) throw new Error(`the server answered ${response.status} ${response.statusText}`.trim());
  const type = response.headers.get('Content-Type') ?? '';
  if (/^text\/html\b/i.test(type)) {
    throw new Error('the server sent a web page (text/html), not a model file: check the address');
  }
  const length = Number(response.headers.get('Content-Length'));
  if (length > MAX_MODEL_BYTES) {
    throw new Error(`it is ${format.bytes(length)}; the limit is ${format.bytes(MAX_MODEL_BYTES)}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

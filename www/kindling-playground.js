// <kindling-playground>: the whole training page as one custom element, and the same
// element compact enough to sit in a blog post (see kindling-embed.js and the README's
// "Embed in your blog"). It renders and forwards; each element's worker (engine-worker.js) owns
// its own engine and does the work.
//
// Attributes (changes after load take effect):
//   mode           "full" (default: the whole playground) | "train" (text, train and
//                  generate, compact) | "generate" (inference only)
//   model-src      URL of a model saved with "Download model": loaded, ready to generate
//   text           training text (or a child <template> / <textarea> holding it)
//   preset         engine preset (default "tiny");  steps   training steps (maxSteps)
//   backend        "auto" | "cpu" | "webgpu" (default "auto")
//   prompt, temperature, top-k, top-p, max-tokens   generation settings
//   autoplay       train (or generate, when a model is loaded) once scrolled into view
//   theme          "auto" | "light" | "dark"
//   storage-name   IndexedDB name for full mode's autosaves (default "playground")
//   autosave-every steps between autosaves (default 100)
//
// The engine loads lazily: when the element first scrolls into view or is interacted
// with. The .wasm is downloaded and compiled once per page (engine-loader.js). Training
// pauses while the element is out of view or the tab is hidden; removing the element
// stops its worker and frees its memory.
//
// Safety: the markup below is a constant; every user or generated string reaches the
// DOM through textContent only.
import { LossChart } from './loss-chart.js';
import { SAMPLES } from './samples.js';
import { loadSummary, clearSession } from './autosave-store.js';
import { compileEngine, wasmSupported, loadProgress, currentProgress } from './engine-loader.js';
import * as format from './format.js';

const STYLE_URL = new URL('./style.css', import.meta.url).href;
const WORKER_URL = new URL('./engine-worker.js', import.meta.url);
const MAX_FILE_BYTES = 20 * 1024 * 1024;
const VALIDATE_DELAY_MS = 150;
const MAX_RESTARTS = 3;
const DEFAULT_PRESET = 'tiny';
const MODES = ['full', 'train', 'generate'];
const THEMES = ['auto', 'light', 'dark'];
const MODEL_NAMES = { gpt: 'GPT', lstm: 'LSTM', gru: 'GRU' };
// Generation attributes → the inputs they fill, with the inputs' defaults.
const KNOBS = {
  temperature: { id: 'temperature', value: '0.8' },
  'top-k': { id: 'top-k', value: '20' },
  'top-p': { id: 'top-p', value: '0.95' },
  'max-tokens': { id: 'length', value: '300' },
};
// Autoplay waits until this much of the element is on screen (or it fills half the view).
const AUTOPLAY_RATIO = 0.25;

// The hyper-parameters the form edits, by their engine (config) names.
const FIELDS = [
  { name: 'nLayer', label: 'Layers', integer: true, min: 1 },
  { name: 'nHead', label: 'Attention heads', integer: true, min: 1, models: ['gpt'] },
  { name: 'nEmbd', label: 'Embedding size', integer: true, min: 1 },
  { name: 'hiddenSize', label: 'Hidden size', integer: true, min: 1, models: ['lstm', 'gru'] },
  { name: 'blockSize', label: 'Context length', integer: true, min: 1 },
  { name: 'dropout', label: 'Dropout', min: 0, max: 1, step: 0.05 },
  { name: 'batchSize', label: 'Batch size', integer: true, min: 1 },
  { name: 'learningRate', label: 'Learning rate', min: 0, step: 'any' },
  { name: 'maxSteps', label: 'Training steps', integer: true, min: 1 },
];

const MARKUP = `
<link rel="stylesheet" href="${STYLE_URL}">
<div class="app" id="app" data-mode="full" data-theme="auto" role="group" aria-label="Kindling: a tiny language model in your browser">
  <header class="top">
    <div class="brand">
      <h1 id="title">Kindling</h1>
      <p class="tagline">Train a tiny language model in your browser. Nothing leaves this page.</p>
      <p id="model-line" class="model-line" hidden></p>
    </div>
    <div class="top-status">
      <span id="backend" class="badge" title="Where the model computes.">CPU</span>
      <span id="engine-status" class="muted" role="status">Loads when it scrolls into view</span>
    </div>
    <progress id="load-progress" class="load-progress" max="1" aria-label="Loading the engine" hidden></progress>
  </header>
  <p id="notice" class="error notice" role="alert" hidden></p>

  <section id="resume-offer" class="banner" hidden aria-labelledby="resume-title">
    <div>
      <h2 id="resume-title">Pick up where you left off?</h2>
      <p id="resume-text"></p>
      <p id="resume-error" class="error" role="alert" hidden></p>
    </div>
    <div class="row">
      <button id="resume" class="primary" type="button">Resume</button>
      <button id="discard" type="button">Start fresh</button>
    </div>
  </section>

  <div class="grid">
    <section class="card text-card" aria-labelledby="text-title">
      <h2 id="text-title"><span class="num" aria-hidden="true">1</span>Text to learn from</h2>
      <div class="row sample-row">
        <label for="sample">Sample</label>
        <select id="sample"><option value="">Choose a sample…</option></select>
        <button id="pick-file" type="button">Open text file…</button>
        <input id="file" type="file" accept=".txt,.md,text/plain,text/markdown" hidden>
      </div>
      <label for="text" class="sr-only">Training text</label>
      <textarea id="text" class="corpus" spellcheck="false" aria-describedby="text-hint err-text text-error"
        placeholder="Paste any text here, or drop a .txt or .md file."></textarea>
      <p id="text-hint" class="hint">Paste, drop a file, or pick a sample. The model learns one character at a time.</p>
      <p id="err-text" class="field-error"></p>
      <p id="text-error" class="error" role="alert" hidden></p>
      <dl class="stats text-stats">
        <div><dt>Characters</dt><dd id="chars">—</dd></div>
        <div><dt>Vocabulary</dt><dd id="vocab">—</dd></div>
        <div><dt>Train tokens</dt><dd id="train-tokens">—</dd></div>
        <div><dt>Val tokens</dt><dd id="val-tokens">—</dd></div>
      </dl>
    </section>

    <section class="card model-card" aria-labelledby="model-title">
      <h2 id="model-title"><span class="num" aria-hidden="true">2</span>Model</h2>
      <form id="model-form" novalidate>
        <fieldset id="model-fields">
          <legend class="sr-only">Hyper-parameters</legend>
          <div class="fields">
            <div class="field">
              <label for="preset">Preset</label>
              <select id="preset" name="preset"></select>
            </div>
            <div class="field">
              <label for="f-model">Model type</label>
              <select id="f-model" name="model">
                <option value="gpt">GPT</option>
                <option value="lstm">LSTM</option>
                <option value="gru">GRU</option>
              </select>
              <p class="field-error" id="err-model"></p>
            </div>
          </div>
        </fieldset>
      </form>
      <p id="model-hint" class="hint" hidden>Reset to change the text or the model.</p>
      <p id="model-error" class="error" role="alert" hidden></p>
      <dl class="stats">
        <div><dt>Parameters</dt><dd id="params">—</dd></div>
        <div><dt>Est. memory</dt><dd id="memory">—</dd></div>
      </dl>
      <p id="err-memory" class="field-error"></p>
    </section>

    <section class="card wide train-card" aria-labelledby="train-title">
      <h2 id="train-title"><span class="num" aria-hidden="true">3</span>Train</h2>
      <p id="config-error" class="error" role="alert" hidden></p>
      <div class="row">
        <button id="train" class="primary" type="button" disabled>Train</button>
        <button id="reset" type="button" disabled>Reset</button>
        <span class="spacer files"></span>
        <button id="download" class="files" type="button" disabled>Download model</button>
        <button id="open-model" class="files" type="button" disabled>Open model…</button>
        <input id="model-file" type="file" accept=".kindling,application/octet-stream" hidden>
      </div>
      <p id="file-error" class="error" role="alert" hidden></p>
      <progress id="progress" max="1" value="0" aria-label="Training progress"></progress>
      <dl class="metrics">
        <div><dt>Step</dt><dd id="step">0 / —</dd></div>
        <div><dt>Train loss</dt><dd id="loss">—</dd></div>
        <div><dt>Val loss</dt><dd id="val-loss">—</dd></div>
        <div class="detail"><dt>Tokens/s</dt><dd id="speed">—</dd></div>
        <div class="detail"><dt>Time left</dt><dd id="eta">—</dd></div>
      </dl>
      <p id="train-status" class="status" role="status"></p>
      <p id="train-error" class="error" role="alert" hidden></p>
      <figure class="chart">
        <canvas id="chart" role="img" aria-label="Loss chart: no data yet"></canvas>
        <figcaption class="legend">
          <span class="key train">train loss</span><span class="key val">validation loss</span>
        </figcaption>
      </figure>
      <p id="save-status" class="hint" role="status"></p>
      <p id="save-error" class="error" role="alert" hidden></p>
    </section>

    <section class="card wide gen-card" aria-labelledby="gen-title">
      <h2 id="gen-title"><span class="num" aria-hidden="true">4</span>Generate</h2>
      <label for="prompt">Prompt</label>
      <textarea id="prompt" class="prompt" rows="2" spellcheck="false" aria-describedby="prompt-warning"
        placeholder="How the text should start (optional)"></textarea>
      <p id="prompt-warning" class="warning" hidden></p>
      <div class="fields knobs">
        <div class="field"><label for="temperature">Temperature</label>
          <input id="temperature" type="number" min="0.05" max="3" step="0.05" value="0.8" inputmode="decimal"></div>
        <div class="field detail"><label for="top-k">Top-k</label>
          <input id="top-k" type="number" min="0" max="1000" step="1" value="20" inputmode="numeric"></div>
        <div class="field detail"><label for="top-p">Top-p</label>
          <input id="top-p" type="number" min="0.05" max="1" step="0.05" value="0.95" inputmode="decimal"></div>
        <div class="field"><label for="length">Length</label>
          <input id="length" type="number" min="1" max="5000" step="1" value="300" inputmode="numeric"></div>
      </div>
      <div class="row">
        <button id="generate" class="primary" type="button" disabled>Generate</button>
        <button id="stop" type="button" disabled>Stop</button>
        <span id="gen-status" class="muted" role="status"></span>
      </div>
      <p id="gen-error" class="error" role="alert" hidden></p>
      <div id="output" class="output" tabindex="0" role="group"
        aria-label="Generated text. Use the arrow keys to inspect each token." aria-describedby="token-info"></div>
      <p id="token-info" class="token-info" aria-live="polite">Hover over a token, or focus the text and use the arrow keys, to see how likely it was.</p>
    </section>
  </div>
</div>`;

// Element factory for the form fields built from FIELDS (never for user text).
function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function numberField({ name, label, integer, min, max, step }) {
  const input = el('input', {
    id: `f-${name}`,
    name,
    type: 'number',
    inputmode: integer ? 'numeric' : 'decimal',
    step: step ?? (integer ? 1 : 'any'),
    'aria-describedby': `err-${name}`,
    ...(min !== undefined && { min }),
    ...(max !== undefined && { max }),
  });
  return el('div', { class: 'field', 'data-field': name }, [
    el('label', { for: input.id }, [label]),
    input,
    el('p', { class: 'field-error', id: `err-${name}` }),
  ]);
}

// Probability bands for colouring tokens; the lowest is also underlined so it does not
// rely on colour alone.
function tokenClass(prob) {
  if (prob < 0.1) return 'tok low';
  if (prob < 0.3) return 'tok mid';
  return 'tok';
}

// Training text written inside the element: indentation from the HTML source is removed.
function dedent(raw) {
  const lines = raw.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length && !lines[0].trim()) lines.shift();
  while (lines.length && !lines.at(-1).trim()) lines.pop();
  if (!lines.length) return '';
  const indent = Math.min(...lines.filter((line) => line.trim()).map((line) => line.match(/^[ \t]*/)[0].length));
  return lines.map((line) => line.slice(indent)).join('\n') + '\n';
}

function sentence(message) {
  return /[.!?]$/.test(message) ? message : `${message}.`;
}

// The `workers` attribute: `auto` (one per core, at most 4) or how many workers share each CPU
// training step; the worker takes the number of helpers besides itself.
function helperSetting(value) {
  const workers = Number.parseInt(value, 10);
  return workers >= 1 ? Math.min(workers, 8) - 1 : 'auto';
}

function oneOf(value, allowed) {
  const normal = String(value ?? '').trim().toLowerCase();
  return allowed.includes(normal) ? normal : allowed[0];
}

class KindlingPlayground extends HTMLElement {
  static get observedAttributes() {
    return [
      'mode', 'theme', 'model-src', 'text', 'preset', 'steps', 'backend', 'workers', 'prompt',
      'temperature', 'top-k', 'top-p', 'max-tokens', 'autoplay',
    ];
  }

  connectedCallback() {
    if (!this.shadowRoot) this.build();
    document.addEventListener('visibilitychange', this.onVisibility);
    this.chart.connect();
    this.childObserver.observe(this, { childList: true, subtree: true, characterData: true });
    // Reports at once whether the element is in view; that starts the engine (lazily).
    this.viewObserver.observe(this);
  }

  // A removed element's worker is stopped, which frees the engine's memory; an element
  // moved within the page (removed and re-added in one go) keeps it.
  disconnectedCallback() {
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.viewObserver.unobserve(this);
    this.childObserver.disconnect();
    this.chart.disconnect();
    this.inView = false;
    this.wellInView = false;
    queueMicrotask(() => {
      if (!this.isConnected) this.shutDown();
    });
  }

  attributeChangedCallback(name, oldValue, newValue) {
    // Before build() the attributes are read in one go; equal values change nothing.
    if (!this.shadowRoot || oldValue === newValue) return;
    this.attributeChanged(name);
  }

  build() {
    const root = this.attachShadow({ mode: 'open' });
    const template = document.createElement('template');
    template.innerHTML = MARKUP; // constant markup, no user data
    root.append(template.content);
    this.$ = (id) => root.getElementById(id);

    this.presets = {};
    this.phase = 'empty'; // empty | training | pausing | paused | finished
    this.worker = null;
    this.engineReady = false;
    this.crashes = 0;
    this.valid = false;
    this.validationId = 0;
    this.generation = null; // { id, count, pending } while streaming
    this.generationId = 0;
    this.pausedByVisibility = false;
    this.totalSteps = 0;
    this.inView = false;
    this.wellInView = false;
    this.autoplayed = false;
    this.modelSrcId = 0;
    this.modelLoading = false; // fetching or opening model-src
    this.opening = null; // { name, from: 'file' | 'model-src' } while the worker opens bytes
    this.onVisibility = () => this.visibilityChanged();
    this.onLoadProgress = ({ detail }) => this.showLoadProgress(detail);
    this.viewObserver = new IntersectionObserver((entries) => this.viewChanged(entries.at(-1)), {
      threshold: [0, AUTOPLAY_RATIO],
    });
    // Training text given as a child <template> or <textarea> may arrive after the element.
    this.childObserver = new MutationObserver(() => {
      if (!this.hasAttribute('text')) this.setupChanged(() => this.setText(this.givenText() ?? ''));
    });

    this.chart = new LossChart(this.$('chart'));
    this.buildFields();
    this.fillSamples();
    this.bindEvents();
    this.applyLook();
    for (const name of ['prompt', ...Object.keys(KNOBS)]) this.attributeChanged(name);
    const text = this.givenText();
    if (text != null) this.setText(text);
    // Waiting for the engine: the buttons stay disabled until it is ready.
    this.updateControls();
    // Any interaction starts the engine, even before the element scrolls into view.
    for (const event of ['pointerdown', 'focusin']) this.addEventListener(event, () => this.activate());
  }

  get mode() {
    return oneOf(this.getAttribute('mode'), MODES);
  }

  get compact() {
    return this.mode !== 'full';
  }

  // What the worker needs to know; full mode keeps autosaves, the compact embeds do not.
  workerSettings() {
    return {
      name: this.getAttribute('storage-name') || 'playground',
      autosaveEvery: Number(this.getAttribute('autosave-every')) || 100,
      persist: !this.compact,
      backend: oneOf(this.getAttribute('backend'), ['auto', 'cpu', 'webgpu']),
      helpers: helperSetting(this.getAttribute('workers')),
    };
  }

  // The training text the page author wrote: the attribute, else a child element.
  givenText() {
    if (this.hasAttribute('text')) return this.getAttribute('text');
    const source = this.querySelector(':scope > template, :scope > textarea');
    if (!source) return null;
    return dedent(source instanceof HTMLTemplateElement ? source.content.textContent : source.value);
  }

  applyLook() {
    const app = this.$('app');
    app.dataset.mode = this.mode;
    app.dataset.theme = oneOf(this.getAttribute('theme'), THEMES);
    app.classList.toggle('compact', this.compact);
    // In a blog post the element must not add a heading to the post's outline.
    if (this.compact) this.$('title').setAttribute('role', 'none');
    else this.$('title').removeAttribute('role');
    this.$('model-line').hidden = !this.compact || !this.$('model-line').textContent;
    this.$('text-hint').textContent = this.compact
      ? 'Edit the text or paste your own; the model learns one character at a time.'
      : 'Paste, drop a file, or pick a sample. The model learns one character at a time.';
    this.chart.redraw();
  }

  attributeChanged(name) {
    const knob = KNOBS[name];
    if (knob) {
      this.$(knob.id).value = this.getAttribute(name) ?? knob.value;
      return;
    }
    switch (name) {
      case 'workers':
        // Takes effect from the next chunk of training.
        if (this.worker) this.send({ type: 'configure', ...this.workerSettings() });
        break;
      case 'mode':
      case 'theme':
        this.applyLook();
        if (this.worker) this.send({ type: 'configure', ...this.workerSettings() });
        this.showGeneralErrors();
        this.updateControls();
        break;
      case 'prompt':
        this.$('prompt').value = this.getAttribute('prompt') ?? '';
        break;
      case 'text':
        this.setupChanged(() => this.setText(this.givenText() ?? ''));
        break;
      case 'preset':
        this.setupChanged(() => this.applyPreset(this.wantedPreset()));
        break;
      case 'steps':
        this.setupChanged(() => this.applySteps());
        break;
      case 'backend':
        if (!this.worker) break;
        this.send({ type: 'configure', ...this.workerSettings() });
        // The model in the worker was built for the old backend: build or load it again.
        if (this.hasAttribute('model-src')) this.loadModelSrc();
        else this.setupChanged(() => {});
        break;
      case 'model-src':
        this.autoplayed = false;
        this.loadModelSrc();
        break;
      case 'autoplay':
        this.maybeAutoplay();
        break;
    }
  }

  // The text or settings a model was made from changed: a model made from the old ones
  // is dropped, and autoplay may start again.
  setupChanged(apply) {
    if (this.hasModel() && !this.hasAttribute('model-src')) this.reset();
    apply();
    this.autoplayed = false;
    this.scheduleValidation();
  }

  wantedPreset() {
    const wanted = this.getAttribute('preset');
    if (wanted in this.presets) return wanted;
    return DEFAULT_PRESET in this.presets ? DEFAULT_PRESET : Object.keys(this.presets)[0];
  }

  applySteps() {
    const steps = this.getAttribute('steps');
    if (steps != null) this.$('f-maxSteps').value = steps;
    else if (this.presets[this.$('preset').value]) this.$('f-maxSteps').value = this.presets[this.$('preset').value].maxSteps;
  }

  // ---- building ---------------------------------------------------------------------

  buildFields() {
    const fields = this.$('model-fields').querySelector('.fields');
    for (const field of FIELDS) fields.append(numberField(field));
  }

  fillSamples() {
    const select = this.$('sample');
    for (const sample of SAMPLES) select.append(el('option', { value: sample.id }, [sample.label]));
  }

  bindEvents() {
    const on = (id, event, handler) => this.$(id).addEventListener(event, handler);
    on('text', 'input', () => this.textChanged());
    on('sample', 'change', () => this.loadSample(this.$('sample').value));
    on('pick-file', 'click', () => this.$('file').click());
    on('file', 'change', () => this.readTextFile(this.$('file').files[0]));
    on('text', 'dragover', (event) => this.dragOver(event));
    on('text', 'dragleave', () => this.$('text').classList.remove('dropping'));
    on('text', 'drop', (event) => this.drop(event));
    on('preset', 'change', () => this.applyPreset(this.$('preset').value));
    on('model-form', 'input', () => this.scheduleValidation());
    on('model-form', 'submit', (event) => event.preventDefault());
    on('train', 'click', () => this.trainClicked());
    on('reset', 'click', () => this.reset());
    on('download', 'click', () => this.send({ type: 'export' }));
    on('open-model', 'click', () => this.$('model-file').click());
    on('model-file', 'change', () => this.openModelFile(this.$('model-file').files[0]));
    on('resume', 'click', () => this.resumeSaved());
    on('discard', 'click', () => this.discardSaved());
    on('generate', 'click', () => this.generate());
    on('stop', 'click', () => this.stopGeneration());
    on('output', 'mouseover', (event) => this.inspect(event.target.closest('.tok')));
    on('output', 'focus', () => this.inspect(this.currentToken() ?? this.$('output').lastElementChild));
    on('output', 'keydown', (event) => this.tokenKey(event));
  }

  // ---- visibility -------------------------------------------------------------------

  viewChanged(entry) {
    if (!entry || !this.isConnected) return;
    const view = entry.rootBounds?.height || innerHeight;
    this.inView = entry.isIntersecting;
    this.wellInView =
      entry.isIntersecting && (entry.intersectionRatio >= AUTOPLAY_RATIO || entry.intersectionRect.height >= view / 2);
    if (this.inView) this.activate();
    this.visibilityChanged();
    this.maybeAutoplay();
  }

  // Training runs only while the element is on screen in a visible tab.
  visibilityChanged() {
    const shown = !document.hidden && this.inView;
    if (!shown && this.phase === 'training') {
      this.pausedByVisibility = true;
      this.pause(document.hidden ? 'hidden' : 'offscreen');
    } else if (shown && this.pausedByVisibility && this.phase === 'paused') {
      this.pausedByVisibility = false;
      this.resumeTraining();
    }
  }

  // Starts training (no model yet) or generating (a model is loaded) once, when the
  // element is well in view and ready; never before it has been scrolled to.
  maybeAutoplay() {
    if (!this.hasAttribute('autoplay') || this.autoplayed || !this.engineReady) return;
    if (!this.wellInView || document.hidden || this.modelLoading || this.generation) return;
    const wantsModel = this.mode === 'generate' || this.hasAttribute('model-src');
    if (wantsModel) {
      if (!this.hasModel() || this.phase === 'training' || this.phase === 'pausing') return;
      this.autoplayed = true;
      this.generate();
    } else if (this.phase === 'empty') {
      if (!this.valid) return; // validation is still running; it calls back here
      this.autoplayed = true;
      this.trainClicked();
    }
  }

  // ---- worker -----------------------------------------------------------------------

  // Starts this element's engine: the first time it is in view or interacted with.
  activate() {
    if (this.worker || !this.isConnected) return;
    if (!wasmSupported()) {
      this.$('engine-status').textContent = 'Unavailable';
      this.showMessage(
        'notice',
        'This browser cannot run WebAssembly, which Kindling needs to train and run models. ' +
          'A current Chrome, Edge, Firefox or Safari can.',
      );
      return;
    }
    this.startWorker();
  }

  startWorker() {
    const worker = new Worker(WORKER_URL, { type: 'module' });
    this.worker = worker;
    worker.onmessage = ({ data }) => this.received(data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.workerCrashed(event.message || 'the worker stopped unexpectedly');
    };
    this.send({ type: 'configure', ...this.workerSettings() });
    this.showLoadProgress(currentProgress());
    loadProgress.addEventListener('progress', this.onLoadProgress);
    compileEngine().then(
      (module) => {
        if (this.worker !== worker) return;
        this.$('engine-status').textContent = 'Starting the engine…';
        try {
          worker.postMessage({ type: 'load', module });
        } catch {
          worker.postMessage({ type: 'load' }); // a module that cannot be sent: fetch it there
        }
      },
      (error) => {
        if (this.worker !== worker) return;
        this.showError({ source: 'load', fatal: true, message: `The engine failed to load: ${error.message}.` });
      },
    );
  }

  showLoadProgress({ loaded, total }) {
    const bar = this.$('load-progress');
    bar.hidden = false;
    if (total && loaded <= total) {
      bar.value = loaded / total;
      this.$('engine-status').textContent = `Loading the engine… ${Math.floor((100 * loaded) / total)}%`;
    } else {
      bar.removeAttribute('value'); // indeterminate
      this.$('engine-status').textContent = 'Loading the engine…';
    }
  }

  loadingDone() {
    loadProgress.removeEventListener('progress', this.onLoadProgress);
    this.$('load-progress').hidden = true;
  }

  // Removed from the page: the worker and the model in it go; re-adding starts afresh.
  shutDown() {
    this.loadingDone();
    this.worker?.terminate();
    this.worker = null;
    this.engineReady = false;
    this.generation = null;
    this.pausedByVisibility = false;
    this.autoplayed = false;
    this.modelLoading = false;
    this.modelSrcId++;
    this.modelChanged({ info: null });
    this.$('engine-status').textContent = 'Loads when it scrolls into view';
    this.updateControls();
  }

  send(message, transfer) {
    this.worker?.postMessage(message, transfer);
  }

  received(message) {
    const handler = {
      ready: () => this.engineLoaded(message.presets),
      validated: () => message.id === this.validationId && this.showValidation(message.result),
      model: () => this.modelChanged(message),
      metrics: () => this.onChunk(message),
      paused: () => this.trainingPaused(message),
      finished: () => this.trainingFinished(message),
      saved: () => this.showSaved(message),
      exported: () => this.downloadModel(message),
      token: () => this.showToken(message),
      warning: () => this.showPromptWarning(message),
      generated: () => this.generationEnded(message),
      error: () => this.showError(message),
    }[message.type];
    handler?.();
  }

  // Starts a fresh engine, unless it keeps dying (then restarting would only loop).
  workerCrashed(reason) {
    this.loadingDone();
    this.worker.terminate();
    this.worker = null;
    this.engineReady = false;
    this.generation = null;
    this.modelLoading = false;
    this.modelChanged({ info: null });
    const retry = ++this.crashes <= MAX_RESTARTS;
    const next = retry ? 'It restarts now.' : 'Reload the page to try again.';
    const saved = retry ? 'it is offered at the top once the engine restarts.' : 'reload the page to try again.';
    this.showMessage(
      this.mode === 'generate' ? 'notice' : 'train-error',
      `The engine stopped: ${sentence(reason)} ` + (this.compact ? next : `Your last autosave is kept; ${saved}`),
    );
    this.$('engine-status').textContent = retry ? 'Restarting the engine…' : 'The engine stopped';
    if (retry) this.startWorker();
  }

  // ---- engine state -----------------------------------------------------------------

  async engineLoaded(presets) {
    this.loadingDone();
    this.engineReady = true;
    this.presets = presets;
    this.$('engine-status').textContent = 'Ready';
    const select = this.$('preset');
    if (!select.options.length) {
      for (const name of Object.keys(presets)) select.append(el('option', { value: name }, [name]));
      this.applyPreset(this.wantedPreset());
    }
    this.scheduleValidation();
    this.updateControls();
    if (this.hasAttribute('model-src')) this.loadModelSrc();
    else if (this.mode === 'generate') {
      this.showMessage('notice', 'This embed has no model to run: set its model-src to a file saved with “Download model”.');
    }
    if (!this.$('text').value && this.givenText() == null) await this.loadSample(SAMPLES[0].id);
    if (!this.compact) await this.offerSavedSession();
  }

  // Fetches model-src (relative to the page, like any link) and opens it in the worker.
  async loadModelSrc() {
    const id = ++this.modelSrcId;
    const src = this.getAttribute('model-src');
    if (!src || !this.engineReady) return;
    this.modelLoading = true;
    this.showMessage('notice', '');
    this.$('engine-status').textContent = 'Loading the model…';
    this.updateControls();
    let bytes;
    try {
      const response = await fetch(new URL(src, document.baseURI));
      if (!response.ok) throw new Error(`the server answered ${response.status} ${response.statusText}`.trim());
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if (id === this.modelSrcId) this.modelSrcFailed(`Could not load the model “${src}”: ${sentence(error.message)}`);
      return;
    }
    if (id !== this.modelSrcId || !this.engineReady) return;
    this.opening = { name: src, from: 'model-src' };
    const { options } = this.readOptions();
    this.send({ type: 'open', bytes, options: options ?? {}, origin: 'model-src' }, [bytes.buffer]);
  }

  modelSrcFailed(message) {
    this.modelLoading = false;
    this.$('engine-status').textContent = 'No model';
    this.showMessage('notice', message);
    this.updateControls();
  }

  applyPreset(name) {
    const config = this.presets[name];
    if (!config) return;
    this.$('preset').value = name;
    this.$('f-model').value = config.model;
    for (const { name: field } of FIELDS) {
      // A preset may lack a field its model type ignores; keep another preset's value so
      // switching the model type still has something sensible there.
      const value = config[field] ?? Object.values(this.presets).find((p) => p[field] != null)?.[field];
      if (value != null) this.$(`f-${field}`).value = value;
    }
    if (this.hasAttribute('steps')) this.applySteps();
    this.scheduleValidation();
  }

  // Options for Kindling.validate / create: the text, the preset and the visible fields.
  // Returns { options } or { errors } when a field is not a number.
  readOptions() {
    const model = this.$('f-model').value;
    const options = { text: this.$('text').value, preset: this.$('preset').value, model };
    const errors = [];
    for (const field of FIELDS) {
      if (field.models && !field.models.includes(model)) continue;
      const raw = this.$(`f-${field.name}`).value.trim();
      const value = Number(raw);
      if (raw === '' || !Number.isFinite(value)) errors.push({ field: field.name, message: 'Enter a number.' });
      else if (field.integer && !Number.isInteger(value)) errors.push({ field: field.name, message: 'Enter a whole number.' });
      else options[field.name] = value;
    }
    // The decay floor must stay at or below the learning rate: keep the preset's ratio.
    const preset = this.presets[options.preset];
    if (preset && options.learningRate > 0 && options.learningRate !== preset.learningRate) {
      options.minLearningRate = options.learningRate * (preset.minLearningRate / preset.learningRate);
    }
    return errors.length ? { errors } : { options };
  }

  // Shows only the fields the chosen model type uses.
  showModelFields() {
    const model = this.$('f-model').value;
    for (const field of FIELDS) {
      this.$(`f-${field.name}`).closest('.field').hidden = Boolean(field.models && !field.models.includes(model));
    }
  }

  scheduleValidation() {
    this.showModelFields();
    clearTimeout(this.validationTimer);
    this.valid = false;
    this.dataset.validation = 'pending';
    this.updateControls();
    this.validationTimer = setTimeout(() => this.validate(), VALIDATE_DELAY_MS);
  }

  validate() {
    if (!this.engineReady) return;
    const { options, errors } = this.readOptions();
    if (errors) return this.showValidation({ ok: false, errors });
    this.validationId++;
    this.send({ type: 'validate', id: this.validationId, options });
  }

  showValidation(result) {
    this.valid = result.ok;
    this.lastValidation = result;
    this.dataset.validation = result.ok ? 'ok' : 'invalid';
    for (const node of this.shadowRoot.querySelectorAll('.field-error')) node.textContent = '';
    for (const { field, message } of result.errors ?? []) {
      const target = field && this.$(`err-${field}`);
      if (target) target.textContent = message;
    }
    for (const node of this.shadowRoot.querySelectorAll('.field')) {
      node.classList.toggle('invalid', Boolean(node.querySelector('.field-error')?.textContent));
    }
    this.showGeneralErrors();
    // A failed validation reports zeros for what it could not work out; show those as unknown.
    const known = (value) => (value > 0 ? value : undefined);
    this.setNumber('vocab', known(result.vocabSize), format.compact);
    this.setNumber('train-tokens', known(result.trainTokens), format.compact);
    this.setNumber('val-tokens', known(result.valTokens), format.compact);
    this.setNumber('params', known(result.parameterCount), format.compact);
    this.setNumber('memory', known(result.memoryBytes), format.bytes);
    if (!this.hasModel() && result.config) this.showModelLine(result.config, known(result.parameterCount), 0);
    this.updateControls();
    this.maybeAutoplay();
  }

  // Validation messages with no field on screen: next to the model in full mode, above
  // the Train button in the compact modes (which show only the text of all the fields).
  showGeneralErrors() {
    const errors = this.lastValidation?.errors ?? [];
    const shown = ({ field }) => field && this.$(`err-${field}`) && (!this.compact || field === 'text');
    const general = errors.filter((error) => !shown(error)).map(({ message }) => message);
    this.showMessage(this.compact ? 'config-error' : 'model-error', general.join(' '));
    this.showMessage(this.compact ? 'model-error' : 'config-error', '');
  }

  // The compact modes' one-line summary of the model under the name.
  showModelLine(config, parameterCount, step) {
    const parts = [MODEL_NAMES[config.model] ?? config.model];
    if (parameterCount) parts.push(`${format.compact(parameterCount)} parameters`);
    parts.push(step ? `trained ${step.toLocaleString('en')} steps` : `${config.maxSteps.toLocaleString('en')} training steps`);
    this.$('model-line').textContent = parts.join(' · ');
    this.$('model-line').hidden = !this.compact;
  }

  // ---- text -------------------------------------------------------------------------

  textChanged() {
    this.showMessage('text-error', '');
    this.setNumber('chars', format.codePoints(this.$('text').value), format.compact);
    this.scheduleValidation();
  }

  setText(text) {
    this.$('text').value = text;
    this.textChanged();
  }

  async loadSample(id) {
    const sample = SAMPLES.find((s) => s.id === id);
    if (!sample || this.hasModel()) return;
    try {
      this.$('sample').value = id;
      this.setText(await sample.load());
    } catch (error) {
      this.showMessage('text-error', error.message);
    }
  }

  dragOver(event) {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    this.$('text').classList.add('dropping');
  }

  drop(event) {
    const file = event.dataTransfer?.files[0];
    if (!file) return; // plain text dropped: let the textarea insert it
    event.preventDefault();
    this.$('text').classList.remove('dropping');
    this.readTextFile(file);
  }

  // Only valid UTF-8 text replaces the current text; anything else leaves it as it was.
  async readTextFile(file) {
    this.$('file').value = '';
    if (!file) return;
    if (this.hasModel()) return this.showMessage('text-error', 'Reset the model before training on another text.');
    if (file.size > MAX_FILE_BYTES) {
      return this.showMessage('text-error', `“${file.name}” is ${format.bytes(file.size)}; the limit is ${format.bytes(MAX_FILE_BYTES)}.`);
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return this.showMessage('text-error', `“${file.name}” is not UTF-8 text, so it was not loaded. Your text is unchanged.`);
    }
    if (text.includes('\0')) {
      return this.showMessage('text-error', `“${file.name}” looks like a binary file, so it was not loaded. Your text is unchanged.`);
    }
    this.$('sample').value = '';
    this.setText(text);
  }

  // ---- training ---------------------------------------------------------------------

  hasModel() {
    return this.phase !== 'empty';
  }

  trainClicked() {
    this.showMessage('train-error', '');
    if (this.phase === 'training') return this.pause('user');
    if (this.phase === 'paused') return this.resumeTraining();
    const { options } = this.readOptions();
    if (!options || !this.valid) return;
    this.setPhase('training');
    this.$('resume-offer').hidden = true; // the new model's autosaves replace the old session
    this.$('train-status').textContent = 'Building the model…';
    this.send({ type: 'create', options, train: true });
  }

  pause(reason) {
    this.setPhase('pausing');
    this.send({ type: 'pause', reason });
  }

  resumeTraining() {
    this.setPhase('training');
    this.$('train-status').textContent = 'Training…';
    this.send({ type: 'train' });
  }

  reset() {
    this.pausedByVisibility = false;
    this.stopGeneration();
    this.send({ type: 'reset' });
  }

  modelChanged({ origin, info, setup }) {
    this.showMessage('file-error', '');
    if (!info) {
      this.chart.setHistory([], 0);
      this.showMetrics({ step: 0, total: 0 });
      this.$('train-status').textContent = '';
      this.$('save-status').textContent = '';
      const { config, parameterCount } = this.lastValidation ?? {};
      if (config) this.showModelLine(config, parameterCount, 0);
      return this.setPhase('empty');
    }
    this.totalSteps = info.config.maxSteps;
    this.showBackend(info);
    this.setNumber('params', info.parameterCount, format.compact);
    if (setup) this.showSetup(setup, info.config);
    this.showModelLine(info.config, info.parameterCount, info.step);
    if (origin === 'model-src') {
      this.modelLoading = false;
      this.opening = null;
      this.$('engine-status').textContent = 'Ready';
    }
    this.chart.setHistory(info.history, this.totalSteps);
    const last = info.history.at(-1) ?? {};
    const lastVal = info.history.findLast((point) => Number.isFinite(point.valLoss));
    this.showMetrics({ step: info.step, total: this.totalSteps, trainLoss: last.trainLoss, valLoss: lastVal?.valLoss });
    if (origin === 'create') {
      this.$('train-status').textContent = 'Training…';
      return;
    }
    const finished = info.step >= this.totalSteps;
    this.setPhase(finished ? 'finished' : 'paused');
    this.$('train-status').textContent = {
      restore: `Restored at step ${info.step}. Press Resume to keep training.`,
      open: `Opened a model at step ${info.step}.`,
      'model-src': `Loaded a model trained for ${info.step} steps.`,
      recovered: `Stopped at step ${info.step}; the last good weights are back.`,
    }[origin];
    this.maybeAutoplay();
  }

  // Puts a restored or opened model's text and settings back into the form.
  showSetup(setup, config) {
    this.$('resume-offer').hidden = true;
    if (setup.text != null) this.setText(setup.text);
    if (setup.options?.preset in this.presets) this.$('preset').value = setup.options.preset;
    this.$('f-model').value = config.model;
    for (const { name } of FIELDS) if (config[name] != null) this.$(`f-${name}`).value = config[name];
    this.scheduleValidation();
  }

  showMetrics({ step, total, trainLoss, valLoss, tokensPerSecond, stepsPerSecond }) {
    this.$('step').textContent = `${step} / ${total || '—'}`;
    this.$('step').dataset.value = step;
    const progress = this.$('progress');
    progress.value = total ? step / total : 0;
    progress.setAttribute('aria-valuetext', `step ${step} of ${total}`);
    if (trainLoss !== undefined) this.setNumber('loss', trainLoss, format.loss);
    if (valLoss !== undefined) this.setNumber('val-loss', valLoss, format.loss);
    if (step === 0) ['loss', 'val-loss'].forEach((id) => this.setNumber(id, undefined, format.loss));
    this.$('speed').textContent = tokensPerSecond ? format.compact(tokensPerSecond) : '—';
    this.$('eta').textContent = stepsPerSecond ? format.duration((total - step) / stepsPerSecond) : '—';
  }

  setNumber(id, value, formatter) {
    this.$(id).textContent = formatter(value);
    this.$(id).dataset.value = value ?? '';
  }

  // The badge names the backend; its tooltip the GPU adapter, or why the CPU (no WebGPU here).
  // Moving to the CPU mid-run (a lost GPU) is news, so that notice also goes where training
  // status is read; starting on the CPU is not.
  // `workers`: how many workers share each training step on the CPU (known once training runs).
  showBackend({ backend, adapter, notice, workers = 1 }) {
    const badge = this.$('backend');
    const sharing = workers > 1 ? `, each step shared by ${workers} workers` : '';
    badge.textContent = backend === 'webgpu' ? 'WebGPU' : workers > 1 ? `CPU ×${workers}` : 'CPU';
    badge.title = backend === 'webgpu'
      ? `WebGPU: ${adapter || 'adapter'}`
      : [`Computing on the CPU${sharing}.`, notice].filter(Boolean).join(' ');
    if (notice && this.shownBackend === 'webgpu' && backend === 'cpu') {
      this.$('train-status').textContent = notice;
    }
    this.shownBackend = backend;
  }

  // One chunk of training done (or many, if the page was busy): plot and read out.
  onChunk(message) {
    if (message.backend) this.showBackend(message);
    this.chart.add(message);
    this.showMetrics(message);
    this.$('chart').setAttribute('aria-label', `Loss chart: train loss ${format.loss(message.trainLoss)} at step ${message.step}`);
  }

  trainingPaused({ step, reason }) {
    this.setPhase('paused');
    // The tab or the element came back before the pause took effect.
    if (this.pausedByVisibility && !document.hidden && this.inView) return this.visibilityChanged();
    this.$('train-status').textContent = {
      hidden: `Paused at step ${step} because the tab was hidden; training resumes when you come back.`,
      offscreen: `Paused at step ${step} while out of view; training resumes when you scroll back.`,
    }[reason] ?? `Paused at step ${step}.`;
  }

  trainingFinished({ step }) {
    this.setPhase('finished');
    this.$('train-status').textContent = `Finished: ${step} steps. Generate below, or Reset to start again.`;
    this.$('eta').textContent = '—';
  }

  setPhase(phase) {
    this.phase = phase;
    this.dataset.phase = phase;
    if (phase === 'training' && this.$('train-status').textContent.startsWith('Paused')) {
      this.$('train-status').textContent = 'Training…';
    }
    this.updateControls();
  }

  updateControls() {
    const ready = this.engineReady;
    const hasModel = this.hasModel();
    const train = this.$('train');
    train.textContent = {
      empty: 'Train',
      training: 'Pause',
      pausing: 'Pausing…',
      paused: 'Resume',
      finished: 'Finished',
    }[this.phase];
    train.disabled =
      !ready || this.phase === 'pausing' || this.phase === 'finished' || (this.phase === 'empty' && !this.valid);
    this.$('reset').disabled = !ready || !hasModel;
    this.$('download').disabled = !ready || !hasModel;
    this.$('open-model').disabled = !ready;
    this.$('model-fields').disabled = hasModel;
    this.$('text').readOnly = hasModel;
    this.$('sample').disabled = hasModel;
    this.$('pick-file').disabled = hasModel;
    this.$('model-hint').hidden = !hasModel;
    this.$('generate').disabled = !ready || !hasModel || this.modelLoading || Boolean(this.generation);
    this.$('stop').disabled = !this.generation;
  }

  // ---- persistence ------------------------------------------------------------------

  async offerSavedSession() {
    let saved;
    try {
      saved = await loadSummary(this.workerSettings().name);
    } catch (error) {
      return this.showMessage('save-error', error.message);
    }
    if (!saved || this.hasModel()) return;
    const loss = Number.isFinite(saved.lastLoss) ? `, loss ${format.loss(saved.lastLoss)}` : '';
    this.$('resume-text').textContent =
      `A ${saved.preset ?? saved.model} model was saved at step ${saved.step} of ${saved.maxSteps}${loss}, ${format.ago(saved.savedAt)}.`;
    this.$('resume-offer').hidden = false;
  }

  resumeSaved() {
    this.showMessage('resume-error', '');
    this.send({ type: 'restore' });
  }

  async discardSaved() {
    try {
      await clearSession(this.workerSettings().name);
      this.$('resume-offer').hidden = true;
    } catch (error) {
      this.showMessage('resume-error', error.message);
    }
  }

  showSaved({ step, savedAt }) {
    this.showMessage('save-error', '');
    this.$('save-status').textContent = `Autosaved at step ${step} (${new Date(savedAt).toLocaleTimeString()}).`;
  }

  downloadModel({ bytes, step, config }) {
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const link = el('a', { href: url, download: `kindling-${config.model}-step${step}.kindling` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async openModelFile(file) {
    this.$('model-file').value = '';
    if (!file) return;
    this.showMessage('file-error', '');
    const bytes = new Uint8Array(await file.arrayBuffer());
    this.opening = { name: file.name, from: 'file' };
    const { options } = this.readOptions();
    this.send({ type: 'open', bytes, options: options ?? {} }, [bytes.buffer]);
  }

  // ---- generation -------------------------------------------------------------------

  generate() {
    const number = (id) => Number(this.$(id).value);
    this.showMessage('gen-error', '');
    this.$('prompt-warning').hidden = true;
    this.flushTokens(); // what is left of an earlier generation
    this.$('output').replaceChildren();
    this.generation = { id: ++this.generationId, count: 0, pending: [] };
    this.$('gen-status').textContent = 'Generating…';
    this.updateControls();
    this.send({
      type: 'generate',
      id: this.generation.id,
      prompt: this.$('prompt').value,
      options: {
        maxTokens: number('length'),
        temperature: number('temperature'),
        topK: number('top-k'),
        topP: number('top-p'),
      },
    });
  }

  stopGeneration() {
    if (this.generation) this.send({ type: 'stop', id: this.generation.id });
  }

  // Tokens can arrive faster than frames; they are drawn once per frame (or every 100 ms
  // where frames stop, as in a background tab), so a long generation costs one layout per
  // frame rather than one per token.
  showToken({ id, token }) {
    if (id !== this.generation?.id) return;
    this.generation.pending.push(token);
    this.generation.count++;
    if (this.flushTimer) return;
    const flush = () => this.flushTokens();
    this.flushFrame = requestAnimationFrame(flush);
    this.flushTimer = setTimeout(flush, 100);
  }

  flushTokens() {
    cancelAnimationFrame(this.flushFrame);
    clearTimeout(this.flushTimer);
    this.flushTimer = 0;
    const pending = this.generation?.pending.splice(0) ?? [];
    if (!pending.length) return;
    const output = this.$('output');
    const atBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 24;
    output.append(
      ...pending.map((token) => {
        const span = el('span', { class: tokenClass(token.prob) });
        span.textContent = token.text;
        span.token = token;
        return span;
      }),
    );
    if (atBottom) output.scrollTop = output.scrollHeight;
  }

  showPromptWarning({ id, message }) {
    if (id !== this.generation?.id) return;
    this.$('prompt-warning').textContent = message;
    this.$('prompt-warning').hidden = false;
  }

  generationEnded({ id, reason }) {
    if (id !== this.generation?.id) return;
    this.flushTokens();
    const count = this.generation.count;
    this.$('gen-status').textContent = {
      done: `Done: ${count} tokens.`,
      stopped: `Stopped after ${count} tokens.`,
      error: `Stopped by an error after ${count} tokens.`,
    }[reason];
    this.generation = null;
    this.updateControls();
  }

  currentToken() {
    return this.$('output').querySelector('.tok.current');
  }

  tokenKey(event) {
    const output = this.$('output');
    const current = this.currentToken() ?? output.lastElementChild;
    const moves = {
      ArrowLeft: () => current?.previousElementSibling,
      ArrowRight: () => current?.nextElementSibling,
      Home: () => output.firstElementChild,
      End: () => output.lastElementChild,
    };
    if (!moves[event.key]) return;
    event.preventDefault();
    this.inspect(moves[event.key]());
  }

  // Shows a token's probability and the alternatives the model weighed.
  inspect(span) {
    if (!span?.token) return;
    this.currentToken()?.classList.remove('current');
    span.classList.add('current');
    span.scrollIntoView({ block: 'nearest' });
    const { text, prob, top = [] } = span.token;
    const alternatives = top
      .filter((alt) => alt.text !== text)
      .slice(0, 5)
      .map((alt) => `${format.visibleToken(alt.text)} ${format.percent(alt.prob)}`)
      .join(' · ');
    this.$('token-info').textContent =
      `“${format.visibleToken(text)}” had probability ${format.percent(prob)}.` +
      (alternatives ? ` Alternatives: ${alternatives}.` : '');
  }

  // ---- errors -----------------------------------------------------------------------

  // Each error goes next to what caused it.
  showError({ source, message, fatal }) {
    if (fatal) {
      if (source === 'load') {
        this.loadingDone();
        this.$('engine-status').textContent = 'The engine could not load';
        return this.showMessage('notice', message);
      }
      return this.workerCrashed(message);
    }
    const place = {
      validate: 'model-error',
      create: 'train-error',
      train: 'train-error',
      storage: 'save-error',
      export: 'file-error',
      open: 'file-error',
      restore: 'resume-error',
      generate: 'gen-error',
    }[source] ?? 'train-error';
    if (source === 'open') {
      const { name, from } = this.opening ?? {};
      this.opening = null;
      if (from === 'model-src') return this.modelSrcFailed(`Could not open the model “${name}”: ${sentence(message)}`);
      message = `Could not open “${name}”: ${sentence(message)} Your current model is unchanged.`;
    }
    if (source === 'train') message = sentence(message);
    if (source === 'create') this.setPhase('empty');
    if (source === 'train') this.setPhase(this.phase === 'empty' ? 'empty' : 'paused');
    if (source === 'generate') this.generationEnded({ id: this.generation?.id, reason: 'error' });
    this.showMessage(place, message);
  }

  showMessage(id, message) {
    const node = this.$(id);
    node.textContent = message;
    node.hidden = !message;
  }
}

// Two copies of the module on one page (say, from two folders) share the first definition.
if (!customElements.get('kindling-playground')) customElements.define('kindling-playground', KindlingPlayground);
export { KindlingPlayground };

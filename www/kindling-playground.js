// @ts-check
/**
 * <kindling-playground>: train a tiny language model and watch it write, in one element. The
 * whole playground (index.html), or compact enough to sit in a blog post (kindling-embed.js).
 * The element renders and forwards; its own worker (worker/engine-worker.js) owns the engine.
 *
 * Attributes: mode ("full" | "train" | "generate" | "inspect"), view, model-src, base-model-src,
 * text, preset, steps, budget, backend, workers, prompt, temperature, top-k, top-p, max-tokens,
 * pace, autoplay, theme, storage-name, autosave-every; each but `backend` with a property of the
 * same meaning, in camelCase (playground/attributes.js says what each does; docs/embedding.md, for
 * page authors).
 * `pace` ("readable" | "step" | "instant") is how fast generated text is shown: about 40
 * tokens a second, one per press of Next token, or as it comes. The engine computes at full
 * speed whatever the pace; the Pace control sets the attribute, in every mode with a Generate card.
 * mode="inspect" shows the Inspect card alone: it loads model-src and, once loaded (so once in
 * view), runs it over `text` (or the child <template> / <textarea>; else the start of the
 * model's own training text), showing `view` ("attention" | "lens" | "neurons" | "embeddings" |
 * "sampling"; a view the model lacks gives way to one it has). The reader may edit the text and
 * switch views (a tab sets `view`); the Inspect card of the other modes looks at generated or
 * typed text.
 *
 * Read-only properties:
 *   ready       the engine is loaded           phase  'empty' | 'training' | 'pausing' |
 *   step        the model's step (0: none)            'paused' | 'finished'
 *   backend     'cpu' | 'webgpu' | 'remote' | null    generating  a generation is streaming
 *               (null: no model)
 *
 * Methods:
 *   train()            loads the engine if needed, then trains a new model from the text and
 *                      settings (sized for this device first, with a budget: the Train for
 *                      control, the `budget` attribute), resumes a paused one, or continues a
 *                      finished budget run. Resolves once training has started;
 *                      rejects with a KindlingError of kind 'config' (and `errors`, per field)
 *                      when the settings are invalid.
 *   generate(prompt?)  streams text from the model after `prompt` (else the prompt field's);
 *                      resolves to { reason: 'done' | 'stopped' | 'error', text, tokens }:
 *                      what was shown, once the last token is (so later at a slow pace).
 *                      Rejects with kind 'state' without a model, 'busy' while one streams.
 *   stop()             stops the generation where the reader is, and pauses training.
 *   connectPeer({ address, secret })
 *                      trains on a compute peer (`kindling peer --transport iroh`, its
 *                      printed address and secret): moves the model there (without one, checks
 *                      the peer answers) and sets backend="remote". Rejects with kind
 *                      'peer-refused', 'peer-unreachable' or 'argument' and changes nothing.
 *                      The full playground's "GPU peer…" choice asks for both; embeds offer none.
 *
 * Events (bubbling, composed; `detail`):
 *   kindling-ready     { presets: names }                      the engine is loaded
 *   kindling-metrics   { step, totalSteps, trainLoss, valLoss (null between evaluations),
 *                        trainBitsPerChar, valBitsPerChar, tokensPerSecond, backend,
 *                        workers, notice }                       after each chunk of steps
 *                      (notice: why the model computes where it does, when worth saying: a
 *                      lost GPU or peer, 'auto''s measurement; else null)
 *   kindling-token     { text, id, prob, top: [{ text, id, prob }] }   each generated token,
 *                      as it is shown: at the pace, so the host sees what the reader sees
 *   kindling-finished  { task: 'training', step, keptBestFrom? } | { task: 'generation', reason,
 *                      text, tokens } (keptBestFrom: a budget run went back to that step's
 *                      weights, its best evaluation)
 *   kindling-error     { source, kind, message }   an error shown in the element (kinds: the
 *                      engine's and the worker's, see worker/engine-worker.js; 'crashed' when its
 *                      worker died; 'fetch' when model-src, or the base model Start from
 *                      chose, could not be read)
 *
 * The engine loads lazily, when the element first scrolls into view or is interacted with
 * (or train() / generate() is called); the .wasm is downloaded and compiled once per page
 * (engine-loader.js). Training pauses while the element is out of view or the tab is hidden;
 * removing the element stops its worker and frees its memory.
 */
import { wasmSupported } from './engine-loader.js';
import { SAMPLES } from './samples.js';
import { MARKUP, sentence, setOutline } from './playground/markup.js';
import { REFLECTED, reflectAttributes, upgradeProperties, workerSettings, givenText } from './playground/attributes.js';
import { controls, nextPhase, autoplayAction } from './playground/controls.js';
import { KNOBS } from './playground/generation-view.js';
import { kindlingError } from './playground/engine-client.js';
import { NO_WASM } from './playground/header-view.js';
import { wireParts } from './playground/parts.js';

// The public API's types: types/kindling-playground.d.ts (the package's declaration).
/** @typedef {import('./types/kindling-playground.js').KindlingPlaygroundEventMap} EventMap */
/** @typedef {import('./types/kindling-playground.js').Phase} Phase */
/** @typedef {import('./types/kindling-playground.js').Peer} Peer */
/** @typedef {typeof import('./types/kindling-playground.js').KindlingPlayground} Declared */
/** @typedef {import('./protocol.js').Request} Request */
/** @typedef {import('./playground/config-form.js').Validation} Validation */
/** @typedef {import('./playground/parts.js').Parts} Parts */
/** @typedef {import('./playground/parts.js').Receiver} Receiver */
/** @typedef {import('./playground/attributes.js').Reflected} Reflected */
/**
 * What the element keeps of its state (playground/controls.js says what each is).
 * @typedef {{ ready: boolean, phase: Phase, valid: boolean, loadingModel: boolean }} State
 */
/**
 * HTMLElement as this class sees it: with its parts (wireParts sets them, in build()) and the
 * properties reflectAttributes() defines for its attributes.
 * @typedef {{ new (): HTMLElement & Parts & Reflected, prototype: HTMLElement }} ElementBase
 */

class KindlingPlayground extends /** @type {ElementBase} */ (HTMLElement) {
  static get observedAttributes() {
    return [...Object.keys(REFLECTED), 'backend'];
  }

  connectedCallback() {
    if (!this.shadowRoot) this.build();
    this.training.connect();
    this.runs.connect();
    this.childObserver.observe(this, { childList: true, subtree: true, characterData: true });
    this.visibility.connect(); // in view, it starts the engine
  }

  // A removed element's worker is stopped, which frees the engine's memory; an element
  // moved within the page (removed and re-added in one go) keeps it.
  disconnectedCallback() {
    this.visibility.disconnect();
    this.childObserver.disconnect();
    this.training.disconnect();
    this.runs.disconnect();
    queueMicrotask(() => {
      if (!this.isConnected) this.shutDown();
    });
  }

  /**
   * @param {string} name
   * @param {string | null} oldValue
   * @param {string | null} newValue
   */
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
    /** @type {HTMLElement} */
    this.app = /** @type {HTMLElement} */ (root.getElementById('app'));
    /** @type {State} */
    this.state = { ready: false, phase: 'empty', valid: false, loadingModel: false };
    this.autoplayed = false;

    wireParts(this, root);
    upgradeProperties(this);
    this.applyLook();
    for (const name of ['prompt', 'backend', 'pace', 'view', 'budget', ...Object.keys(KNOBS)])
      this.attributeChanged(name);
    const text = givenText(this);
    if (text != null) this.form.setText(text);
    this.update(); // the buttons stay disabled until the engine is ready
    // Any interaction starts the engine, even before the element scrolls into view.
    for (const event of ['pointerdown', 'focusin']) this.addEventListener(event, () => this.activate());
  }

  // ---- the host's API ---------------------------------------------------------------------

  get ready() {
    return Boolean(this.state?.ready);
  }

  get phase() {
    return this.state?.phase ?? 'empty';
  }

  get step() {
    return this.training?.step ?? 0;
  }

  get backend() {
    return this.training?.backend ?? null;
  }

  get generating() {
    return Boolean(this.generation?.active);
  }

  async train() {
    await this.whenReady();
    if (this.state.phase === 'paused') return this.resumeTraining();
    if (this.state.phase === 'finished' && this.training.continuable) return this.trainClicked();
    if (this.state.phase !== 'empty') return;
    const result = await this.form.settled();
    if (!result.ok) {
      const message = result.errors.map((error) => error.message).join(' ');
      throw kindlingError('config', message, { errors: result.errors });
    }
    if (this.state.phase === 'empty') this.trainClicked();
  }

  /** @param {string} [prompt] */
  async generate(prompt) {
    if (prompt !== undefined) this.generation.prompt = String(prompt);
    await this.whenReady();
    if (this.generation.active) throw kindlingError('busy', 'A generation is running: stop() it first.');
    if (this.state.phase === 'empty' || this.state.loadingModel) {
      throw kindlingError('state', 'There is no model to generate with yet: train or load one first.');
    }
    return this.startGeneration();
  }

  stop() {
    this.generation?.stop();
    if (this.state?.phase === 'training') this.pause('user');
  }

  /** @param {Peer} [peer] */
  connectPeer(peer) {
    if (!this.shadowRoot) return Promise.reject(kindlingError('state', 'The element is not in a page yet.'));
    return this.peers.connect(peer ?? {});
  }

  /**
   * @template {keyof EventMap} K
   * @param {K} type
   * @param {EventMap[K]['detail']} detail
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // Starts the engine if it is not running, and resolves once it is ready.
  /** @returns {Promise<void>} */
  whenReady() {
    if (!this.shadowRoot) return Promise.reject(kindlingError('state', 'The element is not in a page yet.'));
    if (this.state.ready) return Promise.resolve();
    if (!wasmSupported()) return Promise.reject(kindlingError('load', NO_WASM));
    this.activate();
    return new Promise((resolve) => this.addEventListener('kindling-ready', () => resolve(), { once: true }));
  }

  // ---- attributes and looks ---------------------------------------------------------------

  get compact() {
    return this.mode !== 'full';
  }

  // generate and inspect: the modes that show no training, only a model-src's model at work.
  get runsGivenModel() {
    return this.mode === 'generate' || this.mode === 'inspect';
  }

  applyLook() {
    this.app.dataset.mode = this.mode;
    this.app.dataset.theme = this.theme;
    this.app.classList.toggle('compact', this.compact);
    setOutline(/** @type {ShadowRoot} */ (this.shadowRoot), this.compact);
    this.form.setCompact(this.compact);
    this.training.setCompact(this.compact);
    this.inspector.setMode(this.mode);
    this.peers.setCompact(this.compact);
  }

  /** @param {string} name */
  attributeChanged(name) {
    if (KNOBS[name]) return this.generation.setKnob(name, this.getAttribute(name));
    switch (name) {
      case 'workers': // takes effect from the next chunk of training
      case 'storage-name':
      case 'autosave-every':
        return this.engine.configure();
      case 'mode':
      case 'theme':
        this.applyLook();
        this.engine.configure();
        return this.update();
      case 'prompt':
        this.generation.prompt = this.getAttribute('prompt') ?? '';
        return;
      case 'pace':
        return this.generation.setPace(this.pace);
      case 'text':
        return this.textGiven();
      case 'view':
        return this.inspector.select(this.view);
      case 'preset':
        return this.setupChanged(() => this.form.applyPreset(this.form.presetName(this.getAttribute('preset'))));
      case 'steps':
        return this.setupChanged(() => {
          this.form.applySteps();
          this.trainFor.refresh(); // without a budget attribute, steps choose Steps
        });
      case 'budget':
        return this.setupChanged(() => this.trainFor.refresh());
      case 'backend':
        this.header.backendSetting(workerSettings(this).backend);
        // The worker moves the model (it keeps its weights, optimizer and step).
        if (this.engine.started) this.engine.configure();
        return;
      case 'model-src':
        this.autoplayed = false;
        return this.files.loadModelSrc();
      case 'base-model-src':
        return this.files.startFrom.baseChanged();
      case 'autoplay':
        return this.maybeAutoplay();
    }
  }

  // The page's text changed: the training text, and in mode="inspect" the text looked at.
  textGiven() {
    this.setupChanged(() => this.form.setText(givenText(this) ?? ''));
    this.inspector.givenTextChanged();
    this.tokens.textChanged();
  }

  // The text or settings a model was made from changed: a model made from the old ones
  // is dropped, and autoplay may start again.
  /** @param {() => void} apply */
  setupChanged(apply) {
    if (this.state.phase !== 'empty' && !this.hasAttribute('model-src')) this.reset();
    apply();
    this.form.schedule();
    this.autoplayed = false;
  }

  // ---- state --------------------------------------------------------------------------

  /** @param {Partial<State>} [change] */
  update(change = {}) {
    Object.assign(this.state, change);
    this.dataset.phase = this.state.phase;
    this.form.locked = this.state.phase !== 'empty';
    const state = {
      ...this.state,
      generating: this.generation.active,
      inspectsTyped: this.inspector.source === 'typed',
      startReady: this.files.startFrom.ready,
      continuable: this.training.continuable,
    };
    const root = /** @type {ShadowRoot} */ (this.shadowRoot); // built
    for (const [id, properties] of Object.entries(controls(state))) {
      Object.assign(/** @type {HTMLElement} */ (root.getElementById(id)), properties);
    }
  }

  /** @param {Validation} result */
  validated(result) {
    this.dataset.validation = result.ok ? 'ok' : 'invalid';
    if (this.state.phase === 'empty' && result.config) {
      this.training.formLine(result.config, result.parameterCount);
    }
    this.update({ valid: result.ok });
    this.maybeAutoplay();
  }

  // ---- visibility -------------------------------------------------------------------

  // Training runs only while the element is on screen in a visible tab.
  visibilityChanged() {
    if (this.visibility.inView) this.activate();
    const action = this.visibility.trainingAction(this.state.phase);
    if (action === 'pause') this.pause(/** @type {string} */ (this.visibility.hiddenBecause)); // unseen
    if (action === 'resume') this.resumeTraining();
    this.maybeAutoplay();
  }

  // Autoplay starts once, when the element is well in view; never before it was scrolled to.
  // mode="inspect" has nothing to play: it inspects as soon as its model is loaded.
  maybeAutoplay() {
    if (!this.autoplay || this.autoplayed || this.mode === 'inspect') return;
    if (!this.visibility.wellInView || document.hidden) return;
    const wantsModel = this.mode === 'generate' || this.hasAttribute('model-src');
    const action = autoplayAction({ ...this.state, generating: this.generation.active, wantsModel });
    if (action) this.autoplayed = true;
    if (action === 'generate') this.startGeneration();
    if (action === 'train') this.trainClicked();
  }

  // ---- the engine -------------------------------------------------------------------

  // Starts this element's engine: the first time it is in view or interacted with.
  activate() {
    if (this.engine.started || !this.isConnected) return;
    if (wasmSupported()) return this.engine.start();
    this.header.status('Unavailable');
    this.header.notice(NO_WASM);
  }

  // Requests that move the phase go through here (the phase follows them at once).
  /**
   * @param {Request} message
   * @param {Transferable[]} [transfer]
   */
  send(message, transfer) {
    this.update({ phase: nextPhase(this.state.phase, message) });
    this.training.sent(message);
    this.engine.send(message, transfer);
  }

  /** @param {import('./playground/engine-client.js').ClientMessage} message */
  received(message) {
    if (message.type === 'starting') return this.header.status('Starting the engine…');
    if (message.type === 'ready') return this.engineLoaded(message);
    this.update({ phase: nextPhase(this.state.phase, message) });
    if (message.type === 'error') return this.showError(message);
    const before = this.backend;
    // Each part gets the messages its `accepts` lists (parts.js's Receiver), in this order.
    /** @type {Receiver[]} */
    const parts = [
      this.training,
      this.trainFor,
      this.generation,
      this.files,
      this.inspector,
      this.beforeAfter,
      this.runs,
      this.tokens,
    ];
    for (const part of parts) if (part.accepts.includes(message.type)) part.received(message);
    // A lost peer left the model on the CPU: so does the setting, or the next model would
    // wait for a peer that is gone.
    if (before === 'remote' && this.backend === 'cpu' && this.getAttribute('backend') === 'remote')
      this.setAttribute('backend', 'cpu');
    if (message.type === 'model') this.modelChanged(message);
    if (message.type === 'finished') {
      const { step, keptBestFrom } = message;
      this.emit('kindling-finished', { task: 'training', step, ...(keptBestFrom !== undefined && { keptBestFrom }) });
    }
    if (message.type === 'paused') this.visibilityChanged(); // the reader may be back already
    if (message.type === 'metrics') {
      const { step, total, trainLoss, valLoss, trainBitsPerChar, valBitsPerChar, tokensPerSecond, workers, notice } =
        message;
      const bits = { trainBitsPerChar, valBitsPerChar: valBitsPerChar ?? null };
      const detail = {
        step,
        totalSteps: total,
        trainLoss,
        valLoss: valLoss ?? null,
        ...bits,
        tokensPerSecond,
        workers,
      };
      this.emit('kindling-metrics', { ...detail, backend: this.backend, notice: notice ?? null });
    }
  }

  /** @param {import('./protocol.js').ReadyMessage} ready */
  async engineLoaded({ presets, fields }) {
    this.form.ready = true;
    this.form.setRules(fields);
    this.files.startFrom.rulesChanged();
    this.form.setPresets(presets, this.getAttribute('preset'));
    if (!this.form.text && givenText(this) == null) await this.form.loadSample(SAMPLES[0].id);
    this.form.schedule();
    this.header.loaded('Ready');
    this.update({ ready: true });
    this.emit('kindling-ready', {
      presets: /** @type {import('../pkg/kindling.js').PresetName[]} */ (Object.keys(presets)),
    });
    if (this.hasAttribute('model-src')) this.files.loadModelSrc();
    else if (this.runsGivenModel) {
      this.header.notice('This embed has no model to run: set its model-src to a file saved with “Download model”.');
    }
    if (!this.compact) await Promise.all([this.files.offerAutosave(), this.runs.refresh()]);
  }

  // The worker and its model are gone (removed from the page, or crashed).
  /** @param {string} status */
  engineGone(status) {
    this.header.loaded(status);
    this.generation.abandon();
    this.form.ready = false;
    this.state.ready = false;
    this.state.loadingModel = false;
    this.received({ type: 'model', info: null });
  }

  // Removed from the page: re-adding starts afresh.
  shutDown() {
    this.engine.stop();
    this.files.forget();
    this.engineGone('Loads when it scrolls into view');
    this.visibility.pausedTraining = false;
    this.autoplayed = false;
  }

  /**
   * @param {string} reason
   * @param {boolean} restarting
   */
  engineCrashed(reason, restarting) {
    this.engineGone(restarting ? 'Restarting the engine…' : 'The engine stopped');
    const next = restarting ? 'It restarts now.' : 'Reload the page to try again.';
    const saved = restarting ? 'it is offered at the top once the engine restarts.' : 'reload the page to try again.';
    const message =
      `The engine stopped: ${sentence(reason)} ` + (this.compact ? next : `Your last autosave is kept; ${saved}`);
    if (this.runsGivenModel) this.header.notice(message);
    else this.training.error(message);
    this.emit('kindling-error', { source: 'engine', kind: 'crashed', message });
  }

  // ---- training -----------------------------------------------------------------------

  trainClicked() {
    this.training.error('');
    const { phase, valid } = this.state;
    if (phase === 'training') return this.pause('user');
    if (phase === 'paused') return this.resumeTraining();
    if (phase === 'finished' && this.training.continuable) return this.send({ type: 'train', more: true });
    const { options } = this.form.read();
    if (phase !== 'empty' || !options || !valid) return;
    this.files.hideOffer(); // the new model's autosaves replace the old one
    if (this.files.startFrom.fineTunes) return this.files.startFrom.start();
    const { seconds } = this.trainFor; // null: the Model card's steps
    this.send({ type: 'create', options, train: true, ...(seconds !== null && { budget: { seconds } }) });
  }

  /** @param {string} reason 'user', or why the element paused it (visibility.js) */
  pause(reason) {
    this.send({ type: 'pause', reason });
  }

  resumeTraining() {
    this.send({ type: 'train' });
  }

  reset() {
    this.visibility.pausedTraining = false;
    this.generation.stop();
    this.send({ type: 'reset' });
  }

  // The training views have shown the model; the form shows what it was made from.
  /** @param {import('./protocol.js').ModelMessage} message */
  modelChanged({ info, setup }) {
    if (!info) {
      const { config, parameterCount } = this.form.result ?? /** @type {Partial<Validation>} */ ({});
      if (config) this.training.formLine(config, parameterCount);
      return;
    }
    this.form.showParameters(info.parameterCount);
    if (setup) this.form.showSetup(setup, info.config);
    this.maybeAutoplay();
  }

  // ---- generation and errors --------------------------------------------------------

  startGeneration() {
    return this.generation.start(this.engine.nextId());
  }

  // Each error goes next to what caused it.
  /** @param {import('./protocol.js').ErrorMessage} error */
  showError({ source, kind, message, fatal }) {
    if (fatal && source !== 'load') return this.engine.crashed(message);
    this.emit('kindling-error', { source, kind, message });
    if (source === 'create') this.training.status(''); // no model: not measuring or building any more
    if (source === 'load') {
      this.header.loaded('The engine could not load');
      this.header.notice(message);
    } else if (source === 'generate') this.generation.failed(message);
    else if (!this.files.showError(source, message) && !this.runs.showError(source, message, kind)) {
      this.training.error(source === 'train' ? sentence(message) : message);
    }
  }
}

reflectAttributes(KindlingPlayground);

// Two copies of the module on one page (say, from two folders) share the first definition.
// (The class has the API its declaration, types/kindling-playground.d.ts, gives pages.)
if (!customElements.get('kindling-playground')) {
  customElements.define('kindling-playground', /** @satisfies {Declared} */ (KindlingPlayground));
}
export { KindlingPlayground };

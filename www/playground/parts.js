// @ts-check
// The element's parts, made and wired to it and to each other: the engine client, the form,
// the views, and the buttons that drive them. The element (kindling-playground.js) keeps the
// state and the host's API; each part owns its card.
import { ConfigForm } from './config-form.js';
import { GenerationView } from './generation-view.js';
import { TrainingView } from './training-view.js';
import { ModelFiles } from './model-files.js';
import { EngineClient } from './engine-client.js';
import { Visibility } from './visibility.js';
import { HeaderView } from './header-view.js';
import { InspectView } from './inspect-view.js';
import { RunsView } from './runs-view.js';
import { BeforeAfter } from './before-after.js';
import { TokenView } from './token-view.js';
import { PeerDialog } from './peer-dialog.js';
import { TrainFor } from './train-for.js';
import { workerSettings } from './attributes.js';

/** @typedef {import('./pacer.js').Pace} Pace */
/** @typedef {import('../protocol.js').WorkerMessage} WorkerMessage */

/**
 * The worker's messages the element hands on to its parts (kindling-playground.js's
 * received()): all but those the element itself or its EngineClient handle.
 * @typedef {Exclude<WorkerMessage, { type: 'ready' | 'error' | 'need-engine' }>} Routed
 */
/**
 * What a part's received() takes: the messages of the types its `accepts` lists. Derived
 * from `accepts`, so the two cannot disagree: a type misspelt there fails this constraint, and
 * a handler's case for a type left out of it fails as not comparable.
 * @template {readonly Routed['type'][]} A
 * @typedef {Extract<Routed, { type: A[number] }>} Accepted
 */
/**
 * A part that takes some of the worker's messages: the element gives its received() only
 * those of the types its `accepts` lists. (received() is written as a method so that each
 * part's, which takes only its Accepted<…>, fits: TypeScript compares a method's parameter both
 * ways. The element's check of `accepts` is what makes that sound.)
 * @typedef {{ accepts: readonly Routed['type'][], received(message: Routed): void }} Receiver
 */

/**
 * The element's parts, as wireParts() sets them on it.
 * @typedef {object} Parts
 * @property {EngineClient} engine
 * @property {ConfigForm} form
 * @property {HeaderView} header
 * @property {TrainingView} training
 * @property {GenerationView} generation
 * @property {ModelFiles} files
 * @property {TrainFor} trainFor
 * @property {BeforeAfter} beforeAfter
 * @property {RunsView} runs
 * @property {InspectView} inspector
 * @property {TokenView} tokens
 * @property {PeerDialog} peers
 * @property {Visibility} visibility
 * @property {MutationObserver} childObserver
 */

// Sets host.engine, host.form, host.header, host.training, host.generation, host.files,
// host.trainFor, host.beforeAfter, host.runs, host.inspector, host.tokens, host.peers, host.visibility,
// host.childObserver.
/**
 * @param {import('../kindling-playground.js').KindlingPlayground} host
 * @param {ShadowRoot} root
 */
export function wireParts(host, root) {
  host.engine = new EngineClient({
    settings: () => workerSettings(host),
    onMessage: (message) => host.received(message),
    onProgress: (progress) => host.header.loading(progress),
    onCrash: (reason, restarting) => host.engineCrashed(reason, restarting),
  });
  host.form = new ConfigForm(root, {
    validate: (options) => host.engine.request({ type: 'validate', options }).then((reply) => reply.result),
    onPending: () => {
      host.dataset.validation = 'pending';
      host.update({ valid: false });
    },
    onValidated: (result) => host.validated(result),
    steps: () => host.getAttribute('steps'),
  });
  host.header = new HeaderView(root);
  host.training = new TrainingView(root);
  host.generation = new GenerationView(root, {
    send: (message) => host.send(message),
    onStart: () => host.update(),
    onToken: ({ text, id, prob, top }) => host.emit('kindling-token', { text, id, prob, top }),
    onEnd: (result) => {
      host.update();
      host.emit('kindling-finished', { task: 'generation', ...result });
    },
  });
  const { engine, form, header, training } = host;
  host.files = new ModelFiles(root, { host, engine, form, header, training });
  host.trainFor = new TrainFor(root, { host, form, training });
  host.beforeAfter = new BeforeAfter(root, {
    engine,
    generation: host.generation,
    starting: () => host.files.startFrom.starting,
  });
  host.runs = new RunsView(root, { host, engine, training, sampling: () => host.generation.sampling() });
  host.inspector = new InspectView(root, {
    host,
    request: (message) => engine.request(message),
    generated: () => host.generation.written,
  });
  host.tokens = new TokenView(root, { request: (message) => engine.request(message), text: () => host.form.text });
  host.peers = new PeerDialog(root, { host, engine });
  host.visibility = new Visibility(host, () => host.visibilityChanged());
  // Training text given as a child <template> or <textarea> may arrive after the element.
  host.childObserver = new MutationObserver(() => {
    if (!host.hasAttribute('text')) host.textGiven();
  });

  /**
   * @param {string} id
   * @param {() => void} handler
   */
  const on = (id, handler) => /** @type {HTMLElement} */ (root.getElementById(id)).addEventListener('click', handler);
  on('train', () => host.trainClicked());
  on('reset', () => host.reset());
  on('generate', () => host.startGeneration());
  on('stop', () => host.generation.stop());
  /** @type {HTMLElement} */ (root.getElementById('backend-choice')).addEventListener('change', (event) => {
    const target = /** @type {HTMLSelectElement} */ (event.target);
    if (target.value === 'remote') host.peers.open();
    else host.setAttribute('backend', target.value);
  });
  /** @type {HTMLElement} */ (root.getElementById('pace')).addEventListener(
    'change',
    ({ target }) => (host.pace = /** @type {Pace} */ (/** @type {HTMLInputElement} */ (target).value)),
  );
  /** @type {HTMLElement} */ (root.getElementById('inspect-source')).addEventListener('change', () => host.update());
}

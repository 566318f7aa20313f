// @ts-check
// What the engine worker's parts share (engine-worker.js and the modules beside it in www/worker/):
// the page's settings, the live model, and the one-at-a-time queue every engine call goes through.
import { kindlingError as failure } from '../kindling-error.js';

/** @typedef {import('../kindling.js').KindlingClass} KindlingClass */
/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../types/kindling-playground.js').BackendSetting} BackendSetting the element's: 'auto' measures */
/** @typedef {import('../protocol.js').Peer} Peer */
/** @typedef {import('../protocol.js').Setup} Setup */
/** @typedef {import('../protocol.js').Request} Request */
/** @typedef {import('../protocol.js').WorkerMessage} WorkerMessage */
/** @typedef {import('../protocol.js').ErrorMessage} ErrorMessage */
/**
 * @template In, Out
 * @typedef {import('../protocol.js').WorkerScope<In, Out>} WorkerScope
 */

/**
 * The `configure` message's fields (protocol.js's ConfigureRequest), each set.
 * @typedef {object} Settings
 * @property {string} name
 * @property {number} autosaveEvery
 * @property {boolean} persist
 * @property {BackendSetting} backend
 * @property {Peer | null} peer
 * @property {'auto' | number} helpers
 * @property {number | null} debugWebgpuMs
 * @property {number[] | null} debugWorkerMs
 * @property {number[] | null} debugBudgetMs
 * @property {number | null} runsCapBytes
 */

/**
 * @typedef {object} Live
 * @property {KindlingClass} Kindling null until the `load` request: every request but
 *   `configure` is refused until then (engine-worker.js's inbox), so what runs behind that
 *   gate reads it as loaded
 * @property {WebAssembly.Module | null} engineModule
 * @property {Model | null} model
 * @property {number} epoch
 * @property {Setup | null} setup
 * @property {number} lastSavedStep
 * @property {number | null} target
 * @property {number | null} deadline
 */

/**
 * @typedef {object} Loop
 * @property {boolean} keepGoing whether the train loop trains another chunk
 * @property {string} pauseReason why it paused ('user' unless the page said otherwise)
 */

// The worker's state, in one object: what the page configured, the live model and what goes
// with it, and whether the train loop should go on. Every other module reads it through the
// read-only views below (tsc refuses a write through them); only the named transitions after
// them change it.
const state = {
  /** @type {Settings} what the page configures (the `configure` message) */
  settings: {
    name: 'playground', // the autosave's IndexedDB key; an embed can use its own
    autosaveEvery: 100, // steps between autosaves
    persist: true, // false: never autosave (embeds that show a fixed demo)
    backend: 'auto',
    peer: null, // backend 'remote': { address, secret } of the compute peer (docs/remote.md)
    helpers: 'auto', // helper workers for CPU training: 'auto' (as many as measure faster) or a count
    debugWebgpuMs: null, // tests: 'auto' takes this as WebGPU's measured ms/step
    debugWorkerMs: null, // tests: 'auto' workers take [i] as the measured ms/step of i + 1 workers
    debugBudgetMs: null, // tests: a budget's probe takes [i] as shape i's ms/step (budget.js's fakeMsPerStep)
    runsCapBytes: null, // tests: the run list's cap (else runs-store.js's RUNS_CAP_BYTES)
  },
  /** @type {Live} the live model and what goes with it */
  live: {
    // the CPU build's class (the WebGPU build's: backends.gpuEngine())
    Kindling: /** @type {KindlingClass} */ (/** @type {unknown} */ (null)),
    engineModule: null, // the compiled engine, handed on to helper workers
    model: null,
    epoch: 0, // a new, opened or dropped model ends the old one's train loop; a move does not
    setup: null, // { text, options, fineTunedFrom? } the model was made from
    lastSavedStep: 0,
    target: null, // the step training goes to: null, the config's maxSteps; more once a finished run is continued
    deadline: null, // a budget run's end (performance.now() ms): its schedule moves to end then (budget.js's budgetEnd)
  },
  /** @type {Loop} whether the train loop (training.js) goes on after its chunk, and why it paused */
  loop: { keepGoing: false, pauseReason: 'user' },
};

/** @type {Readonly<Settings>} */
export const settings = state.settings;
/** @type {Readonly<Live>} */
export const live = state.live;
/** @type {Readonly<Loop>} */
export const loop = state.loop;

// ---- transitions: the only writers of the state above -------------------------------------

/** The engine's CPU build has loaded. @param {KindlingClass} Kindling @param {WebAssembly.Module | null} module */
export function engineLoaded(Kindling, module) {
  state.live.Kindling = Kindling;
  state.live.engineModule = module;
}

/** The page's `configure`: each field given replaces the setting. @param {Partial<Settings>} changes */
export function configured(changes) {
  Object.assign(state.settings, changes);
}

/**
 * Another model is live (or none): a new epoch, which ends the old one's train loop. Call it
 * only between engine calls (engine-worker.js's replaceModel queues it).
 * @param {Model | null} model
 * @param {Setup | null} setup
 */
export function modelReplaced(model, setup) {
  Object.assign(state.live, {
    model,
    setup,
    epoch: state.live.epoch + 1,
    lastSavedStep: model?.step ?? 0,
    target: null,
    deadline: null,
  });
}

/** The live model moved to another backend: the same run, so the same epoch. @param {Model} model */
export function modelMoved(model) {
  state.live.model = model;
}

/** A budget run: its schedule ends at `deadline` (performance.now() ms). @param {number} deadline */
export function budgetStarted(deadline) {
  state.live.deadline = deadline;
}

/** A finished run continues, to step `target`. @param {number} target */
export function runExtended(target) {
  state.live.target = target;
}

/** The autosave holds step `step`. @param {number} step */
export function autosaved(step) {
  state.live.lastSavedStep = step;
}

/** Train, and go on after each chunk. */
export function trainingWanted() {
  state.loop.keepGoing = true;
}

/**
 * Stop after the running chunk: `reason` 'user', a page's own (e.g. 'hidden'), or undefined
 * when the loop stops itself (its run ended, a new model, an error).
 * @param {string} [reason]
 */
export function trainingStopped(reason) {
  state.loop.keepGoing = false;
  if (reason !== undefined) state.loop.pauseReason = reason;
}

// This module runs in a DedicatedWorkerGlobalScope, which tsconfig's lib (dom) does not know:
// `self` as the engine worker sees it (protocol.js's WorkerScope).
export const workerSelf = /** @type {WorkerScope<Request, WorkerMessage>} */ (/** @type {unknown} */ (self));

/**
 * @param {WorkerMessage} message
 * @param {Transferable[]} [transfer]
 */
export const post = (message, transfer = []) => workerSelf.postMessage(message, transfer);

// wasm-bindgen objects must not be used by two calls at once (a second borrow throws),
// and the train loop, saves and the page's requests all reach the same model.
/** @type {Promise<unknown>} */
let engineQueue = Promise.resolve();
/**
 * @template T
 * @param {() => T | PromiseLike<T>} task
 * @returns {Promise<T>}
 */
export function exclusive(task) {
  const run = engineQueue.then(task);
  engineQueue = run.catch(() => {});
  return run;
}

// Lets queued messages (pause, stop, generate) run between chunks and tokens. A
// MessageChannel hop avoids setTimeout's 4 ms clamp.
/** @returns {Promise<unknown>} */
export const nextTask = () =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = resolve;
    channel.port2.postMessage(null);
  });

// What the page is told about an error. A RuntimeError means the wasm instance trapped (a
// panic, or an allocation that failed): it is unusable and the page must start a fresh worker.
/**
 * @param {any} error whatever was thrown: an Error, a KindlingError, anything
 * @returns {Pick<ErrorMessage, 'fatal' | 'kind' | 'message' | 'errors'>}
 */
export function describe(error) {
  const message = error?.message || String(error);
  if (error instanceof WebAssembly.RuntimeError) {
    return {
      fatal: true,
      kind: 'crashed',
      message:
        `The engine crashed (${message}). This is most often running out of memory: ` +
        'try a smaller preset, fewer layers or a smaller batch.',
    };
  }
  if (error instanceof RangeError && /memory|allocat/i.test(message)) {
    return { fatal: true, kind: 'crashed', message: `Out of memory (${message}). Try a smaller model or batch.` };
  }
  /** @type {Pick<ErrorMessage, 'fatal' | 'kind' | 'message' | 'errors'>} */
  const described = { fatal: false, kind: typeof error?.kind === 'string' ? error.kind : undefined, message };
  if (Array.isArray(error?.errors)) described.errors = error.errors;
  return described;
}

export function requireModel() {
  if (!live.model) throw failure('state', 'There is no model yet: train one or open a saved model.');
}

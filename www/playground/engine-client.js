// @ts-check
// The element's side of its engine worker (worker/engine-worker.js): starts it once the page has
// compiled the engine (engine-loader.js, once per page), posts messages, matches replies to
// requests, and starts a fresh worker when one crashes, unless they keep crashing.
import { compileEngine, loadProgress, currentProgress } from '../engine-loader.js';
import { kindlingError } from '../kindling-error.js';

export { kindlingError };

/** @typedef {import('../protocol.js').Request} Request */
/** @typedef {import('../protocol.js').RequestType} RequestType */
/** @typedef {import('../protocol.js').LoadRequest} LoadRequest */
/** @typedef {import('../protocol.js').EngineRequest} EngineRequest */
/** @typedef {import('../protocol.js').ConfigureRequest} ConfigureRequest */
/** @typedef {import('../protocol.js').WorkerMessage} WorkerMessage */
/** @typedef {import('../protocol.js').PartialMessage} PartialMessage */
/** @typedef {import('../protocol.js').RequestId} RequestId */
/** @typedef {import('../engine-loader.js').Progress} Progress */
/**
 * @template {RequestType} T
 * @typedef {import('../protocol.js').Answer<T>} Answer
 */
/**
 * What the element's onMessage gets: the worker's messages that answer no request() (a fatal
 * error also reaches it when it answers one), but need-engine, which this answers itself; and
 * { type: 'starting' } once the engine is compiled and sent to the worker.
 * @typedef {Exclude<WorkerMessage, { type: 'need-engine' }>
 *   | import('../protocol.js').NoId & { type: 'starting' }} ClientMessage
 */
/**
 * A request() waiting for its answer.
 * @typedef {{ resolve: (reply: WorkerMessage) => void, reject: (error: Error) => void,
 *   onPartial?: (message: PartialMessage) => void }} Pending
 */
/**
 * What received() reads off a reply before its type is known: compare's `partial`, an
 * error's `source` (the other replies' types leave them out).
 * @typedef {{ partial?: boolean, source?: string }} Envelope
 */

const WORKER_URL = new URL('../worker/engine-worker.js', import.meta.url);
// A worker that keeps dying would only loop; after this many the reader reloads.
const MAX_RESTARTS = 3;

// Sends a compiled engine module with `message`; one that cannot be sent goes without, and the
// worker fetches it itself.
/**
 * @param {Worker} worker
 * @param {LoadRequest | EngineRequest} message
 * @param {WebAssembly.Module} module
 */
function postModule(worker, message, module) {
  try {
    worker.postMessage({ ...message, module });
  } catch {
    worker.postMessage(message);
  }
}

export class EngineClient {
  // settings(): the `configure` message's fields, read at each (re)start.
  // onMessage(message): the worker's messages that answer no request(); also
  //   { type: 'starting' } once the engine is compiled and sent to the worker.
  // onProgress({ loaded, total }): the page-wide download of the engine.
  // onCrash(reason, restarting): the worker died; `restarting` when a fresh one is on its way.
  /**
   * @param {{
   *   settings: () => Omit<ConfigureRequest, 'type'>,
   *   onMessage: (message: ClientMessage) => void,
   *   onProgress: (progress: Progress) => void,
   *   onCrash: (reason: string, restarting: boolean) => void,
   * }} hooks
   */
  constructor({ settings, onMessage, onProgress, onCrash }) {
    this.settings = settings;
    this.onMessage = onMessage;
    this.onCrash = onCrash;
    /** @type {Worker | null} */
    this.worker = null;
    this.crashes = 0;
    this.lastId = 0;
    /** @type {Map<RequestId, Pending>} */
    this.pending = new Map(); // request id → { resolve, reject }
    // engine-loader.js's loadProgress dispatches CustomEvents of Progress.
    this.onLoadProgress = /** @type {EventListener} */ (
      (/** @type {CustomEvent<Progress>} */ { detail }) => onProgress(detail)
    );
    this.onProgress = onProgress;
  }

  get started() {
    return Boolean(this.worker);
  }

  start() {
    const worker = new Worker(WORKER_URL, { type: 'module' });
    this.worker = worker;
    worker.onmessage = ({ data }) => this.received(data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.crashed(event.message || 'the worker stopped unexpectedly');
    };
    this.configure();
    this.onProgress(currentProgress());
    loadProgress.addEventListener('progress', this.onLoadProgress);
    compileEngine().then(
      (module) => {
        if (this.worker !== worker) return;
        this.onMessage({ type: 'starting' });
        postModule(worker, { type: 'load' }, module);
      },
      (error) => {
        if (this.worker !== worker) return;
        const message = `The engine failed to load: ${error.message}.`;
        this.received({ type: 'error', source: 'load', fatal: true, kind: 'load', message });
      },
    );
  }

  // The worker asks for another build (WebGPU) once it has an adapter to use it with.
  /** @param {'webgpu' | 'remote'} build */
  sendEngine(build) {
    const worker = /** @type {Worker} */ (this.worker); // the one that asked
    compileEngine(build).then(
      (module) => {
        if (this.worker === worker) postModule(worker, { type: 'engine', build }, module);
      },
      (error) => {
        if (this.worker === worker) worker.postMessage({ type: 'engine', build, error: error.message });
      },
    );
  }

  configure() {
    this.send({ type: 'configure', ...this.settings() });
  }

  /**
   * @param {Request} message
   * @param {Transferable[]} [transfer]
   */
  send(message, transfer) {
    // Left out, `transfer` is undefined, which postMessage takes as no transfer.
    this.worker?.postMessage(message, /** @type {Transferable[]} */ (transfer));
  }

  // Ids for requests and for generations, which stream replies under their id.
  nextId() {
    return ++this.lastId;
  }

  // Resolves to the reply carrying the request's id, or rejects with its error. Replies
  // marked `partial` (a request that streams, like compare) go to onPartial on the way.
  /**
   * @template {Request} R
   * @param {R} message without an id: this gives it one
   * @param {Transferable[]} [transfer]
   * @param {(message: PartialMessage) => void} [onPartial]
   * @returns {Promise<Answer<R['type']>>}
   */
  request(message, transfer, onPartial) {
    if (!this.worker) return Promise.reject(kindlingError('state', 'The engine is not running.'));
    const id = this.nextId();
    return new Promise((resolve, reject) => {
      // Resolved with the reply that carries `id`: the request's answer (protocol.js's Answers).
      this.pending.set(id, {
        resolve: /** @type {(reply: WorkerMessage) => void} */ (resolve),
        reject,
        onPartial,
      });
      this.send({ ...message, id }, transfer);
    });
  }

  /** @param {WorkerMessage} message */
  received(message) {
    if (message.type === 'need-engine') return this.sendEngine(message.build);
    if (message.type === 'ready' || /** @type {Envelope} */ (message).source === 'load') {
      this.loadingDone();
    }
    // run-saved's id is a run's (a string), which no request has.
    const request = this.pending.get(/** @type {RequestId} */ (message.id));
    if (request && /** @type {Envelope} */ (message).partial) {
      return request.onPartial?.(/** @type {PartialMessage} */ (message));
    }
    if (request) {
      this.pending.delete(/** @type {RequestId} */ (message.id));
      if (message.type !== 'error') return request.resolve(message);
      const { kind, source, errors } = message;
      request.reject(kindlingError(kind, message.message, { source, errors }));
      if (!message.fatal) return; // a fatal one also reaches the element, which restarts
    }
    this.onMessage(message);
  }

  // Starts afresh, unless the workers keep dying.
  /** @param {string} reason */
  crashed(reason) {
    this.stop();
    const restarting = ++this.crashes <= MAX_RESTARTS;
    this.onCrash(reason, restarting);
    if (restarting) this.start();
  }

  // The worker goes, and with it the model and its memory.
  stop() {
    this.loadingDone();
    this.worker?.terminate();
    this.worker = null;
    for (const { reject } of this.pending.values()) reject(kindlingError('state', 'The engine stopped.'));
    this.pending.clear();
  }

  loadingDone() {
    loadProgress.removeEventListener('progress', this.onLoadProgress);
  }
}

// The element's side of its engine worker (engine-worker.js): starts it once the page has
// compiled the engine (engine-loader.js, once per page), posts messages, matches replies to
// requests, and starts a fresh worker when one crashes, unless they keep crashing.
import { compileEngine, loadProgress, currentProgress } from '../engine-loader.js';
import { kindlingError } from '../kindling-error.js';

export { kindlingError };

const WORKER_URL = new URL('../engine-worker.js', import.meta.url);
// A worker that keeps dying would only loop; after this many the reader reloads.
const MAX_RESTARTS = 3;

// Sends a compiled engine module with `message`; one that cannot be sent goes without, and the
// worker fetches it itself.
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
  constructor({ settings, onMessage, onProgress, onCrash }) {
    Object.assign(this, { settings, onMessage, onCrash });
    this.worker = null;
    this.crashes = 0;
    this.lastId = 0;
    this.pending = new Map(); // request id → { resolve, reject }
    this.onLoadProgress = ({ detail }) => onProgress(detail);
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
  sendEngine(build) {
    const worker = this.worker;
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

  send(message, transfer) {
    this.worker?.postMessage(message, transfer);
  }

  // Ids for requests and for generations, which stream replies under their id.
  nextId() {
    return ++this.lastId;
  }

  // Resolves to the reply carrying the request's id, or rejects with its error. Replies
  // marked `partial` (a request that streams, like compare) go to onPartial on the way.
  request(message, transfer, onPartial) {
    if (!this.worker) return Promise.reject(kindlingError('state', 'The engine is not running.'));
    const id = this.nextId();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onPartial });
      this.send({ ...message, id }, transfer);
    });
  }

  received(message) {
    if (message.type === 'need-engine') return this.sendEngine(message.build);
    if (message.type === 'ready' || message.source === 'load') this.loadingDone();
    const request = this.pending.get(message.id);
    if (request && message.partial) return request.onPartial?.(message);
    if (request) {
      this.pending.delete(message.id);
      if (message.type !== 'error') return request.resolve(message);
      const { kind, source, errors } = message;
      request.reject(kindlingError(kind, message.message, { source, errors }));
      if (!message.fatal) return; // a fatal one also reaches the element, which restarts
    }
    this.onMessage(message);
  }

  // Starts afresh, unless the workers keep dying.
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

// @ts-check
// Helper workers for data-parallel training on the CPU: each holds a replica of the model and
// computes the gradient of its rows of every batch while the training worker computes its
// own; the engine adds them up and takes one optimizer step (src/parallel.rs, which also says
// why workers rather than wasm threads). Pass an instance to `trainSteps(steps, helpers)`.
//
// Every failure here is an Error with name 'KindlingError' and kind 'helper', as the engine's
// own helper errors are: the engine worker tells "drop the helpers, go on alone" from "stop
// training" by that kind alone.
//
// How many pay depends on the machine, not on its reported core count: the playground measures
// it (helper-count.js).

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../../pkg/kindling.js').ShardReply} ShardReply */
/** @typedef {import('../../pkg/kindling.js').HelperPool} HelperPool */
/** @typedef {import('../protocol.js').HelperRequest} HelperRequest */
/** @typedef {import('../protocol.js').HelperReply} HelperReply */
/**
 * A request waiting for its reply, and the timer that gives up on it.
 * @typedef {{ resolve: (reply: HelperReply) => void, reject: (error: Error) => void,
 *   timer: ReturnType<typeof setTimeout> }} Pending
 */

/** @implements {HelperPool} */
export class HelperWorkers {
  // `module`: the compiled engine (WebAssembly.Module), or nothing to fetch it in each worker.
  /**
   * @param {number} count
   * @param {WebAssembly.Module | null} [module]
   */
  constructor(count, module) {
    this.workers = Array.from({ length: count }, () => new HelperWorker(module));
    /** @type {Model | null} */
    this.replicated = null; // the model the workers hold a replica of
  }

  get count() {
    return this.workers.length;
  }

  // Gives every helper a replica of `model` (a Kindling on the CPU); its weights then travel
  // with each step. Must not overlap another call on `model`.
  /** @param {Model} model */
  async replicate(model) {
    if (this.replicated === model) return;
    this.replicated = null;
    const bytes = await model.toBytes();
    await Promise.all(this.workers.map((worker) => worker.request({ type: 'model', bytes })));
    this.replicated = model;
  }

  // Called by the engine at each step: helpers 1..shards-1 compute their shards. `weights` is
  // the engine's copy for this call, so the last helper takes its buffer (a transfer, not
  // another copy); the others, posted first, get copies.
  /**
   * @param {number} step
   * @param {number} shards
   * @param {Float32Array} weights
   * @returns {Promise<ShardReply[]>}
   */
  gradients(step, shards, weights) {
    const asked = this.workers.slice(0, shards - 1);
    // A helper answers `gradients` with a ShardReply; a failure rejects.
    return /** @type {Promise<ShardReply[]>} */ (
      Promise.all(
        asked.map((worker, i) =>
          worker.request(
            { type: 'gradients', step, rank: i + 1, count: shards, weights },
            i === asked.length - 1 ? [weights.buffer] : [],
          ),
        ),
      )
    );
  }

  terminate() {
    for (const worker of this.workers) worker.terminate();
    this.workers = [];
    this.replicated = null;
  }
}

/** @param {string} message */
function helperError(message) {
  return Object.assign(new Error(message), { name: 'KindlingError', kind: 'helper' });
}

// A helper that has not answered in this long is taken for stuck (a step of the largest model
// the engine accepts takes seconds); the training worker then goes on alone.
const REPLY_TIMEOUT_MS = 120_000;

// One worker and its requests, answered in order.
class HelperWorker {
  /** @param {WebAssembly.Module | null} [module] */
  constructor(module) {
    /** @type {Pending[]} */
    this.pending = [];
    /** @type {string | undefined} */
    this.failure = undefined; // why every request fails, once one has (failAll)
    this.worker = new Worker(new URL('./helper-worker.js', import.meta.url), { type: 'module' });
    /** @param {MessageEvent<HelperReply>} event */
    this.worker.onmessage = ({ data }) => {
      const request = this.pending.shift();
      if (!request) return; // answered after a failure already rejected it
      const { resolve, reject, timer } = request;
      clearTimeout(timer);
      if (data.error) reject(helperError(`a helper worker failed: ${data.error}`));
      else resolve(data);
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.failAll(`a helper worker crashed (${event.message || 'it could not start'})`);
    };
    this.request({ type: 'load', module }).catch((error) => this.failAll(error.message));
  }

  /**
   * @param {HelperRequest} message
   * @param {Transferable[]} [transfer]
   * @returns {Promise<HelperReply>}
   */
  request(message, transfer = []) {
    if (this.failure) return Promise.reject(helperError(this.failure));
    return new Promise((resolve, reject) => {
      // Queued only once posted: replies are matched to requests by their order.
      this.worker.postMessage(message, transfer);
      const timer = setTimeout(
        () => this.failAll(`a helper worker did not answer within ${REPLY_TIMEOUT_MS / 1000} s`),
        REPLY_TIMEOUT_MS,
      );
      this.pending.push({ resolve, reject, timer });
    });
  }

  /** @param {string} reason */
  failAll(reason) {
    this.failure ??= reason;
    for (const { reject, timer } of this.pending.splice(0)) {
      clearTimeout(timer);
      reject(helperError(reason));
    }
  }

  terminate() {
    this.worker.terminate();
    this.failAll('the helper workers were stopped');
  }
}

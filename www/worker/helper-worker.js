// @ts-check
// A helper worker: holds a replica of the training worker's model and computes the gradient of
// its rows of each batch (src/parallel.rs). Requests, answered one at a time in order:
//   { type: 'load', module }  the compiled engine, or nothing to fetch it here
//   { type: 'model', bytes }  a checkpoint of the model to replicate (text, tokenizer, config)
//   { type: 'gradients', step, rank, count, weights }  → { loss, grads, model }
// A failed request is answered { error: message }.
import { loadKindling } from '../kindling.js';

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../kindling.js').KindlingClass} KindlingClass */
/** @typedef {import('../protocol.js').HelperRequest} HelperRequest */
/** @typedef {import('../protocol.js').HelperReply} HelperReply */
/** @typedef {Promise<[HelperReply, Transferable[]?]>} Reply with what it transfers */
/**
 * @typedef {{ [T in HelperRequest['type']]: (request: Extract<HelperRequest, { type: T }>)
 *   => Reply }} Handlers
 */

/** @type {KindlingClass | null} */
let Kindling = null;
/** @type {Model | null} */
let replica = null;

// This module runs in a DedicatedWorkerGlobalScope, which tsconfig's lib (dom) does not know:
// `self` as a helper worker sees it (protocol.js's WorkerScope).
const workerSelf = /** @type {import('../protocol.js').WorkerScope<HelperRequest, HelperReply>} */ (
  /** @type {unknown} */ (self)
);

/** @type {Handlers} */
const handlers = {
  async load({ module }) {
    Kindling = await loadKindling(module);
    return [{}];
  },
  async model({ bytes }) {
    replica?.free();
    replica = null;
    // `load` is always the first request
    replica = await /** @type {KindlingClass} */ (Kindling).fromBytes(bytes, { backend: 'cpu' });
    return [{}];
  },
  async gradients({ step, rank, count, weights }) {
    if (!replica) throw new Error('no model to compute gradients of');
    const reply = await replica.shardGradients(step, rank, count, weights);
    return [reply, [reply.grads.buffer]];
  },
};

/** @type {Promise<void>} */
let inbox = Promise.resolve();
workerSelf.onmessage = ({ data }) => {
  inbox = inbox.then(async () => {
    try {
      // The handler of data's own type: tsc cannot pair the two through the union.
      const [reply, transfer] = await /** @type {(request: HelperRequest) => Reply} */ (handlers[data.type])(data);
      workerSelf.postMessage(reply, transfer ?? []);
    } catch (error) {
      workerSelf.postMessage({
        error: /** @type {Error | undefined} */ (error)?.message || String(error),
      });
    }
  });
};

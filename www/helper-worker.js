// A helper worker: holds a replica of the training worker's model and computes the gradient of
// its rows of each batch (src/parallel.rs). Requests, answered one at a time in order:
//   { type: 'load', module }  the compiled engine, or nothing to fetch it here
//   { type: 'model', bytes }  a checkpoint of the model to replicate (text, tokenizer, config)
//   { type: 'gradients', step, rank, count, weights }  → { loss, grads, model }
// A failed request is answered { error: message }.
import { loadKindling } from './kindling.js';

let Kindling = null;
let replica = null;

const handlers = {
  async load({ module }) {
    Kindling = await loadKindling(module);
    return [{}];
  },
  async model({ bytes }) {
    replica?.free();
    replica = null;
    replica = await Kindling.fromBytes(bytes, { backend: 'cpu' });
    return [{}];
  },
  async gradients({ step, rank, count, weights }) {
    if (!replica) throw new Error('no model to compute gradients of');
    const reply = await replica.shardGradients(step, rank, count, weights);
    return [reply, [reply.grads.buffer]];
  },
};

let inbox = Promise.resolve();
self.onmessage = ({ data }) => {
  inbox = inbox.then(async () => {
    try {
      const [reply, transfer] = await handlers[data.type](data);
      self.postMessage(reply, transfer ?? []);
    } catch (error) {
      self.postMessage({ error: error?.message || String(error) });
    }
  });
};

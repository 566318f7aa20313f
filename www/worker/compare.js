// @ts-check
// The engine worker's `compare` request: two saved models write from the same prompt with the
// same sampling options (seed included), side by side. Each is loaded from its bytes on the
// CPU into a model of its own, freed once it has written: the live model is never touched, and
// training may go on meanwhile. The page's side: playground/compare-models.js.
//
// Request:  { type: 'compare', id, models: [bytes, bytes], prompt, options }
// Replies:  { type: 'compare-token', id, partial: true, index, token } as each model writes
//           (index 0 or 1; the two take turns, a token each), { type: 'compare-warning', id,
//           partial: true, index, message } (the prompt has characters a model never saw),
//           then { type: 'compared', id, texts: [text, text] }; or an error about the request.
import { tokens } from '../kindling.js';

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../kindling.js').KindlingClass} KindlingClass */
/** @typedef {import('../protocol.js').CompareRequest} CompareRequest */
/** @typedef {import('../protocol.js').WorkerMessage} WorkerMessage */

// Kindling: the CPU build's class; post(message): to the page; nextTask(): lets queued
// messages through between tokens.
/**
 * @param {CompareRequest} request
 * @param {{ Kindling: KindlingClass, post: (message: WorkerMessage) => void,
 *   nextTask: () => Promise<unknown> }} worker
 */
export async function compare({ id, models, prompt, options }, { Kindling, post, nextTask }) {
  /** @type {Model[]} */
  const loaded = [];
  /** @type {[string, string]} */
  const texts = ['', ''];
  try {
    for (const bytes of models) loaded.push(await Kindling.fromBytes(bytes, { backend: 'cpu' }));
    const streams = loaded.map((model, index) => {
      const stream = model.generate(prompt, options);
      if (stream.warning) post({ type: 'compare-warning', id, partial: true, index, message: stream.warning });
      return tokens(stream);
    });
    const running = new Set([0, 1]);
    while (running.size) {
      for (const index of [...running]) {
        const { done, value: token } = await streams[index].next();
        if (done) running.delete(index);
        else {
          texts[index] += token.text;
          post({ type: 'compare-token', id, partial: true, index, token });
        }
      }
      await nextTask();
    }
  } finally {
    for (const model of loaded) model.free();
  }
  post({ type: 'compared', id, texts });
}

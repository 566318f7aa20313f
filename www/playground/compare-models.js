// @ts-check
// Two models, one prompt: the page's side of the engine worker's `compare` request
// (worker/compare.js). The run list's side-by-side generation uses it, and so can any panel
// that sets one model beside another (a base model and the same model fine-tuned).
//
//   const [a, b] = await compareModels(engine, {
//     models: [bytesA, bytesB],      // Uint8Arrays, as model.toBytes() made them (copied, kept)
//     prompt: 'the ',
//     options: { maxTokens: 200, temperature: 0.8, topK: 20, topP: 0.95, seed: 7 },
//     onToken: (index, token) => {}, // optional: each token as model `index` (0 or 1) writes it
//     onWarning: (index, message) => {}, // optional: the prompt has characters it never saw
//   });
//
// `engine`: the element's EngineClient. Resolves to both texts (after the prompt); rejects with
// a KindlingError (kind 'checkpoint' for bytes that are no model, 'config' for bad options).
// The same bytes, prompt and options (seed included) give the same text every time.
/**
 * @typedef {object} Comparison
 * @property {[Uint8Array, Uint8Array]} models
 * @property {string} [prompt]
 * @property {import('../../pkg/kindling.js').GenerateOptions} [options]
 * @property {(index: number, token: import('../../pkg/kindling.js').Token) => void} [onToken]
 * @property {(index: number, message: string) => void} [onWarning]
 */
/**
 * @param {import('./engine-client.js').EngineClient} engine
 * @param {Comparison} comparison
 * @returns {Promise<string[]>}
 */
export function compareModels(engine, { models, prompt = '', options = {}, onToken, onWarning }) {
  /** @type {import('../protocol.js').CompareRequest} */
  const message = { type: 'compare', models, prompt, options };
  return engine
    .request(message, [], (partial) => {
      if (partial.type === 'compare-token') onToken?.(partial.index, partial.token);
      else if (partial.type === 'compare-warning') onWarning?.(partial.index, partial.message);
    })
    .then((reply) => reply.texts);
}

// @ts-check
// Generations: each streams its tokens to the page, one task apart, until done or stopped.
import { tokens } from '../kindling.js';
import { live, post, exclusive, nextTask, requireModel } from './state.js';

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../protocol.js').GenerateRequest} GenerateRequest */
/** @typedef {import('../protocol.js').RequestId} RequestId */

/** @type {Map<RequestId, { stopped: boolean }>} */
export const generations = new Map(); // id -> { stopped }

export function stopAllGenerations() {
  for (const generation of generations.values()) generation.stopped = true;
}

/** @param {GenerateRequest} request */
export async function generate({ id, prompt, options }) {
  requireModel();
  const stream = await exclusive(() => /** @type {Model} */ (live.model).generate(prompt, options));
  const generation = { stopped: false };
  generations.set(id, generation);
  try {
    if (stream.warning) post({ type: 'warning', id, message: stream.warning });
    for await (const token of tokens(stream)) {
      post({ type: 'token', id, token });
      await nextTask();
      if (generation.stopped) break;
    }
    post({ type: 'generated', id, reason: generation.stopped ? 'stopped' : 'done' });
  } finally {
    generations.delete(id);
  }
}

// @ts-check
// How many steps the train loop (training.js) asks the engine for at once: pure, so Node
// tests it (pkg-tests/engine-rules.test.mjs). A chunk of about CHUNK_MS keeps pause, stop and
// generation responsive while spending little time on message overhead; shorter while a
// generation interleaves with training.

export const CHUNK_MS = 80;
export const CHUNK_MS_WHILE_GENERATING = 30;
/** The most steps one chunk asks for, however fast they run. */
export const MAX_CHUNK_STEPS = 10_000;

/**
 * The next chunk's steps, after one of `size` steps took `elapsedMs`.
 * @param {number} size
 * @param {number} elapsedMs
 * @param {boolean} generating
 */
export function nextChunkSize(size, elapsedMs, generating) {
  const target = generating ? CHUNK_MS_WHILE_GENERATING : CHUNK_MS;
  const scaled = Math.round((size * target) / Math.max(elapsedMs, 1));
  // Grow gently, shrink at once: a slow chunk hurts responsiveness, a fast one only costs
  // a little overhead.
  return Math.max(1, Math.min(scaled, size * 2, MAX_CHUNK_STEPS));
}

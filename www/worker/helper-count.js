// @ts-check
// How many workers share each CPU training step when the `workers` setting is 'auto': found by
// measuring, never read off navigator.hardwareConcurrency. WebKit reports 4 on a 2-core machine:
// three helpers there took the embed's 150 steps to 6.7 s (Chromium: 2.0 s), slower than one
// worker alone. The count only caps the search. One worker first; a helper is added while it
// cuts the step time by GAIN; the search stops at the first that does not pay; later measures
// of the settled count drop a worker that stopped paying (the tab lost its cores), and the
// fewer workers' next measure takes it back if the whole run had slowed instead. The engine
// worker keeps one search per model and batch size (training.js).

/** At most this many workers share a step: three helpers beside the training worker. */
export const MAX_WORKERS = 4;
/** One more worker must cut the step time by this fraction to be kept. */
export const GAIN = 0.15;
/**
 * Left out after the workers change, at least this many chunks and steps: helpers load the
 * engine and replicate the model, and a fresh worker's first steps run slow (in Chromium a new
 * helper's first four steps of a 2 × 64 GPT took 54–70 ms, the next ones 31–41).
 */
export const WARMUP_CHUNKS = 2;
export const WARMUP_STEPS = 8;
/**
 * A helper is tried only while the run has at least this long left at its measured speed:
 * trying one costs its start (it loads the engine and receives the model) and the chunks that
 * measure it, about a second in WebKit, so a short run (the blog's 150 steps) trains faster
 * alone than it would searching.
 */
export const MIN_REMAINING_MS = 10_000;
/**
 * One measure is the mean ms per step of at least this many steady chunks and steps: one step
 * varies by ±20 % (a chunk is often one step when steps take ~80 ms), too much to judge GAIN by.
 */
export const MEASURED_CHUNKS = 4;
export const MEASURED_STEPS = 16;

/** @typedef {Record<number, number>} Timings ms per step by worker count, the latest measure of each */
/** @typedef {{ action: 'try' | 'settle' | 'drop', workers: number }} Decision */

/**
 * The most workers worth measuring: a batch of B rows splits among at most B workers, and a
 * browser's core count bounds the rest (an unknown count bounds nothing).
 * @param {{ cores?: number, batchSize: number }} limits
 * @returns {number}
 */
export function workerCap({ cores, batchSize }) {
  return Math.max(1, Math.min(MAX_WORKERS, cores || MAX_WORKERS, batchSize));
}

/**
 * Whether `workers` workers beat one fewer by GAIN; one worker is the baseline.
 * @param {Timings} timings
 * @param {number} workers
 */
function pays(timings, workers) {
  if (workers === 1) return true;
  const fewer = timings[workers - 1];
  // The fall over the time with one fewer, not a product with 1 - GAIN: a fall of exactly GAIN
  // (20 → 17 ms) then counts, with no rounding in the way.
  return (fewer - timings[workers]) / fewer >= GAIN;
}

/**
 * What to do now that `current` workers have a fresh measure in `timings`: try one more, settle
 * on a count, or drop back (a settled count that no longer pays). `remainingSteps`: the steps
 * the run has left (none given: as many as it takes); too few, and no helper is tried.
 * `droppedFrom`: the count just dropped, judged against an older measure of `current`. If it
 * pays against this fresh one, every count had slowed (the machine got busier or hotter), not
 * the helper, and it comes back.
 * @param {{ timings: Timings, current: number, cap: number, settled?: boolean, remainingSteps?: number, droppedFrom?: number }} state
 * @returns {Decision}
 */
export function nextWorkers({ timings, current, cap, settled = false, remainingSteps = Infinity, droppedFrom }) {
  if (droppedFrom && pays(timings, droppedFrom)) return { action: 'settle', workers: droppedFrom };
  if (!pays(timings, current)) return { action: settled ? 'drop' : 'settle', workers: current - 1 };
  const worthTrying = remainingSteps * timings[current] >= MIN_REMAINING_MS;
  if (!settled && current < cap && worthTrying) return { action: 'try', workers: current + 1 };
  return { action: 'settle', workers: current };
}

/** @param {number} ms */
const perStep = (ms) => `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms/step`;

/**
 * The measures for the badge's tooltip, e.g. "1 worker 17 ms/step · 2 workers 10 ms/step ·
 * 3 workers 14 ms/step → 2"; undefined before the first measure.
 * @param {Timings} timings
 * @param {number} workers the count in use (settled) or being tried
 * @param {boolean} settled
 * @returns {string | undefined}
 */
export function timingsNote(timings, workers, settled) {
  const measures = Object.entries(timings).map(
    ([count, ms]) => `${count} worker${count === '1' ? '' : 's'} ${perStep(ms)}`,
  );
  if (!measures.length) return undefined;
  return `${measures.join(' · ')} → ${settled ? workers : `trying ${workers}`}`;
}

/** One model's search: fed every chunk it trains on the CPU, it says how many workers to use. */
export class WorkerSearch {
  /** @param {number} cap the most workers to try (workerCap) */
  constructor(cap) {
    this.cap = cap;
    /** @type {Timings} */
    this.timings = {};
    this.workers = 1; // the count to train with now
    this.settled = false;
    /** @type {number | undefined} the count dropped last, until the next measure confirms it */
    this.droppedFrom = undefined;
    // The first chunks warm the engine up and grow to their steady size.
    this.window = newWindow(WARMUP_CHUNKS, WARMUP_STEPS);
  }

  /**
   * A chunk of `steps` trained in `ms` with `this.workers` workers. `cold`: helpers started or
   * replicated the model during it (its next chunk is left out too); `usable` false: it did
   * something more than its steps (an evaluation, a WebGPU measurement beside it).
   * `remainingSteps`: what the run has left after it.
   * @param {{ steps: number, ms: number, cold: boolean, usable: boolean, remainingSteps?: number }} chunk
   */
  record({ steps, ms, cold, usable, remainingSteps = Infinity }) {
    if (cold) {
      // This chunk is the warm-up's first.
      this.window = newWindow(WARMUP_CHUNKS - 1, WARMUP_STEPS - steps);
      return;
    }
    const window = this.window;
    if (window.skipChunks > 0 || window.skipSteps > 0) {
      window.skipChunks -= 1;
      window.skipSteps -= steps;
    } else if (usable) {
      window.chunks += 1;
      window.steps += steps;
      window.ms += ms;
      if (window.chunks >= MEASURED_CHUNKS && window.steps >= MEASURED_STEPS)
        this.measured(window.ms / window.steps, remainingSteps);
    }
  }

  /**
   * @param {number} msPerStep
   * @param {number} remainingSteps
   */
  measured(msPerStep, remainingSteps) {
    this.timings[this.workers] = msPerStep;
    const { action, workers } = nextWorkers({
      timings: this.timings,
      current: this.workers,
      cap: this.cap,
      settled: this.settled,
      remainingSteps,
      droppedFrom: this.droppedFrom,
    });
    this.settled = action !== 'try';
    this.droppedFrom = action === 'drop' ? this.workers : undefined;
    // The settled count is measured again and again: it may stop paying.
    this.window = workers === this.workers ? newWindow(0, 0) : newWindow(WARMUP_CHUNKS, WARMUP_STEPS);
    this.workers = workers;
  }

  /** What was measured, for the badge's tooltip (timingsNote). */
  get note() {
    return timingsNote(this.timings, this.workers, this.settled);
  }
}

/**
 * @param {number} skipChunks chunks to leave out before measuring
 * @param {number} skipSteps and steps (both)
 */
function newWindow(skipChunks, skipSteps) {
  return { skipChunks, skipSteps, chunks: 0, steps: 0, ms: 0 };
}

// @ts-check
// The train loop: chunks of steps sized to stay responsive, shared with helper workers on the
// CPU (helper-pool.js; how many, for 'auto': helper-count.js), each chunk's metrics posted,
// autosaved every so many steps.
import { HelperWorkers } from './helper-pool.js';
import { WorkerSearch, workerCap } from './helper-count.js';
import { chunkTrained } from './engine-runs.js';
import { settings, live, post, exclusive, nextTask, describe, requireModel } from './engine-state.js';
import { notices, modelInfo, autoChoose, measuringWebgpu } from './engine-placement.js';
import { autosave, saveRun } from './engine-persistence.js';
import { generations } from './engine-generation.js';
import { RETARGET, budgetEnd } from './budget.js';

/** @typedef {import('../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../pkg/kindling.js').Trained} Trained */
/** @typedef {import('./engine-backends.js').ModelShape} ModelShape */
/**
 * A chunk of steps trained: its metrics, how long it took with how many workers, the 'auto'
 * search it measures (if any), and whether helpers started or replicated during it.
 * @typedef {{ metrics: Trained, elapsedMs: number, workers: number,
 *   measure: WorkerSearch | null, cold: boolean }} Chunk
 */
/** @typedef {Chunk & { trained: Model, backend: Model['backend'], steps: number }} DoneChunk */
/** @typedef {DoneChunk & { measure: WorkerSearch }} MeasuredChunk a chunk for 'auto''s search */
/** @typedef {import('./protocol.js').Setup} Setup */
/** @typedef {import('../pkg/kindling.js').HelperPool} HelperPool */

// A chunk of steps about this long keeps pause, stop and generation responsive while
// spending little time on message overhead. Shorter while a generation interleaves.
const CHUNK_MS = 80;
const CHUNK_MS_WHILE_GENERATING = 30;

// The running train loop's promise, whether it should go on, and why it paused.
/** @type {{ running: Promise<void> | null, keepGoing: boolean, pauseReason: string }} */
export const loop = { running: null, keepGoing: false, pauseReason: 'user' };
/** @type {HelperWorkers | null} */
let helpers = null; // HelperWorkers, started at the first training on the CPU
/** @type {string | null} */
let helpersFailure = null; // why helpers were given up; training then goes on in this worker

// A new helpers setting gets a new try.
export function retryHelpers() {
  helpersFailure = null;
}

/**
 * @param {number} size
 * @param {number} elapsedMs
 */
function nextChunkSize(size, elapsedMs) {
  const target = generations.size ? CHUNK_MS_WHILE_GENERATING : CHUNK_MS;
  const scaled = Math.round((size * target) / Math.max(elapsedMs, 1));
  // Grow gently, shrink at once: a slow chunk hurts responsiveness, a fast one only costs
  // a little overhead.
  return Math.max(1, Math.min(scaled, size * 2, 10_000));
}

// ---- helper workers --------------------------------------------------------------------

// 'auto': { key: the model (its epoch) and batch size, measure: a WorkerSearch (helper-count.js)
// of how many workers pay for them }.
/** @type {{ key: string, measure: WorkerSearch } | null} */
let search = null;

// How many workers share `trained`'s steps, and for 'auto' the search that chose it. One on
// WebGPU or a peer and once helpers failed; a fixed setting at most one per batch row.
/**
 * @param {Model} trained
 * @returns {{ workers: number, measure: WorkerSearch | null }}
 */
function workersFor(trained) {
  if (helpersFailure || trained.backend !== 'cpu') return { workers: 1, measure: null };
  const { batchSize } = trained.config;
  if (settings.helpers === 'auto') {
    const measure = searchFor(batchSize);
    return { workers: measure.workers, measure };
  }
  search = null; // 'auto' set again measures afresh
  return { workers: Math.min(1 + Math.max(0, Math.floor(settings.helpers) || 0), batchSize), measure: null };
}

// A new model or batch size starts again at one worker; a move to WebGPU and back does not.
/** @param {number} batchSize */
function searchFor(batchSize) {
  const key = `${live.epoch}/${batchSize}`;
  if (search?.key !== key) {
    search = { key, measure: new WorkerSearch(workerCap({ cores: self.navigator?.hardwareConcurrency, batchSize })) };
  }
  return search.measure;
}

// The helper workers that share `trained`'s steps with this one, holding its replica (null:
// it trains alone); `cold` when they started or replicated it just now.
/**
 * @param {Model} trained
 * @param {number} workers
 */
async function helpersFor(trained, workers) {
  const count = workers - 1;
  if (helpers?.count !== count) {
    helpers?.terminate();
    helpers = count > 0 ? new HelperWorkers(count, live.engineModule) : null;
  }
  const cold = Boolean(helpers) && /** @type {HelperWorkers} */ (helpers).replicated !== trained;
  await helpers?.replicate(trained);
  return { used: helpers, cold };
}

// Helpers only ever speed training up: when one fails, the others stop and this worker goes
// on alone from the last completed step (the failed call's steps are void), until the model
// or the setting changes.
/** @param {Error} error */
function giveUpHelpers(error) {
  stopHelpers();
  helpersFailure = `Training continues in one worker: ${error.message}`;
  search = null;
}

// Frees the helpers' replicas; the next CPU training starts fresh ones.
export function stopHelpers() {
  helpers?.terminate();
  helpers = null;
  helpersFailure = null;
}

// A helper that failed or replied malformed, whether the engine or helper-pool.js noticed.
/** @param {any} error whatever was thrown */
const isHelperFailure = (error) => error?.kind === 'helper';

/**
 * @param {Model} trained
 * @param {number} steps
 * @returns {Promise<Chunk>}
 */
async function trainChunk(trained, steps) {
  const started = performance.now();
  const { workers, measure } = workersFor(trained);
  try {
    const { used, cold } = await helpersFor(trained, workers);
    // null: none (the engine takes null as it takes undefined)
    const metrics = await trained.trainSteps(steps, /** @type {HelperPool | undefined} */ (used));
    return { metrics, elapsedMs: performance.now() - started, workers, measure, cold };
  } catch (error) {
    if (!isHelperFailure(error)) throw error;
    giveUpHelpers(/** @type {Error} */ (error));
    return trainChunk(trained, steps);
  }
}

// 'auto': a chunk's time goes to the search (a test's fake ms per step for its worker count,
// where one is set). WebGPU warming up beside it makes it no measure of the CPU's steps, and
// so does an evaluation (baby-GPT's: 20 batches, in this worker alone) while chunks are short
// enough that most hold none; once half of them hold one, it is part of the steady cost.
/**
 * @param {MeasuredChunk} done
 * @param {number} evalInterval
 * @param {number} total
 */
function measureChunk({ measure, workers, steps, elapsedMs, cold, metrics }, evalInterval, total) {
  const fakeMs = settings.debugWorkerMs?.[workers - 1];
  const ms = fakeMs ? fakeMs * steps : elapsedMs;
  const evaluationApart = Number.isFinite(metrics.valLoss) && steps * 2 < evalInterval;
  const remainingSteps = total - metrics.step;
  measure.record({ steps, ms, cold, usable: !evaluationApart && !measuringWebgpu(), remainingSteps });
}

// The CPU's speed once it is known, for 'auto''s comparison with WebGPU: the settled count's
// measure; with a fixed count, a chunk's once the first ones have warmed the engine up and
// grown to their steady size (CHUNK_MS).
/**
 * @param {DoneChunk} done
 * @param {number} chunks
 * @returns {{ ms: number, workers: number } | null}
 */
function cpuSpeed({ measure, workers, steps, elapsedMs }, chunks) {
  if (measure) return measure.settled ? { ms: measure.timings[measure.workers], workers: measure.workers } : null;
  return chunks >= 5 ? { ms: elapsedMs / steps, workers } : null;
}

// ---- training -------------------------------------------------------------------------

// While `epoch` is current, live.model is this run's model (moved, maybe, never dropped) and
// live.setup its setup: the loop starts with one (startTraining's requireModel).
async function trainLoop() {
  const epoch = live.epoch;
  // What 'auto' keys its choice on; a move to another backend keeps it.
  const shape = {
    config: /** @type {Model} */ (live.model).config,
    vocabSize: /** @type {Model} */ (live.model).vocabSize,
  };
  let total = live.target ?? shape.config.maxSteps;
  /** @type {number | undefined} */
  let keptBestFrom; // keepBest: the step whose weights the last step went back to
  let chunk = 1;
  let chunks = 0;
  let stepsPerSecond = 0; // smoothed, so the page's time-left estimate does not jitter
  let msPerStep = 0; // smoothed less: a budget run's end follows a change of speed sooner
  // `epoch` goes first: a reset or an opened file may have freed the model. A move to another
  // backend keeps the epoch: the loop goes on with the moved model.
  while (epoch === live.epoch && loop.keepGoing && /** @type {Model} */ (live.model).step < total) {
    // The model is read inside the exclusive call: a move queued before it replaces it.
    const done = await exclusive(async () => {
      if (epoch !== live.epoch) return null;
      const steps = Math.min(chunk, total - /** @type {Model} */ (live.model).step);
      const result = await trainChunk(/** @type {Model} */ (live.model), steps);
      return {
        trained: /** @type {Model} */ (live.model),
        backend: /** @type {Model} */ (live.model).backend,
        steps,
        ...result,
      };
    });
    if (!done) break;
    const { trained, backend, steps, metrics, elapsedMs, workers, measure } = done;
    keptBestFrom = metrics.keptBestFrom ?? keptBestFrom;
    // not a model that replaced it
    if (epoch === live.epoch) chunkTrained(/** @type {Setup} */ (live.setup), metrics, elapsedMs);
    chunk = nextChunkSize(steps, elapsedMs);
    const rate = (steps * 1000) / elapsedMs;
    stepsPerSecond = stepsPerSecond ? 0.9 * stepsPerSecond + 0.1 * rate : rate;
    // `backend` can change mid-run: a lost GPU moves training to the CPU.
    // Both can be news: the engine's (no WebGPU here, or a lost GPU) and why the helpers stopped.
    const notice = notices(metrics.notice, backend === 'cpu' ? helpersFailure : null);
    if (measure) measureChunk(/** @type {MeasuredChunk} */ (done), shape.config.evalInterval, total);
    msPerStep = msPerStep ? 0.7 * msPerStep + 0.3 * (elapsedMs / steps) : elapsedMs / steps;
    if (live.deadline !== null && live.target === null && chunks >= RETARGET.afterChunks) {
      const msLeft = live.deadline - performance.now();
      const end = budgetEnd({ step: metrics.step, maxSteps: total, warmupSteps: shape.config.warmupSteps, msPerStep, msLeft });
      if (end !== null && (await exclusive(() => retarget(epoch, end)))) total = end;
    }
    post({ type: 'metrics', total, ...metrics, notice, stepsPerSecond, backend, workers, workersNote: measure?.note });
    chunks += 1;
    const cpu = backend === 'cpu' ? cpuSpeed(done, chunks) : null;
    if (cpu && live.model === trained) autoChoose(trained, shape, cpu.ms, cpu.workers);
    if (metrics.step - live.lastSavedStep >= settings.autosaveEvery) await autosave();
    await nextTask();
  }
  if (epoch !== live.epoch) return;
  loop.keepGoing = false;
  await autosave();
  post(
    /** @type {Model} */ (live.model).step >= total
      ? {
        type: 'finished',
        step: /** @type {Model} */ (live.model).step,
        ...(keptBestFrom !== undefined && { keptBestFrom }),
      }
      : { type: 'paused', step: /** @type {Model} */ (live.model).step, reason: loop.pauseReason },
  );
  saveRun(); // not awaited: a Resume pressed meanwhile starts a new loop, after the snapshot
}

// A budget run's schedule moved to end at step `end`, if the run is still the live one (a move to
// another backend keeps it: the model that moved carries the schedule it had).
/**
 * @param {number} epoch
 * @param {number} end
 */
function retarget(epoch, end) {
  if (epoch !== live.epoch || !live.model) return false;
  live.model.setMaxSteps(end);
  return true;
}

// A finished run trains on (the page's Continue): as many steps again as its maxSteps, at the
// learning rate its schedule ended on (the engine's schedule stays at its minimum past maxSteps).
// The model is read in an exclusive call: the run's save may still hold it.
export function extendRun() {
  return exclusive(() => {
    requireModel();
    const { step, config } = /** @type {Model} */ (live.model);
    if (step >= (live.target ?? config.maxSteps)) live.target = step + config.maxSteps;
  });
}

export function startTraining() {
  requireModel();
  loop.keepGoing = true;
  loop.running ??= trainLoop()
    .catch((error) => {
      loop.keepGoing = false;
      const described = describe(error);
      post({ type: 'error', source: 'train', ...described });
      // The engine has restored the last good weights; show the page where it stands.
      if (!described.fatal && live.model) post({ type: 'model', origin: 'recovered', info: modelInfo() });
    })
    .finally(() => {
      loop.running = null;
    });
}

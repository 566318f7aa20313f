// @ts-check
// The train loop: chunks of steps sized to stay responsive, shared with helper workers on the
// CPU (helpers.js), each chunk's metrics posted, autosaved every so many steps; a budget
// run's schedule moved to end with its time.
import { trainChunk, helpersNotice } from './helpers.js';
import { chunkTrained } from './runs.js';
import {
  settings,
  live,
  loop,
  post,
  exclusive,
  nextTask,
  describe,
  requireModel,
  runExtended,
  trainingStopped,
  trainingWanted,
} from './state.js';
import { notices, modelInfo, autoChoose, measuringWebgpu } from './placement.js';
import { autosave, saveRun } from './persistence.js';
import { generations } from './generation.js';
import { RETARGET, budgetEnd } from '../budget.js';
import { nextChunkSize } from './chunk-size.js';

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../../pkg/kindling.js').Trained} Trained */
/** @typedef {import('./backends.js').ModelShape} ModelShape */
/** @typedef {import('./helpers.js').Chunk} Chunk */
/** @typedef {import('./helper-count.js').WorkerSearch} WorkerSearch */
/** @typedef {Chunk & { model: Model, backend: Model['backend'], steps: number }} DoneChunk */
/** @typedef {DoneChunk & { measure: WorkerSearch }} MeasuredChunk a chunk for 'auto''s search */
/** @typedef {import('../protocol.js').Setup} Setup */

// The running train loop's promise (null: none runs); whether it goes on is state.js's `loop`.
/** @type {{ running: Promise<void> | null }} */
export const trainLoop = { running: null };

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
// grown to their steady size (chunk-size.js).
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
async function runLoop() {
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
        model: /** @type {Model} */ (live.model),
        backend: /** @type {Model} */ (live.model).backend,
        steps,
        ...result,
      };
    });
    if (!done) break;
    const { model, backend, steps, metrics, elapsedMs, workers, measure } = done;
    keptBestFrom = metrics.keptBestFrom ?? keptBestFrom;
    // not a model that replaced it
    if (epoch === live.epoch) chunkTrained(/** @type {Setup} */ (live.setup), metrics, elapsedMs);
    chunk = nextChunkSize(steps, elapsedMs, generations.size > 0);
    const rate = (steps * 1000) / elapsedMs;
    stepsPerSecond = stepsPerSecond ? 0.9 * stepsPerSecond + 0.1 * rate : rate;
    // `backend` can change mid-run: a lost GPU moves training to the CPU.
    // Both can be news: the engine's (no WebGPU here, or a lost GPU) and why the helpers stopped.
    const notice = notices(metrics.notice, backend === 'cpu' ? helpersNotice() : null);
    if (measure) measureChunk(/** @type {MeasuredChunk} */ (done), shape.config.evalInterval, total);
    msPerStep = msPerStep ? 0.7 * msPerStep + 0.3 * (elapsedMs / steps) : elapsedMs / steps;
    if (live.deadline !== null && live.target === null && chunks >= RETARGET.afterChunks) {
      const msLeft = live.deadline - performance.now();
      const end = budgetEnd({
        step: metrics.step,
        maxSteps: total,
        warmupSteps: shape.config.warmupSteps,
        msPerStep,
        msLeft,
      });
      if (end !== null && (await exclusive(() => retarget(epoch, end)))) total = end;
    }
    post({ type: 'metrics', total, ...metrics, notice, stepsPerSecond, backend, workers, workersNote: measure?.note });
    chunks += 1;
    const cpu = backend === 'cpu' ? cpuSpeed(done, chunks) : null;
    if (cpu && live.model === model) autoChoose(model, shape, cpu.ms, cpu.workers);
    if (metrics.step - live.lastSavedStep >= settings.autosaveEvery) await autosave();
    await nextTask();
  }
  if (epoch !== live.epoch) return;
  trainingStopped();
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
    if (step >= (live.target ?? config.maxSteps)) runExtended(step + config.maxSteps);
  });
}

export function startTraining() {
  requireModel();
  trainingWanted();
  trainLoop.running ??= runLoop()
    .catch((error) => {
      trainingStopped();
      const described = describe(error);
      post({ type: 'error', source: 'train', ...described });
      // The engine has restored the last good weights; show the page where it stands.
      if (!described.fatal && live.model) post({ type: 'model', origin: 'recovered', info: modelInfo() });
    })
    .finally(() => {
      trainLoop.running = null;
    });
}

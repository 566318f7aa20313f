// The train loop: chunks of steps sized to stay responsive, shared with helper workers on the
// CPU (helper-pool.js), each chunk's metrics posted, autosaved every so many steps.
import { HelperWorkers, helperCountFor } from './helper-pool.js';
import { chunkTrained } from './engine-runs.js';
import { settings, live, post, exclusive, nextTask, describe, requireModel } from './engine-state.js';
import { notices, modelInfo, autoChoose } from './engine-placement.js';
import { autosave, saveRun } from './engine-persistence.js';
import { generations } from './engine-generation.js';

// A chunk of steps about this long keeps pause, stop and generation responsive while
// spending little time on message overhead. Shorter while a generation interleaves.
const CHUNK_MS = 80;
const CHUNK_MS_WHILE_GENERATING = 30;

// The running train loop's promise, whether it should go on, and why it paused.
export const loop = { running: null, keepGoing: false, pauseReason: 'user' };
let helpers = null; // HelperWorkers, started at the first training on the CPU
let helpersFailure = null; // why helpers were given up; training then goes on in this worker

// A new helpers setting gets a new try.
export function retryHelpers() {
  helpersFailure = null;
}

function nextChunkSize(size, elapsedMs) {
  const target = generations.size ? CHUNK_MS_WHILE_GENERATING : CHUNK_MS;
  const scaled = Math.round((size * target) / Math.max(elapsedMs, 1));
  // Grow gently, shrink at once: a slow chunk hurts responsiveness, a fast one only costs
  // a little overhead.
  return Math.max(1, Math.min(scaled, size * 2, 10_000));
}

// ---- helper workers --------------------------------------------------------------------

function helperCount() {
  return settings.helpers === 'auto' ? helperCountFor() : Math.max(0, Math.floor(settings.helpers) || 0);
}

// The helper workers that share `trained`'s steps, replicating it first; null when it trains
// alone (WebGPU, a batch of one row, one core, or helpers that failed).
async function helpersFor(trained) {
  if (helpersFailure || trained.backend !== 'cpu' || trained.config.batchSize < 2) return null;
  const count = helperCount();
  if (helpers?.count !== count) {
    helpers?.terminate();
    helpers = count > 0 ? new HelperWorkers(count, live.engineModule) : null;
  }
  await helpers?.replicate(trained);
  return helpers;
}

// Helpers only ever speed training up: when one fails, the others stop and this worker goes
// on alone from the last completed step (the failed call's steps are void), until the model
// or the setting changes.
function giveUpHelpers(error) {
  stopHelpers();
  helpersFailure = `Training continues in one worker: ${error.message}`;
}

// Frees the helpers' replicas; the next CPU training starts fresh ones.
export function stopHelpers() {
  helpers?.terminate();
  helpers = null;
  helpersFailure = null;
}

// A helper that failed or replied malformed, whether the engine or helper-pool.js noticed.
const isHelperFailure = (error) => error?.kind === 'helper';

async function trainChunk(trained, steps) {
  const started = performance.now();
  try {
    const used = await helpersFor(trained);
    const metrics = await trained.trainSteps(steps, used);
    return { metrics, elapsedMs: performance.now() - started, workers: 1 + (used ? Math.min(used.count, trained.config.batchSize - 1) : 0) };
  } catch (error) {
    if (!isHelperFailure(error)) throw error;
    giveUpHelpers(error);
    return trainChunk(trained, steps);
  }
}

// ---- training -------------------------------------------------------------------------

async function trainLoop() {
  const epoch = live.epoch;
  // What 'auto' keys its choice on; a move to another backend keeps it.
  const shape = { config: live.model.config, vocabSize: live.model.vocabSize };
  const total = shape.config.maxSteps;
  let chunk = 1;
  let chunks = 0;
  let stepsPerSecond = 0; // smoothed, so the page's time-left estimate does not jitter
  // `epoch` goes first: a reset or an opened file may have freed the model. A move to another
  // backend keeps the epoch: the loop goes on with the moved model.
  while (epoch === live.epoch && loop.keepGoing && live.model.step < total) {
    // The model is read inside the exclusive call: a move queued before it replaces it.
    const done = await exclusive(async () => {
      if (epoch !== live.epoch) return null;
      const steps = Math.min(chunk, total - live.model.step);
      const result = await trainChunk(live.model, steps);
      return { trained: live.model, backend: live.model.backend, steps, ...result };
    });
    if (!done) break;
    const { trained, backend, steps, metrics, elapsedMs, workers } = done;
    if (epoch === live.epoch) chunkTrained(live.setup, metrics, elapsedMs); // not a model that replaced it
    chunk = nextChunkSize(steps, elapsedMs);
    const rate = (steps * 1000) / elapsedMs;
    stepsPerSecond = stepsPerSecond ? 0.9 * stepsPerSecond + 0.1 * rate : rate;
    // `backend` can change mid-run: a lost GPU moves training to the CPU.
    // Both can be news: the engine's (no WebGPU here, or a lost GPU) and why the helpers stopped.
    const notice = notices(metrics.notice, backend === 'cpu' ? helpersFailure : null);
    post({ type: 'metrics', total, ...metrics, notice, stepsPerSecond, backend, workers });
    // The first chunks warm the engine up and grow to their steady size (CHUNK_MS); after
    // them a chunk's speed is the CPU's.
    if (++chunks >= 5 && live.model === trained && backend === 'cpu') autoChoose(trained, shape, elapsedMs / steps, workers);
    if (metrics.step - live.lastSavedStep >= settings.autosaveEvery) await autosave();
    await nextTask();
  }
  if (epoch !== live.epoch) return;
  loop.keepGoing = false;
  await autosave();
  post(
    live.model.step >= total
      ? { type: 'finished', step: live.model.step }
      : { type: 'paused', step: live.model.step, reason: loop.pauseReason },
  );
  saveRun(); // not awaited: a Resume pressed meanwhile starts a new loop, after the snapshot
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

// @ts-check
// Helper workers in the engine worker: how many share each CPU chunk (a fixed setting, or for
// 'auto' the search of helper-count.js), the pool that holds their replicas (helper-pool.js),
// and a chunk trained with them. Helpers only ever speed training up: one that fails stops
// them all and the chunk trains again in this worker alone.
import { HelperWorkers } from './helper-pool.js';
import { WorkerSearch, workerCap } from './helper-count.js';
import { settings, live } from './state.js';

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../../pkg/kindling.js').HelperPool} HelperPool */
/**
 * A chunk of steps model: its metrics, how long it took with how many workers, the 'auto'
 * search it measures (if any), and whether helpers started or replicated during it.
 * @typedef {{ metrics: import('../../pkg/kindling.js').Trained, elapsedMs: number, workers: number,
 *   measure: WorkerSearch | null, cold: boolean }} Chunk
 */

/** @type {HelperWorkers | null} */
let helpers = null; // HelperWorkers, started at the first training on the CPU
/** @type {string | null} */
let helpersFailure = null; // why helpers were given up; training then goes on in this worker

// A new helpers setting gets a new try.
export function retryHelpers() {
  helpersFailure = null;
}

// 'auto': { key: the model (its epoch) and batch size, measure: a WorkerSearch (helper-count.js)
// of how many workers pay for them }.
/** @type {{ key: string, measure: WorkerSearch } | null} */
let search = null;

// How many workers share `model`'s steps, and for 'auto' the search that chose it. One on
// WebGPU or a peer and once helpers failed; a fixed setting at most one per batch row.
/**
 * @param {Model} model
 * @returns {{ workers: number, measure: WorkerSearch | null }}
 */
function workersFor(model) {
  if (helpersFailure || model.backend !== 'cpu') return { workers: 1, measure: null };
  const { batchSize } = model.config;
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

// The helper workers that share `model`'s steps with this one, holding its replica (null:
// it trains alone); `cold` when they started or replicated it just now.
/**
 * @param {Model} model
 * @param {number} workers
 */
async function helpersFor(model, workers) {
  const count = workers - 1;
  if (helpers?.count !== count) {
    helpers?.terminate();
    helpers = count > 0 ? new HelperWorkers(count, live.engineModule) : null;
  }
  const cold = Boolean(helpers) && /** @type {HelperWorkers} */ (helpers).replicated !== model;
  await helpers?.replicate(model);
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
 * @param {Model} model
 * @param {number} steps
 * @returns {Promise<Chunk>}
 */
export async function trainChunk(model, steps) {
  const started = performance.now();
  const { workers, measure } = workersFor(model);
  try {
    const { used, cold } = await helpersFor(model, workers);
    // null: none (the engine takes null as it takes undefined)
    const metrics = await model.trainSteps(steps, /** @type {HelperPool | undefined} */ (used));
    return { metrics, elapsedMs: performance.now() - started, workers, measure, cold };
  } catch (error) {
    if (!isHelperFailure(error)) throw error;
    giveUpHelpers(/** @type {Error} */ (error));
    return trainChunk(model, steps);
  }
}

// Why helpers were given up (training goes on in this worker), or null.
export const helpersNotice = () => helpersFailure;

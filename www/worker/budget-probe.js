// @ts-check
// Training budgets in the engine worker: Train with "Train for: 1 minute". The probe creates each
// candidate shape (Kindling.budgetShapes) on the CPU build with the reader's text and tokenizer,
// warms it up, times a few steps (alone, and with a helper worker where the run may use one) and
// frees it, posting `measuring` as it goes; the plan
// (Kindling.planBudget, for the budget less the probe's own time) then gives the shape and a
// schedule that ends with the budget, posted as `planned`; engine-worker.js's create makes that
// model and trains it. The rules (probe steps, arithmetic): budget.js.
//
// A Reset cancels a probe between two engine calls: engine-worker.js calls cancelBudget as the
// message arrives, not when its turn in the inbox comes (the create being planned holds the
// inbox). Every probe model is freed, whether it was timed, cancelled or failed.
import { PROBE, msPerStep, secondsLeft, fakeMsPerStep } from '../budget.js';
import { settings, live, post, exclusive, nextTask } from './state.js';
import { kindlingError as failure } from '../kindling-error.js';
import { HelperWorkers } from './helper-pool.js';
import { GAIN } from './helper-count.js';

/** @typedef {import('../../pkg/kindling.js').CreateOptions} CreateOptions */
/** @typedef {import('../../pkg/kindling.js').BudgetPlan} BudgetPlan */
/** @typedef {import('../../pkg/kindling.js').BudgetRequest} BudgetRequest */
/** @typedef {import('../protocol.js').CreateRequest} CreateRequest */
/** @typedef {import('../protocol.js').Budget} Budget */
/** @typedef {{ cancelled: boolean }} BudgetRun */

// What the budget's model keeps of the reader's choices: the text, the tokenizer, its merges and
// the seed (the model type chooses the shapes; the rest is the plan's).
/** @type {(keyof CreateOptions)[]} */
const KEPT = ['text', 'tokenizer', 'merges', 'seed'];

/** @type {BudgetRun | null} */
let current = null; // the latest budget run: { cancelled }

// A new budget run; cancels any other.
/** @returns {BudgetRun} */
export function budgetRun() {
  cancelBudget();
  current = { cancelled: false };
  return current;
}

export function cancelBudget() {
  if (current) current.cancelled = true;
}

/**
 * @param {CreateOptions} options
 * @returns {CreateOptions}
 */
function kept(options) {
  return Object.fromEntries(KEPT.filter((name) => options[name] !== undefined).map((name) => [name, options[name]]));
}

// Measures this device and plans `budget` ({ seconds }) for the reader's `options` (text, model,
// tokenizer, merges?, seed?). Resolves to { plan, options: what to create the model with }, or
// null once `run` was cancelled. Rejects with the engine's KindlingError: kind 'config' when
// the text can train none of the shapes (each one's first refusal), or planBudget's.
/**
 * @param {BudgetRun} run
 * @param {{ id: CreateRequest['id'], options: CreateOptions, budget: Budget }} request
 * @returns {Promise<{ plan: BudgetPlan, options: CreateOptions } | null>}
 */
export async function planBudget(run, { id, options, budget }) {
  const started = performance.now();
  const { trainTokens } = live.Kindling.validate(options);
  /** @param {Record<string, number>} measured */
  const request = (measured) => ({
    seconds: secondsLeft(budget.seconds, performance.now() - started),
    model: options.model ?? 'gpt',
    trainTokens,
    // An object of ms per shape, which the engine reads as well as the Map its types say.
    measured: /** @type {BudgetRequest['measured']} */ (/** @type {unknown} */ (measured)),
  });
  const measured = await measureShapes(run, options, request);
  if (!measured) return null;
  const probeMs = performance.now() - started;
  const plan = await live.Kindling.planBudget(request(measured));
  if (run.cancelled) return null;
  post({ type: 'planned', id, plan, measured, seconds: budget.seconds, probeSeconds: probeMs / 1000 });
  return { plan, options: { ...plan.config, ...kept(options) } };
}

// Every shape's ms per step ({ [name]: ms }), or null once cancelled. A shape the text cannot
// train (a context longer than the text) is left out, and so is one that cannot change the plan
// (the engine's budgetWorthMeasuring: not even at a smaller shape's speed); none at all rejects
// with the first refusal.
/**
 * @param {BudgetRun} run
 * @param {CreateOptions} options
 * @param {(measured: Record<string, number>) => BudgetRequest} request the plan's request so far
 * @returns {Promise<Record<string, number> | null>}
 */
async function measureShapes(run, options, request) {
  const shapes = live.Kindling.budgetShapes(options.model ?? 'gpt');
  /** @type {Record<string, number>} */
  const measured = {};
  let refusal = null;
  const helper = { pool: probeHelper() };
  try {
    for (const [index, { name, config }] of shapes.entries()) {
      if (!live.Kindling.budgetWorthMeasuring(request(measured), name)) continue;
      post({ type: 'measuring', index: index + 1, count: shapes.length, shape: name });
      try {
        const ms = await timeShape(run, { ...config, ...kept(options), backend: 'cpu' }, helper);
        if (ms === null) return null;
        measured[name] = fakeMsPerStep(settings.debugBudgetMs, index) ?? ms;
      } catch (error) {
        if (/** @type {{ kind?: string } | undefined} */ (error)?.kind !== 'config') throw error;
        refusal ??= error;
      }
      await nextTask(); // a Reset may be waiting
      if (run.cancelled) return null;
    }
  } finally {
    helper.pool?.terminate();
  }
  if (!Object.keys(measured).length)
    throw refusal ?? failure('argument', `There is no ${options.model} shape to measure.`);
  return measured;
}

// One helper worker to time each shape with as well, where the run may use helpers ('auto' on a
// device that reports two cores or more, or a count): a helper pays for a large shape and not
// for a small one, which changes which shape learns most in the time. The run's own search
// (helpers.js) then settles how many it keeps, and its schedule's end follows its real
// speed (budget.js's budgetEnd). Made-up probe timings (a test's) leave nothing to measure.
function probeHelper() {
  if (settings.debugBudgetMs) return null;
  const cores = self.navigator?.hardwareConcurrency ?? 1;
  const wanted = settings.helpers === 'auto' ? cores >= 2 : settings.helpers >= 1;
  return wanted ? new HelperWorkers(1, live.engineModule) : null;
}

// One shape's ms per step, on the CPU build: in this worker alone, and with `helper.pool`'s
// helper if there is one (faster by GAIN, it counts); null once cancelled. A helper that fails only
// costs its timing: the pool is dropped and the probe goes on alone. The probe model is freed
// however this ends.
/**
 * @param {BudgetRun} run
 * @param {CreateOptions} options
 * @param {{ pool: HelperWorkers | null }} helper
 * @returns {Promise<number | null>}
 */
function timeShape(run, options, helper) {
  return exclusive(async () => {
    if (run.cancelled) return null;
    const probe = await live.Kindling.create(options);
    /** @param {HelperWorkers | null} pool */
    const timed = async (pool) => {
      await probe.trainSteps(PROBE.warmupSteps, pool);
      await nextTask();
      if (run.cancelled) return null;
      const started = performance.now();
      await probe.trainSteps(PROBE.timedSteps, pool);
      return msPerStep(performance.now() - started);
    };
    try {
      const alone = await timed(null);
      if (alone === null || !helper.pool) return alone;
      try {
        await helper.pool.replicate(probe);
        const shared = await timed(helper.pool);
        if (shared === null) return null;
        // As the run's search judges a helper: kept only if it pays by GAIN.
        return shared <= alone * (1 - GAIN) ? shared : alone;
      } catch (error) {
        if (/** @type {{ kind?: string } | undefined} */ (error)?.kind !== 'helper') throw error;
        helper.pool.terminate();
        helper.pool = null;
        return alone;
      }
    } finally {
      probe.free();
    }
  });
}

// @ts-check
// Training budgets ("Train for: 1 minute"): the rules the page and the engine worker share, pure
// so that Node tests them (pkg-tests/budget-rules.test.mjs). What the `budget` attribute means,
// how the probe's timings become milliseconds per step, how much of the budget is left to train
// once the probe has taken its share, and the sentences the page shows. The flow itself:
// worker/budget-probe.js (the worker: probe, plan, create) and playground/train-for.js (the control).

// The Train card's "Train for" choices, in order: seconds (0: until the reader stops it) or
// 'steps' (the Model card's settings, for its training steps).
/** @typedef {number | 'steps'} BudgetChoice seconds (0: until stopped) or 'steps' */
export const BUDGET_CHOICES = [
  { value: '60', label: '1 minute' },
  { value: '300', label: '5 minutes' },
  { value: '1800', label: '30 minutes' },
  { value: '0', label: 'Until I stop' },
  { value: 'steps', label: 'Steps' },
];

// Training from scratch on the full page: a minute.
export const DEFAULT_BUDGET = 60;

// The engine's longest budget (src/budget.rs's MAX_SECONDS): a day. A copy, as the engine
// exports no such number and the `budget` attribute is read before the engine has loaded.
export const MAX_BUDGET_SECONDS = 86_400;

// A model trained "until I stop" has the engine's largest maxSteps (validate.rs's MAX_STEPS):
// no end to count down to. A copy (the maxSteps rule's max): this module stays pure for Node.
export const OPEN_ENDED_STEPS = 10_000_000;

// The probe, per candidate shape: steps to warm up (the first calls compile code), then steps timed.
export const PROBE = { warmupSteps: 2, timedSteps: 3 };

// The `budget` attribute: seconds ("60"; a non-negative number up to a day), "0" or
// "until-stopped" (0: until stopped), "steps"; null when absent or none of these.
/**
 * @param {string | number | null | undefined} value
 * @returns {BudgetChoice | null}
 */
export function parseBudget(value) {
  if (value == null) return null;
  const text = String(value).trim().toLowerCase();
  if (text === 'steps') return 'steps';
  if (text === 'until-stopped') return 0;
  if (!/^\d+(\.\d+)?$/.test(text)) return null;
  const seconds = Number(text);
  return seconds <= MAX_BUDGET_SECONDS ? seconds : null;
}

// What Train does from scratch: seconds of training (0: until stopped) or 'steps'. The `budget`
// attribute says; without one (or with one that means nothing), an element given `steps` (a
// blog embed's step count) trains those steps, and any other trains for DEFAULT_BUDGET.
/**
 * @param {{ budget?: string | null, steps?: string | number | null }} [attributes]
 * @returns {BudgetChoice}
 */
export function budgetChoice({ budget = null, steps = null } = {}) {
  const chosen = parseBudget(budget);
  if (chosen !== null) return chosen;
  return steps != null ? 'steps' : DEFAULT_BUDGET;
}

// The control's radio for a choice: one of BUDGET_CHOICES' values, or 'custom' (another number
// of seconds, which only the attribute can give).
/** @param {BudgetChoice} choice */
export function choiceValue(choice) {
  const value = String(choice);
  return BUDGET_CHOICES.some((option) => option.value === value) ? value : 'custom';
}

// The `budget` attribute a radio of the control writes.
/** @param {string} value */
export const attributeFor = (value) => (value === '0' ? 'until-stopped' : value);

// "1 minute", "5 minutes", "90 seconds", "until you stop".
/** @param {number} seconds */
export function budgetLabel(seconds) {
  if (seconds === 0) return 'until you stop';
  if (seconds >= 60 && seconds % 60 === 0) return seconds === 60 ? '1 minute' : `${seconds / 60} minutes`;
  const rounded = Math.round(seconds * 10) / 10;
  return rounded === 1 ? '1 second' : `${rounded} seconds`;
}

// ---- the probe (worker/budget-probe.js) ------------------------------------------------------

// Milliseconds per step of a timed call of `steps` steps.
/**
 * @param {number} elapsedMs
 * @param {number} [steps]
 */
export function msPerStep(elapsedMs, steps = PROBE.timedSteps) {
  return elapsedMs / Math.max(steps, 1);
}

// The seconds left to train once the probe took `probeMs`: at least one; 0 (until stopped)
// stays 0.
/**
 * @param {number} seconds
 * @param {number} probeMs
 */
export function secondsLeft(seconds, probeMs) {
  if (seconds === 0) return 0;
  return Math.max(1, seconds - probeMs / 1000);
}

// Tests: the element's data-debug-budget-ms, "1000" (every shape) or "20,50,120" (by shape,
// smallest first; the last one for the shapes after it), as numbers; null when not set.
/**
 * @param {string | null | undefined} value
 * @returns {number[] | null}
 */
export function parseDebugMs(value) {
  if (!value) return null;
  const ms = String(value).split(',').map(Number);
  return ms.every((n) => Number.isFinite(n) && n > 0) ? ms : null;
}

// The fake ms per step of shape `index` (0: the smallest), or null: measure it.
/**
 * @param {number[] | null | undefined} debugMs
 * @param {number} index
 * @returns {number | null}
 */
export function fakeMsPerStep(debugMs, index) {
  if (!debugMs?.length) return null;
  return debugMs[Math.min(index, debugMs.length - 1)];
}

// A budget run's schedule ends when its time does. The plan's steps come from the probe, which
// times one worker for a few steps; the run's own chunks then say how fast it really goes (a
// helper that pays, a slower tab), and the engine moves the schedule's end to match
// (Kindling.setMaxSteps): `afterChunks` chunks in (the first compile and warm up), by no less
// than `minMove` of the run (each move bends the falling rate a little), until `latest` of it.
export const RETARGET = { afterChunks: 3, minMove: 0.02, latest: 0.95 };

/**
 * The step a budget run's schedule should end at, or null to leave it at `maxSteps`.
 * @param {{ step: number, maxSteps: number, warmupSteps: number, msPerStep: number, msLeft: number }} run
 *   `msPerStep`: the run's recent speed; `msLeft`: until the budget ends
 * @returns {number | null}
 */
export function budgetEnd({ step, maxSteps, warmupSteps, msPerStep, msLeft }) {
  if (!(msPerStep > 0) || step >= maxSteps || step > RETARGET.latest * maxSteps) return null;
  const fits = Math.floor(Math.max(0, msLeft) / msPerStep);
  // The engine ends a schedule after the current step and not inside its warmup.
  const end = Math.max(step + 1, warmupSteps, step + fits);
  return Math.abs(end - maxSteps) >= RETARGET.minMove * maxSteps ? end : null;
}

// ---- what the page says --------------------------------------------------------------

/**
 * @param {number} index
 * @param {number} count
 */
export const measuringNote = (index, count) => `Measuring this device: shape ${index} of ${count}…`;

// Under the Train for control: what Train will do.
/**
 * @param {BudgetChoice} choice
 * @param {boolean} fineTunes
 */
export function trainForNote(choice, fineTunes) {
  if (fineTunes)
    return 'A fine-tune trains for the Model card’s training steps: Train for sizes models trained from scratch.';
  if (choice === 'steps') return 'Train makes the Model card’s model and trains it for its training steps.';
  if (choice === 0) {
    return 'Train measures this device for a few seconds, then trains the size that learns most in half an hour, until you stop it.';
  }
  return `Train measures this device for a few seconds, then trains the model that learns most in ${budgetLabel(choice)}.`;
}

// The Model card's note while a budget sizes the model.
export const BUDGET_HINT =
  'Sized for this device when you press Train. Choose “Steps” under Train for to set every field.';

// A budget run's end: how far it went, and whether the best evaluation's weights were kept.
/** @param {{ step: number, keptBestFrom?: number | null, continuable?: boolean }} run */
export function finishedNote({ step, keptBestFrom, continuable = false }) {
  const kept =
    keptBestFrom != null
      ? ` Validation loss stopped improving at step ${keptBestFrom.toLocaleString('en')}, so the weights from there were kept.`
      : '';
  const next = continuable
    ? 'Generate below, Continue to train further, or Reset to start again.'
    : 'Generate below, or Reset to start again.';
  return `Finished: ${step} steps.${kept} ${next}`;
}

// A finished budget run trained on: as many steps again, at the final learning rate.
/**
 * @param {number} more
 * @param {number} to
 */
export function continueNote(more, to) {
  const steps = more === 1 ? 'step' : 'steps';
  return `Continuing for ${more.toLocaleString('en')} more ${steps} at the final learning rate, to step ${to.toLocaleString('en')}.`;
}

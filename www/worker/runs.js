// @ts-check
// The engine worker's side of the run list (runs-store.js): which run the live model belongs
// to, what its training has cost so far, and its record, saved when training pauses or
// finishes (and before its model is replaced), never at every step.
//
// A run is one model's training from its creation: a new model (from scratch, fine-tuned, or
// opened from a file) starts one; a model reopened from the list, or restored from the
// autosave, goes on with the run it came from. Its state travels in the model's setup
// (`setup.run`), which the autosave keeps with the weights.
import { tokens } from '../kindling.js';
import { saveRun, runsLimit } from '../runs-store.js';

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../../pkg/kindling.js').Config} Config */
/** @typedef {import('../../pkg/kindling.js').HistoryPoint} HistoryPoint */
/** @typedef {import('../../pkg/kindling.js').CreateOptions} CreateOptions */
/** @typedef {import('../protocol.js').Setup} Setup */
/** @typedef {typeof import('./state.js').exclusive} Exclusive */
/** @typedef {import('../runs-store.js').RunSummary} RunSummary */
/** @typedef {import('../runs-store.js').NewRun} NewRun */

/**
 * A run's state, kept in its model's setup (`setup.run`); `number` and `name` once the list
 * has saved it.
 * @typedef {object} RunState
 * @property {string} id
 * @property {number} createdAt
 * @property {number} trainingMs
 * @property {boolean} unsaved
 * @property {number} [number]
 * @property {string} [name]
 * @property {number} [bitsPerNat]
 * @property {number} [trainBitsPerChar]
 */

/**
 * The model's state at a save: its bytes and what the summary shows of it.
 * @typedef {{
 *   bytes: Uint8Array, step: number, config: Config, vocabSize: number, parameterCount: number,
 *   history: HistoryPoint[], valLoss: number, sample: string,
 * }} Snapshot
 */

// Every run's sample is written with the same settings and seed from an empty prompt: what
// the model writes unprompted, comparable from run to run and the same each time it is asked.
const SAMPLE = { maxTokens: 80, temperature: 0.8, topK: 20, seed: 1 };

// The run `setup` belongs to, started on first use.
/**
 * @param {Setup} setup
 * @returns {RunState}
 */
function runOf(setup) {
  // unsaved: it trained since its last save (a model opened and never trained is no run).
  setup.run ??= { id: crypto.randomUUID(), createdAt: Date.now(), trainingMs: 0, unsaved: false };
  return setup.run;
}

// One chunk of training: its time, and the bits per character of its losses. The history keeps
// the losses in nats per token; bitsPerNat turns them into bits per character, comparable
// across tokenizers (the engine divides both by the same characters per token).
/**
 * @param {Setup} setup
 * @param {{ trainLoss: number, trainBitsPerChar: number }} metrics
 * @param {number} elapsedMs
 */
export function chunkTrained(setup, { trainLoss, trainBitsPerChar }, elapsedMs) {
  const run = runOf(setup);
  run.trainingMs += elapsedMs;
  run.unsaved = true;
  if (trainLoss > 0 && Number.isFinite(trainBitsPerChar)) run.bitsPerNat = trainBitsPerChar / trainLoss;
  if (Number.isFinite(trainBitsPerChar)) run.trainBitsPerChar = trainBitsPerChar;
}

// Where the run started: 'scratch', 'base' (the page's base model) or a model file's name.
/** @param {Setup} setup */
function startPoint(setup) {
  if (setup.startFrom === 'base') return 'base';
  return setup.fineTunedFrom ?? setup.openedFrom ?? 'scratch';
}

// Saves `model`'s run if it trained since its last save. Call it synchronously where the
// model is current: its first engine call is queued at once (`exclusive`), ahead of whatever
// may replace the model. Resolves to the stored summary, or null when there was nothing new;
// rejects with a KindlingError of kind 'storage' (the cap or the quota: nothing changed).
/**
 * @param {{ model: Model, setup: Setup, exclusive: Exclusive, cap: number | null }} run
 * @returns {Promise<RunSummary | null>}
 */
export async function recordRun({ model, setup, exclusive, cap }) {
  const run = runOf(setup);
  try {
    /** @type {Snapshot | null} */
    const snapshot = await exclusive(async () => {
      if (!run.unsaved) return null;
      run.unsaved = false; // a second call meanwhile has nothing new to save
      return {
        bytes: await model.toBytes(),
        step: model.step,
        config: model.config,
        vocabSize: model.vocabSize,
        parameterCount: model.parameterCount,
        history: model.history,
        // The final validation loss, at the saved step (a short run may have had no evaluation).
        valLoss: await model.evaluate(),
        sample: await sample(model),
      };
    });
    if (!snapshot) return null;
    const { limit } = await runsLimit(cap ?? undefined);
    const stored = await saveRun(summarize(run, setup, snapshot), snapshot.bytes, limit);
    Object.assign(run, { number: stored.number, name: stored.name });
    return stored;
  } catch (error) {
    run.unsaved = true; // not saved: the next pause (or save-run) tries again
    // under the name its refusal gave it
    run.number ??= /** @type {{ number?: number }} */ (error).number;
    throw error;
  }
}

// What the list, chart and table show of a run: everything but the model's bytes.
/**
 * @param {RunState} run
 * @param {Setup} setup
 * @param {Snapshot} snapshot
 * @returns {NewRun}
 */
function summarize(run, setup, { bytes: _bytes, history, valLoss, ...figures }) {
  const { text: _text, ...options } = setup.options ?? {}; // the checkpoint holds the text
  const last = history.at(-1);
  // The curve ends at the evaluation just made.
  if (last && !Number.isFinite(last.valLoss)) history.splice(-1, 1, { ...last, valLoss });
  return {
    id: run.id,
    number: run.number,
    name: run.name,
    createdAt: run.createdAt,
    savedAt: Date.now(),
    ...figures,
    maxSteps: figures.config.maxSteps,
    tokenizer: figures.config.tokenizer ?? 'char',
    startFrom: startPoint(setup),
    trainingMs: Math.round(run.trainingMs),
    trainLoss: last?.trainLoss,
    valLoss,
    trainBitsPerChar: run.trainBitsPerChar,
    valBitsPerChar: valLoss * /** @type {number} */ (run.bitsPerNat), // NaN without one
    bitsPerNat: run.bitsPerNat,
    history,
    setup: { options, startFrom: setup.startFrom, fineTunedFrom: setup.fineTunedFrom, openedFrom: setup.openedFrom },
  };
}

/** @param {Model} model */
async function sample(model) {
  let text = '';
  for await (const token of tokens(model.generate('', SAMPLE))) text += token.text;
  return text;
}

// The setup of a model reopened from the list (`summary`, as recordRun stored it): it goes
// on with the same run.
/**
 * @param {RunSummary} summary
 * @returns {Setup}
 */
export function reopenedSetup(summary) {
  const { id, number, name, createdAt, trainingMs, bitsPerNat, trainBitsPerChar } = summary;
  const run = { id, number, name, createdAt, trainingMs, unsaved: false, bitsPerNat, trainBitsPerChar };
  // The setup summarize stored, of Setup's fields: runs-store.js's RunSummary types it loosely.
  return /** @type {Setup} */ ({ ...summary.setup, text: null, run });
}

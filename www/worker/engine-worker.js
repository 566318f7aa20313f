// @ts-check
// The engine worker owns the wasm engine; the page only renders what this posts back.
//
// Page → worker: load (first: the compiled CPU engine module, or nothing to fetch it here),
//                engine (the compiled module of a build asked for with need-engine),
//                configure (with `peer`: { address, secret } for backend 'remote'; with an `id`,
//                answered by `configured`), validate, create, fine-tune, train, pause, reset,
//                generate, stop, export, open, restore, inspect, tokenize, distribution, open-run,
//                save-run, compare
//                (create: { options, train, budget? }: budget { seconds } (0: until stopped) sizes
//                the model for this device first (budget-probe.js): `measuring` as each candidate
//                shape is timed, `planned` with the plan, then the model from the plan's config
//                and the reader's text, tokenizer, merges and seed; a reset meanwhile cancels it)
//                (train: { more? }: more continues a finished run for as many steps again as its
//                maxSteps, at the final learning rate)
//                (fine-tune: { bytes, options, name, startFrom, train }: a new model from a saved
//                one's weights and tokenizer, trained on options.text from step 0 (Kindling.fineTune);
//                options hold the text, training settings and loraRank, never the shape; answered
//                with a `model` of origin 'fine-tune', setup { text, options, startFrom, fineTunedFrom:
//                name } and valLossBefore: the start point's val loss on the new text, before a step)
//                (export: { id, merged, format }: merged folds a LoRA model's adapters into its
//                weights; format 'safetensors' answers with { weights, manifest } instead of bytes)
//                (open-run: { bytes, run }: a run from the list (runs-store.js) as the live model,
//                going on with that run; save-run: save the live model's run now, if it trained
//                since its last save; compare: compare.js)
// Worker → page: ready, need-engine, configured, validated, model, backend, metrics, paused,
//                finished, saved, exported, token, warning, generated, inspected, tokenized,
//                distribution, error, run-saved ({ id, name, step }: the run list changed),
//                compare-token, compare-warning, compared, measuring, planned
//                (ready: { presets, fields }: the engine's presets and its rules for each config
//                number, Kindling.configFields(), which the page's form takes its limits from)
//                (measuring: { index, count, shape }: a budget's probe times shape `index` of
//                `count` (1-based); planned: { plan: { shape, config, predictedValLoss, why },
//                measured: { [shape]: ms per step }, seconds: the budget, probeSeconds }; the
//                `model` that follows has setup { text, options, budget: { seconds, shape, why } })
//                (finished: { step, keptBestFrom? }: with keepBest, the step whose weights were
//                kept because the last evaluation was worse)
// Every request may carry an `id`; replies about it carry the same `id`. Their shapes: protocol.js.
//
// error: { source (the request's type, or 'train', 'storage', 'load', 'runs'), kind, message,
// fatal, errors? }. `kind` is the engine's (a KindlingError's: 'config' with per-field `errors`,
// 'argument', 'busy', 'helper', 'device', 'diverged', 'checkpoint', 'import', 'webgpu-unavailable',
// 'peer-refused', 'peer-unreachable')
// or this worker's own: 'state' (no model yet, the engine not loaded, the autosave
// gone), 'storage' (IndexedDB: full, unavailable or failing), 'locked' (another tab owns
// this autosave name; nothing is saved here), 'load' (the engine could not load), 'crashed' (the wasm
// instance trapped or ran out of memory: `fatal`, the page starts a fresh worker).
//
// On the CPU, helper workers (helper-pool.js) compute part of every training batch; for
// workers 'auto', as many as measure faster (helper-count.js). The WebGPU build of the engine
// loads beside the CPU one when it may be used, the remote one when the page connects to a
// compute peer (backends.js).
//
// This file answers the page; its parts: state.js (what they share), placement.js
// (where the model computes), training.js (and its helper workers: helpers.js),
// persistence.js, generation.js.
import { loadKindling } from '../kindling.js';
import { loadAutosave } from '../autosave-store.js';
import { reopenedSetup } from './runs.js';
import { compare } from './compare.js';
import { kindlingError as failure } from '../kindling-error.js';
import {
  settings,
  live,
  loop,
  post,
  exclusive,
  nextTask,
  describe,
  requireModel,
  workerSelf,
  engineLoaded,
  configured,
  modelReplaced,
  budgetStarted,
  trainingStopped,
} from './state.js';
import { modelInfo, engineArrived, placeNew, backendChanged } from './placement.js';
import { trainLoop, startTraining, extendRun } from './training.js';
import { retryHelpers, stopHelpers } from './helpers.js';
import { budgetRun, cancelBudget, planBudget } from './budget-probe.js';
import { parseDebugMs } from '../budget.js';
import { checkpoint, safetensors, saveRun } from './persistence.js';
import { generations, generate, stopAllGenerations } from './generation.js';

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../../pkg/kindling.js').Inspection} Inspection */
/** @typedef {import('../../pkg/kindling.js').Floats} Floats */
/** @typedef {import('../protocol.js').Request} Request */
/** @typedef {import('../protocol.js').Setup} Setup */
/** @typedef {import('../protocol.js').ModelOrigin} ModelOrigin */
/** @typedef {import('../protocol.js').ExportedMessage} ExportedMessage */
/** @typedef {import('../protocol.js').LoadRequest} LoadRequest */
/** @typedef {import('../protocol.js').Budget} Budget */
/**
 * @template {Request['type']} T
 * @typedef {Extract<Request, { type: T }>} RequestOf
 */
/**
 * A handler for every request the inbox queues ('load' it runs itself, 'engine' skips it).
 * @typedef {{
 *   [T in Exclude<Request['type'], 'load' | 'engine'>]: (request: RequestOf<T>) => unknown
 * }} Handlers
 */

// Swaps the live model between engine calls, never during one.
/**
 * @param {Model | null} next
 * @param {Setup | null} setup
 */
function replaceModel(next, setup) {
  trainingStopped();
  stopAllGenerations();
  saveRun(); // the run so far, queued ahead of the swap
  return exclusive(() => {
    stopHelpers();
    live.model?.free();
    modelReplaced(next, setup);
  });
}

/**
 * @param {Uint8Array} bytes
 * @param {Setup} setup
 * @param {ModelOrigin} origin
 */
async function restoreFrom(bytes, setup, origin) {
  // The checkpoint carries its own training text; `setup` is what the page shows.
  const next = await placeNew((Engine, placement) => Engine.fromBytes(bytes, placement));
  setup = { ...setup, text: setup.text ?? next.text };
  await replaceModel(next, setup);
  post({ type: 'model', origin, info: modelInfo(), setup });
}

// ---- messages -------------------------------------------------------------------------

/** @type {Handlers} */
const handlers = {
  // With an `id` (the element's connectPeer), answered with `configured` once the model is
  // where the backend setting puts it; a peer that cannot be reached leaves the backend as it was.
  async configure({
    id,
    name,
    autosaveEvery,
    persist,
    backend,
    peer,
    helpers: helperSetting,
    debugWebgpuMs,
    debugWorkerMs,
    debugBudgetMs,
    runsCapBytes,
  }) {
    const previous = { backend: settings.backend, peer: settings.peer };
    configured({
      name: name ?? settings.name,
      autosaveEvery: autosaveEvery ?? settings.autosaveEvery,
      persist: persist ?? settings.persist,
      backend: backend ?? settings.backend,
      peer: peer === undefined ? settings.peer : peer,
      helpers: helperSetting ?? settings.helpers,
      debugWebgpuMs: debugWebgpuMs ?? settings.debugWebgpuMs,
      debugWorkerMs: debugWorkerMs ?? settings.debugWorkerMs,
      debugBudgetMs: debugBudgetMs === undefined ? settings.debugBudgetMs : parseDebugMs(debugBudgetMs),
      runsCapBytes: runsCapBytes ?? settings.runsCapBytes,
    });
    if (helperSetting !== undefined) retryHelpers(); // a new setting gets a new try
    const peerChanged =
      settings.peer?.address !== previous.peer?.address || settings.peer?.secret !== previous.peer?.secret;
    const moves = settings.backend !== previous.backend || (settings.backend === 'remote' && peerChanged);
    if (live.Kindling && moves) {
      try {
        await backendChanged();
      } catch (error) {
        configured(previous);
        throw error;
      }
    }
    if (id !== undefined) post({ type: 'configured', id });
  },
  validate({ id, options }) {
    post({ type: 'validated', id, result: live.Kindling.validate(options) });
  },
  // With a budget, the model's shape and schedule are the plan's (budget-probe.js). A reset
  // that arrives meanwhile cancels it: nothing is made, and the reset's reply says so.
  async create({ id, options, train, budget }) {
    const started = performance.now(); // a budget counts from the request: its probe too
    const run = budget ? budgetRun() : null;
    /** @type {Setup} */
    let setup = { text: options.text, options };
    if (run) {
      // A run is made only with a budget.
      const planned = await planBudget(run, {
        id,
        options,
        budget: /** @type {Budget} */ (budget),
      });
      if (!planned) return;
      const { shape, why } = planned.plan;
      setup = {
        text: options.text,
        options: planned.options,
        budget: { seconds: /** @type {Budget} */ (budget).seconds, shape, why },
      };
    }
    const next = await placeNew((Engine, placement) => Engine.create({ ...setup.options, ...placement }));
    if (run?.cancelled) return next.free();
    await replaceModel(next, setup);
    const seconds = budget?.seconds ?? 0;
    // Probe timings a test made up say nothing of how fast the steps really run.
    if (seconds > 0 && !settings.debugBudgetMs) budgetStarted(started + seconds * 1000);
    post({ type: 'model', origin: 'create', info: modelInfo(), ...(run && { setup }) });
    if (train) startTraining();
  },
  // On failure (a character model that lacks some of the text's characters, a bad file)
  // nothing has touched the current model.
  async 'fine-tune'({ bytes, options, name, startFrom, train }) {
    const setup = { text: options.text, options, startFrom, fineTunedFrom: name };
    const next = await placeNew((Engine, placement) => Engine.fineTune(bytes, { ...options, ...placement }));
    // Before any step the new model is the start point: its loss on the new text's validation split.
    let valLossBefore;
    try {
      valLossBefore = await next.evaluate();
    } catch (error) {
      next.free();
      throw error;
    }
    await replaceModel(next, setup);
    post({ type: 'model', origin: 'fine-tune', info: modelInfo(), setup, valLossBefore });
    if (train) startTraining();
  },
  async train({ more }) {
    if (more) await extendRun();
    startTraining();
  },
  pause({ reason }) {
    trainingStopped(reason ?? 'user');
    // Nothing to wait for: a running loop posts `paused` once its chunk is done.
    if (!trainLoop.running && live.model) post({ type: 'paused', step: live.model.step, reason: loop.pauseReason });
  },
  generate(request) {
    // Not awaited: later messages (stop, pause, more training) must get through.
    generate(request).catch((error) => post({ type: 'error', source: 'generate', id: request.id, ...describe(error) }));
  },
  stop({ id }) {
    const generation = generations.get(id);
    if (generation) generation.stopped = true;
  },
  // The model run over `text`, everything it computes on the way (model.inspect); its arrays
  // travel without a copy.
  async inspect({ id, text, options }) {
    const inspection = await exclusive(() => {
      requireModel(); // a model dropped while this waited is gone
      return /** @type {Model} */ (live.model).inspect(text, options);
    });
    post({ type: 'inspected', id, inspection }, buffersOf(inspection));
  },
  // How the model's tokenizer cuts the start of `text`: [{ text, tokens }] (model.tokenize).
  async tokenize({ id, text, maxChars }) {
    const segments = await exclusive(() => {
      requireModel();
      return /** @type {Model} */ (live.model).tokenize(text, maxChars);
    });
    post({ type: 'tokenized', id, segments });
  },
  // What the sampler draws from once `options` (temperature, topK, topP) reshape `logits`.
  // Needs the engine, not the model.
  distribution({ id, logits, options }) {
    const probs = live.Kindling.samplingDistribution(logits, options);
    post({ type: 'distribution', id, probs }, [probs.buffer]);
  },
  async export({ id, merged, format }) {
    requireModel();
    // The model's properties are read once the export has its turn (`exclusive`): read while
    // a training chunk runs, they fail with kind 'busy'.
    /** @returns {Pick<ExportedMessage, 'type' | 'id' | 'step' | 'config'>} */
    const about = () => ({
      type: 'exported',
      id,
      step: /** @type {Model} */ (live.model).step,
      config: /** @type {Model} */ (live.model).config,
    });
    if (format === 'safetensors') {
      const { weights, manifest } = await safetensors();
      return post({ ...about(), weights, manifest }, [weights.buffer]);
    }
    const bytes = await checkpoint(merged ? { merged: true } : undefined);
    post({ ...about(), bytes }, [bytes.buffer]);
  },
  async open({ bytes, options, origin, name }) {
    // On failure `restoreFrom` throws before touching the current model. The page shows
    // the text the opened model was trained on.
    await restoreFrom(bytes, { text: null, options, openedFrom: name }, origin ?? 'open');
  },
  async 'open-run'({ bytes, run }) {
    await restoreFrom(bytes, reopenedSetup(run), 'run');
  },
  'save-run'() {
    saveRun();
  },
  compare(request) {
    // Not awaited: training, pause and generation go on while the two models write.
    compare(request, { Kindling: live.Kindling, post, nextTask }).catch((error) =>
      post({ type: 'error', source: 'compare', id: request.id, ...describe(error) }),
    );
  },
  async restore() {
    const saved = await loadAutosave(settings.name);
    if (!saved) throw failure('state', 'The autosave is gone (was it cleared in another tab?).');
    const { checkpoint: bytes, ...setup } = saved;
    await restoreFrom(bytes, setup, 'restore');
  },
  async reset() {
    await replaceModel(null, null);
    await trainLoop.running;
    post({ type: 'model', origin: 'reset', info: null });
  },
};

// The buffers of an inspection's arrays, each once (two arrays may share one).
/**
 * @param {Inspection} inspection
 * @returns {Transferable[]}
 */
function buffersOf({ nextLogits, attention, hidden, cell, gates, embedding }) {
  const parts = /** @type {Floats[]} */ ([nextLogits, attention, hidden, cell, gates, embedding].filter(Boolean));
  return [...new Set(parts.map((part) => part.values.buffer))];
}

/** @param {LoadRequest} request */
function load({ module }) {
  return loadKindling(module).then(
    (engine) => {
      engineLoaded(engine, module ?? null);
      post({ type: 'ready', presets: live.Kindling.presets(), fields: live.Kindling.configFields() });
    },
    (error) => {
      post({
        type: 'error',
        source: 'load',
        fatal: true,
        kind: 'load',
        message: `The engine failed to load: ${error.message}`,
      });
    },
  );
}

// Requests run one at a time in arrival order (so `create` then `train` cannot race);
// the long-running ones (train, generate) start their loop and return at once.
/** @type {Promise<unknown>} */
let inbox = Promise.resolve();
workerSelf.onmessage = ({ data }) => {
  // Not queued: a request in the inbox may be waiting for it.
  if (data.type === 'engine') return engineArrived(data);
  // A budget's probe holds the inbox (its create waits for it): a reset stops it now.
  if (data.type === 'reset') cancelBudget();
  inbox = inbox
    .then(() => {
      if (data.type === 'load') return load(data);
      if (!live.Kindling && data.type !== 'configure') throw failure('state', 'The engine is not loaded.');
      // The handler of data's own type: tsc cannot pair the two through the union.
      return /** @type {(request: Request) => unknown} */ (handlers[data.type])(data);
    })
    .catch((error) => post({ type: 'error', source: data.type, id: data.id, ...describe(error) }));
};

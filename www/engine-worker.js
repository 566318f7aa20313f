// The engine worker owns the wasm engine; the page only renders what this posts back.
//
// Page → worker: load (first: the compiled CPU engine module, or nothing to fetch it here),
//                engine (the compiled module of a build asked for with need-engine),
//                configure, validate, create, fine-tune, train, pause, reset, generate, stop,
//                export, open, restore, inspect, distribution, open-run, save-run, compare
//                (fine-tune: { bytes, options, name, startFrom, train }: a new model from a saved
//                one's weights and tokenizer, trained on options.text from step 0 (Kindling.fineTune);
//                options hold the text, training settings and loraRank, never the shape; answered
//                with a `model` of origin 'fine-tune', setup { text, options, startFrom, fineTunedFrom:
//                name } and valLossBefore: the start point's val loss on the new text, before a step)
//                (export: { id, merged }: merged folds a LoRA model's adapters into its weights)
//                (open-run: { bytes, run }: a run from the list (runs-store.js) as the live model,
//                going on with that run; save-run: save the live model's run now, if it trained
//                since its last save; compare: engine-compare.js)
// Worker → page: ready, need-engine, validated, model, backend, metrics, paused, finished,
//                saved, exported, token, warning, generated, inspected, distribution, error,
//                run-saved ({ id, name, step }: the run list changed), compare-token, compared
// Every request may carry an `id`; replies about it carry the same `id`.
//
// error: { source (the request's type, or 'train', 'storage', 'load'), kind, message, fatal,
// errors? }. `kind` is the engine's (a KindlingError's: 'config' with per-field `errors`,
// 'argument', 'busy', 'helper', 'device', 'diverged', 'checkpoint', 'webgpu-unavailable')
// or this worker's own: 'state' (no model yet, the engine not loaded, the autosave
// gone), 'storage' (IndexedDB: full, unavailable or failing), 'locked' (another tab owns
// this autosave name; nothing is saved here), 'load' (the engine could not load), 'crashed' (the wasm
// instance trapped or ran out of memory: `fatal`, the page starts a fresh worker).
//
// On the CPU, helper workers (helper-pool.js) compute part of every training batch. The
// WebGPU build of the engine loads beside the CPU one when it may be used (engine-backends.js).
import { loadKindling, tokens } from './kindling.js';
import { HelperWorkers, helperCountFor } from './helper-pool.js';
import { saveAutosave, loadAutosave } from './autosave-store.js';
import { chunkTrained, recordRun, reopenedSetup } from './engine-runs.js';
import { compare } from './engine-compare.js';
import { Backends } from './engine-backends.js';
import { kindlingError as failure } from './kindling-error.js';

// A chunk of steps about this long keeps pause, stop and generation responsive while
// spending little time on message overhead. Shorter while a generation interleaves.
const CHUNK_MS = 80;
const CHUNK_MS_WHILE_GENERATING = 30;

// What the page configures (the `configure` message).
const settings = {
  name: 'playground', // the autosave's IndexedDB key; an embed can use its own
  autosaveEvery: 100, // steps between autosaves
  persist: true, // false: never autosave (embeds that show a fixed demo)
  backend: 'auto',
  helpers: 'auto', // helper workers for CPU training: 'auto' (one per spare core) or a count
  debugWebgpuMs: null, // tests: 'auto' takes this as WebGPU's measured ms/step
  runsCapBytes: null, // tests: the run list's cap (else runs-store.js's RUNS_CAP_BYTES)
};

let Kindling = null; // the CPU build's class (the WebGPU build's: backends.gpuEngine())
let engineModule = null; // the compiled engine, handed on to helper workers
let model = null;
let modelEpoch = 0; // a new, opened or dropped model ends the old one's train loop; a move does not
let modelSetup = null; // { text, options, fineTunedFrom? } the model was made from
let lastSavedStep = 0;
let training = null; // the running train loop's promise
let keepTraining = false;
let pauseReason = 'user';
const generations = new Map(); // id -> { stopped }
let helpers = null; // HelperWorkers, started at the first training on the CPU
let helpersFailure = null; // why helpers were given up; training then goes on in this worker

const post = (message, transfer = []) => self.postMessage(message, transfer);

// wasm-bindgen objects must not be used by two calls at once (a second borrow throws),
// and the train loop, saves and the page's requests all reach the same model.
let engineQueue = Promise.resolve();
function exclusive(task) {
  const run = engineQueue.then(task);
  engineQueue = run.catch(() => {});
  return run;
}

// Lets queued messages (pause, stop, generate) run between chunks and tokens. A
// MessageChannel hop avoids setTimeout's 4 ms clamp.
const nextTask = () =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = resolve;
    channel.port2.postMessage(null);
  });

// What the page is told about an error. A RuntimeError means the wasm instance trapped (a
// panic, or an allocation that failed): it is unusable and the page must start a fresh worker.
function describe(error) {
  const message = error?.message || String(error);
  if (error instanceof WebAssembly.RuntimeError) {
    return {
      fatal: true,
      kind: 'crashed',
      message:
        `The engine crashed (${message}). This is most often running out of memory: ` +
        'try a smaller preset, fewer layers or a smaller batch.',
    };
  }
  if (error instanceof RangeError && /memory|allocat/i.test(message)) {
    return { fatal: true, kind: 'crashed', message: `Out of memory (${message}). Try a smaller model or batch.` };
  }
  const described = { fatal: false, kind: typeof error?.kind === 'string' ? error.kind : undefined, message };
  if (Array.isArray(error?.errors)) described.errors = error.errors;
  return described;
}

// The engine's notice (a lost GPU), this worker's ('auto': why this backend) and `more`.
const notices = (engineNotice, ...more) => [engineNotice, backendNotice, ...more].filter(Boolean).join('. ') || undefined;

function modelInfo() {
  return {
    backend: model.backend,
    adapter: model.adapter,
    notice: notices(model.notice),
    step: model.step,
    vocabSize: model.vocabSize,
    parameterCount: model.parameterCount,
    parameters: model.parameters, // { trainable, frozen, trainableBytes, frozenBytes }
    config: model.config,
    history: model.history,
  };
}

// Swaps the live model between engine calls, never during one.
function replaceModel(next, setup) {
  keepTraining = false;
  stopAllGenerations();
  saveRun(); // the run so far, queued ahead of the swap
  return exclusive(() => {
    stopHelpers();
    model?.free();
    model = next;
    modelEpoch += 1;
    modelSetup = setup;
    lastSavedStep = next?.step ?? 0;
  });
}

// ---- backends -------------------------------------------------------------------------

let backendNotice = null; // why the model computes where it does, when 'auto' chose
let measuring = null; // 'auto': the running WebGPU measurement, if any
const engineReplies = new Map(); // build → { resolve, reject } of requestModule

// The page compiles each build once for all its elements; this asks it for one.
function requestModule(build) {
  return new Promise((resolve, reject) => {
    engineReplies.set(build, { resolve, reject });
    post({ type: 'need-engine', build });
  });
}

function engineArrived({ build, module, error }) {
  const reply = engineReplies.get(build);
  engineReplies.delete(build);
  if (error) reply?.reject(failure('load', `The ${build} engine failed to load: ${error}`));
  else reply?.resolve(module ?? null);
}

const backends = new Backends({ requestModule, loadEngine: loadKindling });

// `from`'s copy on `backend` ('cpu' | 'webgpu'), through a checkpoint; frees `from` once the
// copy exists.
async function moved(from, backend) {
  const Engine = backend === 'webgpu' ? await backends.gpuEngine() : Kindling;
  const next = await Engine.fromBytes(await from.toBytes(), { backend });
  from.free();
  return next;
}

// A new model, made by `make(Engine, backend)` where the backend setting puts it: 'webgpu' on
// the WebGPU build; 'cpu' and 'auto' on the CPU build, from where 'auto' moves it to WebGPU if
// a model of its shape was measured faster there (else training measures it: autoChoose).
async function placeNew(make) {
  backendNotice = null;
  if (settings.backend === 'webgpu') return make(await backends.gpuEngine(), 'webgpu');
  const made = await make(Kindling, 'cpu');
  if (settings.backend !== 'auto') return made;
  const unavailable = await backends.unavailable();
  if (unavailable) {
    backendNotice = `WebGPU is not available (${unavailable}); training on the CPU`;
    return made;
  }
  const choice = backends.choiceFor(made);
  backendNotice = choice?.notice ?? null;
  if (choice?.backend !== 'webgpu') return made;
  try {
    return await moved(made, 'webgpu');
  } catch (error) {
    backendNotice = `WebGPU failed (${error.message}); training on the CPU`;
    return made;
  }
}

// Tells the page where the model computes now; `measured`: 'auto' has just compared the two.
// Reads the model: call it only where nothing else runs on it (in an exclusive call).
function postBackend(measured = false) {
  post({ type: 'backend', backend: model.backend, adapter: model.adapter, notice: notices(model.notice), measured });
}

// Moves the live model to `backend` between engine calls; a running train loop goes on there.
// Its getters are read inside the exclusive call too: a training step holds the model.
function moveModel(backend, measured = false) {
  return exclusive(async () => {
    if (!model) return;
    if (model.backend !== backend) {
      stopHelpers();
      model = await moved(model, backend);
    }
    postBackend(measured);
  });
}

// The backend setting changed: the model moves where it now belongs ('auto': where its
// shape was measured faster, else the CPU, which measures it again while training).
async function backendChanged() {
  // One GPU model at a time: a measurement under way finishes first (it leaves the model
  // where it is, now that the setting is no longer 'auto').
  await measuring;
  backendNotice = null;
  const choice = model ? await exclusive(() => backends.choiceFor(model)) : null;
  // Forced elsewhere, the figures of a measurement still help the reader compare.
  if (choice) backendNotice = settings.backend === 'auto' ? choice.notice : `Measured here: ${choice.figures}`;
  await moveModel(settings.backend === 'auto' ? choice?.backend ?? 'cpu' : settings.backend);
}

// 'auto' with an adapter, training on the CPU, this shape not measured yet: once the CPU's
// speed is known, measure WebGPU beside it and move the model there if it is faster.
// `shape`: the model's { config, vocabSize }, read while it was idle.
function autoChoose(trained, shape, cpuMsPerStep, workers) {
  if (measuring || settings.backend !== 'auto' || backends.choiceFor(shape)) return;
  measuring = (async () => {
    if (await backends.unavailable()) return;
    const bytes = await exclusive(() => (model === trained ? trained.toBytes() : null));
    if (!bytes) return;
    const choice = await backends.measure({
      shape,
      bytes,
      cpuMs: cpuMsPerStep,
      workers,
      exclusive,
      fakeGpuMs: settings.debugWebgpuMs ?? undefined,
    });
    if (model !== trained || settings.backend !== 'auto') return;
    backendNotice = choice.notice;
    if (choice.backend === 'webgpu') await moveModel('webgpu', true);
    else await exclusive(() => postBackend(true)); // the model is idle only in an exclusive call
  })()
    .catch((error) => {
      backendNotice = `WebGPU could not be measured (${error.message}); training on the CPU`;
      // Not reading the model: a training step may hold it.
      if (model === trained) post({ type: 'backend', backend: 'cpu', notice: backendNotice, measured: true });
    })
    .finally(() => {
      measuring = null;
    });
}

function stopAllGenerations() {
  for (const generation of generations.values()) generation.stopped = true;
}

function requireModel() {
  if (!model) throw failure('state', 'There is no model yet: train one or open a saved model.');
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
    helpers = count > 0 ? new HelperWorkers(count, engineModule) : null;
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
function stopHelpers() {
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
  const epoch = modelEpoch;
  // What 'auto' keys its choice on; a move to another backend keeps it.
  const shape = { config: model.config, vocabSize: model.vocabSize };
  const total = shape.config.maxSteps;
  let chunk = 1;
  let chunks = 0;
  let stepsPerSecond = 0; // smoothed, so the page's time-left estimate does not jitter
  // `epoch` goes first: a reset or an opened file may have freed the model. A move to another
  // backend keeps the epoch: the loop goes on with the moved model.
  while (epoch === modelEpoch && keepTraining && model.step < total) {
    // The model is read inside the exclusive call: a move queued before it replaces it.
    const done = await exclusive(async () => {
      if (epoch !== modelEpoch) return null;
      const steps = Math.min(chunk, total - model.step);
      const result = await trainChunk(model, steps);
      return { trained: model, backend: model.backend, steps, ...result };
    });
    if (!done) break;
    const { trained, backend, steps, metrics, elapsedMs, workers } = done;
    if (epoch === modelEpoch) chunkTrained(modelSetup, metrics, elapsedMs); // not a model that replaced it
    chunk = nextChunkSize(steps, elapsedMs);
    const rate = (steps * 1000) / elapsedMs;
    stepsPerSecond = stepsPerSecond ? 0.9 * stepsPerSecond + 0.1 * rate : rate;
    // `backend` can change mid-run: a lost GPU moves training to the CPU.
    // Both can be news: the engine's (no WebGPU here, or a lost GPU) and why the helpers stopped.
    const notice = notices(metrics.notice, backend === 'cpu' ? helpersFailure : null);
    post({ type: 'metrics', total, ...metrics, notice, stepsPerSecond, backend, workers });
    // The first chunks warm the engine up and grow to their steady size (CHUNK_MS); after
    // them a chunk's speed is the CPU's.
    if (++chunks >= 5 && model === trained && backend === 'cpu') autoChoose(trained, shape, elapsedMs / steps, workers);
    if (metrics.step - lastSavedStep >= settings.autosaveEvery) await autosave();
    await nextTask();
  }
  if (epoch !== modelEpoch) return;
  keepTraining = false;
  await autosave();
  post(
    model.step >= total
      ? { type: 'finished', step: model.step }
      : { type: 'paused', step: model.step, reason: pauseReason },
  );
  saveRun(); // not awaited: a Resume pressed meanwhile starts a new loop, after the snapshot
}

function startTraining() {
  requireModel();
  keepTraining = true;
  training ??= trainLoop()
    .catch((error) => {
      keepTraining = false;
      const described = describe(error);
      post({ type: 'error', source: 'train', ...described });
      // The engine has restored the last good weights; show the page where it stands.
      if (!described.fatal && model) post({ type: 'model', origin: 'recovered', info: modelInfo() });
    })
    .finally(() => {
      training = null;
    });
}

// ---- persistence ----------------------------------------------------------------------

// `options`: toBytes's ({ merged: true } folds a LoRA model's adapters into its weights).
function checkpoint(options) {
  return exclusive(() => model.toBytes(options));
}

// Two tabs on one autosave name would overwrite each other's model: the first worker to
// autosave under a name holds a Web Lock on it until it ends (its tab closes, reloads or
// crashes), and the others are told, once, and keep their model in memory only. Asked
// again at each autosave, so a second tab takes over once the first has gone.
const heldLocks = new Set(); // names this worker owns
let refusedName = null; // the name another tab owns, once this worker has been told

function ownsAutosave(name) {
  if (heldLocks.has(name) || !self.navigator?.locks) return Promise.resolve(true);
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(`kindling-autosave:${name}`, { ifAvailable: true }, (lock) => {
        resolve(Boolean(lock));
        if (!lock) return undefined;
        heldLocks.add(name);
        return new Promise(() => {}); // held for the worker's life
      })
      .catch(reject);
  });
}

// Saves the model with what it needs to continue; storage failures are reported.
async function autosave() {
  if (!model || !modelSetup || !settings.persist) return;
  const step = model.step;
  const name = settings.name;
  try {
    if (!(await ownsAutosave(name))) {
      if (refusedName !== name) {
        refusedName = name;
        const message =
          `Another tab is autosaving to “${name}”, so this tab's model is not autosaved. ` +
          'Training goes on; download the model to keep it, or close the other tab.';
        post({ type: 'error', source: 'storage', kind: 'locked', fatal: false, message });
      }
      return;
    }
    refusedName = null;
    const bytes = await checkpoint();
    const summary = {
      step,
      maxSteps: model.config.maxSteps,
      model: model.config.model,
      preset: modelSetup.options?.preset,
      lastLoss: model.history.at(-1)?.trainLoss,
      savedAt: Date.now(),
    };
    await saveAutosave(name, summary, { checkpoint: bytes, ...modelSetup });
    lastSavedStep = step;
    post({ type: 'saved', step, savedAt: summary.savedAt });
  } catch (error) {
    post({ type: 'error', source: 'storage', ...describe(error) });
  }
}

// The live model's run, saved in the run list (engine-runs.js); the full page's only, as the
// autosave. Its snapshot is queued at once, ahead of any later engine call.
function saveRun() {
  if (!model || !modelSetup || !settings.persist) return;
  recordRun({ model, setup: modelSetup, exclusive, cap: settings.runsCapBytes }).then(
    (saved) => saved && post({ type: 'run-saved', id: saved.id, name: saved.name, step: saved.step }),
    (error) => post({ type: 'error', source: 'runs', ...describe(error) }),
  );
}

async function restoreFrom(bytes, setup, origin) {
  // The checkpoint carries its own training text; `setup` is what the page shows.
  const next = await placeNew((Engine, backend) => Engine.fromBytes(bytes, { backend }));
  setup = { ...setup, text: setup.text ?? next.text };
  await replaceModel(next, setup);
  post({ type: 'model', origin, info: modelInfo(), setup });
}

// ---- generation -----------------------------------------------------------------------

async function generate({ id, prompt, options }) {
  requireModel();
  const stream = await exclusive(() => model.generate(prompt, options));
  const generation = { stopped: false };
  generations.set(id, generation);
  try {
    if (stream.warning) post({ type: 'warning', id, message: stream.warning });
    for await (const token of tokens(stream)) {
      post({ type: 'token', id, token });
      await nextTask();
      if (generation.stopped) break;
    }
    post({ type: 'generated', id, reason: generation.stopped ? 'stopped' : 'done' });
  } finally {
    generations.delete(id);
  }
}

// ---- messages -------------------------------------------------------------------------

const handlers = {
  async configure({ name, autosaveEvery, persist, backend, helpers: helperSetting, debugWebgpuMs, runsCapBytes }) {
    const previousBackend = settings.backend;
    Object.assign(settings, {
      name: name ?? settings.name,
      autosaveEvery: autosaveEvery ?? settings.autosaveEvery,
      persist: persist ?? settings.persist,
      backend: backend ?? settings.backend,
      helpers: helperSetting ?? settings.helpers,
      debugWebgpuMs: debugWebgpuMs ?? settings.debugWebgpuMs,
      runsCapBytes: runsCapBytes ?? settings.runsCapBytes,
    });
    if (helperSetting !== undefined) helpersFailure = null; // a new setting gets a new try
    if (Kindling && settings.backend !== previousBackend) await backendChanged();
  },
  validate({ id, options }) {
    post({ type: 'validated', id, result: Kindling.validate(options) });
  },
  async create({ options, train }) {
    const setup = { text: options.text, options };
    const next = await placeNew((Engine, backend) => Engine.create({ ...options, backend }));
    await replaceModel(next, setup);
    post({ type: 'model', origin: 'create', info: modelInfo() });
    if (train) startTraining();
  },
  // On failure (a character model that lacks some of the text's characters, a bad file)
  // nothing has touched the current model.
  async 'fine-tune'({ bytes, options, name, startFrom, train }) {
    const setup = { text: options.text, options, startFrom, fineTunedFrom: name };
    const next = await placeNew((Engine, backend) => Engine.fineTune(bytes, { ...options, backend }));
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
  train() {
    startTraining();
  },
  pause({ reason }) {
    pauseReason = reason ?? 'user';
    keepTraining = false;
    // Nothing to wait for: a running loop posts `paused` once its chunk is done.
    if (!training && model) post({ type: 'paused', step: model.step, reason: pauseReason });
  },
  generate(request) {
    // Not awaited: later messages (stop, pause, more training) must get through.
    generate(request).catch((error) =>
      post({ type: 'error', source: 'generate', id: request.id, ...describe(error) }),
    );
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
      return model.inspect(text, options);
    });
    post({ type: 'inspected', id, inspection }, buffersOf(inspection));
  },
  // What the sampler draws from once `options` (temperature, topK, topP) reshape `logits`.
  // Needs the engine, not the model.
  distribution({ id, logits, options }) {
    const probs = Kindling.samplingDistribution(logits, options);
    post({ type: 'distribution', id, probs }, [probs.buffer]);
  },
  async export({ id, merged }) {
    requireModel();
    const bytes = await checkpoint(merged ? { merged: true } : undefined);
    post({ type: 'exported', id, bytes, step: model.step, config: model.config }, [bytes.buffer]);
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
    compare(request, { Kindling, post, nextTask }).catch((error) =>
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
    await training;
    post({ type: 'model', origin: 'reset', info: null });
  },
};

// The buffers of an inspection's arrays, each once (two arrays may share one).
function buffersOf({ nextLogits, attention, hidden, cell, gates, embedding }) {
  const parts = [nextLogits, attention, hidden, cell, gates, embedding].filter(Boolean);
  return [...new Set(parts.map((part) => part.values.buffer))];
}

function load({ module }) {
  engineModule = module ?? null;
  return loadKindling(module).then(
    (engine) => {
      Kindling = engine;
      post({ type: 'ready', presets: Kindling.presets() });
    },
    (error) => {
      post({ type: 'error', source: 'load', fatal: true, kind: 'load', message: `The engine failed to load: ${error.message}` });
    },
  );
}

// Requests run one at a time in arrival order (so `create` then `train` cannot race);
// the long-running ones (train, generate) start their loop and return at once.
let inbox = Promise.resolve();
self.onmessage = ({ data }) => {
  // Not queued: a request in the inbox may be waiting for it.
  if (data.type === 'engine') return engineArrived(data);
  inbox = inbox
    .then(() => {
      if (data.type === 'load') return load(data);
      if (!Kindling && data.type !== 'configure') throw failure('state', 'The engine is not loaded.');
      return handlers[data.type](data);
    })
    .catch((error) => post({ type: 'error', source: data.type, id: data.id, ...describe(error) }));
};

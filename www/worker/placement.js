// @ts-check
// Where the live model computes: the CPU build, the WebGPU one or the remote one on a compute
// peer (backends.js), chosen by the backend setting; 'auto' measures WebGPU beside the
// CPU and moves the model if faster.
import { loadKindling } from '../kindling.js';
import { Backends } from './backends.js';
import { kindlingError as failure } from '../kindling-error.js';
import { settings, live, post, exclusive, modelMoved } from './state.js';
import { stopHelpers } from './helpers.js';

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../../pkg/kindling.js').BackendOptions} BackendOptions */
/** @typedef {import('../kindling.js').KindlingClass} KindlingClass */
/** @typedef {import('./backends.js').ModelShape} ModelShape */
/** @typedef {import('../protocol.js').Backend} Backend */
/** @typedef {import('../protocol.js').ModelInfo} ModelInfo */
/** @typedef {import('../protocol.js').EngineRequest} EngineRequest */
/**
 * @typedef {{ resolve: (module: WebAssembly.Module | null) => void,
 *   reject: (error: Error) => void }} EngineReply
 */

/** @type {string | null} */
let backendNotice = null; // why the model computes where it does, when 'auto' chose
/** @type {Promise<void> | null} */
let measuring = null; // 'auto': the running WebGPU measurement, if any
/** @type {Map<string, EngineReply>} */
const engineReplies = new Map(); // build → { resolve, reject } of requestModule

// The engine's notice (a lost GPU), this worker's ('auto': why this backend) and `more`.
/**
 * @param {string | null | undefined} engineNotice
 * @param {...(string | null | undefined)} more
 * @returns {string | undefined}
 */
export const notices = (engineNotice, ...more) =>
  [engineNotice, backendNotice, ...more].filter(Boolean).join('. ') || undefined;

// What the page is told of the live model, where it computes among the rest. Only called with
// a model.
/** @returns {ModelInfo} */
export function modelInfo() {
  const model = /** @type {Model} */ (live.model);
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

// The page compiles each build once for all its elements; this asks it for one.
/**
 * @param {'webgpu' | 'remote'} build
 * @returns {Promise<WebAssembly.Module | null>}
 */
function requestModule(build) {
  return new Promise((resolve, reject) => {
    engineReplies.set(build, { resolve, reject });
    post({ type: 'need-engine', build });
  });
}

/** @param {EngineRequest} request */
export function engineArrived({ build, module, error }) {
  const reply = engineReplies.get(build);
  engineReplies.delete(build);
  if (error) reply?.reject(failure('load', `The ${build} engine failed to load: ${error}`));
  else reply?.resolve(module ?? null);
}

const backends = new Backends({ requestModule, loadEngine: loadKindling });

// The build that computes on `backend`, and the engine's options that place a model there.
/**
 * @param {Backend} backend
 * @returns {Promise<[KindlingClass, BackendOptions]>}
 */
async function engineFor(backend) {
  if (backend === 'webgpu') return [await backends.gpuEngine(), { backend }];
  if (backend !== 'remote') return [live.Kindling, { backend }];
  if (!settings.peer) {
    throw failure('argument', 'There is no compute peer to train on: connect to one first (connectPeer).');
  }
  return [await backends.remoteEngine(), { backend, peer: settings.peer.address, secret: settings.peer.secret }];
}

// `from`'s copy on `backend` ('cpu' | 'webgpu' | 'remote'), through a checkpoint; frees `from`
// once the copy exists.
/**
 * @param {Model} from
 * @param {Backend} backend
 */
async function moved(from, backend) {
  const [Engine, placement] = await engineFor(backend);
  const next = await Engine.fromBytes(await from.toBytes(), placement);
  from.free();
  return next;
}

// A new model, made by `make(Engine, placement)` where the backend setting puts it: 'webgpu'
// and 'remote' on their builds; 'cpu' and 'auto' on the CPU build, from where 'auto' moves it
// to WebGPU if a model of its shape was measured faster there (else training measures it:
// autoChoose). `placement`: the engine's backend options ({ backend, peer?, secret? }).
/**
 * @param {(Engine: KindlingClass, placement: BackendOptions) => Promise<Model>} make
 * @returns {Promise<Model>}
 */
export async function placeNew(make) {
  backendNotice = null;
  if (settings.backend === 'webgpu' || settings.backend === 'remote')
    return make(...(await engineFor(settings.backend)));
  const made = await make(live.Kindling, { backend: 'cpu' });
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
    backendNotice = `WebGPU failed (${/** @type {Error} */ (error).message}); training on the CPU`;
    return made;
  }
}

// Tells the page where the model computes now; `measured`: 'auto' has just compared the two.
// Reads the model: call it only where nothing else runs on it (in an exclusive call), with one.
function postBackend(measured = false) {
  const model = /** @type {Model} */ (live.model);
  post({ type: 'backend', backend: model.backend, adapter: model.adapter, notice: notices(model.notice), measured });
}

// Moves the live model to `backend` between engine calls; a running train loop goes on there.
// Its getters are read inside the exclusive call too: a training step holds the model. A model
// on a peer moves even to 'remote': the peer may be another one.
/**
 * @param {Backend} backend
 * @param {boolean} [measured]
 */
function moveModel(backend, measured = false) {
  return exclusive(async () => {
    if (!live.model) return;
    // The remote build's models say 'remote', which pkg/kindling.d.ts's `backend` leaves out.
    if (/** @type {Backend} */ (live.model.backend) !== backend || backend === 'remote') {
      stopHelpers();
      modelMoved(await moved(live.model, backend));
    }
    postBackend(measured);
  });
}

// The backend setting changed: the model moves where it now belongs ('auto': where its
// shape was measured faster, else the CPU, which measures it again while training).
export async function backendChanged() {
  // One GPU model at a time: a measurement under way finishes first (it leaves the model
  // where it is, now that the setting is no longer 'auto').
  await measuring;
  backendNotice = null;
  if (settings.backend === 'remote') return connectPeer();
  const choice = live.model ? await exclusive(() => backends.choiceFor(/** @type {Model} */ (live.model))) : null;
  // Forced elsewhere, the figures of a measurement still help the reader compare.
  if (choice) backendNotice = settings.backend === 'auto' ? choice.notice : `Measured here: ${choice.figures}`;
  await moveModel(settings.backend === 'auto' ? (choice?.backend ?? 'cpu') : settings.backend);
}

// The backend setting is a peer (settings.peer): the model moves there; without a model the
// peer is reached all the same, so a wrong address or secret shows now, not at Train.
async function connectPeer() {
  if (live.model) return moveModel('remote');
  const [Remote, placement] = await engineFor('remote');
  const adapter = await Remote.reachPeer(placement);
  post({ type: 'backend', backend: 'remote', adapter });
}

// Whether WebGPU is being measured: its warm-up computes beside the CPU's training, whose time
// is then not its own.
export const measuringWebgpu = () => measuring !== null;

// 'auto' with an adapter, training on the CPU, this shape not measured yet: once the CPU's
// speed is known, measure WebGPU beside it and move the model there if it is faster.
// `shape`: the model's { config, vocabSize }, read while it was idle.
/**
 * @param {Model} model
 * @param {ModelShape} shape
 * @param {number} cpuMsPerStep
 * @param {number} workers
 */
export function autoChoose(model, shape, cpuMsPerStep, workers) {
  if (measuring || settings.backend !== 'auto' || backends.choiceFor(shape)) return;
  measuring = (async () => {
    if (await backends.unavailable()) return;
    const bytes = await exclusive(() => (live.model === model ? model.toBytes() : null));
    if (!bytes) return;
    const choice = await backends.measure({
      shape,
      bytes,
      cpuMs: cpuMsPerStep,
      workers,
      exclusive,
      fakeGpuMs: settings.debugWebgpuMs ?? undefined,
    });
    if (live.model !== model || settings.backend !== 'auto') return;
    backendNotice = choice.notice;
    if (choice.backend === 'webgpu') await moveModel('webgpu', true);
    else await exclusive(() => postBackend(true)); // the model is idle only in an exclusive call
  })()
    .catch((error) => {
      backendNotice = `WebGPU could not be measured (${error.message}); training on the CPU`;
      // Not reading the model: a training step may hold it.
      if (live.model === model) post({ type: 'backend', backend: 'cpu', notice: backendNotice, measured: true });
    })
    .finally(() => {
      measuring = null;
    });
}

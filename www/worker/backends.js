// @ts-check
import { kindlingError } from '../kindling-error.js';

// Where the engine worker's model computes. The CPU build (pkg/) is always loaded; the WebGPU
// build (pkg-webgpu/) only once this browser offers a GPU adapter and the backend setting may
// use it; the remote build (pkg-remote/) only once the reader connects to a compute peer.
// For 'auto' the faster of CPU and WebGPU is found by measuring, per model shape: training
// starts on the CPU at once, WebGPU warms up beside it (its first step compiles the shaders),
// a few warm steps are timed on it, and the model moves there only if it trains faster.

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../../pkg/kindling.js').Config} Config */
/** @typedef {import('../kindling.js').KindlingClass} KindlingClass */
/** @typedef {import('../kindling.js').Build} Build */
/** @typedef {typeof import('./state.js').exclusive} Exclusive */
/** @typedef {{ config: Config, vocabSize: number }} ModelShape what a step's speed depends on */
/**
 * 'auto''s choice for a shape: the faster backend, both speeds, and the sentences saying so.
 * @typedef {{ backend: 'webgpu' | 'cpu', cpuMs: number, gpuMs: number, figures: string,
 *   notice: string }} Choice
 */

// A warm WebGPU step slower than this many CPU steps is not worth timing further.
const HOPELESS = 3;
// WebGPU must beat the CPU by this much to be worth a move (a move costs a checkpoint).
const MARGIN = 0.9;
// The timed WebGPU chunk aims at about this long, as the worker's own chunks do.
const PROBE_MS = 100;

// What the speed of a model's step depends on; models with the same key get the same choice.
/** @param {ModelShape} shape */
export function shapeKey({ config, vocabSize }) {
  const { model, nLayer, nHead, nEmbd, hiddenSize, blockSize, batchSize } = config;
  return JSON.stringify([model, nLayer, nHead, nEmbd, hiddenSize, blockSize, batchSize, vocabSize]);
}

/** @param {number} value */
const ms = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

// The choice between two measured speeds, and the sentence that explains it.
/**
 * @param {{ cpuMs: number, gpuMs: number, workers?: number }} speeds
 * @returns {Choice}
 */
export function decide({ cpuMs, gpuMs, workers = 1 }) {
  const backend = gpuMs < cpuMs * MARGIN ? 'webgpu' : 'cpu';
  const cpu = workers > 1 ? `CPU with ${workers - 1} helper${workers > 2 ? 's' : ''}` : 'CPU';
  const where = backend === 'webgpu' ? 'training on WebGPU' : 'training on the CPU';
  const figures = `WebGPU ${ms(gpuMs)} ms/step, ${cpu} ${ms(cpuMs)} ms/step`;
  return { backend, cpuMs, gpuMs, figures, notice: `${figures}: ${where}` };
}

export class Backends {
  // requestModule(build): resolves to the page's compiled module of `build` (null: fetch it here).
  /**
   * @param {{
   *   requestModule: (build: 'webgpu' | 'remote') => Promise<WebAssembly.Module | null>,
   *   loadEngine: (module: WebAssembly.Module | null, build: Build) => Promise<KindlingClass>,
   * }} loaders
   */
  constructor({ requestModule, loadEngine }) {
    this.requestModule = requestModule;
    this.loadEngine = loadEngine;
    /** @type {Promise<string | null> | null} */
    this.adapterCheck = null;
    /** @type {Promise<KindlingClass> | null} */
    this.gpuLoad = null;
    /** @type {Promise<KindlingClass> | null} */
    this.remoteLoad = null;
    /** @type {Map<string, Choice>} */
    this.choices = new Map(); // shapeKey → decide()'s result
  }

  // Why this browser cannot use WebGPU, or null when it offers an adapter.
  /** @returns {Promise<string | null>} */
  unavailable() {
    this.adapterCheck ??= (async () => {
      if (!self.navigator?.gpu) return 'this browser has no WebGPU';
      try {
        return (await navigator.gpu.requestAdapter()) ? null : 'this browser offers no GPU adapter';
      } catch (error) {
        return `the GPU adapter request failed (${/** @type {Error} */ (error).message})`;
      }
    })();
    return this.adapterCheck;
  }

  // The WebGPU build's Kindling class; rejects with kind 'webgpu-unavailable' when there is no
  // adapter to use it with (nothing is downloaded then).
  /** @returns {Promise<KindlingClass>} */
  async gpuEngine() {
    const reason = await this.unavailable();
    if (reason) {
      throw kindlingError('webgpu-unavailable', `WebGPU is not available: ${reason}. Use backend "cpu" or "auto"`);
    }
    this.gpuLoad ??= (async () => this.loadEngine(await this.requestModule('webgpu'), 'webgpu'))().catch((error) => {
      this.gpuLoad = null;
      throw error;
    });
    return this.gpuLoad;
  }

  // The remote build's Kindling class (downloaded on the first connection to a peer).
  /** @returns {Promise<KindlingClass>} */
  remoteEngine() {
    this.remoteLoad ??= (async () => this.loadEngine(await this.requestModule('remote'), 'remote'))().catch((error) => {
      this.remoteLoad = null;
      throw error;
    });
    return this.remoteLoad;
  }

  // For 'auto': the choice already made for a model of this shape, if any.
  /** @param {ModelShape} model */
  choiceFor(model) {
    return this.choices.get(shapeKey(model)) ?? null;
  }

  // Times a model (`shape`: its config and vocabSize; `bytes`: its checkpoint; training on the
  // CPU at `cpuMs` per step with `workers` workers) on WebGPU and records the choice for its
  // shape. `exclusive(task)` runs the timed steps while nothing else computes; the warm-up step
  // runs beside the CPU's training. `fakeGpuMs` (tests) replaces the measured figure.
  /**
   * @param {{ shape: ModelShape, bytes: Uint8Array, cpuMs: number, workers: number,
   *   exclusive: Exclusive, fakeGpuMs?: number }} probe
   */
  async measure({ shape, bytes, cpuMs, workers, exclusive, fakeGpuMs }) {
    const Gpu = await this.gpuEngine();
    const probe = await Gpu.fromBytes(bytes, { backend: 'webgpu' });
    try {
      await probe.trainSteps(1);
      const gpuMs = fakeGpuMs ?? (await exclusive(() => timeSteps(probe, cpuMs)));
      const choice = decide({ cpuMs, gpuMs, workers });
      this.choices.set(shapeKey(shape), choice);
      return choice;
    } finally {
      probe.free();
    }
  }
}

// ms per warm WebGPU step: one step, then, unless it is hopeless, a chunk of about PROBE_MS.
/**
 * @param {Model} probe
 * @param {number} cpuMs
 */
async function timeSteps(probe, cpuMs) {
  /** @param {number} steps */
  const timed = async (steps) => {
    const start = performance.now();
    await probe.trainSteps(steps);
    return (performance.now() - start) / steps;
  };
  const one = await timed(1);
  if (one > cpuMs * HOPELESS) return one;
  return timed(Math.max(2, Math.min(20, Math.round(PROBE_MS / one))));
}

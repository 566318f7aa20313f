// Counts the WebGPU calls the engine makes: wraps the GPU* prototypes' methods before the
// engine starts (wgpu's browser backend calls them through wasm-bindgen's JS glue, which looks
// the methods up on each object, so the wrappers see every call). Used by
// bench/kindling-bench.js when the page is opened with ?count-gpu.
//
// What each count means for a step or a token:
//   dispatches: compute passes' dispatchWorkgroups(+Indirect) — one per kernel launch
//   submits:    queue.submit calls — each a round trip into the GPU process
//   readbacks:  buffer.mapAsync(READ) — results the engine waited to see on the host
//   writes:     queue.writeBuffer — uploads (batches, scalars, uniforms)
//   pipelines:  createComputePipeline(+Async) — shader compilations, the first step's cost
//   buffers:    createBuffer — allocations that missed burn's memory pool
//   kernels:    dispatches by kernel (the pipeline's label: cubecl's kernel name, hash cut off)
// and, between `startTrace` and `stopTrace`, the calls in order: which kernels each submit carried.
const counts = { dispatches: 0, submits: 0, readbacks: 0, writes: 0, pipelines: 0, buffers: 0 };
/** @type {Record<string, number>} */
const kernels = {};
/** @type {string[] | null} */
let trace = null;
const pipelineNames = new WeakMap();
const passPipelines = new WeakMap();

export const startTrace = () => {
  trace = [];
};
export const stopTrace = () => {
  const calls = trace;
  trace = null;
  return calls;
};

// Names each dispatch after the pipeline it runs: cubecl labels a pipeline with its kernel's
// name and a hash of its settings (`matmul_entry_..._05fa7445`).
function nameKernels() {
  for (const method of ['createComputePipeline', 'createComputePipelineAsync']) {
    const original = GPUDevice.prototype[method];
    GPUDevice.prototype[method] = function named(descriptor) {
      const pipeline = original.call(this, descriptor);
      const name = (descriptor?.label || 'unnamed').replace(/_[0-9a-f]{8}$/, '');
      if (pipeline instanceof Promise) return pipeline.then((p) => (pipelineNames.set(p, name), p));
      pipelineNames.set(pipeline, name);
      return pipeline;
    };
  }
  const setPipeline = GPUComputePassEncoder.prototype.setPipeline;
  GPUComputePassEncoder.prototype.setPipeline = function remembered(pipeline) {
    passPipelines.set(this, pipelineNames.get(pipeline) ?? 'unnamed');
    return setPipeline.call(this, pipeline);
  };
}

function countKernel(pass) {
  const name = passPipelines.get(pass) ?? 'unnamed';
  kernels[name] = (kernels[name] ?? 0) + 1;
  trace?.push(name);
}

function count(proto, method, name, when = () => true) {
  const original = proto?.[method];
  if (typeof original !== 'function') return;
  proto[method] = function counted(...args) {
    if (when(args)) {
      counts[name] += 1;
      if (name === 'dispatches') countKernel(this);
      else if (name !== 'pipelines' && name !== 'buffers') trace?.push(`[${name.slice(0, -1)}]`);
    }
    return original.apply(this, args);
  };
}

export function installGpuCounters() {
  if (typeof GPUDevice === 'undefined') return false;
  count(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', 'dispatches');
  count(GPUComputePassEncoder.prototype, 'dispatchWorkgroupsIndirect', 'dispatches');
  count(GPUQueue.prototype, 'submit', 'submits');
  count(GPUQueue.prototype, 'writeBuffer', 'writes');
  count(GPUBuffer.prototype, 'mapAsync', 'readbacks', ([mode]) => (mode & GPUMapMode.READ) !== 0);
  count(GPUDevice.prototype, 'createComputePipeline', 'pipelines');
  count(GPUDevice.prototype, 'createComputePipelineAsync', 'pipelines');
  count(GPUDevice.prototype, 'createBuffer', 'buffers');
  nameKernels();
  return true;
}

// The counts so far; subtract two with `gpuCallsBetween`.
export const gpuCalls = () => ({ ...counts, kernels: { ...kernels } });

// Counts per `per` (steps, tokens) between two `gpuCalls()`; kernels most dispatched first.
export function gpuCallsBetween(before, after, per = 1) {
  const between = Object.fromEntries(Object.keys(counts).map((name) => [name, (after[name] - before[name]) / per]));
  const perKernel = Object.keys(after.kernels)
    .map((name) => [name, (after.kernels[name] - (before.kernels[name] ?? 0)) / per])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  return { ...between, kernels: Object.fromEntries(perKernel) };
}

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
const counts = { dispatches: 0, submits: 0, readbacks: 0, writes: 0, pipelines: 0, buffers: 0 };

function count(proto, method, name, when = () => true) {
  const original = proto?.[method];
  if (typeof original !== 'function') return;
  proto[method] = function counted(...args) {
    if (when(args)) counts[name] += 1;
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
  return true;
}

// The counts so far; subtract two with `gpuCallsBetween`.
export const gpuCalls = () => ({ ...counts });

export function gpuCallsBetween(before, after, per = 1) {
  return Object.fromEntries(Object.keys(counts).map((name) => [name, (after[name] - before[name]) / per]));
}

// @ts-check
// The page side of loading the engine: each build's .wasm is downloaded and compiled once per
// page, however many <kindling-playground> elements it has. Each element's worker instantiates
// the same compiled WebAssembly.Module (its own memory, no second download or compile).
//
// Three builds of one engine: 'cpu' (pkg/, no wgpu: the small download every reader gets),
// 'webgpu' (pkg-webgpu/, the same engine with WebGPU), fetched only when a worker has a GPU
// adapter to use it with, and 'remote' (pkg-remote/, with burn's remote client), fetched only
// when the reader connects to a compute peer.
/** @typedef {import('./kindling.js').Build} Build */
/** @typedef {{ loaded: number, total: number }} Progress bytes; total 0 when unknown */

/** @type {Record<Build, URL>} */
export const WASM_URLS = {
  cpu: new URL('../pkg/kindling_bg.wasm', import.meta.url),
  webgpu: new URL('../pkg-webgpu/kindling_bg.wasm', import.meta.url),
  remote: new URL('../pkg-remote/kindling_bg.wasm', import.meta.url),
};

// Progress of the CPU build's download, for every element that shows it (the WebGPU build
// loads in the background while the CPU one trains): `progress` events with detail
// { loaded, total } (total 0 when the size is unknown).
export const loadProgress = new EventTarget();

/** @type {Map<string, Promise<WebAssembly.Module>>} */
const compiling = new Map(); // build → promise of its module
/** @type {Progress} */
let lastProgress = { loaded: 0, total: 0 };

export function wasmSupported() {
  return typeof WebAssembly === 'object' && typeof WebAssembly.compile === 'function';
}

export function currentProgress() {
  return lastProgress;
}

/**
 * @param {number} loaded
 * @param {number} total
 */
function reportProgress(loaded, total) {
  lastProgress = { loaded, total };
  loadProgress.dispatchEvent(new CustomEvent('progress', { detail: lastProgress }));
}

/**
 * @param {Build} build checked: a page may pass any string
 * @returns {Promise<WebAssembly.Module>}
 */
async function compile(build) {
  const url = WASM_URLS[build];
  if (!url) throw new Error(`unknown engine build ${build}: use "cpu", "webgpu" or "remote"`);
  const report = build === 'cpu' ? reportProgress : () => {};
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`could not download ${url.pathname} (${/** @type {Error} */ (error).message})`);
  }
  if (!response.ok) {
    throw new Error(
      `could not download ${url.pathname}: the server answered ${response.status} ${response.statusText}`.trim(),
    );
  }
  // With compression the header counts compressed bytes while the stream yields plain
  // ones; the indicator then only goes as far as it can tell.
  const total = Number(response.headers.get('Content-Length')) || 0;
  let loaded = 0;
  report(0, total);
  if (!response.body || typeof TransformStream !== 'function') {
    const bytes = await response.arrayBuffer();
    report(bytes.byteLength, total);
    return WebAssembly.compile(bytes);
  }
  const counted = response.body.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        report(loaded, total);
        controller.enqueue(chunk);
      },
    }),
  );
  if (typeof WebAssembly.compileStreaming === 'function') {
    // Compiles while downloading.
    return WebAssembly.compileStreaming(new Response(counted, { headers: { 'Content-Type': 'application/wasm' } }));
  }
  return WebAssembly.compile(await new Response(counted).arrayBuffer());
}

// Resolves to the compiled module of `build` ('cpu', 'webgpu' or 'remote'). The first call downloads and
// compiles; later calls share that promise. A failure is forgotten so a later call can try again.
/**
 * @param {Build} [build]
 * @returns {Promise<WebAssembly.Module>}
 */
export function compileEngine(build = 'cpu') {
  if (!compiling.has(build)) {
    compiling.set(
      build,
      compile(build).catch((error) => {
        compiling.delete(build);
        throw error;
      }),
    );
  }
  return /** @type {Promise<WebAssembly.Module>} */ (compiling.get(build));
}

// @ts-check
// The one way JS code reaches the engine: load the wasm package once, and walk token
// streams with `for await`. Used by the worker, the browser tests and any later embed.

// The builds of the engine (see engine-loader.js): the same API, the CPU one without WebGPU,
// the remote one with burn's remote client; each through its entry in api/, which guards its
// classes against use after free().
/** @typedef {'cpu' | 'webgpu' | 'remote'} Build */
/** @typedef {typeof import('../pkg/kindling.js').Kindling} KindlingClass every build's: one API */
/** @typedef {import('../pkg/kindling.js').GenerationStream} GenerationStream */
/** @typedef {import('../pkg/kindling.js').Token} Token */

/** @type {Record<Build, URL>} */
const PKG_URLS = {
  cpu: new URL('./api/cpu.js', import.meta.url),
  webgpu: new URL('./api/webgpu.js', import.meta.url),
  remote: new URL('./api/remote.js', import.meta.url),
};

/** @type {Map<string, Promise<KindlingClass>>} */
const loading = new Map(); // build → promise of its Kindling class

// Resolves to the `Kindling` class of `build` ('cpu': pkg/, 'webgpu': pkg-webgpu/, 'remote':
// pkg-remote/).
// Initialises each build's wasm module on its first call only; a failed load is forgotten so
// a later call can try again. `module` is that build's already compiled WebAssembly.Module (a
// page compiles it once and hands it to each worker); without it the .wasm is fetched next to
// the build's kindling.js. Several builds can live in one worker, each with its own memory.
/**
 * @param {WebAssembly.Module | null | undefined} module
 * @param {Build} [build] checked here too: a page may pass any string
 * @returns {Promise<KindlingClass>}
 */
export function loadKindling(module, build = 'cpu') {
  if (!PKG_URLS[build])
    return Promise.reject(new Error(`unknown engine build ${build}: use "cpu", "webgpu" or "remote"`));
  if (!loading.has(build)) {
    const load = (async () => {
      const pkg = await import(PKG_URLS[build].href);
      await pkg.default(module ? { module_or_path: module } : undefined);
      return pkg.Kindling;
    })().catch((error) => {
      loading.delete(build);
      throw error;
    });
    loading.set(build, load);
  }
  return /** @type {Promise<KindlingClass>} */ (loading.get(build));
}

// Makes an engine token stream `for await`-iterable, yielding
// { text, id, prob, top: [{ text, prob }] } per token. The stream's wasm memory is freed
// when the loop ends, breaks or throws.
/**
 * @param {GenerationStream} stream
 * @returns {AsyncGenerator<Token, void, undefined>}
 */
export async function* tokens(stream) {
  try {
    for (;;) {
      const { done, value } = await stream.next();
      if (done) return;
      yield value;
    }
  } finally {
    stream.free();
  }
}

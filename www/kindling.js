// The one way JS code reaches the engine: load the wasm package once, and walk token
// streams with `for await`. Used by the worker, the browser tests and any later embed.

const PKG_URL = new URL('../pkg/kindling.js', import.meta.url);

let loading = null;

// Resolves to the engine's `Kindling` class. Initialises the wasm module on first call
// only; a failed load is forgotten so a later call can try again. `module` is an already
// compiled WebAssembly.Module (a page compiles it once and hands it to each worker);
// without it the .wasm is fetched next to pkg/kindling.js.
export function loadKindling(module) {
  loading ??= (async () => {
    const pkg = await import(PKG_URL.href);
    await pkg.default(module ? { module_or_path: module } : undefined);
    return pkg.Kindling;
  })().catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}

// Makes an engine token stream `for await`-iterable, yielding
// { text, id, prob, top: [{ text, prob }] } per token. The stream's wasm memory is freed
// when the loop ends, breaks or throws.
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

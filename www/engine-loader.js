// The page side of loading the engine: the .wasm is downloaded and compiled once per page,
// however many <kindling-playground> elements it has. Each element's worker instantiates
// the same compiled WebAssembly.Module (its own memory, no second download or compile).

const WASM_URL = new URL('../pkg/kindling_bg.wasm', import.meta.url);

// Progress of the one download, for every element that shows it:
// `progress` events with detail { loaded, total } (total 0 when the size is unknown).
export const loadProgress = new EventTarget();

let compiling = null;
let lastProgress = { loaded: 0, total: 0 };

export function wasmSupported() {
  return typeof WebAssembly === 'object' && typeof WebAssembly.compile === 'function';
}

export function currentProgress() {
  return lastProgress;
}

function report(loaded, total) {
  lastProgress = { loaded, total };
  loadProgress.dispatchEvent(new CustomEvent('progress', { detail: lastProgress }));
}

async function compile() {
  let response;
  try {
    response = await fetch(WASM_URL);
  } catch (error) {
    throw new Error(`could not download ${WASM_URL.pathname} (${error.message})`);
  }
  if (!response.ok) {
    throw new Error(`could not download ${WASM_URL.pathname}: the server answered ${response.status} ${response.statusText}`.trim());
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

// Resolves to the compiled engine module. The first call downloads and compiles; later
// calls share that promise. A failure is forgotten so a later call can try again.
export function compileEngine() {
  compiling ??= compile().catch((error) => {
    compiling = null;
    throw error;
  });
  return compiling;
}

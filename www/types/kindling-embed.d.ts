// 'kindling/embed' (www/kindling-embed.js): the element, defined as the module loads, and the
// engine loader's functions a page may call before any element is in view.
export * from './kindling-playground.js';

/** Whether this browser can run the engine (WebAssembly). */
export function wasmSupported(): boolean;
/** The compiled engine of `build`, downloaded and compiled once per page. */
export function compileEngine(build?: 'cpu' | 'webgpu' | 'remote'): Promise<WebAssembly.Module>;

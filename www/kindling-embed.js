// @ts-check
// Kindling for blogs: include this one module and write <kindling-playground> elements
// anywhere in the page.
//
//   <script type="module" src="/kindling/www/kindling-embed.js"></script>
//   <kindling-playground mode="generate" model-src="/models/demo.kindling" autoplay></kindling-playground>
//
// Everything else it needs is found relative to this file: the rest of www/ (the element,
// its parts in www/playground/, its workers and stylesheet) and ../pkg/ (the engine). Copy www/ and pkg/ side by
// side into any folder of a static site; no server code and no build step. The attributes,
// the CSS custom properties and the Content-Security-Policy it works under: docs/embedding.md.
//
// Nothing heavy happens here: each element shows a placeholder at once, and the engine
// (the .wasm) is downloaded and compiled only when an element first scrolls into view or
// is interacted with, once for all the elements on the page. The element's properties,
// methods and events (for a page that drives it from script) are documented at the top of
// kindling-playground.js.
export { KindlingPlayground } from './kindling-playground.js';
export { compileEngine, wasmSupported } from './engine-loader.js';

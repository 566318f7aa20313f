// Misuses of <kindling-playground> that its declaration must refuse (pkg-tests/package.test.mjs
// type-checks this file with `tsc --noEmit --strict` next to copies of www/types/*.d.ts and
// pkg/kindling.d.ts): every line marked `// error:` must have a type error, and no other line may.
import { KindlingPlayground } from './www/types/kindling-embed.js';

const element = document.querySelector('kindling-playground');
if (!element) throw new Error('no <kindling-playground> on this page');
element.stepz; // error: a misspelt property
element.steps = '200'; // error: steps is a number
element.mode = 'fullscreen'; // error: no such mode
element.pace = 'fast'; // error: no such pace
element.preset = 'huge'; // error: no such preset
element.autoplay = 'yes'; // error: autoplay is a boolean
element.ready = true; // error: read-only
element.phase = 'training'; // error: read-only
element.backend === 'gpu'; // error: no such backend
element.addEventListener('kindling-metrics', ({ detail }) => detail.loss); // error: no such detail field
element.addEventListener('kindling-metrics', ({ detail }) => detail.valLoss.toFixed(2)); // error: may be null
element.addEventListener('kindling-token', ({ detail }) => detail.top[0].probability); // error: it is prob
element.addEventListener('kindling-finished', ({ detail }) => detail.text); // error: only a generation's has text
document.addEventListener('kindling-error', ({ detail }) => detail.kind === 'oops'); // error: no such error kind
element.generate(42); // error: the prompt is a string
element.connectPeer({ address: 'peer-address' }); // error: a peer needs its secret
const result = await element.generate();
if (result.reason === 'finished') throw new Error(result.text); // error: no such reason
new KindlingPlayground().train(5); // error: train() takes no steps

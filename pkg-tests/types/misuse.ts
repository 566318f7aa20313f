// Misuses of the engine's API that its declarations must refuse (pkg-tests/package.test.mjs
// type-checks this file with `tsc --noEmit --strict` next to a copy of pkg/kindling.d.ts):
// every line marked `// error:` must have a type error, and no other line may.
import init, { Kindling, type KindlingError } from './pkg/kindling.js';

await init();
const k = await Kindling.create({ preset: 'huge' }); // error: no such preset
await Kindling.create({ text: 'abc', backend: 'gpu' }); // error: no such backend
await Kindling.create({ text: 'abc', nLayr: 2 }); // error: a misspelt option
await Kindling.create({ text: 'abc', nLayer: '2' }); // error: a number as a string
await k.trainSteps('5'); // error: steps is a number
const metrics = await k.trainSteps(5);
metrics.valLoss.toFixed(2); // error: valLoss is optional
const stream = k.generate('the ', { temprature: 0.5 }); // error: a misspelt sampling option
const first = await stream.next();
first.value.text; // error: value is undefined once done
k.backend = 'cpu'; // error: read-only
Kindling.fromBytes('not bytes'); // error: a checkpoint is a Uint8Array
try {
  await k.evaluate();
} catch (error) {
  if ((error as KindlingError).kind === 'oops') throw error; // error: no such error kind
}

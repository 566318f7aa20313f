// An app that installed the package (`npm install kindling`) and imports it by name:
// pkg-tests/package.test.mjs type-checks this file with `tsc --noEmit --strict` in a scratch
// folder where the packed tarball is installed, so the `types` of the package's exports are
// what resolves here.
import init, { Kindling, type CreateOptions, type KindlingError, type Token } from 'kindling';
import type { Trained } from 'kindling/pkg/kindling.js';
import 'kindling/embed'; // defines <kindling-playground>

await init();
const options: CreateOptions = { text: 'the cat sat on the mat. '.repeat(40), preset: 'tiny', backend: 'cpu' };
const report = Kindling.validate(options);
if (!report.ok) console.log(report.errors.map(({ field, kind }) => `${field}: ${kind}`));
const k = await Kindling.create(options);
const trained: Trained = await k.trainSteps(5);
console.log(trained.step, trained.trainLoss, trained.valLoss ?? null, k.backend, k.history.length);
const tokens: Token[] = [];
const stream = k.generate('the ', { maxTokens: 10, seed: 1 });
for (let t = await stream.next(); !t.done; t = await stream.next()) tokens.push(t.value);
const saved: Uint8Array = await k.toBytes();
try {
  await Kindling.fromBytes(saved.subarray(0, 10));
} catch (error) {
  const { kind, errors } = error as KindlingError;
  console.log(kind === 'checkpoint', errors?.length);
}
k.free();

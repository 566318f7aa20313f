// An app that installed the package (`npm install kindling`) and imports it by name:
// pkg-tests/package.test.mjs type-checks this file with `tsc --noEmit --strict` in a scratch
// folder where the packed tarball is installed, so the `types` of the package's exports are
// what resolves here.
import init, { Kindling, type CreateOptions, type KindlingError, type Token } from 'kindling';
import type { Trained } from 'kindling/pkg/kindling.js';
import 'kindling/embed'; // defines <kindling-playground>
import type { KindlingPlayground, FinishedDetail, MetricsDetail } from 'kindling/element';

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

// The element, typed by its declaration: the tag, its properties, methods and events.
const playground = document.querySelector('kindling-playground');
if (playground) {
  const state: [boolean, string, number] = [playground.ready, playground.phase, playground.step];
  const steps: number | null = playground.steps;
  playground.steps = 200;
  playground.mode = 'train';
  playground.budget = 'until-stopped';
  playground.autoplay = false;
  console.log(state, steps, playground.backend ?? 'no model', playground.modelSrc?.length);
  playground.addEventListener('kindling-metrics', ({ detail }) => {
    const metrics: MetricsDetail = detail;
    console.log(metrics.step, metrics.totalSteps, detail.valLoss?.toFixed(3) ?? 'not evaluated yet');
  });
  playground.addEventListener('kindling-finished', async ({ detail }: CustomEvent<FinishedDetail>) => {
    if (detail.task === 'generation') console.log(detail.reason, detail.text.length, detail.tokens);
    else if (detail.keptBestFrom !== undefined) console.log(`kept step ${detail.keptBestFrom}'s weights`);
    else console.log((await playground.generate('The ')).text);
  });
  playground.addEventListener('kindling-token', ({ detail }) => console.log(detail.text, detail.top[0]?.prob));
  playground.addEventListener('click', (event) => console.log(event.clientX)); // the DOM's own events too
  document.addEventListener('kindling-error', ({ detail }) => console.log(detail.source, detail.kind ?? 'unknown'));
  try {
    await playground.train();
  } catch (error) {
    console.log((error as KindlingError).kind === 'config');
  }
  playground.stop();
}
const made: KindlingPlayground = document.createElement('kindling-playground');
document.body.append(made);

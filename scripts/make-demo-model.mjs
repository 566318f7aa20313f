#!/usr/bin/env node
// Trains the small model that www/embed-example.html's `generate` embed loads, in headless
// Chromium with the built pkg/ (no cargo), and writes it as www/models/demo.kindling.
//   node scripts/make-demo-model.mjs [--steps 1500] [--out www/models/demo.kindling]
// The corpus is the playground's "Tiny grammar" sample (www/samples.js), which the project
// generates itself from a fixed seed (the trained weights still differ a little between runs).
// Takes about 15 s on two cores; the file is about 370 KB (weights, optimizer state and
// the training text), small enough to commit. Re-run it when the checkpoint format changes.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { startServer, launchBrowser, REPO } from '../pkg-tests/browser.mjs';

function parseArgs(argv) {
  const options = { steps: 1500, out: join(REPO, 'www/models/demo.kindling') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--steps') options.steps = Number(argv[++i]);
    else if (argv[i] === '--out') options.out = resolve(argv[++i]);
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  if (!Number.isInteger(options.steps) || options.steps < 1) throw new Error('--steps needs a whole number');
  return options;
}

const options = parseArgs(process.argv.slice(2));
const server = await startServer({ csp: true });
const browser = await launchBrowser();
try {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/pkg-tests/pkg-page.html`);
  await page.waitForFunction(() => document.body.dataset.state, null, { timeout: 120_000 });
  const failure = await page.evaluate(() => document.body.dataset.error);
  if (failure) throw new Error(`the engine failed to load: ${failure}`);

  const result = await page.evaluate(async (steps) => {
    const { SAMPLES } = await import('/www/samples.js');
    const text = await SAMPLES.find((sample) => sample.id === 'grammar').load();
    const model = await Kindling.create({ text, preset: 'tiny', maxSteps: steps, backend: 'cpu' });
    let metrics;
    while (model.step < steps) metrics = await model.trainSteps(Math.min(100, steps - model.step));
    const valLoss = await model.evaluate();
    const bytes = await model.toBytes();
    const stream = model.generate('The ', { maxTokens: 160, temperature: 0.8, topK: 20, seed: 1 });
    let sample = 'The ';
    for (;;) {
      const { done, value } = await stream.next();
      if (done) break;
      sample += value.text;
    }
    stream.free();
    model.free();
    // Plain array: a Uint8Array would arrive in Node as an object of indices.
    return { bytes: Array.from(bytes), trainLoss: metrics.trainLoss, valLoss, sample };
  }, options.steps);

  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, Uint8Array.from(result.bytes));
  const loss = (value) => (typeof value === 'number' ? value.toFixed(3) : JSON.stringify(value));
  console.log(`wrote ${options.out} (${result.bytes.length} bytes, ${options.steps} steps, ` +
    `train loss ${loss(result.trainLoss)}, val loss ${loss(result.valLoss)})`);
  console.log(`sample:\n${result.sample}`);
} finally {
  await browser.close();
  server.close();
}

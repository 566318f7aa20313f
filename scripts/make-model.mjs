#!/usr/bin/env node
// Trains one of the models the project ships, in headless Chromium with the built pkg/ (no
// cargo: the file is made by the engine the page runs), and writes it under www/models/.
//   node scripts/make-model.mjs demo|base [--steps N] [--out FILE]
// Re-run them when the checkpoint format changes; the trained weights differ a little between
// runs (float sums in another order), the recipes do not.
//
// demo — www/models/demo.kindling, the model of www/embed-example.html's `generate` embed: the
//   playground's "Tiny grammar" sample (www/samples.js, which the project generates itself from a
//   fixed seed), the tiny preset's shape with the budgets' recipe (RECIPE: val 0.266 nats per
//   token after 1,500 steps, where nanoGPT's recipe reached 0.283). About 15 s on two cores,
//   ~260 KB with optimizer state.
// base — www/models/base.kindling, the page's "Start from: base model": a byte-level (BPE) GPT
//   pretrained on Shakespeare (Karpathy's tinyshakespeare, public domain, read from
//   ../shared/data/: the repo ships the weights, not the corpus). Its vocabulary is the 256 bytes
//   and 256 merges, so it reads and can be fine-tuned on text in any language. Saved without
//   optimizer state; with its training text it stays under 2 MB.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { openPackagePage, REPO } from '../pkg-tests/browser.mjs';

// The base's corpus: the first 900,000 characters of tinyshakespeare (of 1,115,394). The model
// file carries its training text, and all of it would take the file past 2 MB.
const BASE_CHARS = 900_000;

// What training budgets train a GPT with: ReLU², rotary positions, Muon, a linear fall to zero.
const RECIPE = { activation: 'relu2', positions: 'rotary', optimizer: 'muon', decay: 'linear', minLearningRate: 0 };

const RECIPES = {
  demo: {
    steps: 1500,
    text: { sample: 'grammar' },
    // tiny's shape with the budgets' recipe (docs/benchmarks.md#the-recipe).
    options: { preset: 'tiny', ...RECIPE },
    save: {},
    prompt: 'The ',
  },
  base: {
    steps: 3000,
    text: { file: join(REPO, '../shared/data/tinyshakespeare.txt'), chars: BASE_CHARS },
    options: {
      preset: 'tiny',
      tokenizer: 'bpe',
      merges: 256,
      nLayer: 4,
      nHead: 4,
      nEmbd: 64,
      blockSize: 64,
      batchSize: 16,
      learningRate: 2e-3,
      minLearningRate: 2e-4,
      warmupSteps: 100,
      evalInterval: 500,
      evalBatches: 20,
      // nanoGPT's recipe, not RECIPE: a base made with RECIPE (val 3.080 nats/token after the
      // same 3,000 steps, against 3.241) fine-tuned on French lost to scratch after 30 steps
      // (3.139 bits/char against 3.041; tests/native/fine_tune.rs), which is the base's job.
    },
    save: { optimizer: false },
    prompt: 'ROMEO:\n',
  },
};

function parseArgs(argv) {
  const recipe = RECIPES[argv[0]];
  if (!recipe) throw new Error(`usage: make-model.mjs ${Object.keys(RECIPES).join('|')} [--steps N] [--out FILE]`);
  const options = { recipe, steps: recipe.steps, out: join(REPO, `www/models/${argv[0]}.kindling`) };
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--steps') options.steps = Number(argv[++i]);
    else if (argv[i] === '--out') options.out = resolve(argv[++i]);
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  if (!Number.isInteger(options.steps) || options.steps < 1) throw new Error('--steps needs a whole number');
  return options;
}

async function corpus({ file, chars }) {
  if (!file) return null;
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(`the corpus ${file} is missing (it lives in ../shared/data/, beside the checkout)`);
  });
  return text.slice(0, chars);
}

const { recipe, steps, out } = parseArgs(process.argv.slice(2));
const fileText = await corpus(recipe.text);
const { server, browser, page } = await openPackagePage();
try {
  const result = await page.evaluate(
    async ({ recipe, steps, fileText }) => {
      const { SAMPLES } = await import('/www/samples.js');
      const text = fileText ?? (await SAMPLES.find((sample) => sample.id === recipe.text.sample).load());
      const model = await Kindling.create({ ...recipe.options, text, maxSteps: steps, backend: 'cpu' });
      const started = performance.now();
      let metrics;
      while (model.step < steps) metrics = await model.trainSteps(Math.min(100, steps - model.step));
      const seconds = (performance.now() - started) / 1000;
      const valLoss = await model.evaluate();
      const bytes = await model.toBytes(recipe.save);
      const stream = model.generate(recipe.prompt, { maxTokens: 160, temperature: 0.8, topK: 20, seed: 1 });
      let sample = recipe.prompt;
      for (;;) {
        const { done, value } = await stream.next();
        if (done) break;
        sample += value.text;
      }
      stream.free();
      const { parameterCount, vocabSize } = model;
      model.free();
      // Plain array: a Uint8Array would arrive in Node as an object of indices.
      return { bytes: Array.from(bytes), metrics, valLoss, sample, seconds, parameterCount, vocabSize };
    },
    { recipe, steps, fileText },
  );

  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, Uint8Array.from(result.bytes));
  const { metrics } = result;
  const figure = (value) => (typeof value === 'number' ? value.toFixed(3) : JSON.stringify(value));
  console.log(
    `wrote ${out} (${result.bytes.length} bytes, ${result.parameterCount} parameters, ` +
      `vocabulary ${result.vocabSize}, ${steps} steps in ${result.seconds.toFixed(0)} s)`,
  );
  console.log(
    `train loss ${figure(metrics.trainLoss)}, val loss ${figure(result.valLoss)} nats/token, ` +
      `val ${figure(metrics.valBitsPerChar)} bits/char at the last evaluation`,
  );
  console.log(`sample:\n${result.sample}`);
} finally {
  await browser.close();
  server.close();
}

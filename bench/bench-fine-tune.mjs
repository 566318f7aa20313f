// Fine-tuning against training from scratch, in headless Chromium (scripts/bench-fine-tune.sh):
// the base model (www/models/base.kindling, English) fine-tuned on a text in another language
// with every weight and with LoRA, and the same shape trained from scratch on that text, for
// the same steps and settings. Prints the val bits per character along the way as a Markdown
// table; writes the raw figures as JSON.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO, openPackagePage } from '../pkg-tests/browser.mjs';
import { busyWarning, waitIdle, parseArgs, machine, machineLine, log, markdownTable, writeJson } from './common.mjs';

const opts = parseArgs(process.argv.slice(2), {
  base: 'www/models/base.kindling',
  text: 'www/samples/scene-fr.txt',
  command: 'scripts/bench-fine-tune.sh',
  out: 'bench/results/fine-tune-latest.json',
  steps: 150,
  every: 25,
  rank: 8,
  // Peak learning rates: from scratch, fine-tuning every weight, LoRA's adapters (a low-rank
  // update starting at zero takes a larger rate to move as far).
  lr: 2e-3,
  tuneLr: 2e-3,
  loraLr: 1e-2,
});

const BUSY = await waitIdle(0);
const base = Array.from(readFileSync(resolve(REPO, opts.base)));
const text = readFileSync(resolve(REPO, opts.text), 'utf8');
const { server, browser, page } = await openPackagePage();
let runs;
try {
  log(`${opts.steps} steps each: fine-tune (all weights, LoRA r=${opts.rank}) and scratch ...`);
  runs = await page.evaluate(
    async ({ base, text, steps, every, rank, tuneLr, loraLr, lr }) => {
      const bytes = Uint8Array.from(base);
      const rate = (peak) => ({ learningRate: peak, minLearningRate: peak / 10 });
      const settings = {
        text,
        maxSteps: steps,
        warmupSteps: 10,
        ...rate(lr),
        evalInterval: every,
        evalBatches: 8,
        seed: 7,
        backend: 'cpu',
      };
      const curve = async (model) => {
        const points = [{ step: 0, valBitsPerChar: null, valLoss: await model.evaluate() }];
        const started = performance.now();
        while (model.step < steps) {
          const metrics = await model.trainSteps(every);
          points.push({ step: model.step, valBitsPerChar: metrics.valBitsPerChar, valLoss: metrics.valLoss });
        }
        const msPerStep = (performance.now() - started) / steps;
        const { trainable, frozen } = model.parameters;
        model.free();
        return { points, msPerStep, trainable, frozen };
      };
      const probe = await Kindling.fineTune(bytes, { text, backend: 'cpu' });
      const shape = probe.config;
      probe.free();
      const { nLayer, nHead, nEmbd, blockSize, batchSize, tokenizer, merges, model } = shape;
      return {
        'fine-tuned, every weight': await curve(await Kindling.fineTune(bytes, { ...settings, ...rate(tuneLr) })),
        [`fine-tuned, LoRA r=${rank}`]: await curve(
          await Kindling.fineTune(bytes, { ...settings, ...rate(loraLr), loraRank: rank }),
        ),
        'from scratch, same shape': await curve(
          await Kindling.create({ ...settings, model, nLayer, nHead, nEmbd, blockSize, batchSize, tokenizer, merges }),
        ),
        'from scratch, same shape, characters': await curve(
          await Kindling.create({ ...settings, model, nLayer, nHead, nEmbd, blockSize, batchSize }),
        ),
      };
    },
    {
      base,
      text,
      steps: opts.steps,
      every: opts.every,
      rank: opts.rank,
      tuneLr: opts.tuneLr,
      loraLr: opts.loraLr,
      lr: opts.lr,
    },
  );
} finally {
  await browser.close();
  server.close();
}

const info = machine();
const steps = runs['from scratch, same shape'].points.map((point) => point.step).filter((step) => step > 0);
const markdown = [
  `Measured ${info.date.slice(0, 10)} on ${machineLine(info)}; Kindling ${info.commit ?? ''}.`,
  '',
  `Command: \`${opts.command}\` (text: \`${opts.text}\`, ${text.length.toLocaleString('en-US')} characters)`,
  '',
  markdownTable(
    ['run', 'trainable / frozen parameters', ...steps.map((step) => `val bits/char @ ${step}`), 'ms/step'],
    Object.entries(runs).map(([name, run]) => [
      name,
      `${run.trainable.toLocaleString('en-US')} / ${run.frozen.toLocaleString('en-US')}`,
      ...run.points.slice(1).map((point) => point.valBitsPerChar?.toFixed(3) ?? '–'),
      run.msPerStep.toFixed(0),
    ]),
  ),
  '',
  ...(busyWarning(BUSY) ? [`- ${busyWarning(BUSY)}`] : []),
  `- Same steps and settings for all four (10 warmup steps, cosine to a tenth of the peak rate over the run, the base's batch and context, 8 validation batches, seed 7) but the peak learning rate: ${opts.lr} from scratch, ${opts.tuneLr} fine-tuning every weight, ${opts.loraLr} for LoRA's adapters. Scratch learns its own 256 BPE merges from the text's training part; the fine-tunes keep the base's.`,
].join('\n');
console.log(markdown);
writeJson(resolve(REPO, opts.out), { machine: info, opts, runs });

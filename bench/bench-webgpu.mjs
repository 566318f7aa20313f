// WebGPU's cost per training step and per generated token, counted in GPU calls (dispatches,
// submits, read-backs, pipelines: bench/gpu-calls.js) beside milliseconds, in headless
// Chromium with --enable-unsafe-webgpu. Run through scripts/bench-webgpu.sh. On a machine
// without a GPU the adapter is SwiftShader (a CPU emulating one): its milliseconds say little
// about a real GPU, its counts are what a real GPU would be asked to do.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO, startServer, launchBrowser, openPage } from './browser.mjs';
import { parseArgs, machine, machineLine, log, fmt, markdownTable, writeJson } from './common.mjs';

const opts = parseArgs(process.argv.slice(2), {
  data: '../shared/data/tinyshakespeare.txt',
  command: 'scripts/bench-webgpu.sh',
  out: 'bench/results/webgpu-latest.json',
  steps: 5,
  warmup: 2, // steps before the timed ones, the first (shader compilation) included
  tokens: 20,
  models: 'tiny,baby-gpt,gpt-256,seed-lstm',
});

const MODELS = {
  tiny: { preset: 'tiny' },
  'baby-gpt': { preset: 'baby-gpt' },
  'gpt-256': { preset: 'baby-gpt', nEmbd: 256 },
  'seed-lstm': { preset: 'seed-lstm' },
  // The same kernels per step as seed-lstm (100 time steps, 2 layers of 512) on 2 rows instead
  // of 32: the counts are seed-lstm's, and SwiftShader finishes a step in minutes, not tens.
  'seed-lstm-b2': { preset: 'seed-lstm', batchSize: 2 },
  // seed-lstm's layers on 8 time steps of 2 rows: an RNN's kernels per step grow with the
  // context, so this gives the per-time-step figure where the whole context cannot finish.
  'seed-lstm-t8': { preset: 'seed-lstm', batchSize: 2, blockSize: 8 },
  'seed-lstm-t16': { preset: 'seed-lstm', batchSize: 2, blockSize: 16 },
  // The same at 64 hidden units and 32-wide embeddings: the kernels are seed-lstm's (the counts
  // match -t8 and -t16 at 2026-12-06), the steps take seconds on SwiftShader rather than minutes.
  'lstm-64-t8': { preset: 'seed-lstm', batchSize: 2, blockSize: 8, hiddenSize: 64, nEmbd: 32 },
  'lstm-64-t16': { preset: 'seed-lstm', batchSize: 2, blockSize: 16, hiddenSize: 64, nEmbd: 32 },
};
const models = opts.models.split(',');
for (const m of models)
  if (!MODELS[m]) throw new Error(`unknown model ${m}: choose from ${Object.keys(MODELS).join(', ')}`);

const TEXT = readFileSync(resolve(REPO, opts.data), 'utf8');
const results = {};
let gpu = null;
const server = await startServer();
const browser = await launchBrowser();
try {
  for (const model of models) {
    // A fresh page per model: its pipelines are compiled from scratch, as a reader's would be.
    const { page, ready } = await openPage(
      browser.context,
      `${server.url}/bench/kindling-bench.html?count-gpu`,
      'benchReady',
    );
    try {
      if (!ready.ok) throw new Error(`page not ready: ${ready.error}`);
      gpu ??= await page.evaluate(() => window.bench.gpuInfo());
      log(`${model}: counting ...`);
      const options = { ...MODELS[model], backend: 'webgpu' };
      const args = { text: TEXT, options, warmup: opts.warmup, steps: opts.steps, tokens: opts.tokens };
      results[model] = await page.evaluate((a) => window.bench.gpuCounts(a), args);
    } catch (error) {
      results[model] = { ok: false, error: error.message.split('\n')[0] };
    } finally {
      await page.close().catch(() => {});
    }
    const r = results[model];
    log(`${model}: ${r.ok ? `${r.single.dispatches} dispatches, ${r.single.ms.toFixed(0)} ms per step` : r.error}`);
    writeJson(resolve(REPO, opts.out), { command: opts.command, options: opts, gpu, results }); // so far
  }
} finally {
  await browser.close();
  server.close();
}

const n = (value) => (value == null ? '—' : Number.isInteger(value) ? String(value) : value.toFixed(1));
const headers = [
  'model',
  'parameters',
  'first step: ms / pipelines',
  'step: dispatches / submits / read-backs / writes',
  'step ms',
  `step in a ${opts.steps}-step chunk: dispatches / submits / read-backs`,
  'chunk ms/step',
  'token: dispatches / submits / read-backs / pipelines',
  'token ms',
];
const rows = models.map((model) => {
  const r = results[model];
  if (!r.ok) return [model, `unavailable: ${r.error}`, '', '', '', '', '', '', ''];
  return [
    model,
    r.parameterCount.toLocaleString('en-US'),
    `${fmt.ms(r.firstStep.ms)} / ${r.firstStep.pipelines}`,
    [r.single.dispatches, r.single.submits, r.single.readbacks, r.single.writes].map(n).join(' / '),
    fmt.ms(r.single.ms),
    [r.chunk.dispatches, r.chunk.submits, r.chunk.readbacks].map(n).join(' / '),
    fmt.ms(r.chunk.ms),
    [r.token.dispatches, r.token.submits, r.token.readbacks, r.token.pipelines].map(n).join(' / '),
    fmt.ms(r.token.ms),
  ];
});
const info = machine();
const adapter = gpu?.ok
  ? `${gpu.vendor || '?'} ${gpu.architecture || ''} ${gpu.description || ''}${gpu.isFallbackAdapter ? ' (fallback adapter)' : ''}`
      .replace(/\s+/g, ' ')
      .trim()
  : (gpu?.error ?? 'not checked');
const markdown = [
  `Measured ${info.date.slice(0, 10)} on ${machineLine(info)}; WebGPU adapter: ${adapter}; Kindling ${info.commit ?? ''}, pkg-webgpu/ built ${statSync(resolve(REPO, 'pkg-webgpu/kindling_bg.wasm')).mtime.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  '',
  `Command: \`${opts.command}\``,
  '',
  markdownTable(headers, rows),
  '',
  `- Per step: the mean of ${opts.steps} trainSteps(1) calls after ${opts.warmup} warm-up steps (each call reads its loss back); chunk: one trainSteps(${opts.steps}), per step. Per token: ${opts.tokens} tokens after the second, from "ROMEO:" at temperature 0.8. Pipelines: compiled during the first step, and per token after the second (the model's creation and the first two tokens compile more: see the JSON).`,
].join('\n');
console.log(markdown);
const out = resolve(REPO, opts.out);
writeJson(out, { machine: info, command: opts.command, options: opts, gpu, results, markdown });
log(`raw figures: ${out}`);

// The in-browser speed benchmark, run through scripts/bench-browser.sh: in headless
// Chromium, ms per training step and generation tokens/s of tiny, baby-gpt and a 256-dim GPT,
// on the CPU and on WebGPU. A backend the engine refuses is reported with the engine's own message, never
// with numbers. Prints a Markdown table; writes the raw figures as JSON.
import { readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { REPO, startServer, launchBrowser, openPage } from './browser.mjs';
import {
  busyWarning,
  waitIdle,
  cpuMeter,
  parseArgs,
  machine,
  machineLine,
  parallelProbe,
  log,
  fmt,
  markdownTable,
  writeJson,
} from './common.mjs';

const opts = parseArgs(process.argv.slice(2), {
  data: '../shared/data/tinyshakespeare.txt',
  command: 'scripts/bench-browser.sh',
  out: 'bench/results/browser-latest.json',
  iters: 20,
  warmup: 5, // WebGPU's first step compiles its shaders (seconds on SwiftShader)
  genTokens: 200,
  genRuns: 3,
  models: 'tiny,baby-gpt,gpt-256',
  backends: 'cpu,cpu-helpers,webgpu',
  helpers: Math.min(cpus().length - 1, 3), // helper workers of the cpu-helpers column
  quick: false,
  waitIdle: 0, // seconds to wait for other processes to leave the CPU before starting
});
if (opts.quick) Object.assign(opts, { iters: 3, warmup: 1, genTokens: 30 });

const MODELS = {
  tiny: { preset: 'tiny' },
  'baby-gpt': { preset: 'baby-gpt' },
  // 256 dims, otherwise baby-GPT's shape: 4 layers, 4 heads, context 64, batch 12.
  'gpt-256': { preset: 'baby-gpt', nEmbd: 256 },
};
// cpu-helpers: the CPU with helper workers computing shards of each batch (www/worker/helper-pool.js);
// it generates as the CPU does, so only its training is measured.
const BACKENDS = {
  cpu: { backend: 'cpu', helpers: 0, label: 'CPU' },
  'cpu-helpers': {
    backend: 'cpu',
    helpers: opts.helpers,
    label: `CPU + ${opts.helpers} helper${opts.helpers === 1 ? '' : 's'}`,
  },
  webgpu: { backend: 'webgpu', helpers: 0, label: 'WebGPU' },
};
const models = opts.models.split(',');
const backends = opts.backends.split(',');
for (const b of backends)
  if (!BACKENDS[b]) throw new Error(`unknown backend ${b}: choose from ${Object.keys(BACKENDS).join(', ')}`);
for (const m of models)
  if (!MODELS[m]) throw new Error(`unknown model ${m}: choose from ${Object.keys(MODELS).join(', ')}`);

const BUSY = await waitIdle(opts.waitIdle);
if (busyWarning(BUSY)) log(busyWarning(BUSY).replace(/\*/g, ''));
const TEXT = readFileSync(resolve(REPO, opts.data), 'utf8');
const results = {};
let gpu = null;
let browserWasm = null;
let problems = [];

const server = await startServer();
const browser = await launchBrowser();
try {
  const inPage = async (fn) => {
    const { page, ready } = await openPage(browser.context, `${server.url}/bench/kindling-bench.html`, 'benchReady');
    try {
      if (!ready.ok) return { ok: false, error: `page not ready: ${ready.error}` };
      return await fn(page);
    } finally {
      await page.close();
    }
  };
  gpu = await inPage((page) => page.evaluate(() => window.bench.gpuInfo()));
  browserWasm = await inPage((page) => page.evaluate(() => window.bench.wasmFeatures()));
  for (const model of models) {
    for (const backend of backends) {
      const { helpers } = BACKENDS[backend];
      const options = { ...MODELS[model], backend: BACKENDS[backend].backend };
      const meter = cpuMeter();
      log(`${model} on ${backend}: training ...`);
      const train = await inPage((page) =>
        page.evaluate((a) => window.bench.train(a), {
          text: TEXT,
          options,
          helpers,
          warmup: opts.warmup,
          iters: opts.iters,
          chunk: 10,
          chunks: 1,
        }),
      );
      log(`${model} on ${backend}: ${train.ok ? `${train.msPerIterMedian.toFixed(1)} ms/step` : train.error}`);
      log(`${model} on ${backend}: generating ...`);
      const generate = helpers
        ? { ok: false, error: 'generation does not use helpers' }
        : await inPage((page) =>
            page.evaluate((a) => window.bench.generate(a), {
              text: TEXT,
              options,
              maxTokens: opts.genTokens,
              runs: opts.genRuns,
            }),
          );
      log(`${model} on ${backend}: ${generate.ok ? `${generate.tokensPerSecond.toFixed(0)} tok/s` : generate.error}`);
      const otherCores = meter.stop();
      if (otherCores > 0.2)
        log(`${model} on ${backend}: other processes used ${otherCores.toFixed(2)} cores meanwhile`);
      results[`${model}/${backend}`] = { model, backend, options, train, generate, otherCores };
    }
  }
  problems = browser.problems;
} finally {
  await browser.close();
  server.close();
}

const unavailable = (r) => `unavailable: ${r.error}`;
const headers = ['model', 'parameters'];
for (const b of backends) {
  const name = BACKENDS[b].label;
  headers.push(`${name} ms/step`, `${name} ms/step (10-step chunk)`, `${name} generate tok/s`, `${name} first token`);
}
const rows = models.map((model) => {
  const params = backends.map((b) => results[`${model}/${b}`].train).find((t) => t.ok)?.parameterCount;
  const row = [model, params == null ? '—' : params.toLocaleString('en-US')];
  for (const b of backends) {
    const { train, generate } = results[`${model}/${b}`];
    row.push(train.ok ? fmt.ms(train.msPerIterMedian) : unavailable(train));
    row.push(train.ok ? fmt.ms(train.chunkedMsPerIter) : '—');
    const generated = generate.ok
      ? fmt.rate(generate.tokensPerSecond, 'tok/s')
      : train.ok || generate.error !== train.error
        ? unavailable(generate)
        : '—';
    row.push(BACKENDS[b].helpers ? '(as CPU)' : generated);
    row.push(generate.ok ? fmt.ms(generate.firstTokenMs) : '—');
  }
  return row;
});

const info = { ...machine(), parallel: await parallelProbe(), browserWasm };
const notes = [
  `ms/step: median of ${opts.iters} trainSteps(1) calls (each reads the loss back) after ${opts.warmup} warm-up; chunk: one trainSteps(10) / 10. Generation: ${opts.genTokens} tokens from "ROMEO:" on the untrained model, tokens / time from generate() to the last token (first token included), median of ${opts.genRuns} calls after a first, untimed-in-the-table call (in the JSON as \`cold\`).`,
  `Models: tiny (2 layers, 32 dims, context 32, batch 16), baby-gpt (4 layers, 4 heads, 128 dims, context 64, batch 12), gpt-256 (baby-gpt with 256 dims).`,
  `WebGPU adapter: ${gpu?.ok ? `${gpu.vendor || '?'} ${gpu.architecture || ''} ${gpu.description || ''}${gpu.isFallbackAdapter ? ' (fallback adapter: SwiftShader, a CPU emulating a GPU; it proves correctness, not speed)' : ''}`.replace(/\s+/g, ' ').trim() : (gpu?.error ?? 'not checked')}.`,
];
if (busyWarning(BUSY)) notes.unshift(busyWarning(BUSY));
const disturbed = Object.entries(results).filter(([, r]) => r.otherCores > 0.2);
if (disturbed.length) {
  notes.unshift(
    `**WARNING: other processes used CPU during ${disturbed.map(([n, r]) => `${n} (${r.otherCores.toFixed(2)} cores)`).join(', ')}: those figures are unreliable; rerun on an idle machine.**`,
  );
}
if (opts.quick)
  notes.unshift('**QUICK RUN (--quick): a check of the harness with few iterations; these are not measurements.**');
if (problems.length) notes.push(`browser console errors: ${problems.slice(0, 5).join(' / ')}`);
const markdown = [
  `Measured ${info.date.slice(0, 10)} on ${machineLine(info)}; Kindling ${info.commit ?? ''}, pkg/ built ${statSync(resolve(REPO, 'pkg/kindling_bg.wasm')).mtime.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  '',
  `Command: \`${opts.command}\``,
  '',
  markdownTable(headers, rows),
  '',
  ...notes.map((n) => `- ${n}`),
].join('\n');
console.log(markdown);
const out = resolve(REPO, opts.out);
writeJson(out, {
  machine: { ...info, busyCoresAtStart: BUSY },
  command: opts.command,
  options: opts,
  gpu,
  results,
  problems,
  markdown,
});
log(`raw figures: ${out}`);

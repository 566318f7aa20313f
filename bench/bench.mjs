// Kindling side by side with PyTorch (the baby-GPT step) and TF.js (the LSTM step), plus
// generation speed and start-up; run through scripts/bench.sh, which installs what this needs
// first. Runs every leg one after the other (never two at once: 2 cores), prints a
// Markdown table with ratios and targets, and writes the raw figures as JSON.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO, startServer, launchBrowser, openPage } from './browser.mjs';
import {
  busyWarning,
  waitIdle,
  cpuMeter,
  parseArgs,
  machine,
  machineLine,
  parallelProbe,
  spawnCollect,
  lastJson,
  log,
  fmt,
  markdownTable,
  writeJson,
  replaceBlock,
} from './common.mjs';

const opts = parseArgs(process.argv.slice(2), {
  data: '../shared/data/tinyshakespeare.txt',
  torchPython: 'bench/.venv/bin/python',
  torchProblem: '',
  command: 'scripts/bench.sh',
  out: 'bench/results/latest.json',
  full: false,
  readme: false,
  quick: false,
  waitIdle: 0, // seconds to wait for other processes to leave the CPU before starting
  skipNative: false,
  skipTorch: false,
  skipBrowser: false,
  skipTfjs: false,
  iters: 50, // baby-GPT iterations timed (after the warm-up)
  warmup: 10,
  fullIters: 2000,
  lstmIters: 10, // LSTM steps timed; one step is ~1-5 s on these cores
  lstmWarmup: 2,
  tfjsCpuIters: 3, // TF.js's cpu backend is ~4x slower again
  genTokens: 500,
  genRuns: 3,
  loads: 3, // page loads for navigation -> engine ready
});
if (opts.quick) {
  Object.assign(opts, {
    iters: 5,
    warmup: 2,
    fullIters: 20,
    lstmIters: 2,
    lstmWarmup: 1,
    tfjsCpuIters: 1,
    genTokens: 50,
    genRuns: 1,
    loads: 1,
  });
} else if (opts.iters < 50) {
  throw new Error('--iters must be at least 50 (fewer make a noisy median); --quick checks the harness with fewer');
}

const BUSY = await waitIdle(opts.waitIdle);
if (busyWarning(BUSY)) log(busyWarning(BUSY).replace(/\*/g, ''));
const DATA = resolve(REPO, opts.data);
const TEXT = readFileSync(DATA, 'utf8');
const CORES = machine().cores;
// Helper workers for the 'with helpers' legs: one per core besides the training thread's.
const HELPERS = Math.min(CORES - 1, 3);

// The LSTM of part (b), as Kindling config overrides; TF.js builds the same shape.
const LSTM = {
  model: 'lstm',
  nLayer: 2,
  nEmbd: 128,
  hiddenSize: 128,
  blockSize: 64,
  batchSize: 64,
  learningRate: 1e-3,
  minLearningRate: 1e-3,
  warmupSteps: 0,
  weightDecay: 0,
  beta2: 0.999,
  dropout: 0,
  gradClip: 0,
};
const TFJS_LSTM = { embd: 128, hidden: 128, layers: 2, batch: 64, seq: 64, learningRate: 1e-3 };

const legs = {};
const skipped = (reason) => ({ ok: false, skipped: reason });
const failed = (error) => ({ ok: false, error: String(error?.message ?? error) });

async function leg(name, fn) {
  log(`${name} ...`);
  const start = Date.now();
  const meter = cpuMeter();
  try {
    legs[name] = await fn();
  } catch (error) {
    legs[name] = failed(error);
  }
  const r = legs[name];
  r.otherCores = meter.stop();
  if (name !== 'wasmSize' && r.ok && r.otherCores > 0.2)
    log(`${name}: other processes used ${r.otherCores.toFixed(2)} cores meanwhile`);
  log(
    `${name}: ${r.ok ? 'done' : r.skipped ? `skipped (${r.skipped})` : `FAILED: ${r.error}`} in ${((Date.now() - start) / 1000).toFixed(0)} s`,
  );
}

// --- (d) size ------------------------------------------------------------------------------
// The CPU build (pkg/, what every reader downloads) and the WebGPU one (pkg-webgpu/).
await leg('wasmSize', async () => {
  const size = (dir) => {
    const path = join(REPO, dir, 'kindling_bg.wasm');
    const gzip = Number(execSync(`gzip -9 -c ${dir}/kindling_bg.wasm | wc -c`, { cwd: REPO, encoding: 'utf8' }).trim());
    return { rawBytes: statSync(path).size, gzipBytes: gzip };
  };
  const gpu = size('pkg-webgpu');
  return {
    ok: true,
    ...size('pkg'),
    gpuRawBytes: gpu.rawBytes,
    gpuGzipBytes: gpu.gzipBytes,
    builtAt: statSync(join(REPO, 'pkg/kindling_bg.wasm')).mtime.toISOString(),
  };
});

// --- (a) PyTorch reference -------------------------------------------------------------------
async function torch(threads, iters, warmup, extra = []) {
  if (opts.skipTorch) return skipped('--skip-torch');
  if (opts.torchProblem) return skipped(opts.torchProblem);
  const { code, stdout, error } = await spawnCollect(resolve(REPO, opts.torchPython), [
    'bench/nanogpt_ref.py',
    '--data',
    DATA,
    '--threads',
    String(threads),
    '--iters',
    String(iters + warmup),
    '--warmup',
    String(warmup),
    '--json',
    ...extra,
  ]);
  const result = lastJson(stdout);
  if (code !== 0 || !result) return failed(error ?? `nanogpt_ref.py exited with ${code}`);
  return { ok: true, ...result };
}
await leg('torch1', () => torch(1, opts.iters, opts.warmup, ['--matmul']));
await leg('torchAll', () => torch(CORES, opts.iters, opts.warmup, ['--matmul']));

// --- Kindling native (Flex): the example bench binary ----------------------------------------
// The CPU build (--no-default-features: no wgpu to compile; the figures are Flex's).
// Contract: `cargo run --release --no-default-features --example bench -- train-baby-gpt --iters N --data PATH [--eval]`
// prints {msPerIterMedian, valLoss?, iters, ...}; `generate --preset P --tokens N` prints
// {tokensPerSecond, firstTokenMs, tokens}; one JSON object on the last line of stdout.
let nativeProblem = null;
if (opts.skipNative) nativeProblem = '--skip-native';
else if (!existsSync(join(REPO, 'examples/bench.rs'))) nativeProblem = 'native: not built yet (no examples/bench.rs)';
else {
  log('building the native bench example (cargo build --release --no-default-features --example bench)');
  const build = await spawnCollect('cargo', ['build', '--release', '--no-default-features', '--example', 'bench']);
  if (build.code !== 0)
    nativeProblem = `cargo build --release --no-default-features --example bench failed (${build.error ?? `exit ${build.code}`})`;
}
async function native(args) {
  if (nativeProblem) return skipped(nativeProblem);
  const { code, stdout, error } = await spawnCollect('cargo', [
    'run',
    '--release',
    '--quiet',
    '--no-default-features',
    '--example',
    'bench',
    '--',
    ...args,
    '--data',
    DATA,
    '--json',
  ]);
  const result = lastJson(stdout);
  if (code !== 0 || !result) return failed(error ?? `the native bench exited with ${code}`);
  return { ok: true, ...result };
}
// The native binary leaves its own first 5 iterations out of the median.
await leg('nativeTrain', () => native(['train-baby-gpt', '--iters', String(opts.iters + opts.warmup)]));
await leg('nativeGenGpt', () => native(['generate', '--preset', 'baby-gpt', '--tokens', String(opts.genTokens)]));
await leg('nativeGenLstm', () => native(['generate', '--preset', 'seed-lstm', '--tokens', String(opts.genTokens)]));

// --- Chromium: Kindling (CPU wasm) and TF.js --------------------------------------------------
const browserLegs = [
  'pageLoad',
  'browserTrain',
  'browserTrainHelpers',
  'browserLstm',
  'browserLstmHelpers',
  'browserGenGpt',
  'browserGenLstm',
];
if (opts.full) browserLegs.push('browserFull');
const tfjsLegs = ['tfjsWasm', 'tfjsWasmThreads', 'tfjsCpu'];
if (opts.skipBrowser) for (const name of browserLegs) legs[name] = skipped('--skip-browser');
if (opts.skipTfjs) for (const name of tfjsLegs) legs[name] = skipped('--skip-tfjs');

if (!opts.skipBrowser || !opts.skipTfjs) {
  const server = await startServer();
  const coiServer = await startServer({ coi: true });
  const browser = await launchBrowser();
  // Each leg gets a fresh page: wasm memory never shrinks, so one leg's peak must not shape the
  // next one's allocator.
  const inPage = async (base, path, readyGlobal, fn) => {
    const { page, ready } = await openPage(browser.context, `${base}/bench/${path}`, readyGlobal);
    try {
      if (!ready.ok) return failed(`page not ready: ${ready.error}`);
      return await fn(page, ready);
    } finally {
      await page.close();
    }
  };
  const kindling = (fn) => inPage(server.url, 'kindling-bench.html', 'benchReady', fn);
  const tfjs = (base, args) =>
    inPage(base, 'tfjs-bench.html', 'tfBenchReady', (page) =>
      page.evaluate((a) => window.tfBench.lstm(a), { text: TEXT, ...TFJS_LSTM, ...args }),
    );
  try {
    if (!opts.skipBrowser) {
      await leg('browserWasm', () =>
        kindling(async (page) => ({ ok: true, ...(await page.evaluate(() => window.bench.wasmFeatures())) })),
      );
      await leg('pageLoad', async () => {
        const loads = [];
        for (let i = 0; i < opts.loads; i++) loads.push(await kindling(async (_, ready) => ready));
        const ms = loads.map((l) => l.readyMs).sort((a, b) => a - b);
        return { ok: true, readyMsMedian: ms[ms.length >> 1], loads };
      });
      for (const [suffix, helpers] of [
        ['', 0],
        ['Helpers', HELPERS],
      ]) {
        await leg(`browserTrain${suffix}`, () =>
          kindling((page) =>
            page.evaluate((a) => window.bench.train(a), {
              text: TEXT,
              options: { preset: 'baby-gpt', backend: 'cpu' },
              helpers,
              warmup: opts.warmup,
              iters: opts.iters,
              chunk: 10,
              chunks: 3,
            }),
          ),
        );
        await leg(`browserLstm${suffix}`, () =>
          kindling((page) =>
            page.evaluate((a) => window.bench.train(a), {
              text: TEXT,
              options: { preset: 'seed-lstm', ...LSTM, backend: 'cpu' },
              helpers,
              warmup: opts.lstmWarmup,
              iters: opts.lstmIters,
              chunks: 0,
            }),
          ),
        );
      }
      for (const [name, preset] of [
        ['browserGenGpt', 'baby-gpt'],
        ['browserGenLstm', 'seed-lstm'],
      ]) {
        await leg(name, () =>
          kindling((page) =>
            page.evaluate((a) => window.bench.generate(a), {
              text: TEXT,
              options: { preset, backend: 'cpu' },
              maxTokens: opts.genTokens,
              runs: opts.genRuns,
            }),
          ),
        );
      }
    }
    if (!opts.skipTfjs) {
      const lstm = { warmup: opts.lstmWarmup, iters: opts.lstmIters };
      await leg('tfjsWasm', () => tfjs(server.url, { backend: 'wasm', ...lstm }));
      await leg('tfjsWasmThreads', () => tfjs(coiServer.url, { backend: 'wasm', ...lstm }));
      await leg('tfjsCpu', () => tfjs(server.url, { backend: 'cpu', warmup: 1, iters: opts.tfjsCpuIters }));
    }
    // The long runs last, so that the short comparisons above see the same machine.
    if (opts.full && !opts.skipBrowser) {
      await leg('browserFull', () =>
        kindling((page) =>
          page.evaluate((a) => window.bench.trainFull(a), {
            text: TEXT,
            options: { preset: 'baby-gpt', backend: 'cpu' },
            helpers: HELPERS,
            iters: opts.fullIters,
            chunk: 50,
          }),
        ),
      );
    }
    legs.browserProblems = browser.problems;
  } finally {
    await browser.close();
    server.close();
    coiServer.close();
  }
}
if (opts.full) {
  await leg('torchFull', () => torch(CORES, opts.fullIters - 10, 10, ['--eval']));
  await leg('nativeFull', () => native(['train-baby-gpt', '--iters', String(opts.fullIters), '--eval']));
}

// --- the table ---------------------------------------------------------------------------------
const value = (name, key) => (legs[name]?.ok ? (legs[name][key] ?? null) : null);
const why = (name) => {
  const r = legs[name];
  if (!r || r.ok) return null;
  const text = r.skipped ? `skipped: ${r.skipped}` : `failed: ${r.error}`;
  return text.length > 90 ? `${text.slice(0, 87)}...` : text;
};
const cell = (name, key, format) => why(name) ?? format(value(name, key));
const ratio = (a, b) => (a == null || b == null ? null : a / b);
const verdict = (ok, measured) => (!measured ? 'not measured' : ok ? 'yes' : 'no');

const rows = [];
const row = (component, figure, kindling, reference, r, target = '—', met = '—') =>
  rows.push([component, figure, kindling, reference, fmt.ratio(r), target, met]);

// (a)
const kBrowser = value('browserTrain', 'msPerIterMedian');
const kHelpers = value('browserTrainHelpers', 'msPerIterMedian');
const kNative = value('nativeTrain', 'msPerIterMedian');
const t1 = value('torch1', 'msPerIterMedian');
const tAll = value('torchAll', 'msPerIterMedian');
const withHelpers = `with ${HELPERS} helper worker${HELPERS === 1 ? '' : 's'}`;
for (const [name, how, k] of [
  ['browserTrain', 'one worker', kBrowser],
  ['browserTrainHelpers', withHelpers, kHelpers],
]) {
  const r = ratio(k, t1);
  const met = r == null ? 'not measured' : r <= 1 ? 'yes (≤ 1.0× too)' : r <= 2 ? 'yes (≤ 1.0× not yet)' : 'no';
  row(
    '(a) baby-GPT training',
    `ms/iteration: Kindling in Chromium (CPU wasm, ${how}) vs PyTorch 1 thread`,
    cell(name, 'msPerIterMedian', fmt.ms),
    cell('torch1', 'msPerIterMedian', fmt.ms),
    r,
    '≤ 2.0× (then ≤ 1.0×)',
    met,
  );
  row(
    '(a) baby-GPT training',
    `ms/iteration: Kindling in Chromium (${how}) vs PyTorch ${CORES} threads`,
    cell(name, 'msPerIterMedian', fmt.ms),
    cell('torchAll', 'msPerIterMedian', fmt.ms),
    ratio(k, tAll),
  );
}
row(
  '(a) baby-GPT training',
  'ms/iteration: Kindling native (Flex) vs PyTorch 1 thread',
  cell('nativeTrain', 'msPerIterMedian', fmt.ms),
  cell('torch1', 'msPerIterMedian', fmt.ms),
  ratio(kNative, t1),
);
row(
  '(a) baby-GPT training',
  `ms/iteration: Kindling native (Flex) vs PyTorch ${CORES} threads`,
  cell('nativeTrain', 'msPerIterMedian', fmt.ms),
  cell('torchAll', 'msPerIterMedian', fmt.ms),
  ratio(kNative, tAll),
);
for (const [name, how] of [
  ['browserTrain', 'one worker'],
  ['browserTrainHelpers', withHelpers],
]) {
  row(
    '(a) baby-GPT training',
    `ms/iteration chunked (trainSteps(10)/10): Chromium (${how}) vs PyTorch 1 thread`,
    cell(name, 'chunkedMsPerIter', fmt.ms),
    cell('torch1', 'msPerIterMedian', fmt.ms),
    ratio(value(name, 'chunkedMsPerIter'), t1),
  );
}
if (opts.full) {
  const refLoss = value('torchFull', 'valLoss');
  for (const [name, label] of [
    ['browserFull', `Chromium (${withHelpers})`],
    ['nativeFull', 'native'],
  ]) {
    const loss = value(name, 'valLoss');
    // No target for the val loss; nanoGPT's own figure is the yardstick. 20 batches of 12
    // windows make a noisy estimate (a few hundredths between seeds).
    row(
      '(a) baby-GPT training',
      `val loss after ${opts.fullIters} iterations (20 batches of 12): Kindling ${label} vs PyTorch ${CORES} threads`,
      cell(name, 'valLoss', fmt.loss),
      cell('torchFull', 'valLoss', fmt.loss),
      ratio(loss, refLoss),
      'nanoGPT: 1.8857',
      '—',
    );
  }
  row(
    '(a) baby-GPT training',
    `whole ${opts.fullIters}-iteration run, mean ms/iteration: Chromium (${withHelpers}, chunks of 50) vs PyTorch ${CORES} threads`,
    cell('browserFull', 'msPerIterMean', fmt.ms),
    cell('torchFull', 'totalMs', (v) => fmt.ms(v / opts.fullIters)),
    ratio(value('browserFull', 'msPerIterMean'), value('torchFull', 'totalMs') / opts.fullIters),
  );
}

// (b): tokens/s, higher is better, so the ratio is Kindling / TF.js.
const lstmRate = (name) => cell(name, 'tokensPerSecond', (v) => fmt.rate(v, 'tok/s'));
for (const [name, how] of [
  ['browserLstm', 'one worker'],
  ['browserLstmHelpers', withHelpers],
]) {
  const kLstm = value(name, 'tokensPerSecond');
  const r = ratio(kLstm, value('tfjsWasm', 'tokensPerSecond'));
  row(
    '(b) LSTM training',
    `tokens/s: Kindling in Chromium (${how}) vs TF.js 4.22 wasm (SIMD, 1 thread)`,
    lstmRate(name),
    lstmRate('tfjsWasm'),
    r,
    '≥ 2×',
    verdict(r >= 2, r != null),
  );
  row(
    '(b) LSTM training',
    `tokens/s: Kindling in Chromium (${how}) vs TF.js wasm with threads (cross-origin isolated, ${CORES} threads)`,
    lstmRate(name),
    lstmRate('tfjsWasmThreads'),
    ratio(kLstm, value('tfjsWasmThreads', 'tokensPerSecond')),
  );
}
row(
  '(b) LSTM training',
  'tokens/s: Kindling in Chromium (one worker) vs TF.js cpu backend',
  lstmRate('browserLstm'),
  lstmRate('tfjsCpu'),
  ratio(value('browserLstm', 'tokensPerSecond'), value('tfjsCpu', 'tokensPerSecond')),
);

// (c): the reference column is Kindling native (one generate() call, the binary's first);
// the ratio is Chromium / native. In Chromium the first call on a fresh page is reported on its
// own: the wasm engine has not optimised the generation code yet.
for (const [browserName, nativeName, label] of [
  ['browserGenGpt', 'nativeGenGpt', 'baby-GPT (KV cache)'],
  ['browserGenLstm', 'nativeGenLstm', 'seed-lstm'],
]) {
  const gpt = label.startsWith('baby');
  const nativeTps = value(nativeName, 'tokensPerSecond');
  const nativeFirst = value(nativeName, 'firstTokenMs');
  const rate = (v) => fmt.rate(v, 'tok/s');
  for (const [when, tpsKey, firstKey] of [
    ['first generate() on a fresh page', 'coldTokensPerSecond', 'coldFirstTokenMs'],
    [`later calls, median of ${opts.genRuns}`, 'tokensPerSecond', 'firstTokenMs'],
  ]) {
    const tps = value(browserName, tpsKey);
    const first = value(browserName, firstKey);
    row(
      '(c) generation',
      `${label} tokens/s (${opts.genTokens} tokens), ${when}: Chromium (CPU wasm) vs Kindling native`,
      cell(browserName, tpsKey, rate),
      cell(nativeName, 'tokensPerSecond', rate),
      ratio(tps, nativeTps),
      gpt ? '≥ 1000 tok/s in Chromium' : '—',
      gpt ? verdict(tps >= 1000, tps != null) : '—',
    );
    row(
      '(c) generation',
      `${label} first-token latency, ${when}: Chromium vs Kindling native`,
      cell(browserName, firstKey, fmt.ms),
      cell(nativeName, 'firstTokenMs', fmt.ms),
      ratio(first, nativeFirst),
      gpt ? '< 30 ms in Chromium' : '—',
      gpt ? verdict(first < 30, first != null) : '—',
    );
  }
}

// (d)
row('(d) size and start-up', '.wasm raw: CPU build (pkg/)', cell('wasmSize', 'rawBytes', fmt.mb), '—', null);
row('(d) size and start-up', '.wasm gzip -9: CPU build (pkg/)', cell('wasmSize', 'gzipBytes', fmt.mb), '—', null);
row(
  '(d) size and start-up',
  '.wasm raw: WebGPU build (pkg-webgpu/)',
  cell('wasmSize', 'gpuRawBytes', fmt.mb),
  '—',
  null,
);
row(
  '(d) size and start-up',
  '.wasm gzip -9: WebGPU build (pkg-webgpu/)',
  cell('wasmSize', 'gpuGzipBytes', fmt.mb),
  '—',
  null,
);
row(
  '(d) size and start-up',
  `navigation → engine ready in headless Chromium (median of ${opts.loads} loads)`,
  cell('pageLoad', 'readyMsMedian', fmt.ms),
  '—',
  null,
);

const info = {
  ...machine(),
  parallel: await parallelProbe(),
  browserWasm: legs.browserWasm?.ok ? legs.browserWasm : null,
};
const headers = ['component', 'figure', 'Kindling', 'reference', 'ratio', 'target', 'met?'];
const notes = [];
const gflops = (name) => value(name, 'matmul1024Gflops');
if (gflops('torch1') != null) {
  notes.push(
    `PyTorch ${value('torch1', 'torchVersion')}: 1024² f32 matmul ${gflops('torch1').toFixed(0)} GFLOP/s at 1 thread, ${gflops('torchAll')?.toFixed(0) ?? '—'} at ${CORES} (an earlier run on this kind of machine saw ~210).`,
  );
}
notes.push(
  `(a) one iteration = batch 12 × context 64, forward, backward, clip, AdamW step and the loss read back; median of ${opts.iters} after ${opts.warmup} warm-up. PyTorch: bench/nanogpt_ref.py (nanoGPT model.py/train.py, tied embeddings like Kindling's baby-gpt, no biases, fused=False, float32, no compile). Kindling in Chromium: trainSteps(1) timed one by one, in one worker and ${withHelpers} (each computes the gradient of its rows of the batch; the training worker adds them up and takes the optimizer step).`,
);
notes.push(
  `(b) embedding 128 → LSTM 128 × 2 (returnSequences) → dense to the vocabulary, batch 64 × 64 characters, softmax cross-entropy, Adam 1e-3; tokens/s = 4096 / median step time (each step reads the loss back) over ${opts.lstmIters} steps after ${opts.lstmWarmup} (TF.js cpu: ${opts.tfjsCpuIters} after 1). TF.js: sigmoid gates as burn's; its embedding is a bias-free dense layer on one-hot input (same function and gradient) because TF.js-wasm lacks the lookup's gradient kernel (UnsortedSegmentSum); burn's LSTM has two biases per gate, TF.js one (${value('browserLstm', 'parameterCount') ?? '—'} vs ${value('tfjsWasm', 'parameterCount') ?? '—'} parameters). Kindling "one worker" is single-threaded; "${withHelpers}": the training worker plus helper workers each computing a shard of every batch (www/worker/helper-pool.js, src/parallel.rs), no cross-origin isolation needed.`,
);
notes.push(
  `(c) untrained models (speed does not depend on the weights), prompt "ROMEO:", temperature 0.8; tokens/s = tokens / time from generate() to the last token, first token included. In Chromium the first generate() call on a fresh page (model just created) is timed on its own, then ${opts.genRuns} more calls; native: the binary's single call. baby-GPT's context is 64: past it the KV cache restarts from the last 32 tokens.`,
);
if (busyWarning(BUSY)) notes.unshift(busyWarning(BUSY));
const disturbed = Object.entries(legs).filter(([n, r]) => n !== 'wasmSize' && r?.ok && r.otherCores > 0.2);
if (disturbed.length) {
  notes.unshift(
    `**WARNING: other processes used CPU during ${disturbed.map(([n, r]) => `${n} (${r.otherCores.toFixed(2)} cores)`).join(', ')}: those figures are unreliable; rerun on an idle machine.**`,
  );
}
if (opts.quick)
  notes.unshift('**QUICK RUN (--quick): a check of the harness with few iterations; these are not measurements.**');
for (const [name, r] of Object.entries(legs)) {
  if (r && r.ok === false && r.error) notes.push(`${name} failed: ${r.error}`);
}
if (legs.browserProblems?.length) notes.push(`browser console errors: ${legs.browserProblems.slice(0, 5).join(' / ')}`);

const markdown = [
  `Measured ${info.date.slice(0, 10)} on ${machineLine(info)}; Kindling ${info.commit ?? ''}${legs.wasmSize?.ok ? `, pkg/ built ${legs.wasmSize.builtAt.slice(0, 16).replace('T', ' ')} UTC` : ''}.`,
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
  legs,
  table: { headers, rows },
  markdown,
});
log(`raw figures: ${out}`);
if (opts.readme) {
  replaceBlock(join(REPO, 'docs', 'benchmarks.md'), 'bench', '## Latest `scripts/bench.sh` run', markdown);
  log('docs/benchmarks.md updated');
}

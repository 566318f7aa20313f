// Where a CPU-wasm step spends its time: trains baby-GPT (or generates with it, on a fresh page)
// in headless Chromium under the DevTools sampling profiler and prints where the time went, by
// kind of work (matmul, GELU, softmax, the optimizer, allocation...) and by function. A tool
// for speeding up the CPU path, not a benchmark: the profiler itself slows the page a little.
//
//   node bench/profile-browser.mjs [--mode train|generate] [--preset baby-gpt] [--steps 20]
//                                  [--tokens 200] [--helpers 0] [--top 30] [--options JSON]
//
//   train:    the self time of `steps` single training steps (after 3 untimed ones), in the
//             training worker (with --helpers N, their time waiting for N helper workers)
//   generate: the first generate() call on a fresh page (the cold call), `tokens` tokens
//   --options: config fields over the preset's, as the page names them (a budget's shape:
//              '{"nLayer":2,"nEmbd":64,"nHead":2,"activation":"relu2","optimizer":"muon"}')
// Function names need a pkg/ built with them: CARGO_PROFILE_RELEASE_STRIP=false scripts/build.sh cpu
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer, launchBrowser, openPage, REPO } from './browser.mjs';
import { parseArgs, machine, machineLine } from './common.mjs';

const opts = parseArgs(process.argv.slice(2), {
  mode: 'train',
  preset: 'baby-gpt',
  steps: 20,
  tokens: 200,
  helpers: 0,
  top: 30,
  options: '{}',
  data: process.env.KINDLING_DATA ?? '../shared/data/tinyshakespeare.txt',
});
const text = readFileSync(resolve(REPO, opts.data), 'utf8');

// Kinds of work, tried in order against each sample's call stack (innermost frame first): the
// first kind any frame matches takes the sample. A kind that names an operation (GELU, softmax)
// claims the elementwise kernels and copies done for it; allocation is counted on its own.
const KINDS = [
  ['matmul: SIMD128 microkernels', (leaf) => /gemm_f32::microkernel/.test(leaf)],
  [
    'allocation, zeroing',
    (leaf) => /alloc|malloc|free|memset|Bytes::|filled|insert_large_chunk|unlink_chunk/.test(leaf),
  ],
  ['matmul: packing, dispatch', (_, stack) => stack.some((f) => /gemm|matmul/.test(f))],
  ['GELU (erf, exp), forward and backward', (_, stack) => stack.some((f) => /gelu/.test(f))],
  ['softmax, log-softmax (exp)', (_, stack) => stack.some((f) => /softmax/.test(f))],
  ['layer norm', (_, stack) => stack.some((f) => /layer_norm/.test(f))],
  ['AdamW step, gradient clipping', (_, stack) => stack.some((f) => /kindling::optim/.test(f))],
  ['embedding lookup and its gradient', (_, stack) => stack.some((f) => /embedding|scatter|gather|select/.test(f))],
  [
    'copies (transpose, contiguous, cat, slice)',
    (leaf) => /copy|memcpy|memmove|contiguous|cat_|slice|tiled/.test(leaf),
  ],
  ['other elementwise (add, mul, reshape...)', (_, stack) => stack.some((f) => /burn_flex::/.test(f))],
  ['autodiff graph bookkeeping', (_, stack) => stack.some((f) => /burn_autodiff/.test(f))],
  [
    'helpers: weights out, gradients in',
    (_, stack) => stack.some((f) => /kindling::params|helpers|step_shared|Float32Array/.test(f)),
  ],
  ['sampling, tokenizer, engine glue', (_, stack) => stack.some((f) => /kindling::/.test(f))],
  ['idle, GC, JS, wasm-bindgen', () => true],
];

const clean = (name) => name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '') || '(anonymous)';

// Self time per function and per kind of work, as fractions of all samples.
function breakdown(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id) => {
    const stack = [];
    for (let at = id; at !== undefined; at = parent.get(at)) stack.push(clean(nodes.get(at).callFrame.functionName));
    return stack;
  };
  const byFunction = new Map();
  const byKind = new Map(KINDS.map(([kind]) => [kind, 0]));
  for (const id of profile.samples) {
    const stack = stackOf(id);
    byFunction.set(stack[0], (byFunction.get(stack[0]) ?? 0) + 1);
    const [kind] = KINDS.find(([, matches]) => matches(stack[0], stack));
    byKind.set(kind, byKind.get(kind) + 1);
  }
  const total = profile.samples.length;
  const share = (map) => [...map].map(([name, n]) => [name, n / total]).sort((a, b) => b[1] - a[1]);
  return { byKind: share(byKind), byFunction: share(byFunction) };
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const { page } = await openPage(browser.context, `${server.url}/bench/kindling-bench.html`, 'benchReady');
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  const finished = new Promise((done) => cdp.once('Profiler.consoleProfileFinished', ({ profile }) => done(profile)));
  const options = { preset: opts.preset, backend: 'cpu', ...JSON.parse(opts.options) };
  const result =
    opts.mode === 'generate'
      ? await page.evaluate((a) => window.bench.generate(a), {
          text,
          options,
          maxTokens: Number(opts.tokens),
          runs: 1,
          profile: true,
        })
      : await page.evaluate((a) => window.bench.train(a), {
          text,
          options,
          helpers: Number(opts.helpers),
          warmup: 3,
          iters: Number(opts.steps),
          chunks: 0,
          profile: true,
        });
  if (!result.ok) throw new Error(result.error);
  const profile = await finished;

  const perUnit = opts.mode === 'generate' ? result.cold.totalMs : result.msPerIterMedian;
  const unit =
    opts.mode === 'generate'
      ? `ms for the cold call (${result.cold.tokens} tokens, first token ${result.cold.firstTokenMs.toFixed(1)} ms)`
      : 'ms/step';
  const { byKind, byFunction } = breakdown(profile);
  console.log(`${machineLine(machine())}`);
  console.log(`${opts.preset}, ${opts.mode}: ${perUnit.toFixed(1)} ${unit} under the profiler\n`);
  console.log('| where the time goes | share | ms |\n| --- | --- | --- |');
  for (const [kind, f] of byKind)
    if (f > 0) console.log(`| ${kind} | ${(100 * f).toFixed(1)}% | ${(f * perUnit).toFixed(1)} |`);
  console.log('\nself time by function:');
  for (const [name, f] of byFunction.slice(0, Number(opts.top))) {
    console.log(`${(100 * f).toFixed(1).padStart(5)}%  ${name.slice(0, 140)}`);
  }
} finally {
  await browser.close();
  server.close();
}

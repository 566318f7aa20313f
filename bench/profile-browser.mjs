// Where a CPU-wasm training step spends its time: trains baby-GPT in headless Chromium under the
// DevTools sampling profiler and prints the functions with the most self time. A tool for
// speeding up the CPU step in the browser, not a benchmark (the profiler itself slows the page).
//
//   node bench/profile-browser.mjs [--preset baby-gpt] [--steps 20] [--top 40]
// Function names need a pkg/ built with them: CARGO_PROFILE_RELEASE_STRIP=false scripts/build.sh
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer, launchBrowser, openPage, REPO } from './browser.mjs';
import { parseArgs } from './common.mjs';

const opts = parseArgs(process.argv.slice(2), {
  preset: 'baby-gpt',
  steps: 20,
  top: 40,
  data: process.env.KINDLING_DATA ?? '../shared/data/tinyshakespeare.txt',
});
const text = readFileSync(resolve(REPO, opts.data), 'utf8');

const server = await startServer();
const browser = await launchBrowser();
try {
  const { page } = await openPage(browser.context, `${server.url}/bench/kindling-bench.html`, 'benchReady');
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  const train = (iters) =>
    page.evaluate((a) => window.bench.train(a), {
      text, options: { preset: opts.preset, backend: 'cpu' }, warmup: 3, iters, chunk: 1, chunks: 0,
    });
  await train(1);
  await cdp.send('Profiler.start');
  const result = await train(Number(opts.steps));
  const { profile } = await cdp.send('Profiler.stop');
  if (!result.ok) throw new Error(result.error);

  const self = new Map();
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  let total = 0;
  for (const [id, count] of counts) {
    const name = nodes.get(id).callFrame.functionName || '(anonymous)';
    self.set(name, (self.get(name) ?? 0) + count);
    total += count;
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top));
  console.log(`${opts.preset}: ${result.msPerIterMedian.toFixed(1)} ms/step under the profiler; self time by function:`);
  for (const [name, count] of rows) {
    console.log(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${name.slice(0, 140)}`);
  }
} finally {
  await browser.close();
  server.close();
}

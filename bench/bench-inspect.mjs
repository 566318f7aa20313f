// The inspection benchmark, run through scripts/bench-inspect.sh: in headless Chromium, on the
// CPU, the median time of `k.inspect(text)` per model and text length. Prints a Markdown
// table; writes the raw figures as JSON.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO, startServer, launchBrowser, openPage } from './browser.mjs';
import {
  busyWarning,
  waitIdle,
  parseArgs,
  machine,
  machineLine,
  log,
  fmt,
  markdownTable,
  writeJson,
} from './common.mjs';

const opts = parseArgs(process.argv.slice(2), {
  data: '../shared/data/tinyshakespeare.txt',
  command: 'scripts/bench-inspect.sh',
  out: 'bench/results/inspect-latest.json',
  runs: 5,
});
// name → create options and characters read; the first two are the targets.
const CASES = {
  'baby-gpt, 64 chars': { options: { preset: 'baby-gpt' }, tokens: 64 },
  'seed-lstm, 256 chars': { options: { preset: 'seed-lstm' }, tokens: 256 },
  'tiny, 32 chars': { options: { preset: 'tiny' }, tokens: 32 },
  'gru, 256 chars': { options: { preset: 'gru' }, tokens: 256 },
};

const BUSY = await waitIdle(0);
const TEXT = readFileSync(resolve(REPO, opts.data), 'utf8');
const results = {};
const server = await startServer();
const browser = await launchBrowser();
try {
  for (const [name, { options, tokens }] of Object.entries(CASES)) {
    const { page, ready } = await openPage(browser.context, `${server.url}/bench/kindling-bench.html`, 'benchReady');
    try {
      if (!ready.ok) throw new Error(`page not ready: ${ready.error}`);
      log(`${name} ...`);
      results[name] = await page.evaluate((a) => window.bench.inspect(a), {
        text: TEXT,
        options: { ...options, backend: 'cpu' },
        tokens,
        runs: opts.runs,
      });
      log(`${name}: ${results[name].ok ? fmt.ms(results[name].ms) : results[name].error}`);
    } finally {
      await page.close();
    }
  }
} finally {
  await browser.close();
  server.close();
}

const info = machine();
const rows = Object.entries(results).map(([name, r]) =>
  r.ok
    ? [name, r.parameterCount.toLocaleString('en-US'), fmt.ms(r.ms), fmt.ms(r.coldMs), r.floats.toLocaleString('en-US')]
    : [name, '—', `failed: ${r.error}`, '—', '—'],
);
const markdown = [
  `Measured ${info.date.slice(0, 10)} on ${machineLine(info)}; Kindling ${info.commit ?? ''}.`,
  '',
  `Command: \`${opts.command}\``,
  '',
  markdownTable(
    ['model, text', 'parameters', `inspect (median of ${opts.runs})`, 'first call', 'floats returned'],
    rows,
  ),
  '',
  ...(busyWarning(BUSY) ? [`- ${busyWarning(BUSY)}`] : []),
  '- CPU build (pkg/), one thread, in the page; untrained models; the time runs from the call to the resolved result (Float32Arrays included).',
].join('\n');
console.log(markdown);
const out = resolve(REPO, opts.out);
writeJson(out, {
  machine: { ...info, busyCoresAtStart: BUSY },
  command: opts.command,
  options: opts,
  results,
  markdown,
});
log(`raw figures: ${out}`);

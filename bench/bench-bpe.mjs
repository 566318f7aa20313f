// The BPE benchmark, run through scripts/bench-bpe.sh: in headless Chromium, the median time of
// Kindling.validate with byte-level BPE (learning the merges and encoding the text) against
// characters. Prints a Markdown table; writes the raw figures as JSON.
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
  command: 'scripts/bench-bpe.sh',
  out: 'bench/results/bpe-latest.json',
  merges: 512,
  chars: 1_000_000,
  runs: 3,
});

const BUSY = await waitIdle(0);
const TEXT = readFileSync(resolve(REPO, opts.data), 'utf8');
const server = await startServer();
const browser = await launchBrowser();
let result;
try {
  const { page, ready } = await openPage(browser.context, `${server.url}/bench/kindling-bench.html`, 'benchReady');
  if (!ready.ok) throw new Error(`page not ready: ${ready.error}`);
  log(`BPE, ${opts.merges} merges over ${opts.chars} characters ...`);
  result = await page.evaluate((a) => window.bench.tokenizer(a), {
    text: TEXT,
    chars: opts.chars,
    merges: opts.merges,
    runs: opts.runs,
  });
  if (!result.ok) throw new Error(result.error);
} finally {
  await browser.close();
  server.close();
}

const info = machine();
const row = (name, r) => [name, fmt.ms(r.ms), r.vocabSize.toLocaleString('en-US'), r.charsPerToken.toFixed(2)];
const markdown = [
  `Measured ${info.date.slice(0, 10)} on ${machineLine(info)}; Kindling ${info.commit ?? ''}.`,
  '',
  `Command: \`${opts.command}\``,
  '',
  markdownTable(
    [
      `tokenizer (${result.chars.toLocaleString('en-US')} characters)`,
      `Kindling.validate (median of ${opts.runs})`,
      'vocabulary',
      'characters per token',
    ],
    [row(`byte-level BPE, ${opts.merges} merges`, result.bpe), row('characters', result.char)],
  ),
  '',
  ...(busyWarning(BUSY) ? [`- ${busyWarning(BUSY)}`] : []),
  '- CPU build (pkg/), in the page. validate learns the merges, encodes the whole text and sizes the model: for BPE that is the work a new model does before its first step.',
].join('\n');
console.log(markdown);
const out = resolve(REPO, opts.out);
writeJson(out, {
  machine: { ...info, busyCoresAtStart: BUSY },
  command: opts.command,
  options: opts,
  result,
  markdown,
});
log(`raw figures: ${out}`);

// @ts-check
// The one-minute model against PyTorch's clock (issue 27): validation loss on tinyshakespeare
// after the same seconds of training — Kindling's page in Chromium and Firefox, as a reader
// meets it (the element with budget="SECONDS": it measures this device, picks the model and
// schedule, helpers as it picks them), beside nanoGPT's baby-GPT recipe in PyTorch at 1 and 2
// threads (bench/nanogpt_ref.py --seconds: its cosine stretched to end with the budget).
// Every model is scored on the same windows: all of the val split (Kindling's split, the last
// 10 %) in consecutive windows of its context, `kindling eval --all` for Kindling's (the page's
// own download of the model, read by the release CLI), --val-all for PyTorch's.
//
//   node bench/bench-speedrun.mjs [--seconds 60,300] [--engines chromium,firefox]
//                                 [--threads 1,2] [--json FILE] [--trace DIR] [--readme]
//
// --trace DIR writes each Kindling leg's page log there (every chunk's step, time, workers and
// evaluation: bench-engines-page.js), to see where a budget's seconds went.
// Runs one leg at a time (each alone on the machine). Prints a Markdown table; --readme puts it
// into docs/benchmarks.md between the speedrun markers. scripts/bench-speedrun.sh builds and
// installs what this needs.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES, openEngine } from '../pkg-tests/engines.mjs';
import { serve } from '../scripts/server.mjs';
import {
  busyCores,
  busyWarning,
  lastJson,
  log,
  machine,
  machineLine,
  markdownTable,
  parseArgs,
  replaceBlock,
  spawnCollect,
  writeJson,
} from './common.mjs';

/** @typedef {import('../pkg-tests/engines.mjs').EngineName} EngineName */

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEXT = process.env.KINDLING_DATA ?? join(REPO, '../shared/data/tinyshakespeare.txt');
const KINDLING = join(process.env.CARGO_TARGET_DIR ?? join(REPO, 'target'), 'release/kindling');
const PYTHON = join(process.env.KINDLING_BENCH_VENV ?? join(REPO, 'bench/.venv'), 'bin/python');

const opts =
  /** @type {{ seconds: string, engines: string, threads: string, json: string, trace: string, readme: boolean }} */ (
    /** @type {unknown} */ (
      parseArgs(process.argv.slice(2), {
        seconds: '60,300',
        engines: 'chromium,firefox',
        threads: '1,2',
        json: 'bench/results/speedrun.json',
        trace: '',
        readme: false,
      })
    )
  );
const list = (/** @type {string} */ text) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const budgets = list(opts.seconds).map(Number);
const engines = /** @type {EngineName[]} */ (list(opts.engines));
for (const engine of engines) if (!ENGINES.includes(engine)) throw new Error(`unknown engine ${engine}`);
for (const file of [TEXT, KINDLING, join(REPO, 'pkg/kindling_bg.wasm')]) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/bench-speedrun.sh, which builds it`);
}

/** @param {string} text */
const escapeHtml = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A site with www/ and pkg/ linked in and one page per budget: the element and its text. */
async function makeSite() {
  const site = await mkdtemp(join(tmpdir(), 'kindling-speedrun-'));
  for (const folder of ['www', 'pkg', 'pkg-webgpu']) {
    if (existsSync(join(REPO, folder))) await symlink(join(REPO, folder), join(site, folder));
  }
  await mkdir(join(site, 'bench'));
  await copyFile(join(REPO, 'bench/bench-engines-page.js'), join(site, 'bench/bench-engines-page.js'));
  const text = escapeHtml(readFileSync(TEXT, 'utf8'));
  for (const seconds of budgets) {
    await writeFile(
      join(site, `bench/speedrun-${seconds}.html`),
      `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Kindling speedrun, ${seconds} s</title>
  <script src="bench-engines-page.js"></script>
  <script type="module" src="../www/kindling-embed.js"></script>
</head>
<body>
  <kindling-playground mode="train" budget="${seconds}" backend="cpu" autoplay><template>${text}</template></kindling-playground>
</body>
</html>
`,
    );
  }
  return site;
}

/**
 * Waits for the page's training to finish, then takes the model as the page's "Download model"
 * gives it (the Blob handed to URL.createObjectURL; the download itself is suppressed).
 * @param {import('../pkg-tests/engines.mjs').EnginePage} page
 * @param {number} seconds
 */
async function trainInPage(page, seconds) {
  const record = await page.waitFor(
    () => {
      const log = /** @type {any} */ (window).benchLog;
      return log && (log.finished || log.errors.length || log.pageErrors.length) ? log : null;
    },
    null,
    { timeout: (seconds * 2 + 240) * 1000, polling: 1000 },
  );
  if (!record.finished) throw new Error(`the page failed: ${JSON.stringify([...record.errors, ...record.pageErrors])}`);
  const start = record.phases.find((/** @type {{ phase: string }} */ p) => p.phase === 'training');
  const base64 = await page.evaluate(async () => {
    const element = /** @type {HTMLElement} */ (document.querySelector('kindling-playground'));
    /** @type {Promise<Blob>} */
    const blob = new Promise((resolve) => {
      URL.createObjectURL = (/** @type {Blob} */ b) => (resolve(b), 'about:blank');
      HTMLAnchorElement.prototype.click = () => {};
    });
    const download = element.shadowRoot?.getElementById('download');
    if (!download) throw new Error('the page has no download button');
    download.click();
    const bytes = new Uint8Array(await (await blob).arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  });
  const last = record.metrics.at(-1);
  return {
    record,
    steps: record.finished.step,
    trainSeconds: start ? (record.finished.t - start.t) / 1000 : null,
    workers: last?.workers ?? null,
    bytes: Buffer.from(base64, 'base64'),
  };
}

/**
 * `kindling eval --all` of a model file's bytes, and the shape the page chose (`kindling info`).
 * @param {Buffer} bytes
 */
async function evalAll(bytes) {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-speedrun-model-'));
  const file = join(dir, 'model.kindling');
  await writeFile(file, bytes);
  const { code, stdout } = await spawnCollect(KINDLING, ['eval', file, '--all', '--json']);
  const info = (await spawnCollect(KINDLING, ['info', file])).stdout;
  await rm(dir, { recursive: true, force: true });
  const result = lastJson(stdout);
  if (code !== 0 || !result) throw new Error(`kindling eval failed (${code})`);
  const field = (/** @type {string} */ name) => info.match(new RegExp(`"${name}": "?([^",\n]+)`))?.[1] ?? '?';
  const shape = `${field('model')} ${field('nLayer')}×${field('nEmbd')}, context ${field('blockSize')}, batch ${field('batchSize')}`;
  return { .../** @type {{ valLoss: number, bitsPerChar: number }} */ (result), shape };
}

/** @typedef {{ who: string, seconds: number, steps: number | null, trainSeconds: number | null, valLoss: number | null, bitsPerChar: number | null, detail: string, error?: string }} Leg */
/** @type {Leg[]} */
const legs = [];

/**
 * A leg that produced no model: its row says why.
 * @param {string} who
 * @param {number} seconds
 * @param {string} error
 * @returns {Leg}
 */
const failedLeg = (who, seconds, error) => ({
  who,
  seconds,
  steps: null,
  trainSeconds: null,
  valLoss: null,
  bitsPerChar: null,
  detail: '',
  error,
});

for (const seconds of budgets) {
  for (const threads of list(opts.threads).map(Number)) {
    const who = `PyTorch ${threads} thread${threads > 1 ? 's' : ''}, nanoGPT baby-GPT`;
    log(`${who}: ${seconds} s`);
    const { code, stdout } = await spawnCollect(PYTHON, [
      'bench/nanogpt_ref.py',
      '--data',
      TEXT,
      '--threads',
      String(threads),
      '--seconds',
      String(seconds),
      '--val-all',
      '--json',
    ]);
    const result = lastJson(stdout);
    if (code !== 0 || !result) {
      legs.push(failedLeg(who, seconds, `exit ${code}`));
      continue;
    }
    const loss = /** @type {number} */ (result.valLossAllWindows);
    legs.push({
      who,
      seconds,
      steps: result.iters,
      trainSeconds: result.trainSeconds,
      valLoss: loss,
      bitsPerChar: loss / Math.LN2,
      detail: `torch ${result.torchVersion}, ${result.msPerIterMedian.toFixed(1)} ms/iter`,
    });
  }
}

const site = await makeSite();
const server = await serve({ root: site, csp: true });
try {
  for (const engine of engines) {
    for (const seconds of budgets) {
      const budget = seconds % 60 === 0 ? `${seconds / 60}-minute` : `${seconds}-second`;
      const who = `Kindling in ${engine[0].toUpperCase()}${engine.slice(1)}, the page's ${budget} budget`;
      log(`${who}`);
      const page = await openEngine(engine);
      try {
        await page.goto(`${server.url}/bench/speedrun-${seconds}.html`);
        const run = await trainInPage(page, seconds);
        if (opts.trace) {
          await mkdir(opts.trace, { recursive: true });
          await writeFile(join(opts.trace, `${engine}-${seconds}.json`), JSON.stringify(run.record, null, 1));
        }
        const score = await evalAll(run.bytes);
        legs.push({
          who,
          seconds,
          steps: run.steps,
          trainSeconds: run.trainSeconds,
          valLoss: score.valLoss,
          bitsPerChar: score.bitsPerChar,
          detail: `${score.shape}; ${run.workers} worker(s) at the end`,
        });
      } catch (caught) {
        const error = caught instanceof Error ? caught.message : String(caught);
        log(`${who}: FAILED: ${error}`);
        legs.push(failedLeg(who, seconds, error));
      } finally {
        await page.close();
      }
    }
  }
} finally {
  server.close();
  await rm(site, { recursive: true, force: true });
}

const m = machine();
const busy = busyWarning(await busyCores());
const rows = legs.map((leg) => [
  `${leg.seconds} s`,
  leg.who,
  leg.steps ?? '—',
  leg.trainSeconds == null ? '—' : leg.trainSeconds.toFixed(1),
  leg.valLoss == null ? (leg.error ?? '—') : `**${leg.valLoss.toFixed(3)}**`,
  leg.bitsPerChar == null ? '—' : leg.bitsPerChar.toFixed(3),
  leg.detail,
]);
const table = `Measured by \`scripts/bench-speedrun.sh\` on ${new Date().toISOString().slice(0, 10)}: ${machineLine(m)}.${busy ? ` ${busy}` : ''}
Val loss in nats per character over every window of the val split (the last 10 % of tinyshakespeare; windows of each model's context, one after another).

${markdownTable(['budget', 'run', 'steps', 'training s', 'val loss', 'bits/char', 'what it trained'], rows)}`;
console.log(table);
writeJson(resolve(REPO, opts.json), { machine: m, legs });
if (opts.readme)
  replaceBlock(join(REPO, 'docs/benchmarks.md'), 'speedrun', '## The one-minute model against PyTorch', table);

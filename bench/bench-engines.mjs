// @ts-check
// The blog's train embed, timed in every engine: how long its 150 steps of `tiny` take in
// Chromium, Firefox ESR and WebKitGTK, each driven by pkg-tests/engines.mjs, with `workers`
// left at 'auto'. Made for the helper count's before/after (WebKit reports
// navigator.hardwareConcurrency 4 on a 2-core machine, where the old rule, one helper per
// reported core, started 3 helpers): --root serves another tree's www/ with the same engine.
//
//   node bench/bench-engines.mjs [--runs 3] [--engines chromium,firefox,webkit]
//                                [--root DIR] [--label NAME] [--json FILE] [--timeout 300]
//
//   --root DIR    the tree whose www/ and pkg/ (and pkg-webgpu/, if there) are served; default
//                 KINDLING_WEB_ROOT, else this repository. bench/prepare-before.sh makes one
//                 with an older commit's www/ and this tree's pkg/.
//   --runs N      fresh page loads per engine (one browser per engine, reused across its runs)
//   --label NAME  a name for the figures ('before', 'after'), kept in the JSON
//   --json FILE   also write every figure as JSON
//   --timeout S   seconds one run may take, from the page load to the last step
//
// The page (written for each run of this script into a temporary site that links the root's
// www/ and pkg/, served by scripts/server.mjs with the strict CSP, without cross-origin
// isolation, as a blog serves it) holds one element, the blog example's train embed
// (www/embed-example.html's #demo-train, its text and prompt) with steps="150", preset="tiny"
// and autoplay. bench/bench-engines-page.js records its events with performance.now().
//
// What is timed: from the start of training, the moment the host's data-phase turns
// 'training' (autoplay has the element send `create` with `train: true`: the model is built,
// helpers start and 150 steps run after it) to kindling-finished { task: 'training',
// step: 150 }. Beside it: from the first kindling-metrics (the first chunk of steps already
// done) to the same end. The engine's load before training is left out. A run that paused,
// ended anywhere but at step 150, trained anywhere but on the CPU or saw an error fails.
//
// Prints a Markdown table per engine (median and every run in ms, the worker counts, the
// badge's measurement) and ends with status 1 when a run failed. Speeds are only as good as
// the machine is quiet: a busy machine is said in the output.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES, openEngine } from '../pkg-tests/engines.mjs';
import { serve } from '../scripts/server.mjs';
import { busyCores, busyWarning, log, machine, markdownTable, parseArgs, writeJson } from './common.mjs';

/** @typedef {import('../pkg-tests/engines.mjs').EngineName} EngineName */
/** @typedef {import('../pkg-tests/engines.mjs').EnginePage} EnginePage */

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The training steps, as the issue measured them. */
const STEPS = 150;
/** The blog example whose train embed the page copies (always this tree's: one text for every root). */
const BLOG_EXAMPLE = join(REPO, 'www/embed-example.html');
const RECORDER = join(REPO, 'bench/bench-engines-page.js');

/**
 * @typedef {object} Options
 * @property {number} runs
 * @property {string} engines
 * @property {string} root
 * @property {string} label
 * @property {string} json
 * @property {number} timeout
 */
// common.mjs's parseArgs: each option takes the type of its default.
const opts = /** @type {Options} */ (
  /** @type {unknown} */ (
    parseArgs(process.argv.slice(2), {
      runs: 3,
      engines: ENGINES.join(','),
      root: process.env.KINDLING_WEB_ROOT ?? REPO,
      label: '',
      json: '',
      timeout: 300,
    })
  )
);
if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs needs a whole number of at least 1');
/** @type {EngineName[]} */
const engines = /** @type {EngineName[]} */ (
  opts.engines
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
);
for (const engine of engines) {
  if (!ENGINES.includes(engine)) throw new Error(`unknown engine ${engine}: choose from ${ENGINES.join(', ')}`);
}
const root = resolve(opts.root);
for (const file of ['www/kindling-embed.js', 'pkg/kindling_bg.wasm']) {
  if (!existsSync(join(root, file))) {
    throw new Error(
      `${root} has no ${file}: --root needs a tree with www/ and a built pkg/ (bench/prepare-before.sh makes one)`,
    );
  }
}

/**
 * The blog example's train embed, as its page writes it: the element's attributes and its
 * <template> of training text, with this benchmark's steps, preset and autoplay.
 * @returns {string}
 */
function trainEmbed() {
  const html = readFileSync(BLOG_EXAMPLE, 'utf8');
  const match = html.match(
    /<kindling-playground id="demo-train"([^>]*)>\s*(<template>[\s\S]*?<\/template>)\s*<\/kindling-playground>/,
  );
  if (!match) throw new Error(`no train embed (#demo-train with a <template>) in ${BLOG_EXAMPLE}`);
  const prompt = match[1].match(/\sprompt="([^"]*)"/)?.[1] ?? 'the ';
  return `<kindling-playground id="demo-train" mode="train" preset="tiny" steps="${STEPS}" prompt="${prompt}" autoplay>
        ${match[2]}
      </kindling-playground>`;
}

/**
 * A temporary site: the root's www/, pkg/ and pkg-webgpu/ (where there is one) linked in, and
 * bench/ with the page and its recorder. Resolves to its folder.
 * @returns {Promise<string>}
 */
async function makeSite() {
  const site = await mkdtemp(join(tmpdir(), 'kindling-bench-engines-'));
  for (const folder of ['www', 'pkg', 'pkg-webgpu']) {
    if (existsSync(join(root, folder))) await symlink(join(root, folder), join(site, folder));
  }
  await mkdir(join(site, 'bench'));
  await copyFile(RECORDER, join(site, 'bench/bench-engines-page.js'));
  await writeFile(
    join(site, 'bench/train-embed.html'),
    `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>The blog's train embed, timed</title>
  <link rel="icon" href="../www/icon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="../www/embed-example.css">
  <!-- First, as a classic script: it records every event of the embed. -->
  <script src="bench-engines-page.js"></script>
  <script type="module" src="../www/kindling-embed.js"></script>
</head>
<body>
  <main>
    <article>
      <!-- At the top of the page: in view at once, so autoplay starts it when the engine is ready. -->
      ${trainEmbed()}
    </article>
  </main>
</body>
</html>
`,
  );
  return site;
}

/**
 * What the page recorded (bench-engines-page.js).
 * @typedef {object} BenchLog
 * @property {number} hardwareConcurrency
 * @property {string} userAgent
 * @property {{ t: number, phase: string | undefined }[]} phases
 * @property {number | null} ready
 * @property {{ t: number, step: number, workers: number, backend: string | null, notice: string | null }[]} metrics
 * @property {{ t: number, step: number, badge: { text: string, title: string } | null } | null} finished
 * @property {unknown[]} errors
 * @property {string[]} pageErrors
 */

/**
 * One run's figures, or its error.
 * @typedef {object} Run
 * @property {number} run
 * @property {number | null} trainMs training start (data-phase 'training') to kindling-finished
 * @property {number | null} fromFirstMetricsMs the first kindling-metrics to kindling-finished
 * @property {number | null} firstMetricsStep the step the first kindling-metrics reported
 * @property {number | null} readyMs kindling-ready, from the navigation's start
 * @property {number | null} startMs training's start, from the navigation's start
 * @property {number | null} workers the count the last kindling-metrics carried
 * @property {{ step: number, workers: number }[]} workerChanges the first chunk and each change of count
 * @property {number} chunks how many kindling-metrics
 * @property {string | null} badge the badge's text at the end
 * @property {string | null} badgeTitle its tooltip
 * @property {string | null} measured the tooltip's "Workers measured: …" (workers 'auto' by measuring), if any
 * @property {number | null} hardwareConcurrency
 * @property {string | null} userAgent
 * @property {string | null} error why the run failed
 */

/**
 * The figures of one page load's log; `error` says why they do not count.
 * @param {number} run
 * @param {BenchLog} record
 * @returns {Run}
 */
function figures(run, record) {
  const start = record.phases.find((p) => p.phase === 'training') ?? null;
  const first = record.metrics[0] ?? null;
  const last = record.metrics.at(-1) ?? null;
  const end = record.finished;
  /** @type {{ step: number, workers: number }[]} */
  const workerChanges = [];
  for (const { step, workers } of record.metrics) {
    if (workerChanges.at(-1)?.workers !== workers) workerChanges.push({ step, workers });
  }
  const title = end?.badge?.title ?? null;
  const problems = [];
  if (record.errors.length) problems.push(`kindling-error ${JSON.stringify(record.errors)}`);
  if (record.pageErrors.length) problems.push(`page errors ${JSON.stringify(record.pageErrors)}`);
  if (!start) problems.push('training never started');
  if (!end) problems.push('training never finished');
  else if (end.step !== STEPS) problems.push(`training finished at step ${end.step}, not ${STEPS}`);
  const between = record.phases.filter((p) => start && p.t >= start.t && (!end || p.t <= end.t)).map((p) => p.phase);
  if (between.some((phase) => phase !== 'training' && phase !== 'finished'))
    problems.push(`its phases went ${between.join(' → ')}`);
  const backends = [...new Set(record.metrics.map((m) => m.backend))];
  if (backends.some((backend) => backend !== 'cpu')) problems.push(`it trained on ${backends.join(', ')}`);
  return {
    run,
    trainMs: start && end ? end.t - start.t : null,
    fromFirstMetricsMs: first && end ? end.t - first.t : null,
    firstMetricsStep: first?.step ?? null,
    readyMs: record.ready,
    startMs: start?.t ?? null,
    workers: last?.workers ?? null,
    workerChanges,
    chunks: record.metrics.length,
    badge: end?.badge?.text ?? null,
    badgeTitle: title,
    measured: title?.match(/Workers measured: (.*?)\.(?:\s|$)/)?.[1] ?? null,
    hardwareConcurrency: record.hardwareConcurrency,
    userAgent: record.userAgent,
    error: problems.length ? problems.join('; ') : null,
  };
}

/**
 * One fresh load of the page in `page`, waited on until training finished or went wrong.
 * @param {EnginePage} page
 * @param {string} url
 * @param {number} run
 * @returns {Promise<Run>}
 */
async function timeOnce(page, url, run) {
  await page.goto(`${url}?run=${run}`);
  /** @type {BenchLog} */
  const record = await page.waitFor(
    () => {
      const record = /** @type {any} */ (window).benchLog;
      return record && (record.finished || record.errors.length || record.pageErrors.length) ? record : null;
    },
    null,
    { timeout: opts.timeout * 1000, polling: 250 },
  );
  return figures(run, record);
}

/** @param {number[]} values */
function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** @param {number | null} ms */
const msText = (ms) => (ms == null ? '—' : `${Math.round(ms)}`);

/** The tree's commit, where it is a git checkout or worktree (with "+" where www/ is modified). */
function rootCommit() {
  try {
    const git = (/** @type {string[]} */ ...args) =>
      execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'www') ? `${commit}+www changes` : commit;
  } catch {
    const marker = join(root, '.bench-commit'); // bench/prepare-before.sh's
    return existsSync(marker) ? readFileSync(marker, 'utf8').trim() : null;
  }
}

const busy = await busyCores();
const warning = busyWarning(busy);
if (warning) log(warning.replace(/\*/g, ''));
const site = await makeSite();
const server = await serve({ root: site, csp: true });
const url = `${server.url}/bench/train-embed.html`;
log(`serving ${root} (${rootCommit() ?? 'no commit known'}) at ${url}`);

/**
 * @typedef {object} EngineResult
 * @property {number | null} hardwareConcurrency
 * @property {string | null} userAgent
 * @property {number | null} medianMs
 * @property {(number | null)[]} runsMs
 * @property {number | null} medianFromFirstMetricsMs
 * @property {(number | null)[]} workers
 * @property {Run[]} runs
 * @property {string} [error] the browser did not open, or a wait failed
 */
/** @type {Record<string, EngineResult>} */
const results = {};
let failed = false;
const stopping = () => {
  server.close();
  rm(site, { recursive: true, force: true }).finally(() => process.exit(130));
};
process.once('SIGINT', stopping);

try {
  for (const engine of engines) {
    /** @type {Run[]} */
    const runs = [];
    /** @type {string | undefined} */
    let error;
    /** @type {EnginePage | null} */
    let page = null;
    try {
      page = await openEngine(engine);
      for (let run = 1; run <= opts.runs; run++) {
        const result = await timeOnce(page, url, run);
        runs.push(result);
        log(
          `${engine} run ${run}: ${result.error ? `FAILED: ${result.error}` : `${msText(result.trainMs)} ms (from the first metrics at step ${result.firstMetricsStep}: ${msText(result.fromFirstMetricsMs)} ms), ${result.workers} worker(s) at the end${result.measured ? `; measured: ${result.measured}` : ''}`}`,
        );
      }
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
      log(`${engine}: FAILED: ${error}`);
    } finally {
      await page?.close();
    }
    const good = runs.filter((r) => !r.error);
    if (error || good.length < runs.length || !runs.length) failed = true;
    results[engine] = {
      hardwareConcurrency: runs[0]?.hardwareConcurrency ?? null,
      userAgent: runs[0]?.userAgent ?? null,
      medianMs: median(good.flatMap((r) => (r.trainMs == null ? [] : [r.trainMs]))),
      runsMs: runs.map((r) => (r.error ? null : r.trainMs)),
      medianFromFirstMetricsMs: median(
        good.flatMap((r) => (r.fromFirstMetricsMs == null ? [] : [r.fromFirstMetricsMs])),
      ),
      workers: runs.map((r) => r.workers),
      runs,
      ...(error ? { error } : {}),
    };
  }
} finally {
  process.off('SIGINT', stopping);
  server.close();
  await rm(site, { recursive: true, force: true });
}

/** A problem's first line, shortened for the table (the JSON keeps it whole). @param {string} text */
const short = (text) => {
  const line = text.split('\n')[0].trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
};
const rows = Object.entries(results).map(([engine, r]) => {
  const changes = r.runs.map((run) => run.workerChanges.map((c) => `${c.workers}@${c.step}`).join('→') || '—');
  const measured = [...new Set(r.runs.map((run) => run.measured).filter(Boolean))];
  return [
    engine,
    r.hardwareConcurrency ?? '—',
    msText(r.medianMs),
    r.runsMs.map(msText).join(', ') || '—',
    msText(r.medianFromFirstMetricsMs),
    r.workers.map((w) => w ?? '—').join(', ') || '—',
    changes.join('; '),
    measured.join('; ') || '—',
    short(
      r.error ??
        r.runs
          .filter((run) => run.error)
          .map((run) => `run ${run.run}: ${run.error}`)
          .join('; '),
    ),
  ];
});
const title = `The blog's train embed: ${STEPS} steps of tiny, workers 'auto'${opts.label ? ` (${opts.label})` : ''}; root ${root} (${rootCommit() ?? 'no commit known'}); ${opts.runs} page load(s) per engine`;
console.log(`\n${title}\n`);
if (warning) console.log(`${warning}\n`);
console.log(
  markdownTable(
    [
      'Engine',
      'hardwareConcurrency',
      'Median ms',
      'Runs ms',
      'Median ms from 1st metrics',
      'Workers at end',
      'Workers (count@step)',
      'Badge: workers measured',
      'Problems',
    ],
    rows,
  ),
);
console.log(
  `\nms: from training's start (the host's data-phase turns 'training') to kindling-finished at step ${STEPS}; "from 1st metrics": from the first kindling-metrics (its chunk done) to the same end.`,
);

if (opts.json) {
  const path = resolve(opts.json);
  writeJson(path, {
    label: opts.label || null,
    root,
    rootCommit: rootCommit(),
    command: `node bench/bench-engines.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    steps: STEPS,
    runsPerEngine: opts.runs,
    timed: {
      start: "the host's data-phase turns 'training' (autoplay sends create with train: true)",
      end: `kindling-finished { task: 'training', step: ${STEPS} }`,
      alsoFrom: 'the first kindling-metrics (fromFirstMetricsMs)',
    },
    machine: { ...machine(), busyCoresAtStart: busy },
    engines: results,
  });
  log(`wrote ${path}`);
}
process.exitCode = failed ? 1 : 0;

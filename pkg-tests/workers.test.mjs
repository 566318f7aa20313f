// workers="auto" chooses how many workers share each CPU training step by measuring
// (www/worker/helper-count.js). Here each count's ms per step is injected (data-debug-worker-ms), and
// the engine worker's navigator.hardwareConcurrency set, so the choice is the rule's, not this
// machine's: the element settles on the count the rule gives, in both directions, and the
// badge's tooltip names what was measured. Real helper workers still train each step.
// (The rule itself, in Node: helper-count.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserSuite, foreignRequests, startLongTinyRun } from './browser.mjs';

const LONG = { timeout: 120_000 };
const suite = browserSuite({
  init: () => {
    window.inShadow = (selector) => document.querySelector('kindling-playground').shadowRoot.querySelector(selector);
  },
});

// Injects each count's ms per step ("40,20,12": 1, 2 and 3 workers). A change of the workers
// attribute sends the settings to the engine worker: absent and "auto" both mean auto.
const fakeTimings = (page, ms) =>
  page.evaluate((ms) => {
    const element = document.querySelector('kindling-playground');
    element.dataset.debugWorkerMs = ms;
    if (element.hasAttribute('workers')) element.removeAttribute('workers');
    else element.setAttribute('workers', 'auto');
  }, ms);

// A playground training tiny with workers="auto" and the timings `ms`, on an engine worker that
// reports `cores` cores. `window.workersSeen` records each kindling-metrics event's workers.
async function trainWith(t, { ms, cores }) {
  const page = await suite.browser.context.newPage();
  t.after(() => page.close());
  await page.goto(`${suite.server.url}/`);
  await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
  const engine = page.workers().find((worker) => worker.url().endsWith('/www/worker/engine-worker.js'));
  assert.ok(engine, `no engine worker among ${page.workers().map((worker) => worker.url())}`);
  await engine.evaluate((cores) => Object.defineProperty(navigator, 'hardwareConcurrency', { value: cores }), cores);
  await fakeTimings(page, ms);
  await page.evaluate(() => {
    window.workersSeen = [];
    document
      .querySelector('kindling-playground')
      .addEventListener('kindling-metrics', ({ detail }) => window.workersSeen.push(detail.workers));
  });
  await startLongTinyRun(page);
  return page;
}

// The badge's tooltip once the measure has settled on a count (other than `previous`) and the
// badge shows it: the chunk that measured a count that did not pay still shows that count.
async function settledTitle(page, previous = null) {
  const title = await page.waitForFunction(
    (previous) => {
      const badge = inShadow('#backend');
      const [, workers] = badge.title.match(/Workers measured: .* → (\d+)\./) ?? [];
      const shown = Number(workers) > 1 ? `CPU ×${workers}` : 'CPU';
      return workers && workers !== previous && badge.textContent === shown && badge.title;
    },
    previous,
    { ...LONG, polling: 100 },
  );
  return title.jsonValue();
}

// The worker counts chunks trained with, each run of equal ones once.
async function countsTried(page) {
  const seen = await page.evaluate(() => window.workersSeen);
  return seen.filter((workers, i) => workers !== seen[i - 1]);
}

test('helpers that pay are added until one does not; a settled count that stops paying is dropped', async (t) => {
  const page = await trainWith(t, { ms: '40,20,12,11', cores: 8 });
  const title = await settledTitle(page);
  assert.match(
    title,
    /^Computing on the CPU, each step shared by 3 workers\. Workers measured: 1 worker 40 ms\/step · 2 workers 20 ms\/step · 3 workers 12 ms\/step · 4 workers 11 ms\/step → 3\./,
  );
  assert.deepEqual(await countsTried(page), [1, 2, 3, 4, 3], '4 workers gained only 8%');

  // The tab loses its cores: 3 workers no faster than 2. The measure that drops the third may
  // still hold chunks from before (12 ms), so it reads between 17 and 19.
  await fakeTimings(page, '40,20,19,11');
  const dropped = await settledTitle(page, '3');
  const [, threeMs] =
    dropped.match(
      /Workers measured: 1 worker 40 ms\/step · 2 workers 20 ms\/step · 3 workers (\d+) ms\/step · 4 workers 11 ms\/step → 2\./,
    ) ?? [];
  assert.ok(threeMs >= 17 && threeMs <= 19, dropped);
  assert.equal(await page.locator('#backend').textContent(), 'CPU ×2');
});

test('helpers that do not pay leave one worker, whatever the core count', async (t) => {
  const page = await trainWith(t, { ms: '13,20', cores: 8 });
  const title = await settledTitle(page);
  assert.match(title, /^Computing on the CPU\. Workers measured: 1 worker 13 ms\/step · 2 workers 20 ms\/step → 1\./);
  assert.deepEqual(await countsTried(page), [1, 2, 1]);
  assert.equal(await page.locator('#backend').textContent(), 'CPU');
});

test('the core count caps the search, and a new model starts again at one worker', async (t) => {
  const page = await trainWith(t, { ms: '40,20,12', cores: 2 });
  const title = await settledTitle(page);
  assert.match(
    title,
    /Workers measured: 1 worker 40 ms\/step · 2 workers 20 ms\/step → 2\./,
    '3 workers were not tried',
  );
  assert.deepEqual(await countsTried(page), [1, 2]);

  await page.locator('#reset').click();
  await page.locator('#train').filter({ hasText: 'Train' }).waitFor(LONG);
  await page.evaluate(() => {
    window.workersSeen = [];
  });
  await page.locator('#f-batchSize').fill('8');
  await page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
  await page.locator('#train').click();
  await page.waitForFunction(() => window.workersSeen.includes(2), null, { ...LONG, polling: 100 });
  assert.deepEqual(await countsTried(page), [1, 2], 'the new model measured one worker first');
});

test('nothing left the origin and no page errors', () => {
  assert.deepEqual(foreignRequests(suite.browser.requests, suite.server.url), []);
  assert.deepEqual(
    suite.browser.problems.filter((text) => /page error|Kindling crashed|Content.Security.Policy/i.test(text)),
    [],
  );
});

// The Runs card of the full playground (www/playground/runs-view.js, www/runs-store.js,
// www/worker/runs.js, www/worker/compare.js): two short runs are listed with their figures,
// and still are after a reload, beside an autosave saved before runs existed; ticking both
// overlays their two curves and fills the table; two runs write side by side from one prompt
// and seed (the same run twice writes the same text); a run reopens and continues as the same
// run; a deletion asks first and removes one run only; a full run list refuses a new run with a
// message, keeps every saved one, and saves the new one once a deletion makes room; axe
// audits and screenshots (test-artifacts/runs-*.png, a11y-runs-*.png).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, animationFrames, browserSuite } from './browser.mjs';
import { audit } from './audit.mjs';
import { corpus } from './corpus.mjs';

const LONG = { timeout: 120_000 };
const suite = browserSuite({
  init: () => {
    window.inShadow = (selector) => document.querySelector('kindling-playground').shadowRoot.querySelector(selector);
  },
});

const validated = (page) => page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
const stepOf = (page) => page.locator('#step').getAttribute('data-value').then(Number);
const runCount = (page, count) =>
  page.locator(`#runs-list[data-count="${count}"]`).waitFor({ ...LONG, state: 'attached' });
const run = (page, name) =>
  page.locator('#runs-list .run').filter({ has: page.locator('.run-name', { hasText: new RegExp(`^${name}$`) }) });

async function settings(page, { tokenizer, steps }) {
  await page.locator('#preset').selectOption('tiny');
  await page.locator('#f-tokenizer').selectOption(tokenizer);
  if (tokenizer === 'bpe') await page.locator('#f-merges').fill('50');
  await page.locator('#f-maxSteps').fill(String(steps));
  await validated(page);
}

async function reset(page) {
  await page.locator('#reset').click();
  await page
    .locator('#train')
    .filter({ hasText: /^Train$/ })
    .waitFor(LONG);
}

async function openPlayground(page) {
  await page.goto(`${suite.server.url}/`);
  await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
  await page.locator('#train-for label').filter({ hasText: 'Steps' }).click(); // runs of the Model card's settings, not a budget
}

// The figures each listed run shows, by name.
const listed = (page) =>
  page
    .locator('#runs-list .run')
    .evaluateAll((items) =>
      items.map((item) => [
        item.querySelector('.run-name').textContent,
        item.querySelector('.run-figures').textContent,
      ]),
    );

// An autosave as the page wrote it before the run list existed: IndexedDB "kindling", version 1.
function oldAutosave() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('kindling', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('sessions');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const summary = { step: 40, maxSteps: 500, model: 'gpt', preset: 'tiny', lastLoss: 2.5, savedAt: Date.now() };
      const tx = open.result.transaction('sessions', 'readwrite');
      tx.objectStore('sessions').put(summary, 'playground:summary');
      tx.oncomplete = () => {
        open.result.close();
        resolve();
      };
      tx.onerror = () => reject(tx.error);
    };
  });
}

// The Runs card on a desktop, on a phone (390 px) and in the dark theme: `${name}-*.png`.
async function screenshots(page, name) {
  const card = page.locator('.runs-card');
  await card.screenshot({ path: join(ARTIFACTS, `${name}-desktop.png`) });
  await page.setViewportSize({ width: 390, height: 844 });
  await animationFrames(page); // the chart redraws on the next frame
  await card.screenshot({ path: join(ARTIFACTS, `${name}-phone.png`) });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await animationFrames(page);
  await card.screenshot({ path: join(ARTIFACTS, `${name}-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('the run list', () => {
  let page;

  before(async () => {
    page = await suite.browser.context.newPage();
    await page.goto(`${suite.server.url}/pkg-tests/host-page.html`);
    await page.evaluate(oldAutosave);
    await openPlayground(page);
    await page.locator('#pace label').filter({ hasText: 'Instant' }).click();
  });

  after(() => page.close());

  test('an autosave from before the run list is still offered; the list starts empty', async () => {
    await page.locator('#resume-offer').waitFor(LONG);
    assert.match(await page.locator('#resume-text').textContent(), /saved at step 40 of 500/);
    await runCount(page, 0);
    assert.equal(await page.locator('#runs-empty').isVisible(), true);
    assert.match(await page.locator('#runs-storage').textContent(), /^0 runs · 0 B of 200 MiB$/);
  });

  test('two short runs are listed with their figures', async () => {
    await page.locator('#text').fill(corpus());
    await settings(page, { tokenizer: 'char', steps: 30 });
    await page.locator('#train').click();
    await page.locator('#train').filter({ hasText: 'Finished' }).waitFor(LONG);
    await runCount(page, 1);

    // The second pauses part-way, so it can be continued later.
    await reset(page);
    await settings(page, { tokenizer: 'bpe', steps: 5000 });
    await page.locator('#train').click();
    await page.waitForFunction(() => Number(inShadow('#step').dataset.value) >= 20, null, { ...LONG, polling: 50 });
    await page.locator('#train').click(); // pause
    await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
    await runCount(page, 2);
    const paused = await stepOf(page);

    const runs = await listed(page);
    assert.deepEqual(
      runs.map(([name]) => name),
      ['Run 1', 'Run 2'],
    );
    assert.match(
      runs[0][1],
      /^GPT · [\d.]+k parameters · characters, \d+ tokens · from scratch · 30 of 30 steps · \d+ s · val \d\.\d{3} bits\/char$/,
    );
    assert.match(
      runs[1][1],
      new RegExp(
        `^GPT · [\\d.]+k parameters · BPE, \\d+ tokens · from scratch · ${paused} of 5000 steps · \\d+ s · (val|train) \\d\\.\\d{3} bits/char$`,
      ),
    );
    assert.match(await run(page, 'Run 1').locator('.run-sample').textContent(), /^“.+”$/, 'a sample');
    assert.match(await page.locator('#runs-storage').textContent(), /^2 runs · [\d.]+ (KiB|MiB) of 200 MiB$/);
    assert.equal(await page.locator('#runs-empty').isHidden(), true);
    assert.equal(await run(page, 'Run 1').locator('button', { hasText: 'Continue' }).isDisabled(), true, 'finished');
    assert.equal(await run(page, 'Run 2').locator('button', { hasText: 'Continue' }).isEnabled(), true, 'paused');
  });

  test('the list survives a reload, with the same figures', async () => {
    const before = await listed(page);
    await page.reload();
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await runCount(page, 2);
    assert.deepEqual(await listed(page), before);
    await page.locator('#pace label').filter({ hasText: 'Instant' }).click();
    await page.locator('#train-for label').filter({ hasText: 'Steps' }).click(); // as openPlayground
  });

  test('ticking both overlays their two curves, with a legend, and compares them in a table', async () => {
    assert.equal(await page.locator('#runs-compared').isHidden(), true, 'nothing ticked');
    await run(page, 'Run 1').getByRole('checkbox').check();
    await page.locator('#runs-chart[data-curves="1"]').waitFor(LONG);
    await run(page, 'Run 2').getByRole('checkbox').check();
    await page.locator('#runs-chart[data-curves="2"]').waitFor(LONG);
    assert.ok(Number(await page.locator('#runs-chart').getAttribute('data-points')) >= 2);
    assert.deepEqual(await page.locator('#runs-legend .run-key').allTextContents(), ['Run 1', 'Run 2']);
    const dashes = await page
      .locator('#runs-legend line')
      .evaluateAll((lines) => lines.map((line) => line.getAttribute('stroke-dasharray')));
    assert.notEqual(dashes[0], dashes[1], 'told apart by more than colour');
    // Train bits per character: measured at every chunk, validation only now and then.
    const valPoints = Number(await page.locator('#runs-chart').getAttribute('data-points'));
    await page.locator('#runs-metric label').filter({ hasText: 'Train' }).click();
    await page.locator('#runs-chart[data-curves="2"]').waitFor(LONG);
    assert.ok(
      Number(await page.locator('#runs-chart').getAttribute('data-points')) > valPoints,
      'more train points than val',
    );
    assert.match(
      await page.locator('#runs-chart').getAttribute('aria-label'),
      /^train bits per character against step of Run 1, Run 2$/,
    );
    await page.locator('#runs-metric label').filter({ hasText: 'Validation' }).click();

    const rows = await page
      .locator('#runs-table tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    assert.equal(rows.length, 2);
    assert.deepEqual(
      rows.map((row) => row.slice(0, 2)),
      [
        ['Run 1', 'GPT'],
        ['Run 2', 'GPT'],
      ],
    );
    assert.match(rows[0][3], /^characters, \d+ tokens$/);
    assert.match(rows[1][3], /^BPE, \d+ tokens$/);
    assert.equal(rows[0][4], 'scratch');
    assert.equal(rows[0][5], '30');
    assert.match(rows[0][7], /^\d\.\d{3}$/, 'train bits/char');
    assert.match(rows[0][8], /^\d\.\d{3}$/, 'val bits/char');
  });

  test('two runs write side by side from one prompt and seed; the same run twice writes the same text', async () => {
    const texts = async () => [
      await page.locator('#runs-out-a').textContent(),
      await page.locator('#runs-out-b').textContent(),
    ];
    const generate = async (a, b) => {
      await page.locator('#runs-a').selectOption({ label: a });
      await page.locator('#runs-b').selectOption({ label: b });
      await page.locator('#runs-generate').click();
      await page
        .locator('#runs-compare-status')
        .filter({ hasText: `Done: ${a} and ${b}, seed 7.` })
        .waitFor(LONG);
      return texts();
    };
    await page.locator('#runs-prompt').fill('the ');
    await page.locator('#runs-seed').fill('7');
    await page.locator('#runs-length').fill('60');
    const [first, again] = await generate('Run 2', 'Run 2');
    assert.equal(first, again, 'same model, prompt and seed: the same text');
    const [one, two] = await generate('Run 1', 'Run 2');
    for (const text of [one, two]) assert.ok(text.startsWith('the ') && text.length > 'the '.length + 10, text);
    assert.equal(two, first, 'Run 2 wrote the same again, beside another model');
    assert.deepEqual(await page.locator('#runs-out-a-title, #runs-out-b-title').allTextContents(), ['Run 1', 'Run 2']);
    assert.equal(await page.locator('#train').textContent(), 'Train', 'the live model is untouched (there is none)');
    // The curves drawn at every chunk, for the screenshots.
    await page.locator('#runs-metric label').filter({ hasText: 'Train' }).click();
    await screenshots(page, 'runs-card');
  });

  test('a run reopens as the live model and continues as the same run', async () => {
    const saved = Number(
      (await run(page, 'Run 2').locator('.run-figures').textContent()).match(/ (\d+) of 5000 steps/)[1],
    );
    await run(page, 'Run 1').locator('button', { hasText: 'Open' }).click();
    await page.locator('#train-status').filter({ hasText: 'Reopened Run 1 at step 30.' }).waitFor(LONG);
    assert.equal(await stepOf(page), 30);
    assert.equal(await page.locator('#text').inputValue(), corpus(), 'the run’s text');
    assert.equal(await page.locator('#train').textContent(), 'Finished');

    await run(page, 'Run 2').locator('button', { hasText: 'Continue' }).click();
    await page.locator('#train').filter({ hasText: 'Pause' }).waitFor(LONG);
    await page.waitForFunction((from) => Number(inShadow('#step').dataset.value) > from + 5, saved, {
      ...LONG,
      polling: 50,
    });
    await page.locator('#train').click(); // pause
    await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
    const step = await stepOf(page);
    await run(page, 'Run 2')
      .locator('.run-figures')
      .filter({ hasText: ` ${step} of 5000 steps` })
      .waitFor(LONG);
    assert.deepEqual(
      (await listed(page)).map(([name]) => name),
      ['Run 1', 'Run 2'],
      'the same run, not a new one',
    );
    assert.deepEqual(suite.browser.problems, [], 'no errors in the console, no CSP violation');
  });

  test('deleting asks first: Keep it keeps the run, Delete removes it and leaves the other', async () => {
    await run(page, 'Run 1').locator('button', { hasText: 'Delete' }).click();
    const confirm = run(page, 'Run 1').locator('.run-confirm');
    assert.match(await confirm.textContent(), /Delete Run 1 and its model\? This cannot be undone\./);
    const focused = () =>
      page.evaluate(() => document.querySelector('kindling-playground').shadowRoot.activeElement?.textContent);
    assert.equal(await focused(), 'Keep it', 'the safe answer is focused');
    await audit(page, 'runs-confirm');
    await page.keyboard.press('Escape');
    assert.equal(await confirm.count(), 0);
    assert.equal(await focused(), 'Delete', 'focus goes back to Delete');
    await runCount(page, 2);

    await run(page, 'Run 1').locator('button', { hasText: 'Delete' }).click();
    await run(page, 'Run 1').locator('.run-confirm button', { hasText: 'Delete Run 1' }).click();
    await runCount(page, 1);
    assert.deepEqual(
      (await listed(page)).map(([name]) => name),
      ['Run 2'],
    );
    assert.match(await page.locator('#runs-storage').textContent(), /^1 run · /);
    assert.deepEqual(await page.locator('#runs-legend .run-key').allTextContents(), ['Run 2']);
  });

  test('a full run list refuses a new run with a message, keeps the saved ones, and saves it once there is room', async () => {
    const used = Number(await page.locator('#runs-storage').getAttribute('data-bytes'));
    // The test hook: a cap just above what is stored (configure goes out on a storage-name change).
    await page.evaluate((cap) => {
      const element = document.querySelector('kindling-playground');
      element.dataset.runsCapBytes = cap;
      element.setAttribute('storage-name', 'playground');
    }, used + 4096);
    await reset(page);
    await settings(page, { tokenizer: 'char', steps: 20 });
    await page.locator('#train').click();
    await page.locator('#train').filter({ hasText: 'Finished' }).waitFor(LONG);
    const error = page.locator('#runs-error');
    await error.filter({ hasText: 'was not saved' }).waitFor(LONG);
    assert.match(
      await error.textContent(),
      /^Run 3 was not saved: the runs would take [\d.]+ (KiB|MiB), more than the [\d.]+ (KiB|MiB) they may use\. Delete runs you no longer need \(download them first to keep them\); this run is saved once there is room\. The runs already saved are kept\.$/,
    );
    assert.deepEqual(
      (await listed(page)).map(([name]) => name),
      ['Run 2'],
      'nothing saved was lost',
    );
    await audit(page, 'runs-full');

    await run(page, 'Run 2').locator('button', { hasText: 'Delete' }).click();
    await run(page, 'Run 2').locator('.run-confirm button', { hasText: 'Delete Run 2' }).click();
    await runCount(page, 1);
    // Under the name its refusal gave it: numbers are never reused.
    await page
      .locator('#runs-list .run-name')
      .filter({ hasText: /^Run 3$/ })
      .waitFor(LONG);
    assert.equal(await error.isHidden(), true);
    assert.match((await listed(page))[0][1], / 20 of 20 steps /);
  });

  test('the Runs card passes an axe audit with a run ticked', async () => {
    await run(page, 'Run 3').getByRole('checkbox').check();
    await page.locator('#runs-chart[data-curves="1"]').waitFor(LONG);
    await audit(page, 'runs');
    // Not the CSP: axe.run itself applies an inline style, which the strict policy refuses
    // (the tests before the first audit held the page to it).
    assert.deepEqual(
      suite.browser.problems.filter((text) => /page error/i.test(text)),
      [],
    );
  });
});

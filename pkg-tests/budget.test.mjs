// "Train for" in the playground's Train card (www/playground/train-for.js, the worker's
// worker/budget-probe.js), end to end. The probe's timings are injected (data-debug-budget-ms: 1000 ms
// a step for every shape, so a minute plans about 54 steps whatever this machine's speed), while
// every shape the probe times is still created, warmed up, timed and freed for real. The page's default (a
// minute), the control by keyboard, the probe's progress, the plan's sentence and the Model
// card showing its shape, training to the plan's end and continuing past it, a Reset while
// measuring, "Until I stop", an LSTM budget, the attribute and fine-tuning; axe audits with
// screenshots (test-artifacts/a11y-train-for-*.png). (The rules alone, in Node: budget-rules.test.mjs.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browserSuite, foreignRequests } from './browser.mjs';
import { audit } from './audit.mjs';
import { corpus } from './corpus.mjs';
import { BUDGET_HINT } from '../www/budget.js';

const LONG = { timeout: 120_000 };
// The plan's sentence: the steps that fit, or (a short text) the steps after which more would
// only learn it by heart.
const WHY =
  /^(GPT|LSTM|GRU) of (\d+) layers? × (\d+), context (\d+): about ([\d,]+) steps (?:fit in .+ here|\(about .+ here\); more would only learn this text by heart)\.$/;
const suite = browserSuite({
  init: () => {
    window.inShadow = (selector) => document.querySelector('kindling-playground').shadowRoot.querySelector(selector);
    // What the train status said, in order, and the element's events.
    window.statuses = [];
    window.finished = [];
    window.metrics = [];
    document.addEventListener('kindling-finished', ({ detail }) => window.finished.push(detail));
    document.addEventListener('kindling-metrics', ({ detail }) => window.metrics.push(detail));
  },
});

const element = (page) => page.locator('kindling-playground');
const validated = (page) => page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
const value = (page, id) => page.locator(id).inputValue().then(Number);
const checked = (page) => page.locator('#train-for input:checked').getAttribute('value');
// The focused element in the playground: its id, or a radio's group name.
const focused = (page) =>
  page.evaluate(() => {
    const active = document.querySelector('kindling-playground').shadowRoot.activeElement;
    return active ? active.id || active.name : null;
  });

// Records every text the train status shows from now on (window.statuses).
async function recordStatuses(page) {
  await page.evaluate(() => {
    window.statuses = [];
    window.finished = [];
    window.metrics = [];
    window.statusObserver?.disconnect();
    const status = inShadow('#train-status');
    window.statusObserver = new MutationObserver(() => window.statuses.push(status.textContent));
    window.statusObserver.observe(status, { childList: true, characterData: true, subtree: true });
  });
}

// The plan's sentence once the train status shows it, parsed.
async function planned(page) {
  const why = await page
    .locator('#train-status')
    .filter({ hasText: /(here|by heart)\.$/ })
    .textContent(LONG);
  const [, model, layers, width, context, about] = why.match(WHY) ?? [];
  assert.ok(model, `the plan's sentence: ${why}`);
  return {
    why,
    model,
    layers: Number(layers),
    width: Number(width),
    context: Number(context),
    about: Number(about.replace(/,/g, '')),
  };
}

const measuring = (statuses) => statuses.filter((text) => text.startsWith('Measuring this device: shape'));

async function reset(page) {
  await page.locator('#reset').click();
  await element(page).and(page.locator('[data-phase=empty]')).waitFor(LONG);
  await page
    .locator('#train')
    .filter({ hasText: /^Train$/ })
    .waitFor(LONG);
}

describe('Train for', () => {
  let page;

  before(async () => {
    page = await suite.browser.context.newPage();
    await page.goto(`${suite.server.url}/`);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    // Fake probe timings; a change of the workers attribute sends the settings to the worker.
    await element(page).evaluate((el) => {
      el.dataset.debugBudgetMs = '1000';
      el.setAttribute('workers', 'auto');
    });
    await page.locator('#text').fill(corpus());
    await validated(page);
  });

  after(() => page.close());

  test('the page trains for a minute by default; the Model card leaves the sizes to the budget', async () => {
    assert.equal(await checked(page), '60');
    assert.equal(await element(page).evaluate((el) => el.budget), null, 'the default, not an attribute');
    assert.equal(
      await page.locator('#train-for-note').textContent(),
      'Train measures this device for a few seconds, then trains the model that learns most in 1 minute.',
    );
    assert.equal(await page.locator('#shape-note').textContent(), BUDGET_HINT);
    assert.equal(await page.locator('#preset').isHidden(), true, 'no preset: the budget sizes the model');
    for (const id of ['#f-nLayer', '#f-nEmbd', '#f-blockSize', '#f-maxSteps', '#f-learningRate']) {
      assert.equal(await page.locator(id).isDisabled(), true, `${id} is the budget's`);
      assert.equal(await page.locator(id).isHidden(), true, `${id} shows once the budget has chosen`);
    }
    for (const id of ['#f-model', '#f-tokenizer'])
      assert.equal(await page.locator(id).isEnabled(), true, `${id} is the reader's`);
    assert.equal(await page.locator('#params').textContent(), '—', 'the size is chosen at Train');
    assert.equal(await page.locator('#train').isEnabled(), true);
    await audit(page, 'train-for');
  });

  test('the control works by keyboard: the arrows choose within it, Tab goes on to Train', async () => {
    await page.locator('#train-for input[value="60"]').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await checked(page), '300');
    assert.equal(await element(page).getAttribute('budget'), '300', 'the control sets the attribute');
    assert.match(await page.locator('#train-for-note').textContent(), /learns most in 5 minutes\.$/);
    // Back past the first choice to the last: Steps gives every field back.
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await checked(page), 'steps');
    assert.equal(await element(page).getAttribute('budget'), 'steps');
    assert.equal(await page.locator('#preset').isVisible(), true);
    assert.equal(await page.locator('#f-nLayer').isEnabled(), true);
    assert.equal(await page.locator('#shape-note').isHidden(), true);
    await page.keyboard.press('ArrowRight');
    assert.equal(await checked(page), '60');
    assert.equal(await element(page).getAttribute('budget'), '60');
    assert.equal(await page.locator('#f-nLayer').isDisabled(), true);
    await validated(page); // Train waits for the settings to be checked
    // Tab leaves the group (one stop) for Start from (one stop), then Train.
    const stops = [];
    while (stops.length < 4 && stops.at(-1) !== 'train') {
      await page.keyboard.press('Tab');
      stops.push(await focused(page));
    }
    assert.deepEqual(stops, ['start-from', 'train'], 'Start from, then Train');
  });

  test('Train measures each shape, says why, shows the chosen shape and trains to the end of the plan', async () => {
    await recordStatuses(page);
    await page.keyboard.press('Enter'); // Train has the focus
    const plan = await planned(page);
    const statuses = await page.evaluate(() => window.statuses);
    // Not the 4 × 128: at the 3 × 96's 1000 ms a step it could not beat it in a minute's 57 steps
    // (src/budget.rs's worth_measuring), so the probe spends no time on it.
    assert.deepEqual(
      measuring(statuses),
      [1, 2, 3].map((i) => `Measuring this device: shape ${i} of 4…`),
    );
    assert.equal(plan.model, 'GPT');
    assert.equal(plan.why.endsWith('fit in 1 minute here.'), false, 'the probe took its share of the minute');
    // The Model card shows the plan's shape, and why.
    await page.locator('#shape-note').filter({ hasText: plan.why }).waitFor(LONG);
    for (const id of ['#f-nLayer', '#f-nEmbd', '#f-blockSize', '#f-maxSteps']) {
      assert.equal(await page.locator(id).isVisible(), true, `${id} shows the plan's`);
      assert.equal(await page.locator(id).isDisabled(), true);
    }
    assert.equal(await value(page, '#f-nLayer'), plan.layers);
    assert.equal(await value(page, '#f-nEmbd'), plan.width);
    assert.equal(await value(page, '#f-blockSize'), plan.context);
    const maxSteps = await value(page, '#f-maxSteps');
    // 1000 ms a step: at most 57 of the 60 s's steps (the engine keeps 5% for evaluations).
    assert.ok(maxSteps >= 1 && maxSteps <= 57, `${maxSteps} steps`);
    assert.ok(
      Math.abs(plan.about - maxSteps) <= Math.max(1, maxSteps * 0.05),
      `about ${plan.about}, planned ${maxSteps}`,
    );

    await page.locator('#train').filter({ hasText: 'Continue' }).waitFor(LONG);
    const finished = await page.evaluate(() => window.finished);
    assert.equal(finished.length, 1);
    assert.equal(finished[0].step, maxSteps);
    assert.equal(await page.locator('#step').getAttribute('data-value'), String(maxSteps));
    assert.equal(await page.locator('#step').textContent(), `${maxSteps} / ${maxSteps}`);
    assert.equal(
      await page.locator('#progress').evaluate((bar) => bar.value),
      1,
      'the bar reaches its end with the budget',
    );
    assert.equal(await page.locator('#eta').textContent(), '—');
    const metrics = await page.evaluate(() => window.metrics);
    assert.ok(
      metrics.every((m) => m.totalSteps === maxSteps),
      'every chunk counted towards the plan',
    );
    const status = await page.locator('#train-status').textContent();
    const kept = finished[0].keptBestFrom;
    if (kept === undefined) {
      assert.equal(
        status,
        `Finished: ${maxSteps} steps. Generate below, Continue to train further, or Reset to start again.`,
      );
    } else {
      assert.match(status, new RegExp(`stopped improving at step ${kept}, so the weights from there were kept\\.`));
    }
    await audit(page, 'train-for-finished');
  });

  test('Continue trains as many steps again, at the final learning rate', async () => {
    const maxSteps = await value(page, '#f-maxSteps');
    await recordStatuses(page);
    await page.locator('#train').click();
    const statuses = await page.evaluate(() => window.statuses);
    assert.equal(
      statuses[0],
      `Continuing for ${maxSteps} more steps at the final learning rate, to step ${2 * maxSteps}.`,
    );
    await page.locator('#train').filter({ hasText: 'Continue' }).waitFor(LONG);
    const finished = await page.evaluate(() => window.finished);
    assert.deepEqual(
      finished.map((f) => f.step),
      [2 * maxSteps],
    );
    const metrics = await page.evaluate(() => window.metrics);
    assert.ok(metrics.every((m) => m.totalSteps === 2 * maxSteps));
    assert.equal(await page.locator('#step').textContent(), `${2 * maxSteps} / ${2 * maxSteps}`);
    await reset(page);
    assert.equal(await page.locator('#shape-note').textContent(), BUDGET_HINT, 'the next Train sizes afresh');
    assert.equal(await page.locator('#f-nLayer').isHidden(), true);
  });

  test('a Reset while measuring cancels it: no plan, no model, and the next Train measures afresh', async () => {
    await recordStatuses(page);
    // Reset as soon as the first shape is being measured.
    await page.evaluate(() => {
      const status = inShadow('#train-status');
      const observer = new MutationObserver(() => {
        if (!status.textContent.includes('shape 1 of')) return;
        observer.disconnect();
        inShadow('#reset').click();
      });
      observer.observe(status, { childList: true, characterData: true, subtree: true });
    });
    await page.locator('#train').click();
    await element(page).and(page.locator('[data-phase=empty]')).waitFor(LONG);
    // A validation goes through the worker's inbox after the cancelled create and the reset:
    // once it is answered, anything they posted has arrived.
    await page.locator('#text').press('End');
    await page.locator('#text').pressSequentially(' ');
    await validated(page);
    const statuses = await page.evaluate(() => window.statuses);
    assert.ok(measuring(statuses).length >= 1, 'it was measuring');
    assert.ok(!statuses.some((text) => WHY.test(text)), `no plan: ${statuses}`);
    assert.deepEqual(await page.evaluate(() => window.metrics), [], 'nothing trained');
    assert.equal(await element(page).getAttribute('data-phase'), 'empty');
    assert.equal(await page.locator('#train').textContent(), 'Train');
    assert.equal(await page.locator('#train-status').textContent(), '');

    await recordStatuses(page);
    await page.locator('#train').click();
    await planned(page);
    assert.equal(measuring(await page.evaluate(() => window.statuses))[0], 'Measuring this device: shape 1 of 4…');
    await reset(page);
  });

  test('Until I stop: sized for half an hour, no end to count down to; Pause pauses it', async () => {
    await page.locator('#train-for label').filter({ hasText: 'Until I stop' }).click();
    assert.equal(await element(page).getAttribute('budget'), 'until-stopped');
    await validated(page);
    await recordStatuses(page);
    await page.locator('#train').click();
    const why = await page
      .locator('#train-status')
      .filter({ hasText: /until you stop it\.$/ })
      .textContent(LONG);
    assert.match(
      why,
      /^GPT of \d+ layers? × \d+, context \d+: the size that learns most in half an hour here; it trains until you stop it\.$/,
    );
    await page.waitForFunction(() => window.metrics.length >= 2, null, { ...LONG, polling: 100 });
    assert.match(await page.locator('#step').textContent(), /^\d+$/, 'no total');
    assert.equal(await page.locator('#eta').textContent(), 'until stopped');
    assert.equal(await page.locator('#progress').isHidden(), true);
    await page.locator('#train').click(); // pause
    await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
    await reset(page);
    await page.locator('#train-for label').filter({ hasText: '1 minute' }).click();
  });

  test('an LSTM gets a budget of its own shapes', async () => {
    await page.locator('#f-model').selectOption('lstm');
    await validated(page);
    await recordStatuses(page);
    await page.locator('#train').click();
    const plan = await planned(page);
    assert.equal(plan.model, 'LSTM');
    assert.deepEqual(
      measuring(await page.evaluate(() => window.statuses)),
      [1, 2].map((i) => `Measuring this device: shape ${i} of 2…`),
    );
    assert.equal(await value(page, '#f-nLayer'), plan.layers);
    assert.equal(await value(page, '#f-hiddenSize'), plan.width);
    assert.equal(await page.locator('#f-nHead').isHidden(), true);
    await page.waitForFunction(() => window.metrics.length >= 1, null, { ...LONG, polling: 100 });
    await reset(page);
    await page.locator('#f-model').selectOption('gpt');
  });

  test('the budget attribute and the control follow each other; steps keep steps; fine-tuning keeps its steps', async () => {
    await element(page).evaluate((el) => (el.budget = '5'));
    assert.equal(await checked(page), 'custom');
    assert.equal(await page.locator('#train-for-custom').textContent(), '5 seconds');
    assert.match(await page.locator('#train-for-note').textContent(), /learns most in 5 seconds\.$/);
    await element(page).evaluate((el) => {
      el.budget = null;
      el.steps = 150;
    });
    assert.equal(await checked(page), 'steps', 'an element with steps keeps step-based training');
    assert.equal(await page.locator('#train-for-custom-choice').isHidden(), true);
    assert.equal(await page.locator('#f-maxSteps').inputValue(), '150');
    assert.equal(await page.locator('#f-maxSteps').isEnabled(), true);
    await element(page).evaluate((el) => (el.budget = '300'));
    assert.equal(await checked(page), '300', 'unless a budget is given');
    await element(page).evaluate((el) => {
      el.budget = null;
      el.steps = null;
    });
    assert.equal(await checked(page), '60');

    // Another start point: the control is off and a fine-tune trains for the Model card's steps.
    await page.locator('#start-from input[value=scratch]').focus();
    await page.keyboard.press('ArrowRight');
    const disabled = () => page.locator('#train-for').evaluate((fieldset) => fieldset.disabled);
    assert.equal(await disabled(), true);
    assert.match(
      await page.locator('#train-for-note').textContent(),
      /^A fine-tune trains for the Model card’s training steps/,
    );
    assert.equal(await page.locator('#f-maxSteps').isEnabled(), true);
    assert.equal(await page.locator('#f-maxSteps').isVisible(), true);
    await page.keyboard.press('ArrowLeft');
    assert.equal(await disabled(), false);
    assert.equal(await page.locator('#f-maxSteps').isDisabled(), true);
  });
});

// Not the CSP: axe.run itself applies an inline style, which the strict policy refuses.
test('nothing left the origin and no page errors', () => {
  assert.deepEqual(foreignRequests(suite.browser.requests, suite.server.url), []);
  assert.deepEqual(
    suite.browser.problems.filter((text) => /page error|Kindling crashed/i.test(text)),
    [],
  );
});

// Accessibility: an axe-core audit (every rule axe runs by default, best practices included)
// of the playground in each state a reader meets (engine ready, training, text generated,
// stepping through a generation), light and dark, desktop and phone, and of the example blog
// post's embeds: zero violations.
// Screenshots of each audited view go to test-artifacts/a11y-*.png.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { browserSuite } from './browser.mjs';
import { audit } from './audit.mjs';
import { corpus } from './corpus.mjs';

const LONG = { timeout: 120_000 };
const suite = browserSuite();

describe('the playground page', () => {
  let page;

  before(async () => {
    page = await suite.browser.context.newPage();
    await page.goto(`${suite.server.url}/`);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
  });

  after(() => page.close());

  test('ready, before training', async () => {
    await audit(page, 'ready');
  });

  test('training', async () => {
    await page.locator('#text').fill(corpus());
    // Steps, to train long enough for the audits (the default, a minute's budget: budget.test.mjs).
    await page.locator('#train-for label').filter({ hasText: 'Steps' }).click();
    await page.locator('#f-maxSteps').fill('100000');
    await page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
    await page.locator('#train').click();
    await page.waitForFunction(
      () =>
        Number(document.querySelector('kindling-playground').shadowRoot.querySelector('#chart').dataset.points) >= 3,
      null,
      { ...LONG, polling: 100 },
    );
    await audit(page, 'training');
  });

  test('text generated, a token inspected', async () => {
    await page.locator('#train').click(); // pause
    await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
    await page.locator('#prompt').fill('the ');
    await page.locator('#length').fill('200');
    await page.locator('#pace label').filter({ hasText: 'Instant' }).click();
    await page.locator('#generate').click();
    await page.locator('#gen-status').filter({ hasText: 'Done' }).waitFor(LONG);
    await page.locator('#output').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await audit(page, 'generated');
  });

  test('stepping through a generation, a token at a time', async () => {
    await page.locator('#pace label').filter({ hasText: 'Step' }).click();
    await page.locator('#generate').click();
    for (let i = 0; i < 3; i++) await page.locator('#next-token').click();
    // Attached, not visible: a sampled newline is a token no one sees.
    await page.locator('#output .tok >> nth=2').waitFor({ state: 'attached', ...LONG });
    await audit(page, 'stepping');
    await page.locator('#stop').click();
    await page.locator('#gen-status').filter({ hasText: 'Stopped after 3 tokens' }).waitFor(LONG);
  });
});

test('the example blog post, its embeds loaded and one of them done writing', async () => {
  const page = await suite.browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 2700 }); // both embeds in view
  await page.goto(`${suite.server.url}/www/embed-example.html`);
  await page.locator('#demo-generate #gen-status').filter({ hasText: 'Done' }).waitFor(LONG);
  await page.locator('#demo-train #train:enabled').waitFor(LONG);
  await audit(page, 'embed-example');
  await page.close();
});

// Not the CSP: axe.run itself applies an inline style, which the strict policy refuses (the
// other page tests hold the pages to the policy, without axe).
test('the audits raised no page errors', () => {
  assert.deepEqual(
    suite.browser.problems.filter((text) => /page error/i.test(text)),
    [],
  );
});

// Models between the native `kindling` command and the page: one trained natively opens in
// the page (the JS API and the playground's model-src) and trains on there; the page's models
// (.kindling and its safetensors download) go back to the command. The val loss is the same
// both ways within 1e-3 (the command's `eval` against the JS API's `evaluate`).
// The command is the one the native tests built (scripts/test.sh runs them first); KINDLING_CLI
// names another.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, browserSuite } from './browser.mjs';
import { audit } from './audit.mjs';
import { corpus } from './corpus.mjs';
import { LONG, openPlayground, recordMetrics } from './fine-tune-steps.mjs';

const TARGET = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache/kindling/target');
const CLI = process.env.KINDLING_CLI ?? join(TARGET, 'debug/kindling');
const file = (name) => join(ARTIFACTS, `native-${name}`);
const TEXT = file('corpus.txt');
const NATIVE = file('model.kindling');
const NATIVE_STEPS = 60;

const kindling = (...args) => execFileSync(CLI, args, { encoding: 'utf8' });
const evalLoss = (model) => JSON.parse(kindling('eval', model, '--json'));
const suite = browserSuite({
  init: recordMetrics,
  setUp: () => {
    assert.ok(existsSync(CLI), `no kindling command at ${CLI}: build it with \`cargo build --bin kindling\``);
    writeFileSync(TEXT, corpus());
    // Trained to step 60 of a 200-step run: the page can train on.
    kindling('train', '--text', TEXT, '--steps', String(NATIVE_STEPS), '--set', 'maxSteps=200', '--out', NATIVE);
  },
});

function close(a, b, what) {
  assert.ok(Math.abs(a - b) <= 1e-3, `${what}: ${a} vs ${b}`);
}

describe('the JS API and the command', () => {
  let page;
  before(async () => {
    page = await suite.browser.context.newPage();
    await page.goto(`${suite.server.url}/pkg-tests/pkg-page.html`);
    await page.waitForFunction(() => document.body.dataset.state, null, LONG);
  });
  after(() => page.close());

  test('a native model opens with its val loss, trains on, and goes back with the page’s', async () => {
    const native = evalLoss(NATIVE);
    assert.equal(native.step, NATIVE_STEPS);
    const url = `${suite.server.url}/test-artifacts/native-model.kindling`;
    const inPage = await page.evaluate(async (url) => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const model = await Kindling.fromBytes(bytes, { backend: 'cpu' });
      const opened = { step: model.step, loss: await model.evaluate() };
      await model.trainSteps(20);
      const trained = { step: model.step, loss: await model.evaluate() };
      const saved = Array.from(await model.toBytes());
      const { weights, manifest } = await model.toSafetensors();
      model.free();
      return { opened, trained, saved, weights: Array.from(weights), manifest };
    }, url);
    assert.equal(inPage.opened.step, NATIVE_STEPS);
    close(inPage.opened.loss, native.valLoss, 'native → page');
    assert.ok(inPage.trained.loss < inPage.opened.loss, `trained on: ${JSON.stringify(inPage)}`);

    writeFileSync(file('from-page.kindling'), Buffer.from(inPage.saved));
    const back = evalLoss(file('from-page.kindling'));
    assert.equal(back.step, NATIVE_STEPS + 20);
    close(back.valLoss, inPage.trained.loss, 'page → native');

    // The page's safetensors export imports natively: the same model.
    writeFileSync(file('from-page.safetensors'), Buffer.from(inPage.weights));
    writeFileSync(file('from-page.json'), inPage.manifest);
    kindling('import', file('from-page.safetensors'), '--text', TEXT, '--out', file('imported.kindling'));
    close(evalLoss(file('imported.kindling')).valLoss, inPage.trained.loss, 'page safetensors → native');
  });
});

describe('the playground and the command', () => {
  let page;
  before(async () => {
    page = await openPlayground(suite);
  });
  after(() => page.close());

  test('model-src opens a native model, Train goes on from its step, and safetensors + JSON download', async () => {
    await page
      .locator('kindling-playground')
      .evaluate((el) => el.setAttribute('model-src', 'test-artifacts/native-model.kindling'));
    await page.locator(`#step[data-value="${NATIVE_STEPS}"]`).waitFor(LONG);
    await page.locator('#train').click();
    await page.locator('#step[data-value="200"]').waitFor(LONG); // the run's maxSteps

    await page.locator('#download-format').selectOption('safetensors');
    await screenshots(page);
    await audit(page, 'native-download');
    const two = new Promise((resolve) => {
      const got = [];
      page.on('download', (download) => got.push(download) === 2 && resolve(got));
    });
    await page.locator('#download').click();
    const downloads = await two;
    const names = downloads.map((download) => download.suggestedFilename());
    assert.deepEqual(names, ['kindling-gpt-step200.safetensors', 'kindling-gpt-step200.json']);
    await downloads[0].saveAs(file('playground.safetensors'));
    await downloads[1].saveAs(file('playground.json'));
    kindling('import', file('playground.safetensors'), '--text', TEXT, '--out', file('playground.kindling'));
    assert.equal(evalLoss(file('playground.kindling')).step, 200);
  });
});

// The Train card with the download format: desktop, phone (390 px) and dark.
async function screenshots(page) {
  const card = page.locator('.train-card');
  await card.screenshot({ path: file('train-card-desktop.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await card.screenshot({ path: file('train-card-desktop-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await card.screenshot({ path: file('train-card-phone.png') });
  await page.setViewportSize({ width: 1280, height: 900 });
}

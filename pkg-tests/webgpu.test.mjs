// The playground where Chromium offers a WebGPU adapter (--enable-unsafe-webgpu: SwiftShader, a
// CPU emulating a GPU, slower than the CPU engine). 'auto' trains on the CPU at once, fetches
// the WebGPU build, measures both and stays on the CPU here, saying why; with a GPU faked fast
// it moves the model to WebGPU; the backend control moves it either way, keeping its step.
// The other page tests run without the flag and never fetch the WebGPU build.
// No adapter FAILS these tests unless KINDLING_ALLOW_NO_WEBGPU=1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, foreignRequests } from './browser.mjs';
import { audit } from './audit.mjs';
import { corpus } from './corpus.mjs';

const LONG = { timeout: 180_000 };
const GPU_WASM = '/pkg-webgpu/kindling_bg.wasm';
let server;
let browser;

before(async () => {
  server = await startServer({ csp: true });
  browser = await launchBrowser({ webgpu: true });
  await browser.context.addInitScript(() => {
    window.inShadow = (selector) => document.querySelector('kindling-playground').shadowRoot.querySelector(selector);
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

// A fresh playground with tiny ready to train for long enough to be measured and moved; null
// (the test skipped) where Chromium has no adapter and KINDLING_ALLOW_NO_WEBGPU=1 allows that.
async function openPlayground(t, setUp = () => {}) {
  const page = await browser.context.newPage();
  t.after(() => page.close());
  await page.goto(`${server.url}/`);
  await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
  const hasAdapter = await page.evaluate(async () => Boolean(await navigator.gpu?.requestAdapter()));
  if (!hasAdapter && process.env.KINDLING_ALLOW_NO_WEBGPU === '1') {
    t.skip('no WebGPU adapter in this Chromium (KINDLING_ALLOW_NO_WEBGPU=1)');
    return null;
  }
  assert.ok(hasAdapter, 'Chromium with --enable-unsafe-webgpu has no WebGPU adapter');
  await page.evaluate(setUp);
  await page.locator('#text').fill(corpus());
  // Steps: the Model card's settings, not the page's budget.
  await page.evaluate(() => document.querySelector('kindling-playground').setAttribute('steps', '100000'));
  await page.locator('#preset').selectOption('tiny');
  await page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
  return page;
}

const numberIn = (page, id) => page.evaluate((id) => Number(inShadow(id).dataset.value), id);
const stepOf = (page) => numberIn(page, '#step');
const stepsPass = (page, from, count) =>
  page.waitForFunction(([from, count]) => Number(inShadow('#step').dataset.value) >= from + count, [from, count], {
    ...LONG,
    polling: 100,
  });
const fetchedGpuBuild = () => browser.requests.some((url) => url.endsWith(GPU_WASM));

test('backend cpu never fetches the WebGPU build, even with an adapter', async (t) => {
  const page = await openPlayground(t, () =>
    document.querySelector('kindling-playground').setAttribute('backend', 'cpu'),
  );
  if (!page) return; // skipped: no adapter
  assert.equal(await page.locator('#backend-choice').inputValue(), 'cpu', 'the control shows the attribute');
  await page.locator('#train').click();
  await stepsPass(page, 0, 100);
  assert.match(await page.locator('#backend').textContent(), /^CPU/);
  assert.ok(
    browser.requests.some((url) => url.endsWith('/pkg/kindling_bg.wasm')),
    'the CPU build was fetched',
  );
  assert.equal(fetchedGpuBuild(), false, 'the WebGPU build was fetched for a CPU-only element');
  await page.locator('#train').click();
});

test('auto starts on the CPU, measures WebGPU beside it, and stays on the faster CPU, saying so', async (t) => {
  // A slow GPU, whatever adapter this machine has: the measurement says 5000 ms/step. (A real
  // adapter may be faster or slower than the CPU; the choice, not the hardware, is under test.
  // The test below injects the other way.)
  const page = await openPlayground(t, () => {
    const element = document.querySelector('kindling-playground');
    element.dataset.debugWebgpuMs = '5000';
    element.setAttribute('backend', 'auto'); // sends the settings to the worker
  });
  if (!page) return; // skipped: no adapter
  await page.locator('#train').click();
  await stepsPass(page, 0, 1);
  assert.match(await page.locator('#backend').textContent(), /^CPU/, 'training starts on the CPU');

  const status = page
    .locator('#train-status')
    .filter({ hasText: /^WebGPU 5000 ms\/step, CPU.* [\d.]+ ms\/step: training on the CPU$/ });
  await status.waitFor(LONG);
  assert.ok(fetchedGpuBuild(), 'the WebGPU build was fetched to measure it');
  assert.match(await page.locator('#backend').textContent(), /^CPU/);
  assert.match(
    await page.locator('#backend').getAttribute('title'),
    /WebGPU [\d.]+ ms\/step, CPU.*: training on the CPU/,
  );
  await stepsPass(page, await stepOf(page), 5); // and it trains on
  // axe sets inline styles, which the page's CSP refuses: those reports are axe's, not the page's.
  const reported = browser.problems.length;
  await audit(page, 'webgpu-measured');
  browser.problems.splice(reported);
  await page.locator('#train').click();
});

test('auto moves the model to WebGPU when WebGPU measures faster; it keeps learning and writes there', async (t) => {
  // A fast GPU where there is only SwiftShader: the measurement says 0.01 ms/step.
  const page = await openPlayground(t, () => {
    const element = document.querySelector('kindling-playground');
    element.dataset.debugWebgpuMs = '0.01';
    element.setAttribute('backend', 'auto'); // sends the settings to the worker
  });
  if (!page) return; // skipped: no adapter
  await page.locator('#train').click();
  await stepsPass(page, 0, 1);
  const firstLoss = await numberIn(page, '#loss');
  await page.locator('#backend').filter({ hasText: 'WebGPU' }).waitFor(LONG);
  assert.match(
    await page.locator('#train-status').textContent(),
    /^WebGPU 0\.0 ms\/step, CPU.* ms\/step: training on WebGPU$/,
  );
  assert.match(await page.locator('#backend').getAttribute('title'), /^WebGPU: \S.*training on WebGPU/);
  const moved = await stepOf(page);
  assert.ok(moved > 0, 'the model moved with its steps');
  await stepsPass(page, moved, 3);
  await page.waitForFunction((first) => Number(inShadow('#loss').dataset.value) < first * 0.9, firstLoss, {
    ...LONG,
    polling: 200,
  });
  // Generating while it trains on WebGPU: the two interleave on the one device.
  await page.locator('#generate').click();
  await page.waitForFunction(() => inShadow('#output').querySelectorAll('.tok').length >= 5, null, {
    ...LONG,
    polling: 200,
  });
  await stepsPass(page, await stepOf(page), 1);
  assert.equal(await page.locator('#backend').textContent(), 'WebGPU', 'still on WebGPU');
  // Forced back to the CPU, the badge keeps the measured figures for comparison.
  await page.locator('#backend-choice').selectOption('cpu');
  await page.locator('#backend').filter({ hasText: /^CPU/ }).waitFor(LONG);
  assert.match(
    await page.locator('#backend').getAttribute('title'),
    /Measured here: WebGPU 0\.0 ms\/step, CPU.* ms\/step$/,
  );
  await page.locator('#train').click();
});

test('the backend control moves a training model to WebGPU and back, keeping its step', async (t) => {
  const page = await openPlayground(t);
  if (!page) return; // skipped: no adapter
  await page.locator('#train').click();
  await stepsPass(page, 0, 20);
  await page.locator('#backend-choice').selectOption('webgpu');
  await page.locator('#backend').filter({ hasText: 'WebGPU' }).waitFor(LONG);
  const onGpu = await stepOf(page);
  assert.ok(onGpu >= 20, `the step went back to ${onGpu} in the move`);
  await stepsPass(page, onGpu, 2);
  assert.equal(
    await page.evaluate(() => document.querySelector('kindling-playground').getAttribute('backend')),
    'webgpu',
  );

  await page.locator('#backend-choice').selectOption('cpu');
  await page.locator('#backend').filter({ hasText: /^CPU/ }).waitFor(LONG);
  const onCpu = await stepOf(page);
  assert.ok(onCpu >= onGpu, `the step went back from ${onGpu} to ${onCpu} in the move`);
  await stepsPass(page, onCpu, 5);
  await page.locator('#train').click();
});

test('WebGPU made no foreign requests and raised no page errors', () => {
  assert.deepEqual(foreignRequests(browser.requests, server.url), []);
  assert.deepEqual(
    browser.problems.filter((text) => /page error|Kindling crashed|Content.Security.Policy/i.test(text)),
    [],
  );
});

// The playground on WebGPU: with Chromium's software adapter (--enable-unsafe-webgpu) the
// badge says WebGPU, names the adapter, and training works; the other page tests run without
// the flag and see the CPU badge. No adapter FAILS this test unless KINDLING_ALLOW_NO_WEBGPU=1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, foreignRequests } from './browser.mjs';
import { corpus } from './corpus.mjs';

const LONG = { timeout: 180_000 };
let server;
let browser;

before(async () => {
  server = await startServer({ csp: true });
  browser = await launchBrowser({ webgpu: true });
});

after(async () => {
  await browser?.close();
  server?.close();
});

const shadowValue = (page, id) =>
  page.evaluate((id) => Number(document.querySelector('kindling-playground').shadowRoot.querySelector(id).dataset.value), id);

test('with a WebGPU adapter the badge says WebGPU and the loss falls', async (t) => {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/`);
  await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
  const hasAdapter = await page.evaluate(async () => Boolean(await navigator.gpu?.requestAdapter()));
  if (!hasAdapter && process.env.KINDLING_ALLOW_NO_WEBGPU === '1') {
    t.skip('no WebGPU adapter in this Chromium (KINDLING_ALLOW_NO_WEBGPU=1)');
    return;
  }
  assert.ok(hasAdapter, 'Chromium with --enable-unsafe-webgpu has no WebGPU adapter');

  await page.locator('#text').fill(corpus());
  await page.locator('#preset').selectOption('tiny');
  await page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
  await page.locator('#train').click();
  await page.locator('#backend').filter({ hasText: 'WebGPU' }).waitFor(LONG);
  assert.match(await page.locator('#backend').getAttribute('title'), /^WebGPU: \S/);

  await page.waitForFunction(() => {
    const root = document.querySelector('kindling-playground').shadowRoot;
    return Number(root.querySelector('#chart').dataset.points) >= 2;
  }, null, { ...LONG, polling: 200 });
  const first = await shadowValue(page, '#loss');
  await page.waitForFunction((first) => {
    const loss = Number(document.querySelector('kindling-playground').shadowRoot.querySelector('#loss').dataset.value);
    return loss < first * 0.8;
  }, first, { ...LONG, polling: 200 });
  assert.equal(await page.locator('#backend').textContent(), 'WebGPU', 'still on WebGPU after training');
  await page.locator('#train').click();
});

test('WebGPU made no foreign requests and raised no page errors', () => {
  assert.deepEqual(foreignRequests(browser.requests, server.url), []);
  assert.deepEqual(browser.problems.filter((text) => /page error|Kindling crashed|Content.Security.Policy/i.test(text)), []);
});

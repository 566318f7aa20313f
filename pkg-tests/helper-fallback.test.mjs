// Helper workers only ever speed training up: when one replies with something malformed, the
// page's engine worker drops the helpers (it tells by the error's kind, 'helper') and training
// goes on in one worker, with a notice in the badge's tooltip and no error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, foreignRequests, startLongTinyRun } from './browser.mjs';

const LONG = { timeout: 120_000 };
let server;
let browser;

before(async () => {
  server = await startServer({ csp: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.close();
});

const inShadow = (page, selector, read) =>
  page.evaluate(
    ([selector, read]) => document.querySelector('kindling-playground').shadowRoot.querySelector(selector)[read],
    [selector, read],
  );

test('a helper that replies malformed is dropped and training goes on in one worker', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/`);
  await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
  // One helper besides the training worker, whatever this machine's core count.
  await page.evaluate(() => document.querySelector('kindling-playground').setAttribute('workers', '2'));
  const engine = page.workers().find((worker) => worker.url().endsWith('/www/worker/engine-worker.js'));
  assert.ok(engine, `no engine worker among ${page.workers().map((worker) => worker.url())}`);
  // The fault: every helper the engine worker starts from now on answers a gradients request
  // with { loss: 'x' } (worker/helper-pool.js reads replies through `onmessage`).
  await engine.evaluate(() => {
    self.Worker = class extends Worker {
      set onmessage(handler) {
        super.onmessage = (event) => handler({ data: event.data?.grads ? { loss: 'x' } : event.data });
      }
    };
  });

  await startLongTinyRun(page);
  await page.waitForFunction(
    () => {
      const root = document.querySelector('kindling-playground').shadowRoot;
      return Number(root.querySelector('#step').dataset.value) > 30 || !root.querySelector('#train-error').hidden;
    },
    null,
    { ...LONG, polling: 100 },
  );

  assert.equal(
    await inShadow(page, '#train-error', 'hidden'),
    true,
    await inShadow(page, '#train-error', 'textContent'),
  );
  assert.equal(await page.locator('#train').textContent(), 'Pause');
  assert.equal(await page.locator('#backend').textContent(), 'CPU', 'one worker after the helper failed');
  assert.match(await page.locator('#backend').getAttribute('title'), /Training continues in one worker: .*helper/);
  await page.locator('#train').click();
  await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
  await page.close();
});

test('nothing left the origin and no page errors', () => {
  assert.deepEqual(foreignRequests(browser.requests, server.url), []);
  assert.deepEqual(
    browser.problems.filter((text) => /page error|Content.Security.Policy/i.test(text)),
    [],
  );
});

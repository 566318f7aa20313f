// Page-level faults (docs/reliability.md): a reload mid-training, two tabs on one autosave, a
// full or missing IndexedDB, a trap in the engine, huge and non-UTF-8 files, and model-src
// files that are slow, a web page, or on another origin. Each fault is injected into the page
// or its engine worker; every page is served with the strict CSP unless a test says otherwise.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO, startServer, launchBrowser } from './browser.mjs';
import { corpus } from './corpus.mjs';
import { CSP } from '../scripts/server.mjs';

const LONG = { timeout: 120_000 };
let server; // the repository, with the strict CSP
let plain; // the repository again, without a CSP: another origin, and no CORS headers
let browser;

// A page holding one <kindling-playground> with `attributes`, and a paragraph and a button of
// its own (to show the rest of the page is unaffected).
function faultPage(attributes) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faults</title>
<script type="module" src="/www/kindling-playground.js"></script></head>
<body><main><p id="outside">The page around the element.</p>
<button id="page-button" type="button">A button of the page</button>
<kindling-playground ${attributes}></kindling-playground></main></body></html>`;
}

before(async () => {
  server = await startServer({ csp: true });
  plain = await startServer({ csp: false });
  browser = await launchBrowser();
  await browser.context.addInitScript(() => {
    window.inShadow = (selector) => document.querySelector('kindling-playground').shadowRoot.querySelector(selector);
    // The kinds of the element's errors, as a host page would test them.
    window.errorKinds = [];
    document.addEventListener('kindling-error', ({ detail }) => errorKinds.push(detail.kind));
  });
  // /faults/<query as attributes>: the pages of these tests, on both servers.
  await browser.context.route(/\/faults\/[\w-]+\.html/, (route) => {
    const url = new URL(route.request().url());
    const attributes = decodeURIComponent(url.search.slice(1));
    const csp = url.origin === server.url;
    route.fulfill({
      status: 200,
      headers: csp ? { 'Content-Security-Policy': CSP } : {},
      contentType: 'text/html; charset=utf-8',
      body: faultPage(attributes),
    });
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  plain?.close();
});

// A full playground autosaving every 10 steps under `name`, with steps enough to keep training.
async function openPlayground(name, { extra = '', origin = server.url } = {}) {
  const page = await browser.context.newPage();
  const attributes = `storage-name="${name}" autosave-every="10" steps="100000" ${extra}`;
  await page.goto(`${origin}/faults/${name}.html?${encodeURIComponent(attributes)}`);
  await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
  return page;
}

const stepOf = (page) => page.locator('#step').getAttribute('data-value').then(Number);
const advanced = (page, from) =>
  page.waitForFunction((from) => Number(inShadow('#step').dataset.value) > from, from, { ...LONG, polling: 100 });

async function train(page) {
  await page.locator('#train:enabled').waitFor(LONG);
  await page.locator('#train').click();
  await advanced(page, 0);
}

// The autosave record `key` ('summary' or 'data') of `name`, read straight from IndexedDB.
function readAutosave(page, name, key) {
  return page.evaluate(
    ({ name, key }) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('kindling', 1);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('sessions').objectStore('sessions').get(`${name}:${key}`);
          get.onsuccess = () => {
            open.result.close();
            resolve(key === 'data' ? get.result?.text : get.result);
          };
          get.onerror = () => reject(get.error);
        };
      }),
    { name, key },
  );
}

// The engine worker, before training starts its helpers.
const engineWorker = (page) => page.workers()[0];

// Download model still gives a file of the model's step.
async function downloads(page) {
  const [download] = await Promise.all([page.waitForEvent('download', LONG), page.locator('#download').click()]);
  assert.match(download.suggestedFilename(), /^kindling-gpt-step\d+\.kindling$/);
  assert.ok(Number(download.suggestedFilename().match(/step(\d+)/)[1]) > 0);
}

describe('the autosave', () => {
  test('a reload mid-training offers the last saved step, never a later one', async () => {
    const page = await openPlayground('reload');
    await train(page);
    await page.locator('#save-status').filter({ hasText: 'Autosaved at step' }).waitFor(LONG);
    // What the page showed as it went, kept across the reload.
    await page.evaluate(() =>
      addEventListener('pagehide', () => {
        const { phase } = document.querySelector('kindling-playground');
        sessionStorage.setItem('left', JSON.stringify({ phase, step: Number(inShadow('#step').dataset.value) }));
      }),
    );
    await page.reload();
    await page.locator('#resume-offer').waitFor(LONG);
    const left = JSON.parse(await page.evaluate(() => sessionStorage.getItem('left')));
    assert.equal(left.phase, 'training', 'the reload came mid-training');
    const offered = Number((await page.locator('#resume-text').textContent()).match(/step (\d+) of/)[1]);
    const saved = await readAutosave(page, 'reload', 'summary');
    // The offer names what is on disk, which may be a step or two beyond the last one the
    // page had drawn (the worker saves before the page paints), never a step not yet saved.
    assert.equal(offered, saved.step, 'the offer names the saved step');
    assert.ok(offered > 0 && left.step > 0, `offered ${offered}, the page had shown ${left.step}`);
    await page.locator('#resume').click();
    await page
      .locator('#train-status')
      .filter({ hasText: `Restored at step ${offered}` })
      .waitFor(LONG);
    assert.equal(await stepOf(page), offered);
    const loss = await page.locator('#loss').getAttribute('data-value').then(Number);
    assert.ok(Math.abs(loss - saved.lastLoss) < 1e-6, `restored loss ${loss}, saved ${saved.lastLoss}`);
    await page.close();
  });

  test('a tab closed mid-training: a new tab offers the last saved step and restores it', async () => {
    const closing = await openPlayground('closed');
    await train(closing);
    await closing.locator('#save-status').filter({ hasText: 'Autosaved at step' }).waitFor(LONG);
    assert.equal(await closing.evaluate(() => document.querySelector('kindling-playground').phase), 'training');
    await closing.close();
    const page = await openPlayground('closed');
    await page.locator('#resume-offer').waitFor(LONG);
    const saved = await readAutosave(page, 'closed', 'summary');
    assert.match(await page.locator('#resume-text').textContent(), new RegExp(`saved at step ${saved.step} of`));
    await page.locator('#resume').click();
    await page
      .locator('#train-status')
      .filter({ hasText: `Restored at step ${saved.step}` })
      .waitFor(LONG);
    assert.equal(await stepOf(page), saved.step);
    await page.close();
  });

  test('two tabs on one autosave: the first owns it, the second is told and trains on, then takes over', async () => {
    const first = await openPlayground('shared');
    const second = await openPlayground('shared');
    await train(first);
    await first.locator('#save-status').filter({ hasText: 'Autosaved at step' }).waitFor(LONG);
    const firstText = await first.locator('#text').inputValue();
    await second.locator('#text').fill(`${firstText}\nthe second tab has its own text.`);
    await train(second);
    await second.locator('#save-error').filter({ hasText: 'Another tab is autosaving to “shared”' }).waitFor(LONG);
    assert.deepEqual(await second.evaluate(() => errorKinds), ['locked']);
    await advanced(second, await stepOf(second));
    await advanced(first, await stepOf(first));
    assert.equal(await readAutosave(second, 'shared', 'data'), firstText, 'the autosave is the first tab’s');
    assert.equal(await second.locator('#save-status').textContent(), '');
    await downloads(second);
    // The first tab goes: its lock goes with it, and the second's next autosave is its own.
    await first.close();
    await second.locator('#save-status').filter({ hasText: 'Autosaved at step' }).waitFor(LONG);
    assert.equal(await second.locator('#save-error').isHidden(), true);
    assert.equal(await readAutosave(second, 'shared', 'data'), `${firstText}\nthe second tab has its own text.`);
    await second.close();
  });

  test('a full storage quota is reported; training goes on and Download still works', async () => {
    const page = await openPlayground('quota');
    // The engine worker writes the autosave: every put there fails as a full disk does.
    await engineWorker(page).evaluate(() => {
      IDBObjectStore.prototype.put = () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
    });
    await train(page);
    await page.locator('#save-error').filter({ hasText: 'storage quota is full' }).waitFor(LONG);
    assert.match(await page.locator('#save-error').textContent(), /Training goes on; download the model/);
    // The host heard it as an error event of kind 'storage', and of no other kind.
    await page.waitForFunction(() => errorKinds.length > 0, null, LONG);
    assert.deepEqual([...new Set(await page.evaluate(() => errorKinds))], ['storage']);
    await advanced(page, await stepOf(page));
    assert.equal(await page.locator('#train').textContent(), 'Pause');
    await downloads(page);
    await page.close();
  });

  test('without IndexedDB (a private window) the autosave is reported off; training goes on and Download works', async () => {
    const refuse = () => {
      indexedDB.open = () => {
        throw new DOMException(
          'A mutation operation was attempted on a database that did not allow mutations.',
          'InvalidStateError',
        );
      };
    };
    const page = await browser.context.newPage();
    await page.addInitScript(refuse);
    const attributes = 'storage-name="private" autosave-every="10" steps="100000"';
    await page.goto(`${server.url}/faults/private.html?${encodeURIComponent(attributes)}`);
    // The page itself reads the autosave to offer it: that fails at once, with the reason.
    await page.locator('#save-error').filter({ hasText: 'keeps no storage for this page' }).waitFor(LONG);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await engineWorker(page).evaluate(refuse);
    await train(page);
    await page.waitForFunction(() => errorKinds.length > 0, null, LONG);
    assert.deepEqual([...new Set(await page.evaluate(() => errorKinds))], ['storage']);
    assert.match(
      await page.locator('#save-error').textContent(),
      /Could not open the autosaves: this browser keeps no storage for this page.*Training goes on/,
    );
    await advanced(page, await stepOf(page));
    await downloads(page);
    await page.close();
  });

  test('a trap in the engine is reported, the engine restarts and offers the last autosave', async () => {
    const page = await openPlayground('trap');
    await train(page);
    await page.locator('#save-status').filter({ hasText: 'Autosaved at step' }).waitFor(LONG);
    // The next metrics message raises what a trapped wasm instance raises (a RuntimeError),
    // inside the worker's train loop: the worker reports it as fatal.
    await engineWorker(page).evaluate(() => {
      const real = self.postMessage.bind(self);
      self.postMessage = (message, transfer) => {
        if (message?.type !== 'metrics') return real(message, transfer);
        self.postMessage = real;
        throw new WebAssembly.RuntimeError('unreachable executed');
      };
    });
    await page.locator('#train-error').filter({ hasText: 'unreachable executed' }).waitFor(LONG);
    assert.match(await page.locator('#train-error').textContent(), /Your last autosave is kept/);
    assert.ok((await page.evaluate(() => errorKinds)).includes('crashed'));
    // The page never froze: its own controls answer while the engine restarts.
    await page.locator('#page-button').click({ timeout: 10_000 });
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await page.locator('#resume-offer').waitFor(LONG);
    const saved = await readAutosave(page, 'trap', 'summary');
    assert.match(await page.locator('#resume-text').textContent(), new RegExp(`step ${saved.step} of`));
    await page.locator('#resume').click();
    await page
      .locator('#train-status')
      .filter({ hasText: `Restored at step ${saved.step}` })
      .waitFor(LONG);
    await page.close();
  });
});

describe('files', () => {
  let page;

  before(async () => {
    page = await openPlayground('files');
    // Counts every read of a file's bytes, to show a refused file was never read.
    await page.evaluate(() => {
      window.reads = 0;
      for (const method of ['arrayBuffer', 'text', 'stream', 'bytes']) {
        const real = Blob.prototype[method];
        if (real)
          Blob.prototype[method] = function (...args) {
            window.reads++;
            return real.apply(this, args);
          };
      }
    });
  });

  after(() => page.close());

  async function drop(build) {
    const dataTransfer = await page.evaluateHandle(build);
    await page.locator('#text').dispatchEvent('drop', { dataTransfer });
  }

  test('a 50 MB dropped text file is refused with the limit, before it is read', async () => {
    await page.locator('#text').fill('keep this text');
    await drop(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(50 << 20).fill(97)], 'huge.txt', { type: 'text/plain' }));
      return transfer;
    });
    await page.locator('#text-error').filter({ hasText: '“huge.txt” is 50 MiB; the limit is 20 MiB' }).waitFor(LONG);
    assert.equal(await page.evaluate(() => reads), 0);
    assert.equal(await page.locator('#text').inputValue(), 'keep this text');
  });

  test('a text file that is not UTF-8 is refused with the reason; the text is kept', async () => {
    await drop(() => {
      const transfer = new DataTransfer();
      const latin1 = new Uint8Array(
        [...'caf'].map((c) => c.charCodeAt(0)).concat([0xe9, 0x20, 0x6e, 0x6f, 0xeb, 0x6c]),
      );
      transfer.items.add(new File([latin1], 'latin1.txt', { type: 'text/plain' }));
      return transfer;
    });
    await page.locator('#text-error').filter({ hasText: '“latin1.txt” is not UTF-8 text' }).waitFor(LONG);
    assert.equal(await page.locator('#text').inputValue(), 'keep this text');
  });

  test('a model file over the engine’s memory limit is refused before it is read', async () => {
    await page.locator('#text').fill(corpus());
    await train(page);
    await page.locator('#train').click(); // pause
    await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
    const step = await stepOf(page);
    await page.evaluate(() => {
      window.reads = 0;
      // A 3 GiB file, as the file picker hands it over: only its size may be looked at.
      const huge = new File([], 'huge.kindling');
      Object.defineProperty(huge, 'size', { value: 3 * 1024 ** 3 });
      const input = inShadow('#model-file');
      Object.defineProperty(input, 'files', { configurable: true, get: () => [huge] });
      input.dispatchEvent(new Event('change'));
    });
    await page
      .locator('#file-error')
      .filter({ hasText: '“huge.kindling”: it is 3.0 GiB; the limit is 1.0 GiB' })
      .waitFor(LONG);
    assert.equal(await page.evaluate(() => reads), 0);
    assert.equal(await stepOf(page), step);
    assert.equal(await page.locator('#train').textContent(), 'Resume');
  });
});

describe('model-src', () => {
  // A generate embed of `src`; resolves to its page once the element has said what happened.
  async function embed(name, src, { origin = server.url } = {}) {
    const page = await browser.context.newPage();
    const attributes = `mode="generate" model-src="${src}" prompt="The " max-tokens="20"`;
    await page.goto(`${origin}/faults/${name}.html?${encodeURIComponent(attributes)}`);
    return page;
  }

  async function assertRefused(page, message) {
    const notice = page.locator('#notice');
    await notice.and(page.locator(':not([hidden])')).waitFor(LONG);
    assert.match(await notice.textContent(), message);
    assert.equal(await page.locator('#engine-status').textContent(), 'No model');
    assert.equal(await page.locator('#generate').isDisabled(), true);
    // The rest of the page is unaffected.
    assert.equal(await page.locator('#outside').isVisible(), true);
    await page.locator('#page-button').click({ timeout: 10_000 });
    assert.ok((await page.evaluate(() => errorKinds)).includes('fetch'));
  }

  test('a slow model-src says it is loading, keeps Generate back, and works once it arrives', async () => {
    let release;
    const held = new Promise((resolve) => (release = resolve));
    const page = await browser.context.newPage();
    await page.route('**/slow/demo.kindling', async (route) => {
      await held;
      route.fulfill({ path: join(REPO, 'www/models/demo.kindling'), contentType: 'application/octet-stream' });
    });
    const attributes = 'mode="generate" model-src="/slow/demo.kindling" prompt="The " max-tokens="20"';
    await page.goto(`${server.url}/faults/slow.html?${encodeURIComponent(attributes)}`);
    await page.locator('#engine-status').filter({ hasText: '(the server is slow)' }).waitFor(LONG);
    assert.equal(await page.locator('#generate').isDisabled(), true);
    await page.locator('#page-button').click({ timeout: 10_000 });
    release();
    await page.locator('#generate:enabled').waitFor(LONG);
    await page.locator('#generate').click();
    await page.locator('#gen-status').filter({ hasText: 'Done: 20 tokens' }).waitFor(LONG);
    await page.close();
  });

  test('a model-src that is a web page, not a model, is refused with the reason', async () => {
    const page = await embed('html', '/index.html');
    await assertRefused(page, /^Could not load the model “\/index\.html”: the server sent a web page \(text\/html\)/);
    await page.close();
  });

  test('a model-src that is missing (404) says the server answered 404', async () => {
    const page = await embed('missing', '/www/models/missing.kindling');
    await assertRefused(page, /^Could not load the model “\/www\/models\/missing\.kindling”: the server answered 404/);
    await page.close();
  });

  test('a model-src on another origin without CORS says so inside the element', async () => {
    // The page on one server (no CSP), the model on the other, which sends no CORS headers.
    const page = await embed('cross', `${server.url}/www/models/demo.kindling`, { origin: plain.url });
    await assertRefused(
      page,
      /it is on another origin \(http:\/\/127\.0\.0\.1:\d+\), which did not allow this page to read it/,
    );
    await page.close();
  });

  test('a model-src on another origin under the strict CSP says so inside the element', async () => {
    const page = await embed('blocked', `${plain.url}/www/models/demo.kindling`);
    await assertRefused(page, /connect-src/);
    await page.close();
  });
});

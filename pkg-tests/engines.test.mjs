// The core set in every engine blog readers arrive with: Chromium, Firefox (Gecko) and WebKit
// (Safari's engine), each Debian's, driven through engines.mjs, every page served by
// scripts/server.mjs with the strict CSP. Per engine: the engine API in a page, the blog embed
// with a model-src, the full page from pasted text to a downloaded model, autosave across a
// reload, and what the engine offers (WebGPU and 'auto''s choice, SIMD). The other test files
// cover Chromium in depth (docs/browsers.md). Pages are driven by small in-page scripts, the same in all three; every
// wait is for a state, bounded only by a generous timeout. Speed is never asserted.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './browser.mjs';
import { corpus } from './corpus.mjs';
import { ENGINES, openEngine } from './engines.mjs';

const TEXT = corpus();
// What the page shows when a wait fails (engines.mjs adds it to the error): a wait that fails
// in CI, where the page cannot be looked at, then says where it stood.
function pageState() {
  const $ = (selector) => document.querySelector('kindling-playground')?.shadowRoot?.querySelector(selector);
  const text = (selector) => $(selector)?.textContent?.trim();
  return {
    engine: text('#engine-status'),
    train: text('#train-status'),
    step: $('#step')?.dataset.value,
    backend: $('#backend')?.title,
    generateDisabled: $('#generate')?.disabled,
    generation: text('#gen-status'),
    generationError: text('#gen-error'),
    save: text('#save-status'),
    notice: text('#notice'),
    errors: window.pageErrors,
  };
}
const LONG = { timeout: 180_000, state: pageState };

// What each engine offers here (Debian 12, no GPU): Chromium exposes navigator.gpu but, without
// --enable-unsafe-webgpu, no adapter; Firefox ESR and WebKitGTK expose no WebGPU at all.
// WebKit validates no relaxed SIMD. docs/browsers.md says the same.
const OFFERS = {
  chromium: { gpu: true, adapter: false, relaxedSimd: true },
  firefox: { gpu: false, adapter: null, relaxedSimd: true },
  webkit: { gpu: false, adapter: null, relaxedSimd: false },
};

let server;

before(async () => {
  server = await startServer({ csp: true });
});

after(() => server?.close());

// In the page: an element of the playground's shadow root (null until it is there).
function defineInShadow() {
  window.inShadow = (selector) =>
    document.querySelector('kindling-playground')?.shadowRoot?.querySelector(selector) ?? null;
}

// After a navigation to a page that does not include page-problems.js (index.html): defines
// inShadow, and records CSP violations and uncaught errors from now on (page-problems.js, added
// as a script the strict CSP allows; the load itself is not seen).
async function watch(page) {
  await page.evaluate(defineInShadow);
  await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = '/pkg-tests/page-problems.js';
        script.onload = resolve;
        script.onerror = () => reject(new Error('page-problems.js did not load'));
        document.head.append(script);
      }),
  );
}

async function assertNoProblems(page) {
  const { violations, errors } = await page.evaluate(() => ({
    violations: window.cspViolations,
    errors: window.pageErrors,
  }));
  assert.deepEqual(violations, [], 'CSP violations');
  assert.deepEqual(errors, [], 'page errors');
}

// KINDLING_ENGINES=firefox,webkit runs some of them (by hand: CI runs all three).
const engines = process.env.KINDLING_ENGINES?.split(',') ?? ENGINES;

for (const engine of engines) {
  describe(engine, () => {
    /** @type {import('./engines.mjs').EnginePage} */
    let page;
    let autoBackend; // where 'auto' trained the full page's model, and what it said

    before(async () => {
      page = await openEngine(engine);
    });

    after(() => page?.close());

    test('the engine API: create, train (the loss falls), stream, inspect, save and open; a bad config is a config error', async () => {
      await page.goto(`${server.url}/pkg-tests/pkg-page.html`);
      await page.waitFor(() => document.body.dataset.state, null, LONG);
      assert.equal(await page.evaluate(() => document.body.dataset.error ?? null), null, 'the package failed to load');
      const run = await page.evaluate(async (text) => {
        const k = await Kindling.create({ text, preset: 'tiny', seed: 1 });
        try {
          const first = await k.trainSteps(1);
          let last = first;
          for (let i = 0; i < 6; i++) last = await k.trainSteps(25);
          const streamed = [];
          for await (const token of tokens(
            k.generate('the ', { maxTokens: 24, temperature: 0.8, topK: 10, seed: 3 }),
          )) {
            streamed.push({ text: token.text, prob: token.prob });
          }
          const sentence = 'the cat sees the ball.';
          const look = await k.inspect(sentence, { topK: 3 });
          const copy = await Kindling.fromBytes(await k.toBytes(), { backend: 'cpu' });
          const state = async (model) => ({
            step: model.step,
            history: model.history.length,
            lastLoss: model.history.at(-1)?.trainLoss,
            valLoss: await model.evaluate(),
          });
          const [original, restored] = [await state(k), await state(copy)];
          copy.free();
          let config = null;
          try {
            (await Kindling.create({ text, preset: 'tiny', nLayer: 100000 })).free();
          } catch (error) {
            config = { name: error.name, kind: error.kind, fields: (error.errors ?? []).map((e) => e.field) };
          }
          return {
            backend: k.backend,
            first: first.trainLoss,
            last: last.trainLoss,
            step: k.step,
            streamed,
            inspected: {
              tokens: look.tokens.length,
              length: [...sentence].length,
              predictions: look.predictions.length,
              attention: look.attention.dims,
              layers: k.config.nLayer,
              heads: k.config.nHead,
            },
            original,
            restored,
            config,
          };
        } finally {
          k.free();
        }
      }, TEXT);
      assert.equal(run.backend, 'cpu');
      assert.equal(run.step, 151);
      assert.ok(Number.isFinite(run.first) && Number.isFinite(run.last));
      assert.ok(run.last < run.first * 0.9, `loss ${run.first} → ${run.last}`);
      assert.equal(run.streamed.length, 24);
      for (const token of run.streamed) {
        assert.ok(token.text.length >= 1 && token.prob > 0 && token.prob <= 1, JSON.stringify(token));
      }
      const { inspected } = run;
      assert.equal(inspected.tokens, inspected.length);
      assert.equal(inspected.predictions, inspected.length);
      assert.deepEqual(inspected.attention, [inspected.layers, inspected.heads, inspected.length, inspected.length]);
      assert.deepEqual(run.restored, run.original, 'fromBytes(toBytes()) is the same model');
      assert.equal(run.original.step, 151);
      assert.ok(run.config, 'nLayer: 100000 was accepted');
      assert.equal(run.config.name, 'KindlingError');
      assert.equal(run.config.kind, 'config');
      assert.ok(run.config.fields.includes('nLayer'), JSON.stringify(run.config));
    });

    test('the blog embed: a generate-mode model-src under the strict CSP writes, with no violation', async () => {
      await page.goto(`${server.url}/pkg-tests/engines-embed.html`);
      await page.evaluate(defineInShadow);
      const status = await page.waitFor(
        () => /^Done/.test(inShadow('#gen-status')?.textContent ?? '') && inShadow('#gen-status').textContent,
        null,
        LONG,
      );
      assert.equal(status, 'Done: 60 tokens.');
      const shown = await page.evaluate(() => ({
        tokens: inShadow('#output').querySelectorAll('.tok').length,
        text: inShadow('#output').textContent,
        model: inShadow('#model-line').textContent,
        notice: inShadow('#notice').hidden, // hidden: nothing went wrong
        phase: document.getElementById('gen').dataset.phase,
        violations: window.cspViolations,
        errors: window.pageErrors,
      }));
      assert.equal(shown.tokens, 60);
      assert.match(
        shown.text,
        /\b(fox|cat|robot|baker|child|neighbour)\b/,
        `the demo model writes its grammar: ${shown.text}`,
      );
      assert.match(shown.model, /trained 1,500 steps/);
      assert.equal(shown.notice, true, 'the embed shows a notice');
      assert.equal(shown.phase, 'finished');
      assert.deepEqual(shown.violations, [], 'CSP violations');
      assert.deepEqual(shown.errors, [], 'page errors');
    });

    test('the full page: pasted text trains ("auto": the CPU), writes, and its download opens again', async () => {
      await page.goto(`${server.url}/`);
      await watch(page);
      await page.waitFor(() => inShadow('#engine-status')?.textContent.includes('Ready'), null, LONG);
      await page.evaluate((text) => {
        const host = document.querySelector('kindling-playground');
        const set = (selector, value, event) => {
          const field = inShadow(selector);
          field.value = value;
          field.dispatchEvent(new Event(event, { bubbles: true }));
        };
        set('#text', text, 'input'); // as a paste does
        set('#preset', 'tiny', 'change');
        host.setAttribute('steps', '100000'); // still training for the steps below
        host.pace = 'instant';
        window.metrics = [];
        host.addEventListener('kindling-metrics', ({ detail }) => window.metrics.push(detail));
      }, TEXT);
      await page.waitFor(
        () => !document.querySelector('kindling-playground[data-validation=pending]') && !inShadow('#train').disabled,
        null,
        LONG,
      );
      assert.equal(await page.evaluate(() => Number(inShadow('#chars').dataset.value)), TEXT.length);

      await page.evaluate(() => inShadow('#train').click());
      const firstLoss = await page.waitFor(() => Number(inShadow('#loss').dataset.value), null, LONG);
      await page.waitFor(
        (first) => {
          const loss = Number(inShadow('#loss').dataset.value);
          return Number(inShadow('#chart').dataset.points) >= 3 && loss < first * 0.9;
        },
        firstLoss,
        LONG,
      );
      autoBackend = await page.evaluate(() => ({
        choice: inShadow('#backend-choice').value,
        badge: inShadow('#backend').textContent,
        title: inShadow('#backend').title,
        notices: [...new Set(window.metrics.map((m) => m.notice))],
      }));
      assert.equal(autoBackend.choice, 'auto');
      // On the CPU, with as many helper workers as it has found worth it so far.
      assert.match(autoBackend.badge, /^CPU( ×\d+)?$/);

      // Generated text appears while it trains.
      await page.evaluate(() => {
        const length = inShadow('#length');
        length.value = '40';
        length.dispatchEvent(new Event('input', { bubbles: true }));
      });
      // Clicked once it can be, as a reader would.
      await page.waitFor(() => !inShadow('#generate').disabled, null, LONG);
      await page.evaluate(() => inShadow('#generate').click());
      const generated = await page.waitFor(
        () => /^Done/.test(inShadow('#gen-status').textContent) && inShadow('#gen-status').textContent,
        null,
        LONG,
      );
      assert.equal(generated, 'Done: 40 tokens.');
      assert.equal(await page.evaluate(() => inShadow('#output').querySelectorAll('.tok').length), 40);

      // Paused, "Download model" hands the browser a .kindling file (caught in the page: a
      // real download is a dialog in some engines), which "Open model…" opens again.
      await page.evaluate(() => inShadow('#train').click());
      await page.waitFor(() => inShadow('#train').textContent === 'Resume', null, LONG);
      const step = await page.evaluate(() => Number(inShadow('#step').dataset.value));
      await page.evaluate(() => {
        window.downloads = [];
        const blobs = new Map();
        const createObjectURL = URL.createObjectURL;
        URL.createObjectURL = (object) => {
          const url = createObjectURL.call(URL, object);
          blobs.set(url, object);
          return url;
        };
        const click = HTMLAnchorElement.prototype.click;
        HTMLAnchorElement.prototype.click = function () {
          if (!this.download) return click.call(this);
          window.downloads.push({ name: this.download, blob: blobs.get(this.href) });
        };
        inShadow('#download').click();
      });
      const download = await page.waitFor(
        () => window.downloads[0] && { name: window.downloads[0].name, size: window.downloads[0].blob?.size },
        null,
        LONG,
      );
      assert.equal(download.name, `kindling-gpt-step${step}.kindling`);
      assert.ok(download.size > 1000, `${download.size} bytes`);
      await page.evaluate(() => {
        const { name, blob } = window.downloads[0];
        const transfer = new DataTransfer();
        transfer.items.add(new File([blob], name, { type: 'application/octet-stream' }));
        const input = inShadow('#model-file');
        input.files = transfer.files;
        input.dispatchEvent(new Event('change', { bubbles: true }));
      });
      const opened = await page.waitFor(
        () => /^Opened/.test(inShadow('#train-status').textContent) && inShadow('#train-status').textContent,
        null,
        LONG,
      );
      assert.equal(opened, `Opened a model at step ${step}.`);
      assert.equal(await page.evaluate(() => inShadow('#file-error').hidden), true);
      await assertNoProblems(page);
    });

    test('autosave: after a reload the model is back at its step and trains on from it', async () => {
      // Pausing autosaved (IndexedDB); the model opened above is at the same step.
      const step = await page.evaluate(() => Number(inShadow('#step').dataset.value));
      await page.waitFor(
        (text) => inShadow('#save-status').textContent.startsWith(text),
        `Autosaved at step ${step} `,
        LONG,
      );
      const loss = await page.evaluate(() => Number(inShadow('#loss').dataset.value));
      await page.reload();
      await watch(page);
      const offer = await page.waitFor(
        () => inShadow('#resume-offer')?.hidden === false && inShadow('#resume-text').textContent,
        null,
        LONG,
      );
      assert.match(offer, new RegExp(`step ${step} of`));
      await page.evaluate(() => inShadow('#resume').click());
      await page.waitFor(
        (text) => inShadow('#train-status').textContent.startsWith(text),
        `Restored at step ${step}`,
        LONG,
      );
      assert.equal(await page.evaluate(() => Number(inShadow('#step').dataset.value)), step);
      assert.equal(await page.evaluate(() => Number(inShadow('#loss').dataset.value)), loss);
      await page.evaluate(() => inShadow('#train').click()); // Resume
      await page.waitFor((from) => Number(inShadow('#step').dataset.value) > from, step, LONG);
      await page.evaluate(() => inShadow('#train').click()); // Pause
      await page.waitFor(() => inShadow('#train').textContent === 'Resume', null, LONG);
      await assertNoProblems(page);
    });

    test("what the engine offers here: WebGPU or not (and 'auto''s message), SIMD128, relaxed SIMD", async (t) => {
      const offers = await page.evaluate(async () => {
        // The smallest module using one instruction (bench/kindling-bench.js's probes):
        // v128.const for SIMD128, f32x4.relaxed_madd for relaxed SIMD.
        const module = (body) => {
          const code = [0x00, ...body, 0x0b];
          return new Uint8Array([
            0x00,
            0x61,
            0x73,
            0x6d,
            0x01,
            0x00,
            0x00,
            0x00,
            0x01,
            0x05,
            0x01,
            0x60,
            0x00,
            0x01,
            0x7b,
            0x03,
            0x02,
            0x01,
            0x00,
            0x0a,
            code.length + 2,
            0x01,
            code.length,
            ...code,
          ]);
        };
        const v128 = [0xfd, 0x0c, ...new Array(16).fill(0)];
        return {
          gpu: 'gpu' in navigator,
          adapter: navigator.gpu ? Boolean(await navigator.gpu.requestAdapter()) : null,
          simd128: WebAssembly.validate(module(v128)),
          relaxedSimd: WebAssembly.validate(module([...v128, ...v128, ...v128, 0xfd, 0x85, 0x02])),
          cores: navigator.hardwareConcurrency,
          userAgent: navigator.userAgent,
        };
      });
      t.diagnostic(`${engine}: ${offers.userAgent}; hardwareConcurrency ${offers.cores}`);
      const { gpu, adapter, relaxedSimd } = offers;
      assert.deepEqual({ gpu, adapter, relaxedSimd }, OFFERS[engine]);
      assert.equal(offers.simd128, true, 'the engine needs SIMD128');
      // 'auto' trained the full page's model on the CPU and said why (its worker asks too).
      assert.ok(autoBackend, 'the full page test did not get as far as training');
      const reason = gpu ? 'this browser offers no GPU adapter' : 'this browser has no WebGPU';
      const notice = `WebGPU is not available (${reason}); training on the CPU`;
      assert.match(autoBackend.badge, /^CPU/);
      assert.ok(autoBackend.title.includes(notice), `the badge says: ${autoBackend.title}`);
      assert.ok(autoBackend.notices.includes(notice), `kindling-metrics said: ${JSON.stringify(autoBackend.notices)}`);
      // The page fetches each build it compiles (www/engine-loader.js): the CPU one, not WebGPU's.
      const wasm = await page.evaluate(() => [
        ...new Set(
          performance
            .getEntriesByType('resource')
            .map((entry) => new URL(entry.name).pathname)
            .filter((path) => path.endsWith('.wasm')),
        ),
      ]);
      assert.deepEqual(wasm, ['/pkg/kindling_bg.wasm']);
    });
  });
}

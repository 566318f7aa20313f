// <kindling-playground> driven by a host page's script (host-page.html): train() and
// generate() as methods, progress and text as kindling-* events, step and backend as
// properties, and a KindlingError of kind 'config' for settings the engine refuses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, foreignRequests } from './browser.mjs';

const LONG = { timeout: 120_000 };
let server;
let browser;
let page;

before(async () => {
  server = await startServer({ csp: true });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await page.goto(`${server.url}/pkg-tests/host-page.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

const seen = (type) => page.evaluate((type) => window.seen.filter((event) => event.type === type), type);

test('kindling-ready, then train() starts training', async () => {
  await page.waitForFunction(() => window.seen.some((event) => event.type === 'kindling-ready'), null, LONG);
  const [ready] = await seen('kindling-ready');
  assert.ok(ready.detail.presets.includes('tiny'), JSON.stringify(ready.detail));
  assert.deepEqual(
    await page.evaluate(() => {
      const element = document.getElementById('playground');
      return { ready: element.ready, phase: element.phase, step: element.step, backend: element.backend };
    }),
    { ready: true, phase: 'empty', step: 0, backend: null },
  );
  await page.evaluate(() => document.getElementById('playground').train());
  assert.equal(await page.evaluate(() => document.getElementById('playground').phase), 'training');
});

test('the host hears metrics, generates mid-training and hears every token', async () => {
  await page.waitForFunction(() => window.generated, null, LONG);
  const generated = await page.evaluate(() => window.generated);
  assert.equal(generated.reason, 'done', JSON.stringify(generated));
  assert.equal(generated.tokens, 40);
  const tokens = await seen('kindling-token');
  assert.equal(tokens.length, 40);
  for (const { detail } of tokens) {
    assert.equal(typeof detail.text, 'string');
    assert.ok(Number.isInteger(detail.id) && detail.id >= 0, `id ${detail.id}`);
    assert.ok(detail.prob > 0 && detail.prob <= 1, `prob ${detail.prob}`);
  }
  assert.equal(tokens.map(({ detail }) => detail.text).join(''), generated.text);
  const finished = (await seen('kindling-finished')).filter(({ detail }) => detail.task === 'generation');
  assert.deepEqual(
    finished.map(({ detail }) => detail),
    [{ task: 'generation', reason: 'done', text: generated.text, tokens: 40 }],
  );
});

test('training finishes: metrics all the way, then kindling-finished, step and backend', async () => {
  await page.waitForFunction(
    () => window.seen.some((event) => event.type === 'kindling-finished' && event.detail.task === 'training'),
    null,
    LONG,
  );
  const metrics = await seen('kindling-metrics');
  assert.ok(metrics.length >= 2, `${metrics.length} metrics events`);
  const steps = metrics.map(({ detail }) => detail.step);
  assert.deepEqual(
    steps,
    [...steps].sort((a, b) => a - b),
    'steps only grow',
  );
  assert.equal(steps.at(-1), 300);
  for (const { detail } of metrics) {
    assert.ok(Number.isFinite(detail.trainLoss), JSON.stringify(detail));
    assert.ok(detail.valLoss === null || Number.isFinite(detail.valLoss), JSON.stringify(detail));
    // Characters: a token is a character, so its bits are the loss in bits.
    assert.ok(Math.abs(detail.trainBitsPerChar - detail.trainLoss / Math.LN2) < 1e-4, JSON.stringify(detail));
    assert.equal(detail.valBitsPerChar === null, detail.valLoss === null, JSON.stringify(detail));
    assert.ok(detail.tokensPerSecond > 0, JSON.stringify(detail));
    assert.equal(detail.backend, 'cpu');
    assert.equal(detail.totalSteps, 300);
  }
  assert.ok(
    metrics.some(({ detail }) => Number.isFinite(detail.valLoss)),
    'validation loss is reported',
  );
  const [finished] = (await seen('kindling-finished')).filter(({ detail }) => detail.task === 'training');
  assert.deepEqual(finished.detail, { task: 'training', step: 300 });
  assert.deepEqual(
    await page.evaluate(() => {
      const element = document.getElementById('playground');
      return { phase: element.phase, step: element.step, backend: element.backend, generating: element.generating };
    }),
    { phase: 'finished', step: 300, backend: 'cpu', generating: false },
  );
});

test('every event bubbles out of the element, composed, with the element as its target', async () => {
  const events = await page.evaluate(() => window.seen);
  assert.deepEqual(
    new Set(events.map((event) => event.type)),
    new Set(['kindling-ready', 'kindling-metrics', 'kindling-token', 'kindling-finished']),
  );
  for (const event of events) {
    assert.equal(event.bubbles, true, event.type);
    assert.equal(event.composed, true, event.type);
    assert.equal(event.target, 'playground', event.type);
  }
});

test('typed properties mirror the attributes', async () => {
  const read = await page.evaluate(() => {
    const element = document.getElementById('playground');
    element.temperature = 0.5;
    element.autoplay = true;
    const result = {
      mode: element.mode,
      steps: element.steps,
      maxTokens: element.maxTokens,
      workers: element.workers,
      temperature: element.getAttribute('temperature'),
      autoplay: element.hasAttribute('autoplay'),
      theme: element.theme,
      modelSrc: element.modelSrc,
    };
    element.autoplay = false;
    return result;
  });
  assert.deepEqual(read, {
    mode: 'train',
    steps: 300,
    maxTokens: 40,
    workers: '1',
    temperature: '0.5',
    autoplay: true,
    theme: 'auto',
    modelSrc: null,
  });
});

test('generate() while generating is busy; train() with settings the engine refuses rejects with kind config', async () => {
  const result = await page.evaluate(async () => {
    const caught = (promise) =>
      promise.then(
        () => null,
        (error) => ({ name: error.name, kind: error.kind, errors: error.errors }),
      );
    const element = document.getElementById('playground');
    element.maxTokens = 2000;
    const first = element.generate();
    const busy = await caught(element.generate());
    element.stop();
    const stopped = await first;
    const fresh = document.createElement('kindling-playground');
    fresh.mode = 'train';
    fresh.text = 'too short';
    document.querySelector('main').append(fresh);
    const config = await caught(fresh.train());
    fresh.remove();
    return { busy, stopped: stopped.reason, config };
  });
  assert.equal(result.busy?.kind, 'busy');
  assert.equal(result.busy.name, 'KindlingError');
  assert.equal(result.stopped, 'stopped');
  assert.equal(result.config?.kind, 'config');
  assert.ok(result.config.errors.length > 0, JSON.stringify(result.config));
});

test('nothing left the origin and nothing was reported', () => {
  assert.deepEqual(foreignRequests(browser.requests, server.url), []);
  assert.deepEqual(browser.problems, []);
});

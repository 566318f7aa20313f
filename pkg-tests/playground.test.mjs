// End-to-end tests of index.html's <kindling-playground>, served under the strict CSP.
// The steps of one training session run in order and share the page.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, animationFrames, browserSuite, foreignRequests } from './browser.mjs';
import { corpus } from './corpus.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const LONG = { timeout: 120_000 };
// For predicates that run in the page: an element inside the playground's shadow root. What
// the tests that check that nothing happened count: the chunks of training the page heard of
// (kindling-metrics), and the generations its engine worker has finished streaming (its
// `generated` message, which follows every token of that generation).
const suite = browserSuite({
  init: () => {
    window.inShadow = (selector) => document.querySelector('kindling-playground').shadowRoot.querySelector(selector);
    window.metricsHeard = 0;
    document.addEventListener('kindling-metrics', () => window.metricsHeard++);
    window.engineGenerated = 0;
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', ({ data }) => {
          if (data?.type === 'generated') window.engineGenerated++;
        });
      }
    };
  },
});

async function openPlayground(viewport = { width: 1280, height: 900 }) {
  const page = await suite.browser.context.newPage();
  await page.setViewportSize(viewport);
  await page.goto(`${suite.server.url}/`);
  await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
  // These tests set the Model card's fields: Train for "Steps" (the page's default, a minute's
  // budget that sizes the model itself: budget.test.mjs).
  await page.locator('#train-for label').filter({ hasText: 'Steps' }).click();
  return page;
}

const value = (page, id) => page.locator(id).getAttribute('data-value').then(Number);
const stepOf = (page) => value(page, '#step');

function waitFor(page, predicate, arg) {
  return page.waitForFunction(predicate, arg, { timeout: 120_000, polling: 100 });
}

// How many workers 'auto' settled on, and the badge's tooltip, once that tooltip names the
// measure and the badge shows the count.
async function settledWorkers(page) {
  const settled = await waitFor(page, () => {
    const { title, textContent } = inShadow('#backend');
    const [, workers] = title.match(/Workers measured: .* → (\d+)\./) ?? [];
    return (
      workers &&
      textContent === (Number(workers) > 1 ? `CPU ×${workers}` : 'CPU') && { workers: Number(workers), title }
    );
  });
  return settled.jsonValue();
}

async function setField(page, id, text) {
  await page.locator(id).fill(String(text));
}

// The tests that are not about the pace (pace.test.mjs is) show generated text at once.
const instantPace = (page) => page.locator('#pace label').filter({ hasText: 'Instant' }).click();

// Validation is debounced and asynchronous; the element says when it is settled.
function validated(page) {
  return page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
}

describe('a training session', () => {
  let page;
  let firstLoss;

  before(async () => {
    page = await openPlayground();
  });

  test('pasted text is counted', async () => {
    const text = corpus();
    await page.locator('#text').fill(text);
    await page.locator('#preset').selectOption('tiny');
    await validated(page);
    assert.equal(await value(page, '#chars'), text.length);
    assert.equal(await value(page, '#vocab'), new Set(text).size);
    assert.notEqual(await page.locator('#train-tokens').textContent(), '—');
  });

  test('training on tiny plots points and the loss falls', async () => {
    // Enough steps that training is still running for the next tests.
    await setField(page, '#f-maxSteps', 100000);
    await validated(page);
    await page.locator('#train').click();
    await waitFor(page, () => inShadow('#loss').dataset.value);
    firstLoss = await value(page, '#loss');
    await waitFor(
      page,
      (first) => {
        const loss = Number(inShadow('#loss').dataset.value);
        return Number(inShadow('#chart').dataset.points) >= 3 && loss < first * 0.9;
      },
      firstLoss,
    );
    assert.ok((await value(page, '#loss')) < firstLoss);
    assert.equal(await page.locator('#train').textContent(), 'Pause');
    // This browser has no WebGPU flag, so 'auto' computes on the CPU (webgpu.test.mjs: with it),
    // with as many workers sharing each batch as measure faster (workers.test.mjs: the rule).
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const { workers, title } = await settledWorkers(page);
    assert.ok(workers >= 1 && workers <= Math.min(cores, 4), `${workers} workers on ${cores} cores`);
    if (workers > 1) assert.match(title, new RegExp(`shared by ${workers} workers`));
  });

  test('the workers attribute sets how many workers share each step', async () => {
    const badge = page.locator('#backend');
    await page.evaluate(() => document.querySelector('kindling-playground').setAttribute('workers', '1'));
    await badge.filter({ hasText: /^CPU$/ }).waitFor(LONG);
    const step = await stepOf(page);
    await waitFor(page, (s) => Number(inShadow('#step').dataset.value) > s + 5, step);
    // A fixed count measures nothing: the first chunk trained after the change says so (one
    // already under way when the attribute changed may still carry auto's measurement).
    await waitFor(page, () => !/Workers measured/.test(inShadow('#backend').title));
    // Back to auto: measured again from one worker.
    await page.evaluate(() => document.querySelector('kindling-playground').removeAttribute('workers'));
    await settledWorkers(page);
  });

  test('the page stays responsive while training', async () => {
    // The time of each animation frame the page draws, from before the typing on.
    await page.evaluate(() => {
      const times = [];
      window.frameTimes = times;
      const tick = (time) => {
        if (window.frameTimes !== times) return;
        times.push(time);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const stepBefore = await stepOf(page);
    await page.locator('#prompt').pressSequentially('the c', { delay: 20 });
    assert.equal(await page.locator('#prompt').inputValue(), 'the c');
    // Training kept going (a chunk landed after the typing), and the page drew frames meanwhile.
    await waitFor(
      page,
      (step) => Number(inShadow('#step').dataset.value) > step && window.frameTimes.length > 10,
      stepBefore,
    );
    const times = await page.evaluate(() => {
      const times = window.frameTimes;
      window.frameTimes = null;
      return times;
    });
    // Measured by the page's own frame clock: no worse than 10 frames a second on average.
    const span = times.at(-1) - times[0];
    assert.ok(span / (times.length - 1) <= 100, `${times.length} animation frames in ${Math.round(span)} ms`);
  });

  test('generation streams token by token mid-training, and Stop stops it', async () => {
    await setField(page, '#length', 5000);
    const generatedBefore = await page.evaluate(() => {
      window.outputUpdates = 0;
      new MutationObserver(() => window.outputUpdates++).observe(inShadow('#output'), { childList: true });
      return window.engineGenerated;
    });
    // Measured from the output box's top: training, still running, may rewrite status lines
    // above; the stream itself must not grow the box.
    const below = async () => {
      const [output, info] = await Promise.all(['#output', '#token-info'].map((id) => page.locator(id).boundingBox()));
      return info.y - output.y;
    };
    const layoutBefore = await below();
    await page.locator('#generate').click();
    await waitFor(page, () => window.outputUpdates >= 10);
    assert.equal(await below(), layoutBefore, 'streaming moved the layout');
    await page.locator('#stop').click();
    await page.locator('#gen-status').filter({ hasText: 'Stopped' }).waitFor(LONG);
    const count = await page.locator('#output .tok').count();
    assert.ok(count >= 10 && count < 5000, `${count} tokens`);
    // The engine has finished with this generation (every token it sent has arrived), and the
    // pacer, which shows what it holds on an animation frame, has had its frames.
    await waitFor(page, (before) => window.engineGenerated > before, generatedBefore);
    await animationFrames(page);
    assert.equal(await page.locator('#output .tok').count(), count, 'no tokens after Stop');
    assert.equal(await page.locator('#train').textContent(), 'Pause', 'training went on');
  });

  test('a token shows its probability on focus', async () => {
    await page.locator('#output').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    assert.match(await page.locator('#token-info').textContent(), /probability \d+(\.\d)?%/);
    assert.equal(await page.locator('#output .tok.current').count(), 1);
  });

  test('training pauses while the tab is hidden and resumes after', async () => {
    const setHidden = (hidden) =>
      page.evaluate((hidden) => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await setHidden(true);
    await page.locator('#train-status').filter({ hasText: 'tab was hidden' }).waitFor(LONG);
    const heardAtPause = () =>
      page.evaluate(() => ({ step: Number(inShadow('#step').dataset.value), heard: window.metricsHeard }));
    const paused = await heardAtPause();
    // A later event, in order: the worker answers Download once any training it had queued has
    // run (both take turns at the model), and the file names the model's step.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    assert.match(download.suggestedFilename(), new RegExp(`step${paused.step}\\.kindling$`), 'no steps while hidden');
    assert.deepEqual(await heardAtPause(), paused, 'no chunk of training while hidden');
    const pausedAt = paused.step;
    await setHidden(false);
    await waitFor(page, (step) => Number(inShadow('#step').dataset.value) > step, pausedAt);
  });

  test('a corrupted model file is refused and the current model is kept', async () => {
    await page.locator('#train').click(); // pause
    await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
    const step = await stepOf(page);
    await page.locator('#model-file').setInputFiles({
      name: 'broken.kindling',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('definitely not a kindling checkpoint'),
    });
    await page.locator('#file-error').filter({ hasText: 'broken.kindling' }).waitFor(LONG);
    assert.equal(await stepOf(page), step);
    assert.equal(await page.locator('#train').textContent(), 'Resume');
  });

  test('Download model saves a file that Open model loads', async () => {
    const step = await stepOf(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    const path = join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(path);
    assert.match(download.suggestedFilename(), new RegExp(`step${step}\\.kindling$`));
    await page.locator('#model-file').setInputFiles(path);
    await page
      .locator('#train-status')
      .filter({ hasText: `Opened a model at step ${step}` })
      .waitFor(LONG);
    assert.equal(await page.locator('#file-error').isHidden(), true);
  });

  test('after a reload the autosave resumes at the same step and loss', async () => {
    // Pausing autosaved; opening the file above kept the same step.
    await page.locator('#save-status').filter({ hasText: 'Autosaved' }).waitFor(LONG);
    const step = await stepOf(page);
    const loss = await value(page, '#loss');
    await page.reload();
    await page.locator('#resume-offer').waitFor(LONG);
    assert.match(await page.locator('#resume-text').textContent(), new RegExp(`step ${step} of`));
    await page.locator('#resume').click();
    await page
      .locator('#train-status')
      .filter({ hasText: `Restored at step ${step}` })
      .waitFor(LONG);
    assert.equal(await stepOf(page), step);
    assert.equal(await value(page, '#loss'), loss);
    await page.locator('#train').click();
    await waitFor(page, (from) => Number(inShadow('#step').dataset.value) > from, step);
    await page.locator('#train').click();
    await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
  });

  test('screenshots at desktop and phone width', async () => {
    await page.locator('#prompt').fill('the ');
    await setField(page, '#length', 240);
    await instantPace(page);
    await page.locator('#generate').click();
    await page.locator('#gen-status').filter({ hasText: 'Done' }).waitFor(LONG);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-desktop.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(ARTIFACTS, 'playground-desktop-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 360, height: 780 });
    await animationFrames(page); // the chart redrawn at its new size
    await page.screenshot({ path: join(ARTIFACTS, 'playground-phone.png'), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    await page.close();
  });
});

describe('bad input', () => {
  let page;

  before(async () => {
    page = await openPlayground();
    // An autosave from the tests above may be offered; these tests start fresh.
    if (await page.locator('#resume-offer').isVisible()) await page.locator('#discard').click();
    await instantPace(page);
  });

  after(() => page.close());

  test('a dropped binary file shows an error and keeps the text', async () => {
    await page.locator('#text').fill('keep this text');
    const dataTransfer = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x81]);
      transfer.items.add(new File([bytes], 'picture.png', { type: 'image/png' }));
      return transfer;
    });
    await page.locator('#text').dispatchEvent('drop', { dataTransfer });
    await page.locator('#text-error').filter({ hasText: 'picture.png' }).waitFor(LONG);
    assert.equal(await page.locator('#text').inputValue(), 'keep this text');
  });

  test('an absurd hyper-parameter shows the engine message and disables Train', async () => {
    await page.locator('#text').fill(corpus(50));
    await page.locator('#preset').selectOption('tiny');
    await validated(page);
    assert.equal(await page.locator('#train').isEnabled(), true);
    await setField(page, '#f-nLayer', 100000);
    await validated(page);
    const message = page.locator('#err-nLayer:not(:empty), #model-error:not([hidden])').first();
    assert.match(await message.textContent(), /layers must be between 1 and 64 \(got 100000\)/);
    assert.equal(await page.locator('#train').isDisabled(), true);
    await setField(page, '#f-nLayer', 1);
    await page.locator('#train').and(page.locator(':enabled')).waitFor(LONG);
    assert.equal(await page.locator('#err-nLayer').textContent(), '');
  });

  test('user and generated text render as text, never as markup', async () => {
    await page.locator('#text').fill(`${XSS}\n`.repeat(200));
    await page.locator('#prompt').fill(XSS);
    await setField(page, '#f-maxSteps', 20);
    await validated(page);
    await page.locator('#train').click();
    await page.locator('#train-status').filter({ hasText: 'Finished' }).waitFor(LONG);
    await setField(page, '#length', 60);
    await page.locator('#generate').click();
    await page.locator('#gen-status').filter({ hasText: 'Done' }).waitFor(LONG);
    const images = await page.evaluate(
      () => document.querySelector('kindling-playground').shadowRoot.querySelectorAll('img').length,
    );
    assert.equal(images, 0);
    assert.equal(await page.locator('#text').inputValue(), `${XSS}\n`.repeat(200));
    assert.ok((await page.locator('#output').textContent()).length > 0);
  });

  test('a NaN loss stops training with the engine message, and the last good weights still generate', async () => {
    await page.locator('#reset').click();
    await page.locator('#train').filter({ hasText: 'Train' }).waitFor(LONG);
    await page.locator('#text').fill(corpus(100));
    await setField(page, '#f-maxSteps', 2000);
    // The engine takes any finite rate above zero; this one blows the weights up at once.
    await setField(page, '#f-learningRate', 1e6);
    await validated(page);
    assert.equal(await page.locator('#train').isEnabled(), true, 'a huge learning rate is valid');
    await page.locator('#train').click();
    const error = page.locator('#train-error');
    await error.filter({ hasText: 'NaN or infinite' }).waitFor(LONG);
    assert.match(await error.textContent(), /last good weights \(step \d+\) were restored/);
    await page.locator('#train-status').filter({ hasText: 'the last good weights are back' }).waitFor(LONG);
    const heardNow = () =>
      page.evaluate(() => ({ step: Number(inShadow('#step').dataset.value), heard: window.metricsHeard }));
    const stopped = await heardNow();
    assert.equal(await page.locator('#train').textContent(), 'Resume');
    await setField(page, '#length', 20);
    await page.locator('#generate').click();
    await page.locator('#gen-status').filter({ hasText: 'Done: 20 tokens' }).waitFor(LONG);
    // The generation took its turns at the model after any training queued before it: there was none.
    assert.deepEqual(await heardNow(), stopped, 'training stopped');
  });

  test('a learning rate below the preset floor is valid: the floor follows it', async () => {
    await page.locator('#reset').click();
    await page.locator('#train').filter({ hasText: 'Train' }).waitFor(LONG);
    await setField(page, '#f-learningRate', 0.00001);
    await validated(page);
    assert.equal(await page.locator('#model-error').isHidden(), true, await page.locator('#model-error').textContent());
    assert.equal(await page.locator('#train').isEnabled(), true);
  });

  test('a crashed worker is reported and the engine comes back', async () => {
    // The markup test above finished a model, which autosaved at its last step: it is offered
    // once the engine is back.
    const [worker] = page.workers();
    await worker.evaluate(() =>
      setTimeout(() => {
        throw new Error('simulated crash');
      }),
    );
    await page.locator('#train-error').filter({ hasText: 'simulated crash' }).waitFor(LONG);
    assert.match(await page.locator('#train-error').textContent(), /Your last autosave is kept/);
    // The page never froze: it answers while the engine restarts.
    assert.equal(await page.evaluate(() => document.querySelector('kindling-playground').ready), false);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await page.locator('#resume-offer').waitFor(LONG);
    assert.match(await page.locator('#resume-text').textContent(), /was saved at step \d+ of/);
    await page.locator('#text').fill(corpus(100));
    await setField(page, '#f-learningRate', 0.003);
    await validated(page);
    assert.equal(await page.locator('#train').isEnabled(), true);
  });
});

test('nothing left the origin and the strict CSP was never violated', () => {
  assert.ok(
    suite.browser.requests.some((url) => url.endsWith('/pkg/kindling_bg.wasm')),
    'worker requests are recorded',
  );
  assert.deepEqual(foreignRequests(suite.browser.requests, suite.server.url), []);
  assert.deepEqual(
    suite.browser.problems.filter((text) => /Content.Security.Policy|Refused|dialog/i.test(text)),
    [],
  );
});

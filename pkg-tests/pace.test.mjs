// The Generate card's Pace (www/playground/pacer.js, generation-view.js) in the playground page,
// with the demo model opened: the text arrives at a readable pace, one token per step, or at
// once; Stop ends the display where it is; the events and the result match what is shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, REPO, animationFrames, browserSuite } from './browser.mjs';
import { visibleToken } from '../www/format.js';

const LONG = { timeout: 120_000 };
let page;

// What the host page hears, what the element asks of its engine, and when the engine (not
// the display) is done.
const suite = browserSuite({
  init: () => {
    window.heard = [];
    window.finished = [];
    document.addEventListener('kindling-token', ({ detail }) => window.heard.push(detail.text));
    document.addEventListener('kindling-finished', ({ detail }) => {
      if (detail.task === 'generation') window.finished.push(detail);
    });
    window.engineDone = 0;
    window.asked = [];
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', ({ data }) => {
          if (data?.type === 'generated') window.engineDone++;
        });
      }

      postMessage(message, ...rest) {
        window.asked.push(message?.type);
        return super.postMessage(message, ...rest);
      }
    };
    window.inShadow = (selector) => document.querySelector('kindling-playground').shadowRoot.querySelector(selector);
  },
  // The demo model, opened in the playground, ready to generate.
  setUp: async () => {
    page = await suite.browser.context.newPage();
    await page.goto(`${suite.server.url}/`);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await page.locator('#model-file').setInputFiles(join(REPO, 'www/models/demo.kindling'));
    await page.locator('#generate:enabled').waitFor(LONG);
    await page.locator('#prompt').fill('The ');
  },
});

const element = () => page.locator('kindling-playground');
const tokens = () => page.locator('#output .tok').count();
const choose = (pace) =>
  page
    .locator('#pace label')
    .filter({ hasText: new RegExp(`^${pace}$`, 'i') })
    .click();

// Clears what the host heard, and starts a generation of `length` tokens.
async function generate(length) {
  await page.locator('#length').fill(String(length));
  await page.evaluate(() => {
    window.heard = [];
    window.finished = [];
    window.engineDone = 0;
    window.asked = [];
  });
  await page.locator('#generate').click();
}

// The result the host was given matches the text shown, token for token.
async function assertResultShown(reason) {
  const shown = await page.locator('#output').textContent();
  const count = await tokens();
  const { heard, finished } = await page.evaluate(() => ({ heard: window.heard, finished: window.finished }));
  assert.deepEqual(finished, [{ task: 'generation', reason, text: shown, tokens: count }]);
  assert.equal(heard.join(''), shown);
  assert.equal(heard.length, count);
  return count;
}

test('Pace is readable by default; the control and the attribute follow each other', async () => {
  assert.equal(await element().evaluate((el) => el.pace), 'readable');
  assert.equal(await page.locator('#pace input[value=readable]').isChecked(), true);
  assert.equal(await page.locator('#next-token').isHidden(), true);
  await choose('step');
  assert.equal(await element().getAttribute('pace'), 'step');
  assert.equal(await page.locator('#next-token').isVisible(), true);
  await element().evaluate((el) => el.setAttribute('pace', 'instant'));
  assert.equal(await page.locator('#pace input[value=instant]').isChecked(), true);
  assert.equal(await page.locator('#next-token').isHidden(), true);
  await element().evaluate((el) => el.setAttribute('pace', 'warp'));
  assert.equal(await element().evaluate((el) => el.pace), 'readable', 'an unknown pace reads as the default');
  assert.equal(await page.locator('#pace input[value=readable]').isChecked(), true);
  await element().evaluate((el) => el.removeAttribute('pace'));
  // The radio group is reachable by keyboard: the arrow keys move the choice.
  await page.locator('#pace input[value=readable]').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await element().getAttribute('pace'), 'instant');
  await element().evaluate((el) => el.removeAttribute('pace'));
});

test('at the readable pace the reader watches 300 tokens arrive, and Done waits for the last', async () => {
  // Every frame: how much text is shown, how many tokens the host has heard, and the controls.
  await page.evaluate(() => {
    window.samples = [];
    const sample = () => {
      const output = inShadow('#output');
      window.samples.push({
        length: output.textContent.length,
        tokens: output.querySelectorAll('.tok').length,
        heard: window.heard.length,
        status: inShadow('#gen-status').textContent,
        generateDisabled: inShadow('#generate').disabled,
      });
      if (!window.samplesDone) requestAnimationFrame(sample);
    };
    window.samplesDone = false;
    requestAnimationFrame(sample);
  });
  await generate(300);
  await page.locator('#gen-status').filter({ hasText: 'Done: 300 tokens' }).waitFor(LONG);
  const samples = await page.evaluate(() => {
    window.samplesDone = true;
    return window.samples;
  });
  const final = (await page.locator('#output').textContent()).length;
  const between = new Set(samples.map((s) => s.length).filter((length) => length > 0 && length < final));
  assert.ok(between.size >= 10, `only ${between.size} states between empty and the whole text`);
  for (const s of samples) {
    assert.equal(s.heard, s.tokens, 'kindling-token fires as a token is shown');
    if (s.tokens > 0 && s.tokens < 300) {
      assert.ok(!/^Done/.test(s.status), `"${s.status}" with ${s.tokens} tokens shown`);
      assert.equal(s.generateDisabled, true, `Generate enabled with ${s.tokens} tokens shown`);
    }
  }
  assert.equal(await assertResultShown('done'), 300);
  assert.equal(await page.locator('#generate').isEnabled(), true);
});

test('step: each press shows exactly one more token, described below the text', async () => {
  await choose('step');
  await generate(300);
  await page.locator('#gen-status').filter({ hasText: 'Next token' }).waitFor(LONG);
  // One press at a time, by each way there is: the button, and Space and → in the output.
  const presses = [
    () => page.locator('#next-token').click(),
    () => page.locator('#next-token').click(),
    () => page.locator('#next-token').press('Space'),
    () => page.locator('#output').press('Space'),
    () => page.locator('#output').press('ArrowRight'),
    () => page.locator('#output').press('Space'),
  ];
  for (const [index, press] of presses.entries()) {
    await press();
    await page.waitForFunction(
      (count) => inShadow('#output').querySelectorAll('.tok').length >= count,
      index + 1,
      LONG,
    );
    assert.equal(await tokens(), index + 1, `press ${index + 1}`);
    const last = page.locator('#output .tok').last();
    assert.match(await last.getAttribute('class'), /\bcurrent\b/, 'the new token is the one inspected');
    const info = await page.locator('#token-info').textContent();
    const text = visibleToken(await last.textContent());
    assert.ok(info.startsWith(`“${text}” had probability `), `press ${index + 1}: ${info}`);
  }
  // The engine finishes (every token has arrived); the display still waits for the reader,
  // frames after it, when the pacer would have shown what it holds.
  await page.waitForFunction(() => window.engineDone === 1, null, LONG);
  await animationFrames(page);
  assert.equal(await tokens(), presses.length, 'no token without a press');
  assert.equal(await element().evaluate((el) => el.generating), true);
  assert.equal(await page.locator('#generate').isDisabled(), true);
  assert.equal(await page.evaluate(() => window.heard.length), presses.length);
  // Switching to instant shows the rest at once, and the generation ends.
  await choose('instant');
  await page.locator('#gen-status').filter({ hasText: 'Done: 300 tokens' }).waitFor(LONG);
  assert.equal(await assertResultShown('done'), 300);
});

const focusedId = () => page.evaluate(() => document.querySelector('kindling-playground').shadowRoot.activeElement?.id);

test('stepping, focus goes on from Generate to Next token, and to the text once it ends', async () => {
  await choose('step');
  await page.locator('#length').fill('3');
  await page.locator('#generate').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#generate').isDisabled(), true);
  assert.equal(await focusedId(), 'next-token');
  // The text just generated is half there: only typed text can be inspected meanwhile.
  assert.equal(await page.locator('#inspect').isDisabled(), true);
  await page.locator('#inspect-source input[value=typed]').check();
  assert.equal(await page.locator('#inspect').isEnabled(), true);
  await page.locator('#inspect-source input[value=generated]').check();
  assert.equal(await page.locator('#inspect').isDisabled(), true);
  await page.locator('#next-token').focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('Enter');
  await page.locator('#gen-status').filter({ hasText: 'Done: 3 tokens' }).waitFor(LONG);
  assert.equal(await focusedId(), 'output');
  assert.match(
    await page.locator('#token-info').textContent(),
    /had probability/,
    'the text, focused, describes its last token',
  );
  assert.equal(await page.locator('#inspect').isEnabled(), true);
  // What the Inspect card looks at: the prompt as it was and the text shown after it.
  const shown = await page.locator('#output').textContent();
  await page.locator('#prompt').fill('Another ');
  await page.locator('#inspect').click();
  assert.equal(await page.locator('#inspect-text').inputValue(), `The ${shown}`);
  await page
    .locator('#inspect-status')
    .filter({ hasText: /^Inspected/ })
    .waitFor(LONG);
  await page.locator('#prompt').fill('The ');
});

test('a host that stops the generation from a kindling-token handler hears no token after its end', async () => {
  await choose('step');
  await generate(300);
  await page.waitForFunction(() => window.engineDone === 1, null, LONG);
  // Switching to instant shows the 300 tokens waiting at once, in one batch.
  const heard = await page.evaluate(() => {
    const element = document.querySelector('kindling-playground');
    const log = [];
    const token = () => {
      log.push('token');
      if (log.length === 1) element.stop();
    };
    const finished = () => log.push('finished');
    element.addEventListener('kindling-token', token);
    element.addEventListener('kindling-finished', finished);
    inShadow('#pace input[value=instant]').click();
    element.removeEventListener('kindling-token', token);
    element.removeEventListener('kindling-finished', finished);
    return log;
  });
  assert.deepEqual(heard, ['token', 'finished']);
  assert.equal(await element().evaluate((el) => el.generating), false);
});

test('screenshots of the Generate card while stepping: desktop, phone, dark', async () => {
  await choose('step');
  await generate(300);
  for (let i = 0; i < 12; i++) await page.locator('#next-token').click();
  await page.waitForFunction(() => inShadow('#output').querySelectorAll('.tok').length >= 12, null, LONG);
  await page.locator('#output').press('ArrowLeft');
  const card = page.locator('.gen-card');
  await card.screenshot({ path: join(ARTIFACTS, 'pace-step-desktop.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await card.screenshot({ path: join(ARTIFACTS, 'pace-step-desktop-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 360, height: 780 });
  await card.screenshot({ path: join(ARTIFACTS, 'pace-step-phone.png') });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  const [pace, cardBox] = await Promise.all([page.locator('#pace').boundingBox(), card.boundingBox()]);
  assert.ok(pace.x + pace.width <= cardBox.x + cardBox.width, 'Pace fits in the card');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.locator('#stop').click();
  await page.locator('#gen-status').filter({ hasText: 'Stopped after 12 tokens' }).waitFor(LONG);
});

test('Stop mid-display stops the engine and the display where it is; the result is what was shown', async () => {
  await choose('readable');
  await generate(5000);
  await page.waitForFunction(() => inShadow('#output').querySelectorAll('.tok').length >= 20, null, LONG);
  // Clicked in the page, so that whether the engine had finished is read at the same moment.
  const { status, count, engineDone, asked } = await page.evaluate(() => {
    const engineDone = window.engineDone;
    inShadow('#stop').click();
    const count = inShadow('#output').querySelectorAll('.tok').length;
    return { status: inShadow('#gen-status').textContent, count, engineDone, asked: window.asked };
  });
  assert.equal(status, `Stopped after ${count} tokens.`);
  assert.ok(count >= 20 && count < 5000, `${count} tokens`);
  // The engine is told to stop, unless it was done already.
  const generation = asked.filter((type) => type === 'generate' || type === 'stop');
  assert.deepEqual(generation, engineDone ? ['generate'] : ['generate', 'stop']);
  // The engine reports its end (every token it sent has arrived), and the pacer has had its
  // frames: nothing more was shown.
  await page.waitForFunction(() => window.engineDone === 1, null, LONG);
  await animationFrames(page);
  assert.equal(await tokens(), count, 'no token after Stop');
  assert.equal(await assertResultShown('stopped'), count);
  assert.equal(await page.locator('#generate').isEnabled(), true);
  // Another generation runs.
  await choose('instant');
  await generate(40);
  await page.locator('#gen-status').filter({ hasText: 'Done: 40 tokens' }).waitFor(LONG);
  assert.equal(await assertResultShown('done'), 40);
});

test('nothing was reported', () => {
  assert.deepEqual(suite.browser.problems, []);
});

// "Start from: A model file…" in the playground (www/playground/start-from.js): a byte-level
// model trained on one text and downloaded, fine-tuned (all weights) on another text from step 0
// with the form's training settings, starts below the same model trained from scratch on that
// text; a character model refuses a text with characters it never saw, and a file that is no
// model is refused, each leaving the page usable; an axe audit of the Train card with the
// refusal, and screenshots of it (test-artifacts/fine-tune-train-card-*.png, a11y-fine-tune-*.png).
// LoRA, the base model and the Before / after panel: start-from.test.mjs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, browserSuite } from './browser.mjs';
import { audit } from './audit.mjs';
import {
  LONG,
  JUNK,
  recordMetrics,
  otherText,
  validated,
  stepOf,
  firstMetrics,
  settings,
  trainAndDownload,
  reset,
  startFrom,
  fineTuneFile,
} from './fine-tune-steps.mjs';

const BASE_STEPS = 150;
// Long enough that the fine-tuning run is still going while it is looked at.
const FINE_TUNE_STEPS = 1000;
const suite = browserSuite({ init: recordMetrics });

describe('fine-tuning a saved model on the page’s text', () => {
  let page;
  let bpeFile;
  let scratchLoss;

  before(async () => {
    page = await suite.browser.context.newPage();
    await page.goto(`${suite.server.url}/`);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await page.locator('#train-for label').filter({ hasText: 'Steps' }).click(); // the Model card's settings, not a budget
  });

  after(() => page.close());

  test('a byte-level model trained on the grammar sample is downloaded', async () => {
    await page.locator('#sample').selectOption('grammar'); // the first sample: likely shown already
    await page.waitForFunction(() => inShadow('#text').value.length > 1000);
    bpeFile = await trainAndDownload(page, { tokenizer: 'bpe', steps: BASE_STEPS });
    assert.equal(await stepOf(page), BASE_STEPS);
  });

  test('the same settings from scratch on another text: the first loss', async () => {
    await reset(page);
    assert.equal(
      await page.locator('#start-from input[value=scratch]').isEnabled(),
      true,
      'no model: a start point may be chosen',
    );
    await page.locator('#text').fill(otherText());
    await settings(page, { tokenizer: 'bpe', steps: FINE_TUNE_STEPS });
    const first = await firstMetrics(page, () => page.locator('#train').click());
    assert.equal(await page.locator('#start-from input[value=scratch]').isEnabled(), false, 'not while a model trains');
    assert.equal(first.step, 1, 'the first chunk is one step');
    scratchLoss = first.trainLoss;
    await reset(page);
  });

  test('fine-tuning the file on that text restarts at step 0 and starts below the run from scratch', async () => {
    const first = await firstMetrics(page, () => fineTuneFile(page, bpeFile));
    const status = page.locator('#train-status');
    await status.filter({ hasText: 'Fine-tuning fine-tune-base-bpe.kindling' }).waitFor(LONG);
    assert.match(
      await status.textContent(),
      /^Fine-tuning fine-tune-base-bpe\.kindling \(a GPT, [\d.]+k parameters, byte-level BPE; all weights\) on this text from step 0\.$/,
    );
    assert.equal(first.step, 1, 'a new run: its first chunk is step 1');
    assert.equal(first.totalSteps, FINE_TUNE_STEPS, 'the form’s training steps, not the file’s');
    assert.ok(first.trainLoss < scratchLoss, `fine-tuned ${first.trainLoss} ≥ from scratch ${scratchLoss}`);
    // The Model card shows the file's shape; the text card the text it trains on.
    assert.equal(await page.locator('#f-tokenizer').inputValue(), 'bpe');
    assert.equal(await page.locator('#text').inputValue(), otherText());
    await page.waitForFunction((step) => Number(inShadow('#step').dataset.value) > step, first.step, LONG);
    assert.equal(await page.locator('#start-from input[value=scratch]').isEnabled(), false, 'not while it trains');

    const card = page.locator('.train-card');
    await card.screenshot({ path: join(ARTIFACTS, 'fine-tune-train-card-desktop.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await card.screenshot({ path: join(ARTIFACTS, 'fine-tune-train-card-desktop-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });

    await page.locator('#train').click(); // pause
    await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
    await reset(page);
    assert.equal(await page.locator('#start-from input[value=file]').isChecked(), true, 'Reset keeps the start point');
    assert.equal(await page.locator('#start-from input[value=scratch]').isEnabled(), true);
  });

  test('a character model refuses a text with characters it never saw; the page stays usable', async () => {
    await startFrom(page, 'Scratch');
    const charFile = await trainAndDownload(page, { tokenizer: 'char', steps: 30 }); // on otherText()
    await reset(page);
    await page.locator('#text').fill('17+25=42\n'.repeat(200));
    await validated(page);
    await fineTuneFile(page, charFile);
    const error = page.locator('#start-error');
    await error.filter({ hasText: 'never saw' }).waitFor(LONG);
    const message = await error.textContent();
    assert.match(message, /^Could not fine-tune “fine-tune-base-char\.kindling”: /);
    assert.match(message, /'\+' '1' '2' '4' '5' '7' '='/, 'the characters it lacks');
    assert.match(message, /byte-level \(BPE\)/, 'what would read this text');
    assert.equal(await page.locator('#train').textContent(), 'Train', 'still no model');
    assert.equal(await page.locator('#text').isEditable(), true);

    // A file that is no model: the engine's checkpoint message.
    await fineTuneFile(page, JUNK);
    await error.filter({ hasText: 'notes.kindling' }).waitFor(LONG);
    assert.match(await error.textContent(), /not a Kindling model file/);

    // The page goes on: this text trains a model of its own.
    await startFrom(page, 'Scratch');
    await settings(page, { tokenizer: 'char', steps: 30 });
    await page.locator('#train').click();
    await page.locator('#train').filter({ hasText: 'Finished' }).waitFor(LONG);
    assert.equal(await error.isHidden(), true, 'a new model settles the refusal');
    assert.deepEqual(suite.browser.problems, [], 'no errors in the console');
  });

  test('the Train card with a refused model file passes an axe audit; screenshots', async () => {
    // The refusal shown under the control.
    await reset(page);
    await fineTuneFile(page, JUNK);
    await page.locator('#start-error').filter({ hasText: 'notes.kindling' }).waitFor(LONG);
    assert.equal(await page.locator('#train').textContent(), 'Train', 'still no model');
    await page.locator('#start-from input[value=file]').focus();
    await audit(page, 'fine-tune');
    await page.setViewportSize({ width: 360, height: 780 });
    await page.locator('.train-card').screenshot({ path: join(ARTIFACTS, 'fine-tune-train-card-phone.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

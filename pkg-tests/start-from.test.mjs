// "Start from" in the playground's Train card (www/playground/start-from.js) and the Before /
// after panel (before-after.js), end to end: a byte-level model trained and downloaded here is
// the start point ("A model file…"; the project's base model, www/models/base.kindling, in its
// own test once committed), fine-tuned with LoRA rank 4: the trainable vs frozen counts, the
// fine-tuning text's val loss falling from before to after, both models writing side by side,
// "base + adapters" and "merged" downloads that open and generate again; the radio by keyboard,
// a failed base fetch, a junk file and LoRA on an LSTM refused with what to do; axe audits and
// screenshots (test-artifacts/start-from-*.png, a11y-start-from-*.png).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, browserSuite } from './browser.mjs';
import { audit } from './audit.mjs';
import {
  LONG,
  JUNK,
  recordMetrics,
  openPlayground,
  otherText,
  validated,
  trainAndDownload,
  reset,
  startFrom,
  fineTuneFile,
} from './fine-tune-steps.mjs';

// Two evaluations (tiny evaluates every 100 steps) of a fine-tune on a short, regular text:
// the second is well below the start point's loss.
const LORA_STEPS = 200;
const PROMPT = 'the cat ';
const suite = browserSuite({ init: recordMetrics });

const number = (page, id) => page.locator(id).getAttribute('data-value').then(Number);

// Screenshots of one part of the page: desktop, phone (390 px) and dark.
async function screenshots(page, selector, name) {
  const part = page.locator(selector);
  await part.screenshot({ path: join(ARTIFACTS, `start-from-${name}-desktop.png`) });
  await page.emulateMedia({ colorScheme: 'dark' });
  await part.screenshot({ path: join(ARTIFACTS, `start-from-${name}-desktop-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await part.screenshot({ path: join(ARTIFACTS, `start-from-${name}-phone.png`) });
  await page.setViewportSize({ width: 1280, height: 900 });
}

// A generation with the model shown, at once: resolves to its detail.
async function generateOnce(page) {
  await page.locator('#prompt').fill(PROMPT);
  const finished = page.evaluate(
    () =>
      new Promise((resolve) =>
        document.addEventListener('kindling-finished', ({ detail }) => detail.task === 'generation' && resolve(detail)),
      ),
  );
  await page.locator('#generate').click();
  return finished;
}

// Opens a downloaded model with "Open model…": opened once the download menu shows whether it
// is a LoRA model (it showed the other way before).
async function openModel(page, path, { lora }) {
  await page.locator('#model-file').setInputFiles(path);
  await page.locator('#download-as-field').waitFor({ state: lora ? 'visible' : 'hidden', ...LONG });
  await page.locator('#train-status').filter({ hasText: 'Opened a model' }).waitFor(LONG);
}

describe('Start from, LoRA and Before / after', () => {
  let page;
  let bpeFile;

  before(async () => {
    page = await openPlayground(suite);
  });

  after(() => page.close());

  test('a byte-level model trained on the grammar sample is downloaded (the start point)', async () => {
    await page.locator('#sample').selectOption('grammar');
    await page.waitForFunction(() => inShadow('#text').value.length > 1000);
    bpeFile = await trainAndDownload(page, { tokenizer: 'bpe', steps: 150, prefix: 'start-from-base' });
    await reset(page);
    await page.locator('#text').fill(otherText());
    await validated(page);
  });

  test('Start from is a radio group the keyboard moves; a base model that cannot be fetched says what to do', async () => {
    const element = page.locator('kindling-playground');
    await element.evaluate((el) => el.setAttribute('base-model-src', 'models/missing.kindling'));
    assert.equal(await element.evaluate((el) => el.baseModelSrc), 'models/missing.kindling');
    await page.locator('#start-from input[value=scratch]').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#start-from input[value=base]').isChecked(), true);
    const error = page.locator('#start-error');
    await error.filter({ hasText: 'missing.kindling' }).waitFor(LONG);
    assert.equal(
      await error.textContent(),
      'Could not fetch the base model (models/missing.kindling): the server answered 404 Not Found. ' +
        'Start from Scratch or a model file instead, or check the base-model-src attribute.',
    );
    assert.equal(await page.locator('#train').isDisabled(), true, 'nothing to start from');
    // The start point gives the shape: only the training settings show, and the Model card says so.
    assert.equal(await page.locator('#f-nLayer').isHidden(), true);
    assert.equal(await page.locator('#f-tokenizer').isHidden(), true);
    assert.equal(await page.locator('#f-maxSteps').isVisible(), true);
    assert.match(await page.locator('#shape-note').textContent(), /start point’s/);
    assert.equal(await page.locator('#fine-tune-mode').isVisible(), true);

    // On to "A model file…" by keyboard: no dialog pops up mid-group; its button is there for
    // the picker (the picker itself: fine-tune-steps.mjs's click on the choice).
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#start-from input[value=file]').isChecked(), true);
    assert.equal(await page.locator('#choose-start-file').isVisible(), true);
    assert.equal(await error.isHidden(), true, 'another choice settles the refusal');
    await page.locator('#start-file').setInputFiles(bpeFile);
    await page.locator('#start-note').filter({ hasText: 'Model file: start-from-base-bpe.kindling' }).waitFor(LONG);
    await element.evaluate((el) => el.removeAttribute('base-model-src'));
    // Fine-tune: All weights or LoRA, by keyboard too; the rank shows with LoRA.
    assert.equal(await page.locator('#lora-rank').isHidden(), true);
    await page.locator('#fine-tune-mode input[value=all]').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#fine-tune-mode input[value=lora]').isChecked(), true);
    assert.equal(await page.locator('#lora-rank').inputValue(), '8', 'rank 8 by default');
    await page.locator('#lora-rank').fill('4');
  });

  test('LoRA rank 4: trainable vs frozen counts, and the val loss falls from before to after', async () => {
    await page.locator('#f-maxSteps').fill(String(LORA_STEPS));
    await validated(page);
    await page.locator('#train').click();
    const status = page.locator('#train-status');
    await status.filter({ hasText: 'LoRA adapters of rank 4' }).waitFor(LONG);
    assert.match(
      await status.textContent(),
      /^Fine-tuning start-from-base-bpe\.kindling \(a GPT, .*byte-level BPE; LoRA adapters of rank 4\) on this text from step 0\.$/,
    );
    await screenshots(page, '.train-card', 'train-card-lora');
    await page.locator('#train').filter({ hasText: 'Finished' }).waitFor(LONG);

    const split = page.locator('#param-split');
    assert.equal(await split.isVisible(), true);
    assert.match(
      await split.textContent(),
      /^LoRA r=4: [\d,]+ trainable \([\d.]+ (B|KiB|MiB) with gradients and AdamW moments\) · [\d.]+k? frozen \([\d.]+ (KiB|MiB)\)$/,
    );
    const trainable = Number(await split.getAttribute('data-trainable'));
    const frozen = Number(await split.getAttribute('data-frozen'));
    assert.ok(trainable > 0 && trainable < frozen, `trainable ${trainable}, frozen ${frozen}`);

    const panel = page.locator('#before-after');
    assert.equal(await panel.isVisible(), true);
    assert.equal(await page.locator('#compare-before-title').textContent(), 'Before: start-from-base-bpe.kindling');
    const before = await number(page, '#val-loss-before');
    const after = await number(page, '#val-loss-after');
    assert.ok(Number.isFinite(before) && Number.isFinite(after), `before ${before}, after ${after}`);
    assert.ok(after < before, `val loss after ${after} ≥ before ${before}`);
    const bitsBefore = await number(page, '#val-bits-before');
    const bitsAfter = await number(page, '#val-bits-after');
    assert.ok(bitsAfter > 0 && bitsAfter < bitsBefore, `bits/char after ${bitsAfter}, before ${bitsBefore}`);
  });

  test('Compare: the start point and the fine-tuned model write from one prompt and seed, side by side', async () => {
    await page.locator('#prompt').fill(PROMPT);
    await page.locator('#length').fill('60');
    await page.locator('#compare-seed').fill('7');
    const compare = async () => {
      await page.locator('#compare').click();
      await page.locator('#compare-status').filter({ hasText: 'Seed 7' }).waitFor(LONG);
      return Promise.all([page.locator('#compare-before').textContent(), page.locator('#compare-after').textContent()]);
    };
    const [beforeText, afterText] = await compare();
    for (const text of [beforeText, afterText]) {
      assert.ok(text.startsWith(PROMPT) && text.length > PROMPT.length, JSON.stringify(text));
    }
    assert.match(await page.locator('#compare-after-title').textContent(), /^After: fine-tuned, step 200$/);
    // The same seed and settings: the same texts again.
    assert.deepEqual(await compare(), [beforeText, afterText]);
    assert.equal(await page.locator('#compare-error').isHidden(), true);
    await screenshots(page, '#before-after', 'before-after');
    await page.locator('#compare').focus();
    await audit(page, 'start-from-lora');
  });

  test('a LoRA model downloads as base + adapters or merged; both open and generate again', async () => {
    const downloadAs = async (choice) => {
      await page.locator('#download-as').selectOption(choice);
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
      const path = join(ARTIFACTS, `start-from-${choice}.kindling`);
      await download.saveAs(path);
      return { path, name: download.suggestedFilename() };
    };
    assert.equal(await page.locator('#download-as-field').isVisible(), true);
    const adapters = await downloadAs('adapters');
    const merged = await downloadAs('merged');
    assert.equal(adapters.name, `kindling-gpt-step${LORA_STEPS}-lora4.kindling`);
    assert.equal(merged.name, `kindling-gpt-step${LORA_STEPS}-merged.kindling`);

    await openModel(page, merged.path, { lora: false }); // merged: an ordinary model
    assert.equal(await page.locator('#param-split').isHidden(), true);
    assert.equal(await page.locator('#before-after').isHidden(), true, 'an opened model has no start point here');
    assert.ok((await generateOnce(page)).tokens > 0);

    await openModel(page, adapters.path, { lora: true }); // still a LoRA model
    assert.match(await page.locator('#param-split').textContent(), /^LoRA r=4: /);
    assert.ok((await generateOnce(page)).tokens > 0);
  });

  test('a junk file and LoRA on an LSTM are refused under the control, with what to do', async () => {
    await reset(page);
    const error = page.locator('#start-error');
    await fineTuneFile(page, JUNK);
    await error.filter({ hasText: 'notes.kindling' }).waitFor(LONG);
    assert.match(
      await error.textContent(),
      /^Could not fine-tune “notes\.kindling”: .*not a Kindling model file.* Nothing was changed\.$/,
    );
    assert.equal(await page.locator('#train').textContent(), 'Train', 'still no model');

    await startFrom(page, 'Scratch');
    // A small LSTM: its file is what matters, not what it learnt.
    await page.locator('#preset').selectOption('seed-lstm');
    for (const [field, value] of [
      ['nLayer', 1],
      ['nEmbd', 16],
      ['hiddenSize', 16],
      ['maxSteps', 3],
    ]) {
      await page.locator(`#f-${field}`).fill(String(value));
    }
    await validated(page);
    await page.locator('#train').click();
    await page.locator('#train').filter({ hasText: 'Finished' }).waitFor(LONG);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    const lstmFile = join(ARTIFACTS, 'start-from-lstm.kindling');
    await download.saveAs(lstmFile);
    await reset(page);
    await fineTuneFile(page, lstmFile); // LoRA rank 4 is still chosen
    await error.filter({ hasText: 'start-from-lstm.kindling' }).waitFor(LONG);
    const message = await error.textContent();
    assert.match(
      message,
      /^Could not fine-tune “start-from-lstm\.kindling”: .*Choose “All weights” to fine-tune it\. Nothing was changed\.$/,
    );
    assert.equal(await page.locator('#train').textContent(), 'Train');
    await page.locator('#start-from input[value=file]').focus();
    await audit(page, 'start-from-refused');
  });

  test('Start from Base model: the project’s pretrained model, fine-tuned with LoRA', async () => {
    await startFrom(page, 'Scratch');
    await page.locator('#preset').selectOption('tiny'); // the tiny preset's training settings
    await page.locator('#text').fill(otherText(120));
    await startFrom(page, 'Base model');
    await page.locator('#start-note').filter({ hasText: 'Base model: base.kindling' }).waitFor(LONG);
    await page.locator('#fine-tune-mode label').filter({ hasText: 'LoRA' }).click();
    await page.locator('#lora-rank').fill('8');
    await page.locator('#f-maxSteps').fill('110'); // past the base's warmup (100 steps); paused long before
    await validated(page);
    await page.locator('#train').click();
    const error = page.locator('#start-error');
    await page
      .locator('#train-status')
      .filter({ hasText: 'Fine-tuning base.kindling' })
      .or(page.locator('#start-error:not([hidden])'))
      .waitFor(LONG);
    assert.equal(await error.isHidden(), true, await error.textContent());
    assert.match(await page.locator('#param-split').textContent(), /^LoRA r=8: /);
    assert.ok(Number.isFinite(await number(page, '#val-loss-before')));
    assert.equal(await page.locator('#compare-before-title').textContent(), 'Before: base.kindling');
    await screenshots(page, '.train-card', 'base-lora');
    await page.locator('#train').click(); // pause
    await page.locator('#train').filter({ hasText: 'Resume' }).waitFor(LONG);
  });
});

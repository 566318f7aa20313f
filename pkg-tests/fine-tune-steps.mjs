// @ts-check
// Steps the fine-tuning tests share (fine-tune.test.mjs, start-from.test.mjs): texts, the
// Model card's settings, training a model and downloading it, and Start from.
import { basename, join } from 'node:path';
import { ARTIFACTS } from './browser.mjs';

/** @typedef {import('playwright-core').Page} Page */

// The kindling-metrics event's detail. Importing the element's declarations also declares its
// events on the document (kindling-metrics: CustomEvent<MetricsDetail>) and its tag name.
/** @typedef {import('../www/types/kindling-playground.js').MetricsDetail} MetricsDetail */
/** @typedef {import('../www/types/kindling-playground.js').KindlingPlayground} KindlingPlayground */

// The page's window once recordMetrics has run (cast through unknown: tsc finds no overlap
// between a window and one with properties it lacks).
/**
 * @typedef {Window & {
 *   metrics: MetricsDetail[],
 *   inShadow: (selector: string) => Element | null,
 * }} MetricsWindow
 */

export const LONG = { timeout: 120_000 };
export const JUNK = {
  name: 'notes.kindling',
  mimeType: 'application/octet-stream',
  buffer: Buffer.from('not a model at all'),
};

// browserSuite's init: every page records its kindling-metrics, and reaches into the element.
export function recordMetrics() {
  /** @type {MetricsWindow} */ (/** @type {unknown} */ (window)).metrics = [];
  document.addEventListener('kindling-metrics', ({ detail }) =>
    /** @type {MetricsWindow} */ (/** @type {unknown} */ (window)).metrics.push(detail),
  );
  /** @type {MetricsWindow} */ (/** @type {unknown} */ (window)).inShadow = (selector) =>
    /** @type {KindlingPlayground & { shadowRoot: ShadowRoot }} */ (
      document.querySelector('kindling-playground')
    ).shadowRoot.querySelector(selector);
}

// Sentences in the grammar sample's language but not its own: what a model that learnt the
// sample's words and spelling carries over, and a model from scratch has yet to learn.
/**
 * @param {number} [lines]
 * @returns {string}
 */
export function otherText(lines = 300) {
  const subjects = ['the cat', 'a robot', 'the child', 'my neighbour', 'the old baker'];
  const verbs = ['watches', 'carries', 'finds', 'paints'];
  const objects = ['the river', 'a boat', 'the red kite', 'some bread', 'a tower'];
  const places = ['in the garden', 'at dawn', 'near the hill'];
  const out = [];
  for (let i = 0; i < lines; i++) {
    out.push(`${subjects[i % 5]} ${verbs[i % 4]} ${objects[Math.floor(i / 5) % 5]} ${places[i % 3]}.`);
  }
  return out.join('\n') + '\n';
}

// A new page of the playground, its engine ready, training at full speed.
/**
 * @param {import('./browser.mjs').Suite} suite
 * @returns {Promise<Page>}
 */
export async function openPlayground(suite) {
  const page = await suite.browser.context.newPage();
  await page.goto(`${suite.server.url}/`);
  await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
  await page.locator('kindling-playground').evaluate((/** @type {KindlingPlayground} */ el) => (el.pace = 'instant'));
  // The Model card's settings train: Train for "Steps", not the page's budget.
  await page.locator('#train-for label').filter({ hasText: 'Steps' }).click();
  return page;
}

/** @param {Page} page */
export const validated = (page) => page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
/** @param {Page} page */
export const stepOf = (page) => page.locator('#step').getAttribute('data-value').then(Number);

// The first kindling-metrics after `act`: a run's first chunk.
/**
 * @param {Page} page
 * @param {() => Promise<unknown>} act
 * @returns {Promise<MetricsDetail>}
 */
export async function firstMetrics(page, act) {
  // biome-ignore format: Biome moves a cast's comment out of the parentheses around an assignment
  await page.evaluate(() => (/** @type {MetricsWindow} */ (/** @type {unknown} */ (window)).metrics = []));
  await act();
  await page.waitForFunction(
    () => /** @type {MetricsWindow} */ (/** @type {unknown} */ (window)).metrics.length > 0,
    null,
    { timeout: 120_000, polling: 50 },
  );
  return page.evaluate(() => /** @type {MetricsWindow} */ (/** @type {unknown} */ (window)).metrics[0]);
}

/**
 * @typedef {object} Settings
 * @property {string} tokenizer the #f-tokenizer option: 'char', 'bpe', …
 * @property {number} steps training steps
 */

/**
 * @param {Page} page
 * @param {Settings} settings
 */
export async function settings(page, { tokenizer, steps }) {
  await page.locator('#preset').selectOption('tiny');
  await page.locator('#f-tokenizer').selectOption(tokenizer);
  if (tokenizer === 'bpe') await page.locator('#f-merges').fill('50');
  await page.locator('#f-maxSteps').fill(String(steps));
  await validated(page);
}

// Trains the form's model on the text shown to the end, and downloads it.
/**
 * @param {Page} page
 * @param {Settings & { prefix?: string }} options `prefix`: the file name's start, in test-artifacts/
 * @returns {Promise<string>} the model file's path
 */
export async function trainAndDownload(page, { tokenizer, steps, prefix = 'fine-tune-base' }) {
  await settings(page, { tokenizer, steps });
  await page.locator('#train').click();
  await page.locator('#train').filter({ hasText: 'Finished' }).waitFor(LONG);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
  const path = join(ARTIFACTS, `${prefix}-${tokenizer}.kindling`);
  await download.saveAs(path);
  return path;
}

/** @param {Page} page */
export async function reset(page) {
  await page.locator('#reset').click();
  await page.locator('#train').filter({ hasText: 'Train' }).waitFor(LONG);
}

/**
 * @param {Page} page
 * @param {string} label a Start from choice's label (or its start)
 */
export const startFrom = (page, label) => page.locator('#start-from label').filter({ hasText: label }).click();

// Start from = A model file…, `file` (a path, or { name, mimeType, buffer }) picked, then Train.
/**
 * @param {Page} page
 * @param {string | { name: string, mimeType: string, buffer: Buffer }} file
 */
export async function fineTuneFile(page, file) {
  const name = typeof file === 'string' ? basename(file) : file.name;
  const radio = page.locator('#start-from input[value=file]');
  if (!(await radio.isChecked()) && (await page.locator('#choose-start-file').textContent()) === 'Choose a file…') {
    // Clicked with no file yet, the picker opens at once.
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), startFrom(page, 'A model file')]);
    await chooser.setFiles(file);
  } else {
    if (!(await radio.isChecked())) await startFrom(page, 'A model file');
    await page.locator('#start-file').setInputFiles(file);
  }
  await page
    .locator('#start-note')
    .filter({ hasText: `Model file: ${name}` })
    .waitFor(LONG);
  await page.locator('#train').click();
}

// The playground with byte-level BPE: the Model card's Tokenizer menu and merges field, the
// text's compression, bits per character beside the losses, generated pieces that are whole
// characters with every other one shaded, a BPE model saved and opened again, and an axe audit
// of the views BPE adds (light and dark, desktop and phone: test-artifacts/a11y-bpe-*.png); the
// training text cut into the model's tokens (Show tokens), for a BPE and a character model.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ARTIFACTS, REPO, browserSuite } from './browser.mjs';
import { audit } from './audit.mjs';

const LONG = { timeout: 120_000 };
const MERGES = 100;
// A model trained much less writes byte sequences that form no character, which the engine
// shows as U+FFFD (by design: they are not half characters); by 300 steps it has learned how
// this text's characters are spelt in bytes (no U+FFFD in 300 sampled generations, natively).
const STEPS = 300;
const suite = browserSuite();

// Every line has characters of two, three and four UTF-8 bytes, so byte tokens that end
// inside a character are common, and there are enough distinct pairs for 100 merges.
function text(lines = 400) {
  const subjects = ['the old cat', 'a naïve dog', 'el niño', 'my friend 日本', 'the baker', 'a curious child'];
  const verbs = ['sees', 'likes', 'finds', 'paints', 'follows'];
  const objects = [
    'the ball ⚽.',
    'a red hat 🎩.',
    'the café.',
    'some warm bread.',
    'the tall tower.',
    'a paper boat.',
    'the quiet river.',
  ];
  const out = [];
  for (let i = 0; i < lines; i++) out.push(`${subjects[i % 6]} ${verbs[i % 5]} ${objects[i % 7]}`);
  return out.join('\n') + '\n';
}
const TEXT = text();

// The CPU engine, loaded here in Node, once.
let engine = null;
function loadEngine() {
  engine ??= (async () => {
    const root = process.env.KINDLING_WEB_ROOT ?? REPO;
    const { default: init, Kindling } = await import(pathToFileURL(join(root, 'pkg', 'kindling.js')).href);
    await init({ module_or_path: await readFile(join(root, 'pkg', 'kindling_bg.wasm')) });
    return Kindling;
  })();
  return engine;
}

// What the engine's own validate says of these options: the page must show the same.
async function engineReport(options) {
  const Kindling = await loadEngine();
  return Kindling.validate({ text: TEXT, preset: 'tiny', ...options });
}

const value = (page, id) => page.locator(id).getAttribute('data-value').then(Number);

// The Show tokens view as the reader sees it: each segment's text, its token count (1 unless
// its title says more) and whether it is shaded.
const tokenSegments = (page) =>
  page.evaluate(() =>
    [...document.querySelector('kindling-playground').shadowRoot.querySelectorAll('#token-view > *')].map((span) => ({
      text: span.textContent,
      tok: span.classList.contains('tok'),
      tokens: Number(span.title.match(/^(\d+) tokens$/)?.[1] ?? 1),
      multi: span.classList.contains('multi'),
      shaded: getComputedStyle(span).backgroundImage !== 'none',
    })),
  );

// Opens the view and waits for it to show the current model's cut.
async function showTokens(page) {
  assert.equal(await page.locator('#show-tokens').getAttribute('aria-pressed'), 'false');
  await page.locator('#show-tokens').click();
  assert.equal(await page.locator('#show-tokens').getAttribute('aria-pressed'), 'true');
  await page.locator('#token-view:not([aria-busy]) > .tok').first().waitFor(LONG);
  const summary = await page.locator('#tokens-summary').textContent();
  return { segments: await tokenSegments(page), summary };
}
const validated = (page) => page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);

describe('byte-level BPE in the playground', () => {
  let page;

  before(async () => {
    page = await suite.browser.context.newPage();
    await page.goto(`${suite.server.url}/`);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await page.locator('#pace label').filter({ hasText: 'Instant' }).click();
    await page.locator('#train-for label').filter({ hasText: 'Steps' }).click(); // the Model card's settings, not a budget
  });

  after(() => page.close());

  test('characters are the default: no merges field, one character per token', async () => {
    await page.locator('#text').fill(TEXT);
    await page.locator('#preset').selectOption('tiny');
    await validated(page);
    assert.equal(await page.locator('#f-tokenizer').inputValue(), 'char');
    assert.equal(await page.locator('#f-merges').isHidden(), true);
    assert.equal(await value(page, '#chars-per-token'), 1);
    assert.equal(await page.locator('#chars-per-token').textContent(), '1.00');
    assert.equal(await value(page, '#vocab'), new Set(TEXT).size);
    assert.match(await page.locator('#text-hint').textContent(), /one character at a time/);
    // No model, no tokenizer to show.
    assert.equal(await page.locator('#show-tokens').isDisabled(), true);
    assert.match(await page.locator('#tokens-hint').textContent(), /once a model exists: press Train or open a model/);
    assert.equal(await page.locator('#token-panel').isHidden(), true);
  });

  test('choosing BPE shows its merges, the vocabulary and the compression validate reports', async () => {
    const [expected, byDefault] = await Promise.all([
      engineReport({ tokenizer: 'bpe', merges: MERGES }),
      engineReport({ tokenizer: 'bpe' }),
    ]);
    assert.ok(
      expected.ok && expected.vocabSize > 256 && expected.vocabSize <= 256 + MERGES,
      JSON.stringify(expected.errors),
    );
    // Proof that the page sends its merges rather than the default's.
    assert.notEqual(expected.vocabSize, byDefault.vocabSize);

    await page.locator('#f-tokenizer').selectOption('bpe');
    await page.locator('#f-merges').waitFor({ state: 'visible' });
    assert.equal(await page.locator('label[for=f-merges]').textContent(), 'BPE merges');
    await page.locator('#f-merges').fill(String(MERGES));
    await page.locator('#f-maxSteps').fill(String(STEPS));
    await validated(page);
    assert.equal(await value(page, '#vocab'), expected.vocabSize);
    const charsPerToken = await value(page, '#chars-per-token');
    assert.ok(charsPerToken > 1, `${charsPerToken} characters per token`);
    assert.equal(await page.locator('#chars-per-token').textContent(), expected.charsPerToken.toFixed(2));
    assert.equal(await value(page, '#train-tokens'), expected.trainTokens);
    const hint = await page.locator('#text-hint').textContent();
    assert.doesNotMatch(hint, /one character at a time/);
    assert.match(hint, /byte-level BPE/);
    assert.equal(await page.locator('#train').isEnabled(), true);
  });

  test('a merges count the engine refuses is shown at the field, and no vocabulary is claimed', async () => {
    await page.locator('#f-merges').fill('9000');
    await validated(page);
    assert.match(await page.locator('#err-merges').textContent(), /8192/);
    assert.equal(await page.locator('#vocab').textContent(), '—');
    assert.equal(await page.locator('#chars-per-token').textContent(), '—');
    assert.equal(await page.locator('#train').isDisabled(), true);
    await page.locator('#f-merges').fill(String(MERGES));
    await validated(page);
    assert.equal(await page.locator('#err-merges').textContent(), '');
  });

  test('the Model card with BPE chosen passes the audit', async () => {
    await audit(page, 'bpe-model');
  });

  test('training shows bits per character beside the losses, and bits per byte in a tooltip', async () => {
    await page.locator('#train').click();
    await page.locator('#train-status').filter({ hasText: 'Finished' }).waitFor(LONG);
    assert.equal(await value(page, '#step'), STEPS);
    const valLoss = await value(page, '#val-loss');
    const valBits = await value(page, '#val-bits');
    const trainBits = await value(page, '#train-bits');
    assert.ok(Number.isFinite(valLoss) && valLoss > 0, `val loss ${valLoss}`);
    assert.ok(valBits > 0 && trainBits > 0, `bits/char: train ${trainBits}, val ${valBits}`);
    // A BPE token is more than a character: fewer bits per character than per token.
    assert.ok(valBits < valLoss / Math.LN2, `val ${valBits} bits/char, ${valLoss / Math.LN2} bits/token`);
    const perByte = Number(
      (await page.locator('#val-bits').getAttribute('title')).match(/^([\d.]+) bits per byte$/)[1],
    );
    // Every character is at least one byte.
    assert.ok(perByte > 0 && perByte <= valBits, `${perByte} bits/byte, ${valBits} bits/char`);
  });

  test('Show tokens cuts the start of the training text as the model does, every other segment shaded', async () => {
    const Kindling = await loadEngine();
    // The same text and settings make the same merges: the Node engine's cut is the page's.
    const twin = await Kindling.create({ text: TEXT, preset: 'tiny', tokenizer: 'bpe', merges: MERGES });
    const expected = twin.tokenize(TEXT, 4000);
    twin.free();
    const { segments, summary } = await showTokens(page);
    assert.deepEqual(
      segments.map(({ text, tokens }) => ({ text, tokens })),
      expected.map(({ text, tokens }) => ({ text, tokens })),
    );
    const shown = segments.map((segment) => segment.text).join('');
    assert.equal(shown, [...TEXT].slice(0, 4000).join(''));
    assert.ok(segments.every((segment) => segment.tok && segment.text.length > 0));
    assert.ok(
      segments.some((segment) => [...segment.text].length > 1),
      'no segment of several characters',
    );
    assert.ok(segments.every((segment) => segment.multi === segment.tokens > 1));
    segments.forEach((segment, i) => {
      assert.equal(segment.shaded, i % 2 === 1, `segment ${i} (${JSON.stringify(segment.text)})`);
    });
    const tokens = segments.reduce((sum, segment) => sum + segment.tokens, 0);
    const ratio = (4000 / tokens).toFixed(2);
    assert.equal(
      summary,
      `First 4,000 characters: ${tokens.toLocaleString('en')} tokens (${ratio} characters per token)`,
    );
    await page.setViewportSize({ width: 390, height: 844 });
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      await page.locator('.text-card').screenshot({ path: join(ARTIFACTS, `bpe-tokens-phone-${colorScheme}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.locator('.text-card').screenshot({ path: join(ARTIFACTS, 'bpe-tokens-desktop-light.png') });
  });

  test('the token view passes the audit in both themes', async () => {
    await audit(page, 'bpe-tokens');
  });

  test('generated pieces are whole characters, every other one shaded', async () => {
    await page.locator('#length').fill('300');
    await page.locator('#generate').click();
    // The count is of the model's tokens, as Length is, however they were grouped into pieces.
    await page.locator('#gen-status').filter({ hasText: 'Done: 300 tokens' }).waitFor(LONG);
    const pieces = await page.evaluate(() =>
      [...document.querySelector('kindling-playground').shadowRoot.querySelectorAll('#output > *')].map((span) => ({
        text: span.textContent,
        tok: span.classList.contains('tok'),
        image: getComputedStyle(span).backgroundImage,
      })),
    );
    assert.ok(pieces.length > 10, `${pieces.length} pieces`);
    const all = pieces.map((piece) => piece.text).join('');
    assert.ok(!all.includes('\uFFFD'), `a piece shows half a character: ${JSON.stringify(all)}`);
    assert.ok(pieces.every((piece) => piece.tok && piece.text.length > 0));
    assert.ok(
      pieces.some((piece) => [...piece.text].length > 1),
      'no piece of several characters',
    );
    assert.match(all, /\P{ASCII}/u, "the model wrote none of the text's multi-byte characters");
    pieces.forEach((piece, i) => {
      assert.equal(piece.image !== 'none', i % 2 === 1, `piece ${i} (${JSON.stringify(piece.text)}): ${piece.image}`);
    });
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      await page.locator('#output').screenshot({ path: join(ARTIFACTS, `bpe-output-${colorScheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    // The inspector describes each piece.
    await page.locator('#output').focus();
    await page.keyboard.press('Home');
    assert.match(await page.locator('#token-info').textContent(), /probability \d+(\.\d)?%/);
  });

  test('the generated pieces pass the audit in both themes', async () => {
    await audit(page, 'bpe-generated');
  });

  test('a BPE model saved and opened again brings its tokenizer back to the form', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    const path = join(ARTIFACTS, 'bpe-model.kindling');
    await download.saveAs(path);
    await page.locator('#reset').click();
    await page.locator('#train').filter({ hasText: 'Train' }).waitFor(LONG);
    await page.locator('#preset').selectOption('tiny'); // back to characters
    await validated(page);
    assert.equal(await page.locator('#f-tokenizer').inputValue(), 'char');
    await page.locator('#model-file').setInputFiles(path);
    await page
      .locator('#train-status')
      .filter({ hasText: `Opened a model at step ${STEPS}` })
      .waitFor(LONG);
    await validated(page);
    assert.equal(await page.locator('#f-tokenizer').inputValue(), 'bpe');
    assert.equal(await page.locator('#f-merges').inputValue(), String(MERGES));
    assert.equal(await page.locator('#f-merges').isVisible(), true);
    assert.ok((await value(page, '#chars-per-token')) > 1);
    // The checkpoint keeps the losses, not the bits: those wait for more training.
    assert.equal(await page.locator('#val-bits').textContent(), '—');
    assert.ok((await value(page, '#val-loss')) > 0);
  });

  test('few merges leave characters of several tokens, marked; a character model shows one per token', async () => {
    const retrain = async (fill) => {
      await page.locator('#reset').click();
      await page.locator('#train').filter({ hasText: 'Train' }).waitFor(LONG);
      assert.equal(await page.locator('#show-tokens').isDisabled(), true);
      assert.equal(await page.locator('#token-panel').isHidden(), true);
      await fill();
      await page.locator('#f-maxSteps').fill('20');
      await validated(page);
      await page.locator('#train').click();
      await page.locator('#train-status').filter({ hasText: 'Finished' }).waitFor(LONG);
    };
    // 10 merges go to the commonest byte pairs, none of them 日's, ⚽'s or 🎩's.
    await retrain(() => page.locator('#f-merges').fill('10'));
    const few = await showTokens(page);
    const multi = few.segments.filter((segment) => segment.tokens > 1);
    assert.ok(multi.length > 0 && multi.every((segment) => segment.multi), 'no segment marked as several tokens');
    assert.ok(
      multi.some((segment) => segment.text.includes('日')),
      JSON.stringify(multi.slice(0, 5)),
    );
    assert.equal(few.segments.map((segment) => segment.text).join(''), [...TEXT].slice(0, 4000).join(''));
    await page.locator('#token-view .multi').first().scrollIntoViewIfNeeded();
    await page.locator('#token-panel').screenshot({ path: join(ARTIFACTS, 'bpe-tokens-few-merges.png') });

    await retrain(() => page.locator('#preset').selectOption('tiny'));
    assert.equal(await page.locator('#f-tokenizer').inputValue(), 'char');
    const { segments, summary } = await showTokens(page);
    assert.equal(segments.length, 4000);
    segments.forEach((segment, i) => assert.equal(segment.shaded, i % 2 === 1, `segment ${i}`));
    assert.ok(segments.every((segment) => [...segment.text].length === 1 && segment.tokens === 1 && !segment.multi));
    assert.equal(segments.map((segment) => segment.text).join(''), [...TEXT].slice(0, 4000).join(''));
    assert.equal(summary, 'First 4,000 characters: 4,000 tokens (1.00 characters per token)');
    await page.locator('#reset').click();
    await page.locator('#train').filter({ hasText: 'Train' }).waitFor(LONG);
    assert.equal(await page.locator('#token-panel').isHidden(), true);
    assert.equal(await page.locator('#show-tokens').getAttribute('aria-pressed'), 'false');
  });
});

// Not the CSP: axe.run itself applies an inline style, which the strict policy refuses.
test('the BPE views raised no page errors', () => {
  assert.deepEqual(
    suite.browser.problems.filter((text) => /page error/i.test(text)),
    [],
  );
});

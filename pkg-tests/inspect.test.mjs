// The Inspect card (www/playground/inspect-view.js and inspect/) in Chromium, under the strict
// CSP: a tiny GPT trained for a few hundred steps shows each of its views with the right number
// of cells, and says what a cell holds on hover and from the keyboard; the sampling bars follow
// the Generate card's settings; a small LSTM colours the text by a unit and finds the units that
// track features of the text; mode="inspect" embeds a view in a post. The strict policy is never
// violated; each view passes an axe audit (light and dark, desktop and phone) and is
// photographed in test-artifacts/inspect-*.png.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, animationFrames, browserSuite, foreignRequests, recordCspViolations } from './browser.mjs';
import { audit } from './audit.mjs';
import { corpus } from './corpus.mjs';
import { CSP } from '../scripts/server.mjs';

const LONG = { timeout: 120_000 };
const suite = browserSuite({ init: recordCspViolations });

const validated = (page) => page.locator('kindling-playground:not([data-validation=pending])').waitFor(LONG);
// The models here are the Model card's settings: Train for "Steps", not the page's budget.
const steps = (page) => page.locator('#train-for label').filter({ hasText: 'Steps' }).click();
const readout = (page) => page.locator('#inspect-panel .readout').first();
// The values of the cells a locator matches, as their data-value or fill-opacity say.
const values = (locator, attribute = 'data-value') =>
  locator.evaluateAll((nodes, name) => nodes.map((node) => Number(node.getAttribute(name))), attribute);

// Trains the page's model from `text` with `fields` (the Model card's, by config name).
async function trainModel(page, text, fields) {
  await page.locator('#text').fill(text);
  for (const [name, value] of Object.entries(fields)) {
    if (name === 'model') await page.locator('#f-model').selectOption(value);
    else await page.locator(`#f-${name}`).fill(String(value));
  }
  await validated(page);
  await page.locator('#train').click();
  await page.locator('kindling-playground[data-phase=finished]').waitFor(LONG);
}

async function inspect(page) {
  const status = page.locator('#inspect-status');
  await page.evaluate(() => {
    document.querySelector('kindling-playground').shadowRoot.getElementById('inspect-status').textContent = '';
  });
  await page.locator('#inspect').click();
  await status.filter({ hasText: /^Inspected/ }).waitFor(LONG);
  return status.textContent();
}

// The strict policy holds until now; then the axe audit (which itself applies an inline style
// the policy refuses, so the violations it causes are forgotten).
async function checkedAudit(page, name) {
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  await audit(page, name);
  await page.evaluate(() => {
    window.cspViolations = [];
  });
}

// The card alone at desktop width, at phone width, and in the dark theme.
async function photograph(page, name) {
  const card = page.locator('.inspect-card');
  await card.screenshot({ path: join(ARTIFACTS, `inspect-${name}-desktop.png`) });
  await page.setViewportSize({ width: 360, height: 780 });
  await animationFrames(page); // what the new size sets off has run
  await card.screenshot({ path: join(ARTIFACTS, `inspect-${name}-phone.png`) });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  assert.ok(overflow <= 0, `the ${name} view makes the page ${overflow}px wider than a phone`);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await card.screenshot({ path: join(ARTIFACTS, `inspect-${name}-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

// A tab shows its view, and sets the element's view attribute.
async function showView(page, view) {
  await page.locator(`#tab-${view}`).click();
  assert.equal(await page.locator(`#tab-${view}`).getAttribute('aria-selected'), 'true');
  assert.equal(await page.locator('#inspect-panel').getAttribute('data-view'), view);
  assert.equal(await page.locator('kindling-playground').getAttribute('view'), view);
}

const focusedId = (page) => page.evaluate(() => document.activeElement.shadowRoot.activeElement.id);

describe('a tiny GPT, trained a few hundred steps', () => {
  let page;
  let T; // positions inspected
  let vocab;

  before(async () => {
    page = await suite.browser.context.newPage();
    await page.goto(`${suite.server.url}/`);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await steps(page);
    await page.locator('#preset').selectOption('tiny');
    await trainModel(page, corpus(), { maxSteps: 300 });
    vocab = Number(await page.locator('#vocab').getAttribute('data-value'));
    await page.locator('#prompt').fill('the ');
    await page.locator('#length').fill('60');
    await page.locator('#generate').click();
    await page.locator('#gen-status').filter({ hasText: 'Done' }).waitFor(LONG);
  });

  after(() => page.close());

  test('Inspect runs the model over the text just generated: its last 32 characters, the context', async () => {
    // The prompt as it was when the text was generated, not as it is now.
    await page.locator('#prompt').fill('an edited prompt ');
    const status = await inspect(page);
    const generated = 'the ' + (await page.locator('#output').textContent());
    assert.equal(await page.locator('#inspect-text').inputValue(), generated);
    assert.equal(await page.locator('#inspect-text').getAttribute('readonly'), '');
    T = await page.locator('#inspect-panel .strip .heat').count();
    assert.equal(T, 32, 'tiny reads 32 characters at a time');
    assert.match(
      status,
      new RegExp(`^Inspected 32 characters\\. The ${generated.length - 32} before them were left out`),
    );
    // A GPT: attention and the lens, no neurons, and a line saying why.
    const tabs = await page.locator('[role=tab]:visible').allTextContents();
    assert.deepEqual(tabs, ['Attention', 'Logit lens', 'Embeddings', 'Sampling']);
    assert.match(await page.locator('#inspect-note').textContent(), /no neurons to follow/);
  });

  test('attention: one head is T × T cells whose rows sum to 1; hover and the arrow keys read them', async () => {
    await showView(page, 'attention');
    const cells = page.locator('#inspect-panel .heatmap rect.cell');
    assert.equal(await cells.count(), T * T);
    // The heat is the square root of the share; unmasked cells are k <= q.
    const shares = (await values(cells, 'fill-opacity')).map((v) => v * v);
    for (let q = 0; q < T; q++) {
      const row = shares.slice(q * T, q * T + q + 1).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(row - 1) < 0.03, `row ${q} sums to ${row}`);
    }
    assert.equal(await page.locator('#inspect-panel .heatmap rect.cell.masked').count(), (T * (T - 1)) / 2);
    // Focus first: focusing may scroll the page, which would slide another cell under a
    // pointer placed before it.
    await page.locator('#inspect-panel .cells').focus();
    await cells.nth(5 * T + 2).hover();
    assert.match(
      await readout(page).textContent(),
      /^“.+” \(position 6\) gives \d+(\.\d)?% of its attention to “.+” \(position 3\)\.$/,
    );
    assert.equal(
      await readout(page).getAttribute('aria-live'),
      'off',
      'hovering shows the readout without reading it out',
    );
    await page.keyboard.press('ArrowDown');
    assert.match(await readout(page).textContent(), /\(position 7\) gives .* \(position 3\)/);
    assert.equal(await readout(page).getAttribute('aria-live'), 'polite', 'the keyboard has it read out');
    await page.locator('#inspect-panel .strip').focus();
    await page.keyboard.press('End');
    assert.match(await readout(page).textContent(), /\(position 32\) looks most at .*\d%/);
    await photograph(page, 'attention');
    await checkedAudit(page, 'inspect-attention');
  });

  test('attention: all heads of a layer as small multiples', async () => {
    await page.locator('#attention-layer').selectOption('1');
    await page.locator('#attention-head').selectOption('all');
    const tiles = page.locator('#inspect-panel .tile');
    assert.equal(await tiles.count(), 2, "tiny's two heads");
    for (let i = 0; i < 2; i++) assert.equal(await tiles.nth(i).locator('rect.cell').count(), T * T);
    await tiles
      .nth(1)
      .locator('rect.cell')
      .nth(3 * T + 1)
      .hover();
    assert.match(await readout(page).textContent(), /^Layer 2, head 2: .*\(position 4\) gives \d/);
    await photograph(page, 'attention-heads');
    await tiles.nth(0).click(); // back to one head, large
    assert.equal(await page.locator('#attention-head').inputValue(), '0');
    assert.equal(await page.locator('#inspect-panel .heatmap rect.cell').count(), T * T);
  });

  test('logit lens: layers × positions, each its best guess coloured by its probability', async () => {
    await showView(page, 'lens');
    const cells = page.locator('#inspect-panel .lens rect.cell');
    assert.equal(await cells.count(), 2 * T, 'two layers');
    assert.equal(await page.locator('#inspect-panel .lens text.guess').count(), 2 * T);
    const probs = await values(cells, 'fill-opacity');
    assert.ok(
      probs.every((p) => p > 0 && p <= 1),
      'every best guess has a probability',
    );
    await cells.nth(T + 4).hover();
    assert.match(
      await readout(page).textContent(),
      /^After the last layer \(the model's prediction\), at “.+” \(position 5\): (“.+” \d+(\.\d)?%, ){4}“.+” \d+(\.\d)?%\. The text goes on with “.+”\.$/,
    );
    await page.locator('#inspect-panel .cells').focus();
    await page.keyboard.press('ArrowUp');
    assert.match(await readout(page).textContent(), /^After layer 1 of 2, at .*\(position 5\)/);
    // A guess is marked right exactly where it is the text's next token (the axis above the
    // grid), in every layer; trained, the last layer gets most of this repetitive text right.
    const { marked, right } = await page.locator('#inspect-panel .lens').evaluate((lens) => {
      const tokens = [...lens.querySelectorAll('text.axis')].slice(0, -2).map((t) => t.textContent);
      const guesses = [...lens.querySelectorAll('text.guess')];
      return {
        marked: guesses.map((g) => g.classList.contains('hit')),
        right: guesses.map((g, i) => g.textContent === tokens[(i % tokens.length) + 1]),
      };
    });
    assert.equal(marked.length, 2 * T);
    assert.deepEqual(marked, right);
    const lastLayerHits = marked.slice(T).filter(Boolean).length;
    assert.ok(lastLayerHits > T / 2, `${lastLayerHits} of the last layer's ${T} guesses are the next character`);
    await photograph(page, 'lens');
    await checkedAudit(page, 'inspect-lens');
  });

  test('embeddings: every character of the vocabulary on the projection', async () => {
    await showView(page, 'embeddings');
    const points = page.locator('#inspect-panel text.point');
    assert.equal(await points.count(), vocab);
    const vowels = [...new Set(corpus())].filter((char) => 'aeiou'.includes(char)).length;
    assert.equal(await page.locator('#inspect-panel text.point.vowel').count(), vowels, 'the vowels are coloured');
    await points.nth(3).hover();
    assert.match(
      await readout(page).textContent(),
      /^“.+” \(.+\) at \(-?\d+\.\d\d, -?\d+\.\d\d\)\. Nearest here: “.+”, “.+”, “.+”\.$/,
    );
    assert.match(
      await page.locator('#inspect-panel .hint').first().textContent(),
      /direction 1 \(\d+% of the variance\)/,
    );
    await photograph(page, 'embeddings');
    await checkedAudit(page, 'inspect-embeddings');
  });

  test('sampling: bars before and after the settings, following the Generate card as it changes', async () => {
    await showView(page, 'sampling');
    const before = page.locator('#inspect-panel td.before');
    const after = page.locator('#inspect-panel td.after');
    const shown = Math.min(20, vocab);
    await page
      .locator('#inspect-panel .readout')
      .filter({ hasText: /tokens can be drawn/ })
      .waitFor(LONG);
    assert.equal(await before.count(), shown);
    const beforeValues = await values(before);
    assert.deepEqual(
      beforeValues,
      [...beforeValues].sort((a, b) => b - a),
      'most likely first',
    );
    // The line under the bars names the settings they show once they are drawn.
    const drawnAt = async (temperature, topK, topP) => {
      const line = `At temperature ${temperature}, top-k ${topK || 'off'}, top-p ${topP}:`;
      await page.locator('#inspect-panel .readout').filter({ hasText: line }).waitFor(LONG);
      return values(after);
    };
    await drawnAt(0.8, 20, 0.95);
    // Top-k 1: all the mass on the most likely character.
    await page.locator('#top-k').fill('1');
    assert.deepEqual(await drawnAt(0.8, 1, 0.95), [1, ...Array(shown - 1).fill(0)]);
    assert.equal(await page.locator('#slide-top-k').inputValue(), '1', 'the slider follows the Generate card');
    // No cut-off, temperature 1: after is before.
    await page.locator('#top-k').fill('0');
    await page.locator('#top-p').fill('1');
    await page.locator('#slide-temperature').fill('1');
    assert.equal(await page.locator('#temperature').inputValue(), '1', 'the Generate card follows the slider');
    const same = await drawnAt(1, 0, 1);
    same.forEach((value, i) => assert.ok(Math.abs(value - beforeValues[i]) < 1e-6, `${value} vs ${beforeValues[i]}`));
    // Hotter flattens the distribution: the favourite loses, and its lead on the others shrinks.
    await page.locator('#slide-temperature').fill('2');
    const hot = await drawnAt(2, 0, 1);
    const last = shown - 1;
    assert.ok(hot[0] < same[0] && hot[0] / hot[last] < same[0] / same[last], `${same[0]} → ${hot[0]}`);
    await page.locator('#temperature').fill('0.8');
    await page.locator('#top-k').fill('20');
    await page.locator('#top-p').fill('0.95');
    await drawnAt(0.8, 20, 0.95);
    await photograph(page, 'sampling');
    await checkedAudit(page, 'inspect-sampling');
  });

  test('typed text: the reader edits it and inspects again', async () => {
    await page.locator('#inspect-source input[value=typed]').check();
    await page.locator('#inspect-text').fill('a dog likes the tree.');
    const status = await inspect(page);
    assert.equal(status, 'Inspected 21 characters.');
    await showView(page, 'attention');
    assert.equal(await page.locator('#inspect-panel .heatmap rect.cell').count(), 21 * 21);
    await page.locator('#inspect-text').fill('');
    await page.locator('#inspect').click();
    assert.match(await page.locator('#inspect-error').textContent(), /no text to inspect/);
    // Another model (here none): what was said of this one goes.
    await page.locator('#reset').click();
    await page.locator('#inspect-error').waitFor({ state: 'hidden', ...LONG });
    assert.equal(await page.locator('#inspect-status').textContent(), '');
    assert.match(await page.locator('#inspect-panel').textContent(), /^Train a model or open one/);
  });
});

describe('a small LSTM: its neurons', () => {
  let page;
  // Quotes, brackets and line breaks for the features to find.
  const text = corpus()
    .split('\n')
    .map((line, i) => [line.replace(/ (\S+ \S+)$/, ' "$1"'), line.replace(/ (\S+ \S+)$/, ' ($1)'), line][i % 3])
    .join('\n');
  const looked = 'the cat sees "a red hat."\nmy friend (likes the tree.)\n';

  before(async () => {
    page = await suite.browser.context.newPage();
    await page.goto(`${suite.server.url}/`);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    if (await page.locator('#resume-offer').isVisible()) await page.locator('#discard').click();
    await steps(page);
    await trainModel(page, text, {
      model: 'lstm',
      nLayer: 1,
      hiddenSize: 32,
      nEmbd: 16,
      blockSize: 32,
      batchSize: 8,
      maxSteps: 150,
    });
  });

  after(() => page.close());

  test('the text coloured by one unit, read with the mouse and the keyboard', async () => {
    await page.locator('#inspect-source input[value=typed]').check();
    await page.locator('#inspect-text').fill(looked);
    assert.equal(await inspect(page), `Inspected ${looked.length} characters.`);
    const tabs = await page.locator('[role=tab]:visible').allTextContents();
    assert.deepEqual(tabs, ['Neurons', 'Embeddings', 'Sampling']);
    assert.match(await page.locator('#inspect-note').textContent(), /no attention/);
    assert.equal(await page.locator('#inspect-panel').getAttribute('data-view'), 'neurons', 'a view it has');
    const spans = page.locator('#inspect-panel .neuron-text .heat');
    assert.equal(await spans.count(), looked.length);
    const heat = () => spans.evaluateAll((nodes) => nodes.map((node) => node.style.getPropertyValue('--v')).join());
    const unit1 = await heat();
    await page.locator('#neuron-unit').fill('2');
    assert.notEqual(await heat(), unit1, 'another unit, other colours');
    await spans.nth(4).hover();
    assert.match(
      await readout(page).textContent(),
      /^“c” \(position 5\): the hidden state of layer 1, unit 2 is [+−]\d\.\d\d\.$/,
    );
    await page.locator('#inspect-panel .neuron-text').focus();
    await page.keyboard.press('ArrowRight');
    assert.match(await readout(page).textContent(), /^“a” \(position 6\)/);
    await page.locator('#neuron-state').selectOption('cell');
    assert.match(
      await page.locator('#inspect-panel .neuron-text').getAttribute('aria-label'),
      /cell state of layer 1, unit 2/,
    );

    // The gates: a sigmoid's colour is its value, from 0 to 1; the candidate's from −1 to 1.
    const states = await page.locator('#neuron-state option').evaluateAll((nodes) => nodes.map((node) => node.value));
    assert.deepEqual(states, ['hidden', 'cell', 'input', 'forget', 'output', 'candidate']);
    const cellHeat = await heat();
    await page.locator('#neuron-state').selectOption('forget');
    assert.notEqual(await heat(), cellHeat, 'the forget gate colours the text');
    assert.match(
      await page.locator('#inspect-panel .neuron-text').getAttribute('aria-label'),
      /forget gate of layer 1, unit 2/,
    );
    assert.match(await page.locator('#inspect-panel .neuron-text + .readout + .hint').textContent(), /from 0 .* to 1/);
    await spans.nth(2).hover();
    const open = (await readout(page).textContent()).match(
      /^“e” \(position 3\): the forget gate of layer 1, unit 2 is (\d\.\d\d)\.$/,
    );
    assert.ok(open, await readout(page).textContent());
    const forget = Number(open[1]);
    assert.ok(forget >= 0 && forget <= 1, `forget gate ${forget}`);
    const shade = Number(await spans.nth(2).evaluate((node) => node.style.getPropertyValue('--v')));
    assert.ok(Math.abs(shade - forget) <= 0.006, `coloured ${shade} for ${forget}`);
    await photograph(page, 'neurons-forget');
    await page.locator('#neuron-state').selectOption('candidate');
    await spans.nth(5).hover();
    const candidate = (await readout(page).textContent()).match(
      /^“a” \(position 6\): the candidate gate of layer 1, unit 2 is ([+−]\d\.\d\d)\.$/,
    );
    assert.ok(candidate, await readout(page).textContent());
    const value = Number(candidate[1].replace('−', '-'));
    assert.ok(value >= -1 && value <= 1, `candidate ${value}`);

    // The arrow keys go through the tabs shown (the view chosen by default, attention, is not).
    await page.locator('#tab-neurons').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-embeddings').getAttribute('aria-selected'), 'true');
    assert.equal(await focusedId(page), 'tab-embeddings');
    assert.equal(await page.locator('kindling-playground').getAttribute('view'), 'embeddings');
    await page.keyboard.press('End');
    assert.equal(await focusedId(page), 'tab-sampling');
    await page.keyboard.press('ArrowRight');
    assert.equal(await focusedId(page), 'tab-neurons', 'round to the first');
    assert.equal(await page.locator('#inspect-panel').getAttribute('data-view'), 'neurons');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await focusedId(page), 'tab-sampling');
    await page.keyboard.press('Home');
    assert.equal(await focusedId(page), 'tab-neurons');
  });

  test('find a neuron: the units that track each feature, with r', async () => {
    await page.locator('#find-neuron').click();
    const features = page.locator('#inspect-panel .found li');
    assert.equal(await features.count(), 4);
    for (const id of ['quoted', 'column', 'newline']) {
      const units = page.locator(`#inspect-panel .found li[data-feature=${id}] button.unit`);
      assert.equal(await units.count(), 3, id);
      const rs = await values(units, 'data-r');
      assert.ok(
        rs.every((r) => r >= -1 && r <= 1 && r !== 0),
        `${id}: ${rs}`,
      );
      assert.ok(Math.abs(rs[0]) >= Math.abs(rs[2]), 'best first');
      assert.match(await units.first().textContent(), /^Layer 1, unit \d+: r = [+−]\d\.\d\d$/);
    }
    assert.match(
      await page.locator('#inspect-panel .found li[data-feature=cjk]').textContent(),
      /needs both CJK characters and Latin letters/,
    );
    const best = page.locator('#inspect-panel .found li[data-feature=quoted] button.unit').first();
    const unit = (await best.textContent()).match(/unit (\d+)/)[1];
    await best.click();
    assert.equal(await page.locator('#neuron-unit').inputValue(), unit);
    assert.equal(await page.locator('#neuron-state').inputValue(), 'hidden');
    assert.match(
      await readout(page).textContent(),
      new RegExp(`^Showing layer 1, unit ${unit}: its hidden state has r = `),
    );
    await photograph(page, 'neurons');
    await checkedAudit(page, 'inspect-neurons');
  });

  test('a long text is looked at by its last 1,000 characters', async () => {
    await page.locator('#inspect-text').fill(looked.repeat(25));
    const status = await inspect(page);
    assert.equal(
      status,
      `Inspected 1,000 characters. The ${looked.length * 25 - 1000} before them were left out: the Inspect card looks at 1,000 at most.`,
    );
    assert.equal(await page.locator('#inspect-panel .neuron-text .heat').count(), 1000);
  });
});

describe('mode="inspect" in a post, under the strict CSP', () => {
  let page;

  before(async () => {
    page = await suite.browser.context.newPage();
    // A post of its own, served with the strict policy.
    const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>inspect embed</title>
      <script type="module" src="/www/kindling-embed.js"></script>
      <main><h1>What a model looks at</h1><p>Its guesses, shown beside the paragraph.</p>
      <kindling-playground id="lens" mode="inspect" model-src="/www/models/demo.kindling" view="lens"
        text="The fox follows the cat at dawn."></kindling-playground></main></html>`;
    await page.route(`${suite.server.url}/inspect-post.html`, (route) =>
      route.fulfill({
        status: 200,
        headers: { 'Content-Security-Policy': CSP },
        contentType: 'text/html; charset=utf-8',
        body: html,
      }),
    );
    await page.goto(`${suite.server.url}/inspect-post.html`);
  });

  after(() => page.close());

  test('it loads its model once in view and shows the chosen view of its text, alone', async () => {
    await page
      .locator('#inspect-status')
      .filter({ hasText: /^Inspected/ })
      .waitFor(LONG);
    assert.equal(await page.locator('#inspect-text').inputValue(), 'The fox follows the cat at dawn.');
    assert.equal(await page.locator('#inspect-panel').getAttribute('data-view'), 'lens');
    // demo.kindling: a 2-layer GPT.
    assert.equal(await page.locator('#inspect-panel .lens rect.cell').count(), 2 * 32);
    for (const card of ['.text-card', '.train-card', '.gen-card', '#inspect-source']) {
      assert.equal(await page.locator(card).isHidden(), true, `${card} is hidden`);
    }
    assert.equal(await page.locator('.inspect-card').isVisible(), true);
    await page.locator('kindling-playground').screenshot({ path: join(ARTIFACTS, 'inspect-embed-desktop.png') });
  });

  test('the view attribute switches the view; the reader edits the text and inspects again', async () => {
    await page.locator('kindling-playground').evaluate((element) => {
      element.view = 'attention';
    });
    assert.equal(await page.locator('#inspect-panel .heatmap rect.cell').count(), 32 * 32);
    await page.locator('#inspect-text').fill('A small robot builds a kite.');
    await page.locator('#inspect').click();
    await page
      .locator('#inspect-panel .heatmap rect.cell')
      .nth(28 * 28 - 1)
      .waitFor(LONG);
    assert.equal(await page.locator('#inspect-panel .heatmap rect.cell').count(), 28 * 28);
    await page.locator('#tab-attention').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-lens').getAttribute('aria-selected'), 'true');
    assert.equal(await focusedId(page), 'tab-lens');
    assert.equal(
      await page.locator('kindling-playground').getAttribute('view'),
      'lens',
      'the tabs set the view attribute',
    );
    await page.setViewportSize({ width: 360, height: 780 });
    await page.locator('kindling-playground').screenshot({ path: join(ARTIFACTS, 'inspect-embed-phone.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    await checkedAudit(page, 'inspect-embed');
  });
});

test("the example post's inspect embed waits to be scrolled to, then shows the demo model's attention", async () => {
  const page = await suite.browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 600 });
  await page.goto(`${suite.server.url}/www/embed-example.html`);
  const embed = page.locator('#demo-inspect');
  await embed.locator('#engine-status').filter({ hasText: 'scrolls into view' }).waitFor(LONG);
  assert.equal(await embed.locator('#inspect').isDisabled(), true);
  await embed.scrollIntoViewIfNeeded();
  await embed.locator('#inspect-status').filter({ hasText: 'Inspected 32 characters.' }).waitFor(LONG);
  assert.equal(await embed.locator('#inspect-panel .heatmap rect.cell').count(), 32 * 32);
  await embed.locator('#inspect-panel .strip .heat').nth(8).hover();
  assert.match(await embed.locator('#inspect-panel .readout').textContent(), /^“f” \(position 9\) looks most at /);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  await embed.screenshot({ path: join(ARTIFACTS, 'inspect-embed-example.png') });
  await page.close();
});

// The policy's own refusals were checked before each audit (whose inline style it refuses).
test('nothing left the origin, and no page errors', () => {
  assert.deepEqual(foreignRequests(suite.browser.requests, suite.server.url), []);
  const problems = suite.browser.problems.filter((text) => !/Applying inline style violates/.test(text));
  assert.deepEqual(problems, []);
});

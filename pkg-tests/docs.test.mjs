// The docs against the built pkg/ in Chromium: the README's JS example and the examples of
// docs/js-api.md and docs/embedding.md run to the end as modules of a page under the strict
// CSP; every option the two option tables of docs/js-api.md list is accepted, with the default
// the table gives; and the errors are what its error contract says. The README's speed figures
// are checked against the latest speedrun (bench/results/speedrun.json), without a browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, openPackagePage, foreignRequests } from './browser.mjs';
import { corpus } from './corpus.mjs';
import { CSP } from '../scripts/server.mjs';

const TEXT = corpus();
const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const JS_API = readFileSync(join(REPO, 'docs', 'js-api.md'), 'utf8');
const EMBEDDING = readFileSync(join(REPO, 'docs', 'embedding.md'), 'utf8');
const SPEEDRUN = JSON.parse(readFileSync(join(REPO, 'bench', 'results', 'speedrun.json'), 'utf8'));

// The fenced ```js blocks of a Markdown text, in order.
function jsBlocks(markdown) {
  return [...markdown.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
}

// The rows of the table between <!-- name:begin --> and <!-- name:end -->: the first column's
// `option` and the second column's `default` (a JS literal), parsed.
function optionTable(markdown, name) {
  const begin = markdown.indexOf(`<!-- ${name}:begin -->`);
  const end = markdown.indexOf(`<!-- ${name}:end -->`);
  assert.ok(begin >= 0 && end > begin, `docs/js-api.md has no ${name} table`);
  const rows = [];
  for (const line of markdown.slice(begin, end).split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const option = cells[1]?.match(/^`(\w+)`$/)?.[1];
    const literal = cells[2]?.match(/^`(.*)`$/)?.[1];
    if (!option) continue;
    assert.ok(literal !== undefined, `${name}: ${option} has no default in backticks`);
    rows.push({ option, value: JSON.parse(literal.replace(/'/g, '"')) });
  }
  assert.ok(rows.length > 0, `the ${name} table is empty`);
  return rows;
}

let server;
let browser;
let page; // pkg-tests/pkg-page.html: the package loaded through www/kindling.js

before(async () => {
  ({ server, browser, page } = await openPackagePage());
});

after(async () => {
  await browser?.close();
  server?.close();
});

// Runs `code` as the module script of a page at the site's root (so './pkg/kindling.js' is the
// built package) under the strict CSP, after `preamble` and below `body` (HTML). Resolves to
// what it logged; `until` (run in the page) is waited for after the module ended.
async function runModule(code, { preamble = '', body = '', until = null } = {}) {
  const tab = await browser.context.newPage();
  const logs = [];
  const errors = [];
  tab.on('console', (message) => {
    if (message.type() === 'log') logs.push(message.text());
  });
  tab.on('pageerror', (error) => errors.push(error.message));
  const id = Math.random().toString(36).slice(2);
  const html = `<!doctype html><meta charset="utf-8"><title>docs example</title>${body}<script type="module" src="/docs-example-${id}.js"></script>`;
  const module = `${preamble}\n${code}\ndocument.title = 'done';\n`;
  await tab.route(`${server.url}/docs-example-${id}.*`, (route) => {
    const isPage = route.request().url().endsWith('.html');
    route.fulfill({
      status: 200,
      headers: isPage ? { 'Content-Security-Policy': CSP } : {},
      contentType: isPage ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8',
      body: isPage ? html : module,
    });
  });
  try {
    await tab.goto(`${server.url}/docs-example-${id}.html`);
    await tab
      .waitForFunction(() => document.title === 'done', null, { timeout: 120_000 })
      .catch((error) => {
        throw new Error(`the example did not finish: ${errors.join(' / ') || error.message}`);
      });
    if (until) await tab.waitForFunction(until, null, { timeout: 120_000 });
    assert.deepEqual(errors, []);
    return logs;
  } finally {
    await tab.close();
  }
}

test("the README's speed figures are the latest speedrun's, and it says who is ahead as that run does", () => {
  const section = README.slice(README.indexOf('## Speed'), README.indexOf('\n## ', README.indexOf('## Speed') + 1));
  /** @param {string} who @param {number} seconds */
  const loss = (who, seconds) => {
    const leg = SPEEDRUN.legs.find((l) => l.who.startsWith(who) && l.seconds === seconds);
    assert.ok(leg?.valLoss, `speedrun.json has no ${who} leg of ${seconds} s`);
    return leg.valLoss;
  };
  const figures = {
    kindling60: loss('Kindling in Chromium', 60),
    pytorch60: loss('PyTorch 2 threads', 60),
    pytorch300: loss('PyTorch 2 threads', 300),
    kindling300: loss('Kindling in Chromium', 300),
  };
  // The order the Speed section gives them in: Kindling and PyTorch at one minute, then at five.
  const said = [...section.matchAll(/\b\d\.\d\d\b/g)].map((match) => match[0]);
  const { kindling60, pytorch60, pytorch300, kindling300 } = figures;
  const fiveMinutes = pytorch300 < kindling300 ? [pytorch300, kindling300] : [kindling300, pytorch300];
  assert.deepEqual(
    said,
    [kindling60, pytorch60, ...fiveMinutes].map((value) => value.toFixed(2)),
  );
  assert.equal(
    /at five minutes PyTorch is ahead/.test(section),
    pytorch300 < kindling300,
    `who is ahead at five minutes: ${JSON.stringify(figures)}`,
  );
});

test("the README's JS example trains (its loss falls) and generates text", async () => {
  const blocks = jsBlocks(README);
  assert.equal(blocks.length, 1, 'the README has one ```js block');
  const logs = await runModule(blocks[0]);
  assert.equal(logs.length, 2, `it logged: ${JSON.stringify(logs)}`);
  const [, first, last] = logs[0].match(/^loss ([\d.]+) -> ([\d.]+)$/) ?? [];
  assert.ok(first && last, `the first line is not "loss A -> B": ${logs[0]}`);
  assert.ok(Number(last) < Number(first) * 0.8, `loss ${first} -> ${last}`);
  assert.ok(logs[1].startsWith('the ') && logs[1].length > 'the '.length + 10, `generated: ${logs[1]}`);
});

test("docs/js-api.md's examples run to the end", async () => {
  const blocks = jsBlocks(JS_API);
  assert.ok(blocks.length >= 3, 'the synopsis, the helper workers and the errors');
  // The synopsis, with a text of its own.
  await runModule(blocks[0], { preamble: `const text = ${JSON.stringify(TEXT)};` });
  // Helper workers, around a model of its own.
  const helpers = blocks.find((block) => block.includes('HelperWorkers'));
  await runModule(helpers, {
    preamble: [
      "import init, { Kindling } from './pkg/kindling.js';",
      'await init();',
      `const k = await Kindling.create({ text: ${JSON.stringify(TEXT)}, backend: 'cpu' });`,
    ].join('\n'),
  });
  // The error handling: a field error reaches showNextTo, anything else is thrown on.
  const errors = blocks.find((block) => block.includes("kind === 'config'"));
  const logs = await runModule(errors, {
    preamble: [
      "import init, { Kindling } from './pkg/kindling.js';",
      'await init();',
      `const text = ${JSON.stringify(TEXT)};`,
      'const showNextTo = (field, message) => console.log(field);',
    ].join('\n'),
  });
  assert.ok(logs.includes('nLayer'), `showNextTo got ${JSON.stringify(logs)}`);
  // Training budgets: the shapes measured here, the plan's sentence, a model made from it.
  const budget = blocks.find((block) => block.includes('planBudget'));
  const said = await runModule(`${budget}\nconsole.log(k.config.maxSteps, k.config.keepBest);`, {
    preamble: [
      "import init, { Kindling } from './pkg/kindling.js';",
      'await init();',
      `const text = ${JSON.stringify(TEXT)};`,
    ].join('\n'),
  });
  assert.match(
    said[0],
    /^GPT of \d layers? × \d+, context \d+: about [\d,]+ steps (fit in 1 minute here|\(about \d+ seconds here\); more would only learn this text by heart)\.$/,
  );
  const [maxSteps, keepBest] = said[1].split(' ');
  assert.ok(Number(maxSteps) > 0 && keepBest === 'true', said[1]);
});

test("docs/embedding.md's script drives an element: metrics in the caption, then generated tokens", async () => {
  const blocks = jsBlocks(EMBEDDING);
  assert.equal(blocks.length, 1, 'docs/embedding.md has one ```js block');
  const escaped = TEXT.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  await runModule(blocks[0], {
    body: [
      '<script type="module" src="/www/kindling-embed.js"></script>',
      '<p id="caption"></p>',
      `<kindling-playground mode="train" steps="30"><template>${escaped}</template></kindling-playground>`,
    ].join(''),
    preamble: "document.addEventListener('kindling-token', () => { window.tokens = (window.tokens ?? 0) + 1; });",
    until: () => /^step \d+: loss \d/.test(document.getElementById('caption').textContent) && window.tokens > 0,
  });
});

test('every option of create that docs/js-api.md lists is accepted, with the default it gives', async () => {
  const rows = optionTable(JS_API, 'create-options');
  const run = await page.evaluate(
    ({ text, rows }) => {
      const tiny = Kindling.presets().tiny;
      return {
        fields: Object.keys(tiny),
        tiny,
        results: rows.map(({ option, value }) => {
          const options = { text, preset: 'tiny', [option]: option === 'text' ? text : value };
          const result = Kindling.validate(options);
          return { option, ok: result.ok, errors: result.errors };
        }),
        unknown: Kindling.validate({ text, notAnOption: 1 }),
      };
    },
    { text: TEXT, rows },
  );
  for (const { option, ok, errors } of run.results) {
    assert.ok(ok, `${option}: ${JSON.stringify(errors)}`);
  }
  const listed = rows.map((row) => row.option);
  for (const field of run.fields) {
    assert.ok(listed.includes(field), `config field ${field} is missing from docs/js-api.md`);
  }
  for (const { option, value } of rows) {
    if (option in run.tiny) assert.deepEqual(value, run.tiny[option], `the default of ${option}`);
  }
  // The check means something: a name the engine does not know is refused.
  assert.equal(run.unknown.ok, false);
  assert.ok(
    run.unknown.errors.some((e) => /unknown setting/.test(e.message)),
    JSON.stringify(run.unknown.errors),
  );
});

test('every option of generate that docs/js-api.md lists is accepted', async () => {
  const rows = optionTable(JS_API, 'generate-options');
  const run = await page.evaluate(
    async ({ text, rows }) => {
      const model = await Kindling.create({ text, preset: 'tiny', backend: 'cpu' });
      try {
        const results = [];
        for (const { option, value } of rows) {
          try {
            const stream = model.generate('the ', { maxTokens: 2, [option]: value });
            const { done, value: token } = await stream.next();
            stream.free();
            results.push({ option, token: done ? null : token.text });
          } catch (error) {
            results.push({ option, error: error.message });
          }
        }
        let unknown = null;
        try {
          model.generate('the ', { notAnOption: 1 }).free();
        } catch (error) {
          unknown = error.message;
        }
        return { results, unknown };
      } finally {
        model.free();
      }
    },
    { text: TEXT, rows },
  );
  for (const { option, token, error } of run.results) {
    assert.equal(error, undefined, `${option}: ${error}`);
    assert.equal(typeof token, 'string', `${option}: no token came back`);
  }
  assert.ok(run.unknown, 'an unknown generation option was accepted');
});

test("errors follow docs/js-api.md's contract: a KindlingError with a kind", async () => {
  const contract = JS_API.slice(JS_API.indexOf('\n## Errors'));
  const kinds = [...contract.matchAll(/^\| `([a-z-]+)` \| /gm)].map((match) => match[1]);
  const seen = await page.evaluate(async (text) => {
    const caught = async (what) => {
      try {
        await what();
        return null;
      } catch (error) {
        return {
          name: error?.name,
          kind: error?.kind,
          isError: error instanceof Error,
          errors: error?.errors ?? null,
        };
      }
    };
    const model = await Kindling.create({ text, preset: 'tiny', backend: 'cpu' });
    const other = await Kindling.create({ text, preset: 'tiny', backend: 'cpu', nEmbd: 64 });
    const helpers = new HelperWorkers(1);
    try {
      return {
        config: await caught(() => Kindling.create({ text, nLayer: 100000 })),
        sampling: await caught(() => model.generate('the ', { temperature: -1 })),
        argument: await caught(() => model.trainSteps(1, {})),
        steps: await caught(() => model.trainSteps(0)),
        checkpoint: await caught(() => Kindling.fromBytes(new TextEncoder().encode('not a model'), { backend: 'cpu' })),
        'webgpu-unavailable': await caught(() => Kindling.create({ text, backend: 'webgpu' })),
        'peer-unreachable': await caught(() =>
          Kindling.create({ text, backend: 'remote', peer: 'id@http://127.0.0.1:1', secret: 's' }),
        ),
        helper: await caught(async () => {
          await helpers.replicate(other);
          await model.trainSteps(2, helpers);
        }),
      };
    } finally {
      helpers.terminate();
      model.free();
      other.free();
    }
  }, TEXT);
  const wrong = [];
  for (const [expected, error] of Object.entries(seen)) {
    const kind = ['sampling', 'steps'].includes(expected) ? 'config' : expected;
    assert.ok(kinds.includes(kind), `docs/js-api.md does not list kind ${kind}`);
    if (!error) wrong.push(`${expected}: nothing was thrown`);
    else if (!error.isError || error.name !== 'KindlingError' || error.kind !== kind) {
      wrong.push(`${expected}: ${error.isError ? 'an Error' : 'not an Error'} named ${error.name}, kind ${error.kind}`);
    }
  }
  assert.deepEqual(wrong, []);
  for (const name of ['config', 'sampling', 'steps']) {
    const fields = seen[name].errors ?? [];
    assert.ok(fields.length > 0, `${name}: no errors list`);
    for (const e of fields) {
      assert.ok(e.field && e.kind && e.message, `${name}: ${JSON.stringify(e)}`);
    }
  }
  assert.ok(seen.config.errors.some((e) => e.field === 'nLayer'));
  assert.ok(seen.sampling.errors.some((e) => e.field === 'temperature'));
  assert.ok(seen.steps.errors.some((e) => e.field === 'steps'));
});

test('everything came from the page origin', () => {
  assert.deepEqual(foreignRequests(browser.requests, server.url), []);
  assert.deepEqual(browser.problems, []);
});

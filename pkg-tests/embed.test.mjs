// The blog embed (www/kindling-embed.js): the example post, the strict CSP, hostile page
// CSS, broken model files, removal and re-adding, and a site that keeps Kindling in
// another folder. Every page is served with the strict Content-Security-Policy and
// without cross-origin isolation.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, REPO, animationFrames, startServer, launchBrowser } from './browser.mjs';
import { serve } from '../scripts/server.mjs';

const LONG = { timeout: 120_000 };
const WEB_ROOT = process.env.KINDLING_WEB_ROOT ?? REPO;
const WASM = '/pkg/kindling_bg.wasm';

let server; // the repository, as scripts/serve.sh serves it
let site; // a made-up static site that keeps Kindling in /static/kindling/
let siteRoot;
let browser;

// A blog post one folder deep that includes Kindling from another folder.
function post({ title, stylesheet = '', body }) {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title}</title>
  <link rel="icon" href="../../static/kindling/www/icon.svg" type="image/svg+xml">
  ${stylesheet && `<link rel="stylesheet" href="${stylesheet}">`}
  <script type="module" src="../../static/kindling/www/kindling-embed.js"></script>
</head>
<body>
${body}
</body>
</html>
`;
}

const GENERATE = (id, src, extra = '') =>
  `<kindling-playground id="${id}" mode="generate" model-src="${src}" prompt="The " max-tokens="60" ${extra}></kindling-playground>`;
const TRAIN = (id) =>
  `<kindling-playground id="${id}" mode="train" steps="30" autoplay text="${'the cat sat on the mat. '.repeat(40)}"></kindling-playground>`;

// Everything a page would break if the element's styles leaked or were reachable.
const HOSTILE_CSS = `
html { font-size: 3px !important; }
* { display: inline !important; font-size: 3px; line-height: 0.5; font-family: fantasy;
    letter-spacing: 4px; text-transform: uppercase; text-align: right; white-space: pre;
    color: red; margin: 9px; box-sizing: content-box; }
button, textarea, input, div, p, canvas, progress { display: none !important; width: 10px !important; }
:root { --bg: red; --text: yellow; --accent: lime; --border: magenta; }
`;

async function makeSite() {
  siteRoot = await mkdtemp(join(tmpdir(), 'kindling-site-'));
  await mkdir(join(siteRoot, 'static/kindling'), { recursive: true });
  await mkdir(join(siteRoot, 'static/models'), { recursive: true });
  await mkdir(join(siteRoot, 'blog/2026'), { recursive: true });
  await symlink(join(WEB_ROOT, 'www'), join(siteRoot, 'static/kindling/www'));
  await symlink(join(WEB_ROOT, 'pkg'), join(siteRoot, 'static/kindling/pkg'));
  const demo = await readFile(join(WEB_ROOT, 'www/models/demo.kindling'));
  const models = join(siteRoot, 'static/models');
  await writeFile(join(models, 'demo.kindling'), demo);
  await writeFile(join(models, 'truncated.kindling'), demo.subarray(0, Math.floor(demo.length / 2)));
  await writeFile(join(models, 'photo.kindling'), Buffer.from('\x89PNG\r\n\x1a\n this is a picture, not a model'));
  const page = (name, html) => writeFile(join(siteRoot, 'blog/2026', name), html);
  const layout = `
  <h1>A post</h1>
  <p id="before">A paragraph before the embeds.</p>
  ${GENERATE('gen', '../../static/models/demo.kindling', 'autoplay pace="instant"')}
  <p id="between">A paragraph between them.</p>
  ${TRAIN('train')}
  <p id="after">A paragraph after them.</p>`;
  await page('post.html', post({ title: 'Normal post', body: layout }));
  await page('hostile.html', post({ title: 'Hostile post', stylesheet: 'hostile.css', body: layout }));
  await page('hostile.css', HOSTILE_CSS);
  await page(
    'broken.html',
    post({
      title: 'Broken models',
      body: `
  <p id="intro">The post goes on around broken embeds.</p>
  ${GENERATE('missing', '../../static/models/missing.kindling')}
  ${GENERATE('truncated', '../../static/models/truncated.kindling')}
  <p id="middle">Still here.</p>
  ${GENERATE('foreign', '../../static/models/photo.kindling')}
  ${GENERATE('good', '../../static/models/demo.kindling')}
  <p id="outro">The end.</p>`,
    }),
  );
  return serve({ root: siteRoot, csp: true });
}

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  server = await startServer({ csp: true });
  site = await makeSite();
  browser = await launchBrowser();
  // Counts the workers the page starts (one entry each) and what each sends, those it
  // terminates, any message heard from one after its terminate(), and any CSP violation the
  // document sees.
  await browser.context.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener(
      'securitypolicyviolation',
      (event) => {
        window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
      },
      true,
    );
    window.workerMessages = [];
    window.workersTerminated = 0;
    window.lateMessages = 0;
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(...args) {
        super(...args);
        this.terminated = false;
        const index = window.workerMessages.push(0) - 1;
        this.addEventListener('message', () => {
          window.workerMessages[index]++;
          if (this.terminated) window.lateMessages++;
        });
      }

      terminate() {
        this.terminated = true;
        window.workersTerminated++;
        return super.terminate();
      }
    };
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  site?.close();
  if (siteRoot) await rm(siteRoot, { recursive: true, force: true });
});

function waitFor(page, predicate, arg) {
  return page.waitForFunction(predicate, arg, { timeout: 120_000, polling: 100 });
}

const host = (page, id) => page.locator(`kindling-playground#${id}`);
const inside = (page, id, selector) => host(page, id).locator(selector);
const wasmRequests = () => browser.requests.filter((url) => url.endsWith(WASM)).length;
const value = (page, id, selector) => inside(page, id, selector).getAttribute('data-value').then(Number);

// Counts DOM updates of an embed's output, to tell a stream of tokens from one dump.
function countOutputUpdates(page, id) {
  return page.evaluate(async (id) => {
    await customElements.whenDefined('kindling-playground');
    window.outputUpdates ??= {};
    window.outputUpdates[id] = 0;
    const output = document.getElementById(id).shadowRoot.getElementById('output');
    new MutationObserver(() => window.outputUpdates[id]++).observe(output, { childList: true });
  }, id);
}

async function assertNoViolations(page) {
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
}

describe('the example blog post', () => {
  let page;
  let wasmBefore;

  before(async () => {
    page = await browser.context.newPage();
    // Short enough that neither embed is on screen at first.
    await page.setViewportSize({ width: 1280, height: 420 });
    wasmBefore = wasmRequests();
    await page.goto(`${server.url}/www/embed-example.html`);
  });

  after(() => page.close());

  test('both embeds show a placeholder at once and load nothing until scrolled to', async () => {
    await countOutputUpdates(page, 'demo-generate');
    for (const id of ['demo-generate', 'demo-train']) {
      await inside(page, id, '#engine-status').filter({ hasText: 'scrolls into view' }).waitFor(LONG);
      assert.equal(await inside(page, id, '#generate').isDisabled(), true);
    }
    assert.match(
      await inside(page, 'demo-train', '#text').inputValue(),
      /^the kettle sings and the cat sits by the stove\.\n/,
    );
    // Up to the moment the page knows what is on screen: an IntersectionObserver of the test's
    // has reported on the embeds, and a frame later so have theirs (they observed them first).
    await page.evaluate(
      () =>
        new Promise((resolve) => {
          const observer = new IntersectionObserver(() => {
            observer.disconnect();
            requestAnimationFrame(resolve);
          });
          for (const embed of document.querySelectorAll('kindling-playground')) observer.observe(embed);
        }),
    );
    assert.equal(await page.evaluate(() => window.workerMessages.length), 0, 'no worker started');
    assert.equal(page.workers().length, 0, 'no engine before the embeds are in view');
    assert.equal(wasmRequests(), wasmBefore, 'no wasm before the embeds are in view');
    assert.equal(await inside(page, 'demo-generate', '#output .tok').count(), 0, 'autoplay waited');
  });

  test('scrolled into view, the generate embed loads its model and streams tokens', async () => {
    await host(page, 'demo-generate').scrollIntoViewIfNeeded();
    await inside(page, 'demo-generate', '#gen-status').filter({ hasText: 'Done: 240 tokens' }).waitFor(LONG);
    // At the default, readable pace: many updates, not one dump at the end.
    assert.ok((await page.evaluate(() => window.outputUpdates['demo-generate'])) >= 3, 'tokens arrived as a stream');
    assert.match(await inside(page, 'demo-generate', '#model-line').textContent(), /trained 1,500 steps/);
    assert.equal(await inside(page, 'demo-generate', '#notice').isHidden(), true);
    const text = await inside(page, 'demo-generate', '#output').textContent();
    assert.match(text, /\b(fox|cat|robot|baker|child|neighbour)\b/, `the demo model writes its grammar: ${text}`);
  });

  test('the train embed trains while the generate embed generates, each in its own worker', async () => {
    // Both on screen at once.
    await page.setViewportSize({ width: 1280, height: 2700 });
    await page.evaluate(() => document.getElementById('demo-generate').scrollIntoView({ block: 'start' }));
    await inside(page, 'demo-train', '#train:enabled').waitFor(LONG);
    assert.equal(page.workers().length, 2);
    // Every loss the train embed shows, with how many tokens the other embed had by then.
    await page.evaluate(() => {
      const train = document.getElementById('demo-train').shadowRoot;
      const generate = document.getElementById('demo-generate').shadowRoot;
      window.lossLog = [];
      new MutationObserver(() => {
        const loss = Number(train.getElementById('loss').dataset.value);
        if (loss) window.lossLog.push({ loss, tokens: generate.querySelectorAll('.tok').length });
      }).observe(train.getElementById('loss'), { attributes: true });
    });
    await host(page, 'demo-generate').evaluate((element) => element.setAttribute('max-tokens', '5000'));
    await inside(page, 'demo-generate', '#generate').click();
    await inside(page, 'demo-train', '#train').click();
    await inside(page, 'demo-train', '#train-status').filter({ hasText: 'Finished: 400 steps' }).waitFor(LONG);
    // Stop, unless it is done already (a disabled button ignores the click).
    await inside(page, 'demo-generate', '#stop').evaluate((button) => button.click());
    await inside(page, 'demo-generate', '#gen-status')
      .filter({ hasText: /Stopped|Done/ })
      .waitFor(LONG);
    const log = await page.evaluate(() => window.lossLog);
    assert.ok(log.length >= 3, `${log.length} loss updates`);
    const [first, last] = [log[0], log.at(-1)];
    assert.ok(last.loss < first.loss * 0.6, `loss ${first.loss} → ${last.loss}`);
    assert.ok(
      log.some((entry) => entry.tokens > first.tokens),
      'tokens streamed while the other embed trained',
    );
    assert.equal(
      await host(page, 'demo-generate').getAttribute('data-phase'),
      'finished',
      'the loaded model was untouched',
    );

    await inside(page, 'demo-train', '#generate').click();
    await inside(page, 'demo-train', '#gen-status').filter({ hasText: 'Done' }).waitFor(LONG);
    assert.ok((await inside(page, 'demo-train', '#output .tok').count()) > 0);
    assert.equal(wasmRequests(), wasmBefore + 1, 'two embeds, one download of the engine');
  });

  test('screenshots of the post at desktop and phone width', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: join(ARTIFACTS, 'embed-example-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 360, height: 780 });
    await animationFrames(page); // the chart redrawn at its new size
    await page.screenshot({ path: join(ARTIFACTS, 'embed-example-phone.png'), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 0, `the post is ${overflow}px wider than a phone`);
    for (const id of ['demo-generate', 'demo-train']) {
      const box = await host(page, id).boundingBox();
      assert.ok(box.width <= 360 && box.width > 280, `${id} is ${box.width}px wide at 360px`);
      await host(page, id).screenshot({ path: join(ARTIFACTS, `embed-${id.slice(5)}-phone.png`) });
    }
  });

  test('attribute changes take effect', async () => {
    await host(page, 'demo-generate').evaluate((element) => {
      element.setAttribute('max-tokens', '25');
      element.setAttribute('prompt', 'A small');
      element.setAttribute('theme', 'dark');
    });
    assert.equal(await inside(page, 'demo-generate', '#prompt').inputValue(), 'A small');
    const background = () =>
      inside(page, 'demo-generate', '#app').evaluate((app) => getComputedStyle(app).backgroundColor);
    assert.equal(await background(), 'rgb(27, 30, 34)');
    await inside(page, 'demo-generate', '#generate').click();
    await inside(page, 'demo-generate', '#gen-status').filter({ hasText: 'Done: 25 tokens' }).waitFor(LONG);
    await host(page, 'demo-generate').evaluate((element) => element.setAttribute('theme', 'light'));
    assert.equal(await background(), 'rgb(255, 255, 255)');
    // Another training text: the trained model goes, the new text is there to train on.
    await host(page, 'demo-train').evaluate((element) => element.setAttribute('text', 'hello world. '.repeat(60)));
    await host(page, 'demo-train').and(page.locator('[data-phase=empty]')).waitFor(LONG);
    assert.equal(await inside(page, 'demo-train', '#text').inputValue(), 'hello world. '.repeat(60));
    await inside(page, 'demo-train', '#train:enabled').waitFor(LONG);
  });

  test('training pauses while the embed is scrolled out of view and resumes when back', async () => {
    await host(page, 'demo-train').evaluate((element) => element.setAttribute('steps', '100000'));
    await inside(page, 'demo-train', '#train:enabled').waitFor(LONG);
    await inside(page, 'demo-train', '#train').click();
    await waitFor(
      page,
      () => Number(document.getElementById('demo-train').shadowRoot.getElementById('step').dataset.value) > 0,
    );
    await page.setViewportSize({ width: 1280, height: 600 });
    await page.evaluate(() => scrollTo(0, 0));
    await inside(page, 'demo-train', '#train-status').filter({ hasText: 'out of view' }).waitFor(LONG);
    // What training out of view would show: a chunk's kindling-metrics, counted from the pause.
    const pausedAt = await host(page, 'demo-train').evaluate((element) => {
      window.metricsWhilePaused = 0;
      element.addEventListener('kindling-metrics', () => window.metricsWhilePaused++);
      return Number(element.shadowRoot.getElementById('step').dataset.value);
    });
    // A later event, in order: the worker runs a generation asked for now after any training it
    // had queued (the two take turns at the model).
    await host(page, 'demo-train').evaluate(async (element) => {
      element.maxTokens = 5;
      element.pace = 'instant';
      await element.generate();
      element.maxTokens = null;
      element.pace = null;
    });
    assert.equal(await page.evaluate(() => window.metricsWhilePaused), 0, 'no chunk of training while out of view');
    assert.equal(await value(page, 'demo-train', '#step'), pausedAt, 'no steps while out of view');
    await host(page, 'demo-train').scrollIntoViewIfNeeded();
    await waitFor(
      page,
      (step) => Number(document.getElementById('demo-train').shadowRoot.getElementById('step').dataset.value) > step,
      pausedAt,
    );
    await inside(page, 'demo-train', '#train').click(); // pause
    await inside(page, 'demo-train', '#train').filter({ hasText: 'Resume' }).waitFor(LONG);
  });

  test('a removed embed stops its worker; put back, it works again', async () => {
    await host(page, 'demo-generate').scrollIntoViewIfNeeded();
    // Put back, it autoplays these 5000 tokens again: at once, not at a readable pace.
    await host(page, 'demo-generate').evaluate((element) => {
      element.setAttribute('max-tokens', '5000');
      element.pace = 'instant';
    });
    await inside(page, 'demo-generate', '#generate').click();
    await waitFor(page, () => document.getElementById('demo-generate').shadowRoot.querySelectorAll('.tok').length > 20);
    const workers = page.workers().length;
    // Moved within the page in one go: it keeps its worker and model. The element decides on a
    // microtask whether it has left the page: a task later, it has.
    const terminated = await page.evaluate(async () => {
      const before = window.workersTerminated;
      const element = document.getElementById('demo-generate');
      const next = element.nextElementSibling;
      next.after(element);
      next.before(element);
      await new Promise((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = resolve;
        channel.port2.postMessage(null);
      });
      return window.workersTerminated - before;
    });
    assert.equal(terminated, 0, 'the moved embed kept its worker');
    assert.equal(page.workers().length, workers);
    assert.equal(await host(page, 'demo-generate').getAttribute('data-phase'), 'finished');
    const closed = Promise.race(page.workers().map((worker) => worker.waitForEvent('close', LONG).then(() => worker)));
    await page.evaluate(() => {
      const element = document.getElementById('demo-generate');
      window.removedEmbed = { element, next: element.nextElementSibling };
      element.remove();
    });
    await closed;
    assert.equal(page.workers().length, workers - 1);
    await assertNoViolations(page);

    await page.evaluate(() => window.removedEmbed.next.before(window.removedEmbed.element));
    await host(page, 'demo-generate').scrollIntoViewIfNeeded();
    await inside(page, 'demo-generate', '#generate:enabled').waitFor(LONG);
    assert.equal(page.workers().length, workers);
    await host(page, 'demo-generate').evaluate((element) => element.setAttribute('max-tokens', '30'));
    await inside(page, 'demo-generate', '#generate').click();
    await inside(page, 'demo-generate', '#gen-status').filter({ hasText: 'Done: 30 tokens' }).waitFor(LONG);
    // The page has since heard a new worker load the engine and the model and write 30 tokens:
    // nothing came from the removed embed's worker after it was terminated.
    assert.equal(await page.evaluate(() => window.lateMessages), 0, 'no messages from the removed embed');
    assert.equal(wasmRequests(), wasmBefore + 1, 'the compiled engine was reused');
    await assertNoViolations(page);
  });
});

describe('a site that keeps Kindling in another folder', () => {
  // The sizes inside an embed that page CSS could break.
  async function layout(page) {
    await inside(page, 'gen', '#generate:enabled').waitFor(LONG);
    const box = (id, selector) => inside(page, id, selector).boundingBox();
    const style = (id) =>
      host(page, id).evaluate((element) => {
        const app = getComputedStyle(element.shadowRoot.getElementById('app'));
        return {
          display: getComputedStyle(element).display,
          font: app.fontSize,
          lineHeight: app.lineHeight,
          transform: app.textTransform,
        };
      });
    return {
      styles: [await style('gen'), await style('train')],
      generate: await box('gen', '#generate'),
      output: await box('gen', '#output'),
      text: await box('train', '#text'),
      reset: await box('train', '#reset'),
      chart: await box('train', '#chart'),
    };
  }

  test('a post one folder deep, under the strict CSP, loads the engine and the model; autoplay starts both', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 1600 }); // both embeds well in view
    await page.goto(`${site.url}/blog/2026/post.html`);
    await inside(page, 'gen', '#gen-status').filter({ hasText: 'Done: 60 tokens' }).waitFor(LONG);
    await inside(page, 'train', '#train-status').filter({ hasText: 'Finished: 30 steps' }).waitFor(LONG);
    // pace="instant", in the markup: the compact embed's Pace control shows it.
    assert.equal(await host(page, 'gen').evaluate((element) => element.pace), 'instant');
    assert.equal(await inside(page, 'gen', '#pace input[value=instant]').isChecked(), true);
    assert.equal(await inside(page, 'gen', '#pace').isVisible(), true);
    assert.equal(await inside(page, 'gen', '#output .tok').count(), 60);
    browser.normalLayout = await layout(page);
    await assertNoViolations(page);
    await page.close();
  });

  test('hostile page CSS does not break the layout inside the embeds', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 1600 });
    await page.goto(`${site.url}/blog/2026/hostile.html`);
    assert.equal(
      await page.locator('#before').evaluate((p) => getComputedStyle(p).fontSize),
      '3px',
      'the hostile CSS applies',
    );
    const hostile = await layout(page);
    await page.screenshot({ path: join(ARTIFACTS, 'embed-hostile-css.png'), fullPage: true });
    assert.deepEqual(hostile.styles, [
      { display: 'block', font: '15px', lineHeight: '22.5px', transform: 'none' },
      { display: 'block', font: '15px', lineHeight: '22.5px', transform: 'none' },
    ]);
    const normal = browser.normalLayout;
    for (const name of ['generate', 'output', 'text', 'reset', 'chart']) {
      assert.ok(
        hostile[name] && hostile[name].width > 30 && hostile[name].height > 20,
        `${name} is visible: ${JSON.stringify(hostile[name])}`,
      );
      assert.ok(
        Math.abs(hostile[name].height - normal[name].height) <= 1,
        `${name} keeps its height: ${hostile[name].height} vs ${normal[name].height}`,
      );
    }
    for (const name of ['generate', 'reset']) {
      assert.ok(Math.abs(hostile[name].width - normal[name].width) <= 1, `${name} keeps its width`);
    }
    await inside(page, 'gen', '#gen-status').filter({ hasText: 'Done: 60 tokens' }).waitFor(LONG);
    await assertNoViolations(page);
    await page.close();
  });

  test('missing, truncated and foreign model files give readable errors; the post and a good embed are unaffected', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 2400 }); // every embed in view
    await page.goto(`${site.url}/blog/2026/broken.html`);
    const expected = {
      missing: /^Could not load the model “\.\.\/\.\.\/static\/models\/missing\.kindling”: the server answered 404/,
      truncated: /^Could not open the model “.*truncated\.kindling”: .*truncated \(it ends too early\)/,
      foreign: /^Could not open the model “.*photo\.kindling”: .*not a Kindling model file/,
    };
    for (const [id, message] of Object.entries(expected)) {
      const notice = inside(page, id, '#notice');
      await notice.and(page.locator(':not([hidden])')).waitFor(LONG);
      assert.match(await notice.textContent(), message);
      assert.equal(await inside(page, id, '#generate').isDisabled(), true);
    }
    await inside(page, 'good', '#generate:enabled').waitFor(LONG);
    await inside(page, 'good', '#generate').click();
    await inside(page, 'good', '#gen-status').filter({ hasText: 'Done: 60 tokens' }).waitFor(LONG);
    for (const id of ['intro', 'middle', 'outro']) assert.equal(await page.locator(`#${id}`).isVisible(), true);
    assert.equal(page.workers().length, 4);
    await assertNoViolations(page);
    await page.close();
  });

  test('a browser without WebAssembly gets a clear message', async () => {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      delete window.WebAssembly;
    });
    await page.goto(`${site.url}/blog/2026/post.html`);
    await inside(page, 'gen', '#notice').filter({ hasText: 'cannot run WebAssembly' }).waitFor(LONG);
    assert.equal(page.workers().length, 0);
    assert.equal(await page.locator('#after').isVisible(), true);
    await page.close();
  });
});

test('no request left the page origin and nothing was reported', () => {
  const origins = [server.url, site.url];
  const foreign = browser.requests.filter(
    (url) => !origins.some((origin) => url.startsWith(`${origin}/`)) && !/^(data|blob):/.test(url),
  );
  assert.deepEqual(foreign, []);
  assert.deepEqual(
    browser.problems.filter((text) => !/404 \(Not Found\)/.test(text)),
    [],
  );
});

// @ts-check
// Shared set-up for the browser tests: the static server and Debian's Chromium driven by
// playwright-core (never a downloaded browser).
import { before, after } from 'node:test';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../scripts/server.mjs';
import { corpus } from './corpus.mjs';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS = join(REPO, 'test-artifacts');

// Flags from shared/TOOLCHAIN.md: without the networking ones Chromium floods this
// machine's closed network with refused connections.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
];

// scripts/server.mjs, as the page is served, on a free port: with the strict CSP unless told
// otherwise (`connect`: other origins its connect-src allows). Resolves to { url, close }.
/**
 * @typedef {object} Server
 * @property {string} url http://127.0.0.1:PORT
 * @property {() => void} close
 */

/**
 * @typedef {object} Browser
 * @property {import('playwright-core').BrowserContext} context
 * @property {string[]} requests the URL of every request any page made
 * @property {string[]} problems console errors, page errors and dialogs
 * @property {() => Promise<void>} close
 */

// The page's window once recordCspViolations has run (cast through unknown: tsc finds no overlap
// between a window and one with a property it lacks).
/** @typedef {Window & { cspViolations: string[] }} CspWindow */

/**
 * @typedef {object} Suite
 * @property {Server} server
 * @property {Browser} browser
 */

/**
 * @param {{ csp?: boolean, coi?: boolean, connect?: string[] }} [options]
 * @returns {Promise<Server>}
 */
export function startServer({ csp = true, coi = false, connect = [] } = {}) {
  return serve({ root: process.env.KINDLING_WEB_ROOT ?? REPO, csp, coi, connect });
}

// A fresh Chromium profile that records every request and console problem, so tests can
// prove nothing left the origin and the strict CSP was never violated.
// `webgpu` adds the flag that gives headless Chromium a (software, SwiftShader) WebGPU adapter.
/**
 * @param {{ webgpu?: boolean }} [options]
 * @returns {Promise<Browser>}
 */
export async function launchBrowser({ webgpu = false } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'kindling-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: webgpu ? [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] : CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  /** @type {string[]} */
  const requests = [];
  /** @type {string[]} */
  const problems = [];
  /** @param {import('playwright-core').Page} page */
  const watch = (page) => {
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      dialog.dismiss();
    });
  };
  context.on('request', (request) => requests.push(request.url()));
  context.on('page', watch);
  context.pages().forEach(watch);
  return {
    context,
    requests,
    problems,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

// The server and a browser shared by one test file's tests: started before them (with
// `init`, a script every page runs first; then `setUp(suite)`, in the same hook: a second
// top-level `before` in the file did not wait for this one), closed after them. Its `server` and
// `browser` are there once the tests run.
/**
 * @param {object} [options]
 * @param {boolean} [options.csp]
 * @param {boolean} [options.webgpu]
 * @param {() => void} [options.init] an init script every page runs first
 * @param {(suite: Suite) => unknown} [options.setUp]
 * @returns {Suite} filled in by the `before` hook
 */
export function browserSuite({ csp = true, webgpu = false, init, setUp } = {}) {
  const suite = /** @type {Suite} */ ({});
  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    suite.server = await startServer({ csp });
    suite.browser = await launchBrowser({ webgpu });
    if (init) await suite.browser.context.addInitScript(init);
    await setUp?.(suite);
  });
  after(async () => {
    await suite.browser?.close();
    suite.server?.close();
  });
  return suite;
}

// An init script: the page keeps the CSP violations it sees in `window.cspViolations`.
export function recordCspViolations() {
  /** @type {CspWindow} */ (/** @type {unknown} */ (window)).cspViolations = [];
  document.addEventListener(
    'securitypolicyviolation',
    (event) => {
      /** @type {CspWindow} */ (/** @type {unknown} */ (window)).cspViolations.push(
        `${event.violatedDirective} ${event.blockedURI}`,
      );
    },
    true,
  );
}

// Resolves once `count` more animation frames have run in `page`: a wait for the page's own
// rendering, not for a time. Three cover whatever a new viewport size or colour scheme sets off:
// media-query listeners and ResizeObserver callbacks run in one frame's rendering update, the
// redraw they ask for (loss-chart.js's) on the next frame's animation callbacks, the third after it.
/**
 * @param {import('playwright-core').Page} page
 * @param {number} [count]
 * @returns {Promise<void>}
 */
export function animationFrames(page, count = 3) {
  return page.evaluate(
    (left) =>
      new Promise((/** @type {(value: void) => void} */ resolve) => {
        const frame = () => (left-- ? requestAnimationFrame(frame) : resolve());
        frame();
      }),
    count,
  );
}

// Requests that went anywhere but the test server (data:/blob: stay in the page).
/**
 * @param {string[]} requests
 * @param {string} origin the test server's, http://127.0.0.1:PORT
 * @returns {string[]}
 */
export function foreignRequests(requests, origin) {
  return requests.filter((url) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url));
}

// The server, a browser and pkg-tests/pkg-page.html (the package loaded through
// www/kindling.js, as `window.Kindling`), for the tests that call the engine from a page.
// Resolves to { server, browser, page }; fails when the package did not load.
/** @returns {Promise<{ server: Server, browser: Browser, page: import('playwright-core').Page }>} */
export async function openPackagePage() {
  const server = await startServer();
  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/pkg-tests/pkg-page.html`);
  await page.waitForFunction(() => document.body.dataset.state, null, { timeout: 120_000 });
  const failure = await page.evaluate(() => document.body.dataset.error);
  if (failure !== undefined) throw new Error(`the package failed to load: ${failure}`);
  return { server, browser, page };
}

// In the playground `page`: the corpus, the Model card's settings ("Train for: Steps", not a
// budget), `tiny` with more steps than any test waits for, then Train.
/** @param {import('playwright-core').Page} page */
export async function startLongTinyRun(page) {
  await page.locator('#text').fill(corpus());
  await page.locator('#train-for label').filter({ hasText: 'Steps' }).click();
  await page.locator('#preset').selectOption('tiny');
  await page.locator('#f-maxSteps').fill('100000');
  await page.locator('kindling-playground:not([data-validation=pending])').waitFor({ timeout: 120_000 });
  await page.locator('#train').click();
}

// @ts-check
// One page in Chromium, Firefox or WebKit (Safari's engine), driven the same way, so that one
// test runs in all three: goto, evaluate (a function run in the page on a JSON argument,
// resolving to its JSON result), waitFor (a function run in the page until it returns
// something truthy), reload, close. Every browser is Debian's, never a downloaded one:
// - chromium: playwright-core with /usr/bin/chromium (browser.mjs's launchBrowser);
// - firefox: puppeteer-core over WebDriver BiDi with /usr/bin/firefox-esr, in a fresh profile
//   with puppeteer's prefs (no updates, telemetry or other background requests);
// - webkit: WebKitWebDriver (classic W3C WebDriver over HTTP, Node's fetch) driving WebKitGTK's
//   MiniBrowser under xvfb-run, as MiniBrowser has no headless mode.
// The functions given to evaluate and waitFor are sent as source text: they see only their
// argument and the page's globals, never the test's variables.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import puppeteer from 'puppeteer-core';
import { launchBrowser } from './browser.mjs';

/** @typedef {'chromium' | 'firefox' | 'webkit'} EngineName */

/** @type {EngineName[]} */
export const ENGINES = ['chromium', 'firefox', 'webkit'];

export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const XVFB_RUN = '/usr/bin/xvfb-run';

/** The page's size in every engine (WebKit: its window's). */
const VIEWPORT = { width: 1280, height: 900 };
/** The longest any one engine call may take (an evaluate, a navigation): an upper bound only. */
const CALL_LIMIT_MS = 600_000;

/**
 * @typedef {object} WaitOptions
 * @property {number} [timeout] milliseconds before the wait fails (default 120 000)
 * @property {number} [polling] milliseconds between two calls of the predicate (default 100)
 * @property {() => unknown} [state] run in the page when the wait fails: what it returns (as
 *   JSON) is added to the error, so that a failure in CI says where the page stood
 */

/**
 * @typedef {object} EnginePage
 * @property {EngineName} engine
 * @property {(url: string) => Promise<void>} goto navigates and resolves once the page has loaded
 * @property {() => Promise<void>} reload reloads and resolves once the page has loaded again
 * @property {<A, R>(fn: (arg: A) => R, arg?: A) => Promise<Awaited<R>>} evaluate runs `fn(arg)`
 *   in the page, awaits it, and resolves to its result through JSON (undefined becomes null);
 *   rejects with the page's error
 * @property {<A, R>(fn: (arg: A) => R, arg?: A, options?: WaitOptions) => Promise<Awaited<R>>} waitFor
 *   calls `fn(arg)` in the page until it resolves to something truthy, and resolves to that;
 *   rejects after `timeout` ms, naming the predicate
 * @property {() => Promise<void>} close closes the browser and removes its profile
 */

/**
 * What the page runs for `evaluate`: `fn(arg)`, awaited, as a JSON string of { value } or
 * { error }, so that every engine hands back the same thing.
 * @param {string} source a function's source text
 * @param {unknown} arg
 * @returns {string} an expression whose value is a promise of that JSON string
 */
function pageCall(source, arg) {
  return `(async () => {
  try {
    const value = await (${source})(${JSON.stringify(arg ?? null)});
    return JSON.stringify({ value: value === undefined ? null : value });
  } catch (error) {
    const stack = String((error && error.stack) || '');
    // Chromium's stack starts with the message; Firefox's and WebKit's lack it.
    return JSON.stringify({ error: stack.includes(String(error)) ? stack : (String(error) + '\\n' + stack).trim() });
  }
})()`;
}

/**
 * A predicate's source, wrapped into a function that calls it until it is truthy.
 * @param {string} source
 * @param {{ timeout: number, polling: number }} options
 * @returns {string}
 */
function waitSource(source, { timeout, polling }) {
  const name = JSON.stringify(source.replace(/\s+/g, ' ').slice(0, 200));
  return `async (arg) => {
  const deadline = Date.now() + ${Number(timeout)};
  for (;;) {
    const value = await (${source})(arg);
    if (value) return value;
    if (Date.now() > deadline) throw new Error('waited ${Number(timeout)} ms in vain for ' + ${name});
    await new Promise((resolve) => setTimeout(resolve, ${Number(polling)}));
  }
}`;
}

/**
 * The JSON string the page sent back, as a value or a thrown error.
 * @param {EngineName} engine
 * @param {unknown} reply
 * @returns {any}
 */
function unwrap(engine, reply) {
  if (typeof reply !== 'string') throw new Error(`${engine}: the page answered ${JSON.stringify(reply)}`);
  const { value, error } = JSON.parse(reply);
  if (error !== undefined) throw new Error(`${engine} page: ${error}`);
  return value;
}

/**
 * evaluate and waitFor, given a way to run a pageCall expression.
 * @param {EngineName} engine
 * @param {(expression: string) => Promise<unknown>} run
 * @returns {Pick<EnginePage, 'evaluate' | 'waitFor'>}
 */
function calls(engine, run) {
  /** @type {(source: string, arg: unknown) => Promise<any>} */
  const call = async (source, arg) => unwrap(engine, await run(pageCall(source, arg)));
  return {
    evaluate: (fn, arg) => call(String(fn), arg),
    waitFor: async (fn, arg, { timeout = 120_000, polling = 100, state } = {}) => {
      try {
        return await call(waitSource(String(fn), { timeout, polling }), arg);
      } catch (error) {
        if (!state || !(error instanceof Error)) throw error;
        const seen = await call(String(state), null).catch((/** @type {Error} */ why) => `unreadable: ${why.message}`);
        error.message += `\nthe page then: ${JSON.stringify(seen)}`;
        throw error;
      }
    },
  };
}

/**
 * Chromium through playwright-core, in browser.mjs's fresh profile and flags.
 * @returns {Promise<EnginePage>}
 */
async function openChromium() {
  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  await page.setViewportSize(VIEWPORT);
  return {
    engine: 'chromium',
    ...calls('chromium', (expression) => page.evaluate(expression)),
    goto: async (url) => {
      await page.goto(url, { timeout: CALL_LIMIT_MS });
    },
    reload: async () => {
      await page.reload({ timeout: CALL_LIMIT_MS });
    },
    close: () => browser.close(),
  };
}

/**
 * Firefox ESR through puppeteer-core over WebDriver BiDi; puppeteer makes a fresh profile
 * with its prefs and removes it on close.
 * @returns {Promise<EnginePage>}
 */
async function openFirefox() {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    defaultViewport: VIEWPORT,
    protocolTimeout: CALL_LIMIT_MS,
    extraPrefsFirefox: {
      // Beside puppeteer's prefs (no updates, telemetry or safe-browsing lists): no probes
      // of the network either; the machine reaches nothing but the test's server.
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'browser.safebrowsing.update.enabled': false,
      'extensions.getAddons.cache.enabled': false,
    },
  });
  try {
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    await page.setViewport(VIEWPORT);
    page.setDefaultNavigationTimeout(CALL_LIMIT_MS);
    return {
      engine: 'firefox',
      ...calls('firefox', (expression) => page.evaluate(expression)),
      goto: async (url) => {
        await page.goto(url, { waitUntil: 'load' });
      },
      reload: async () => {
        await page.reload({ waitUntil: 'load' });
      },
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/**
 * A TCP port nothing listens on now.
 * @returns {Promise<number>}
 */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * WebKitGTK's MiniBrowser through WebKitWebDriver (classic WebDriver over HTTP) under
 * xvfb-run (in a process group of their own). close() ends the session, then the driver, and
 * xvfb-run ends Xvfb.
 * @returns {Promise<EnginePage>}
 */
async function openWebKit() {
  for (const path of [XVFB_RUN, WEBKIT_DRIVER, MINIBROWSER]) {
    if (!existsSync(path)) throw new Error(`no ${path} (apt-get install webkit2gtk-driver xvfb)`);
  }
  const port = await freePort();
  // The shell says the driver's pid, then becomes the driver: stopping it (not xvfb-run) lets
  // xvfb-run stop Xvfb and remove its files, as it does when its command ends.
  const xvfb = spawn(
    XVFB_RUN,
    ['-a', '-s', '-screen 0 1920x1080x24', '/bin/sh', '-c', 'echo $$; exec "$0" "$@"', WEBKIT_DRIVER, `--port=${port}`],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  xvfb.stderr?.on('data', (chunk) => (log = (log + chunk).slice(-4000)));
  let driverPid = 0;
  xvfb.stdout?.once('data', (chunk) => (driverPid = Number.parseInt(String(chunk), 10) || 0));
  xvfb.stdout?.resume();
  const exited = new Promise((resolve) => xvfb.once('exit', resolve));
  /** @param {number} pid a process, or with a minus sign the group xvfb-run leads */
  const signal = (pid) => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  // Should the test process end without close(), the browser ends with it.
  const orphaned = () => signal(driverPid || -(xvfb.pid ?? 0));
  process.once('exit', orphaned);
  const base = `http://127.0.0.1:${port}`;
  let sessionId = '';

  /**
   * One WebDriver command; resolves to its `value`, rejects with the driver's error.
   * @param {'GET' | 'POST' | 'DELETE'} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  const command = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_LIMIT_MS + 10_000),
    });
    const reply = await response.json();
    if (!response.ok) {
      const { error, message } = reply.value ?? {};
      throw new Error(`webkit: ${method} ${path}: ${error}: ${message}`);
    }
    return reply.value;
  };
  const session = (/** @type {string} */ path) => `/session/${sessionId}${path}`;

  const stop = async () => {
    process.off('exit', orphaned);
    if (xvfb.exitCode !== null || xvfb.signalCode !== null || !xvfb.pid) return;
    signal(driverPid || -xvfb.pid);
    // The whole group, should xvfb-run not be done within 10 s.
    const group = setTimeout(() => signal(-(xvfb.pid ?? 0)), 10_000);
    await exited;
    clearTimeout(group);
  };

  try {
    // The driver answers /status once it listens; the loop ends with it or when it exits.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (xvfb.exitCode !== null) throw new Error(`WebKitWebDriver exited: ${log}`);
      const ready = await command('GET', '/status').then(
        (value) => value?.ready,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not start: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const created = await command('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
          timeouts: { script: CALL_LIMIT_MS, pageLoad: CALL_LIMIT_MS, implicit: 0 },
        },
      },
    });
    sessionId = created.sessionId;
    await command('POST', session('/window/rect'), VIEWPORT);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    engine: 'webkit',
    ...calls('webkit', (expression) =>
      command('POST', session('/execute/async'), {
        // The script is a function body; its last argument is the callback.
        script: `const done = arguments[arguments.length - 1]; ${expression}.then(done);`,
        args: [],
      }),
    ),
    goto: async (url) => {
      await command('POST', session('/url'), { url });
    },
    reload: async () => {
      await command('POST', session('/refresh'), {});
    },
    close: async () => {
      await command('DELETE', session('')).catch(() => {});
      await stop();
    },
  };
}

/**
 * A fresh browser of `engine` with one page (blank until goto).
 * @param {EngineName} engine
 * @returns {Promise<EnginePage>}
 */
export function openEngine(engine) {
  switch (engine) {
    case 'chromium':
      return openChromium();
    case 'firefox':
      return openFirefox();
    case 'webkit':
      return openWebKit();
    default:
      throw new Error(`no such engine: ${engine}`);
  }
}

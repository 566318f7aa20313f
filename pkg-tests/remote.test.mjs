// The playground on a compute peer: a `kindling peer --transport iroh` on loopback (burn's Iroh
// transport through the peer's own relay), reached from "Compute on: GPU peer…". The page
// trains, evaluates, writes and downloads there (the download opens in the native command);
// the peer is killed mid-run and training carries on on the CPU from the last completed step.
// A wrong secret is refused in the dialog and logged by the peer. The suite starts its peer
// and kills it; the page keeps the strict CSP, with the relay's origin in its connect-src as a
// page offering a peer must list it.
// The command is the one the native tests built with the `remote` feature (scripts/test.sh);
// KINDLING_CLI names another.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, startServer, launchBrowser, recordCspViolations } from './browser.mjs';
import { audit } from './audit.mjs';
import { corpus } from './corpus.mjs';
import { LONG, recordMetrics } from './fine-tune-steps.mjs';

const TARGET = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache/kindling/target');
const CLI = process.env.KINDLING_CLI ?? join(TARGET, 'debug/kindling');
const SECRET = 'loopback only';
// A lost peer shows when a read from it fails: the page's Iroh endpoint gives up on a silent
// connection after 10 s (src/remote.rs); the margin is for slow machines.
const FALLBACK = { timeout: 60_000 };

// A peer serving pages through its relay on a free loopback port; resolves to
// { address, origin, log(), kill() }.
function startPeer() {
  const process = spawn(CLI, ['peer', '--transport', 'iroh', '--listen', '127.0.0.1:0', '--secret', SECRET]);
  let log = '';
  process.stderr.on('data', (chunk) => (log += chunk));
  return new Promise((resolve, reject) => {
    process.on('error', reject);
    process.stdout.once('data', (chunk) => {
      // "kindling peer: serving cpu on <id>@http://127.0.0.1:PORT#cpu"
      const address = String(chunk).split('\n')[0].split(' ').pop();
      const { host } = new URL(address.split('@')[1]);
      resolve({
        address,
        origins: [`http://${host}`, `ws://${host}`],
        log: () => log,
        kill: () => process.kill('SIGKILL'),
      });
    });
  });
}

async function connectFromDialog(page, secret) {
  await page.locator('#backend-choice').selectOption('remote');
  await page.locator('#peer-dialog').waitFor();
  await page.locator('#peer-address').fill(peer.address);
  await page.locator('#peer-secret').fill(secret);
  await page.locator('#peer-connect').click();
}

let peer;
let server;
let browser;
before(async () => {
  assert.ok(existsSync(CLI), `no kindling command at ${CLI}: build it with \`cargo build --features remote\``);
  peer = await startPeer();
  server = await startServer({ connect: peer.origins });
  browser = await launchBrowser();
  await browser.context.addInitScript(recordMetrics);
  await browser.context.addInitScript(recordCspViolations);
});
after(async () => {
  peer?.kill();
  await browser?.close();
  server?.close();
});

describe('training on a compute peer from the page', () => {
  let page;
  before(async () => {
    page = await browser.context.newPage();
    await page.goto(`${server.url}/`);
    await page.locator('#engine-status').filter({ hasText: 'Ready' }).waitFor(LONG);
    await page.locator('#text').fill(corpus());
    // The preset's steps, not the page's budget (its probe times the CPU, not the peer).
    await page.locator('kindling-playground').evaluate((el) => (el.budget = 'steps'));
  });
  after(() => page.close());

  test('a wrong secret is refused in the dialog and logged by the peer; nothing changes', async () => {
    await connectFromDialog(page, 'a guess');
    await page.locator('#peer-error').filter({ hasText: 'refused the secret' }).waitFor(LONG);
    await audit(page, 'peer-dialog');
    await page.locator('#peer-cancel').click();
    assert.equal(await page.locator('#backend-choice').inputValue(), 'auto');
    assert.match(peer.log(), /refused Iroh client [0-9a-f]+: .*wrong token/);
    assert.doesNotMatch(peer.log(), /session opened/);
  });

  test('the page trains on the peer, and on the CPU from the last step once the peer is gone', async (t) => {
    await connectFromDialog(page, SECRET);
    await page.locator('#peer-dialog').waitFor({ state: 'hidden', ...LONG });
    await page.locator('#backend').filter({ hasText: 'Remote: cpu' }).waitFor(LONG);
    assert.match(peer.log(), /session opened for Iroh client/);

    await page.locator('kindling-playground').evaluate((el) => (el.pace = 'instant'));
    await page.locator('#train').click();
    // An evaluation, generation and a download, all on the peer while it trains.
    await page.waitForFunction(
      () => window.metrics.some((m) => m.backend === 'remote' && m.valLoss !== null),
      null,
      LONG,
    );
    assert.equal(await page.locator('#backend').textContent(), 'Remote: cpu');
    const written = await page.locator('kindling-playground').evaluate((el) => el.generate('the '));
    assert.equal(written.reason, 'done');
    assert.ok(written.tokens > 0 && written.text.length > 0, JSON.stringify(written));
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    const saved = join(ARTIFACTS, 'remote-model.kindling');
    await download.saveAs(saved);
    const { step: savedStep, valLoss } = JSON.parse(execFileSync(CLI, ['eval', saved, '--json'], { encoding: 'utf8' }));
    assert.ok(
      savedStep >= 100 && Number.isFinite(valLoss),
      `the peer's model, saved: step ${savedStep}, val loss ${valLoss}`,
    );
    await audit(page, 'peer-training');
    peer.kill();
    const killed = Date.now();
    const lastOnPeer = await page.evaluate(() =>
      Math.max(...window.metrics.filter((m) => m.backend === 'remote').map((m) => m.step)),
    );

    // The first chunk after the loss reports it; the badge's tooltip keeps saying it.
    const moved = await page.waitForFunction(() => window.metrics.find((m) => m.backend === 'cpu'), null, FALLBACK);
    const { notice, step } = await moved.jsonValue();
    t.diagnostic(`training moved to the CPU ${((Date.now() - killed) / 1000).toFixed(1)} s after the peer was killed`);
    assert.match(notice, /^The compute peer was lost \(.+\); training moved to the CPU and continues from step \d+/);
    const from = Number(notice.match(/continues from step (\d+)/)[1]);
    assert.ok(
      from >= lastOnPeer && from < step,
      `continued from ${from} (last seen on the peer: ${lastOnPeer}, then ${step})`,
    );
    await page.locator('#backend').filter({ hasText: 'CPU' }).waitFor(LONG);
    assert.equal(await page.locator('#backend-choice').inputValue(), 'cpu', 'the next model goes to the CPU too');
    assert.match(await page.locator('#backend').getAttribute('title'), /The compute peer was lost/);
    const losses = await page.evaluate(() => window.metrics.map((m) => m.trainLoss));
    assert.ok(losses.at(-1) < losses[0], `the loss fell: ${losses[0]} → ${losses.at(-1)}`);
    // The peer's traffic kept to the relay's origin the CSP lists (axe's audit adds styles).
    assert.deepEqual(await page.evaluate(() => window.cspViolations.filter((v) => !v.startsWith('style-src'))), []);
  });
});

// Headless Chromium for the benchmarks: scripts/server.mjs on a free port and Debian's chromium
// driven by playwright-core (never a downloaded browser), with the flags of shared/TOOLCHAIN.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS as TEST_CHROMIUM_ARGS } from '../pkg-tests/browser.mjs';
import { serve } from '../scripts/server.mjs';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

// pkg-tests' flags, plus WebGPU (SwiftShader here) for the WebGPU column, plus any in
// KINDLING_CHROMIUM_ARGS (scripts/bench-gpu.sh: Vulkan, for a hardware adapter).
export const CHROMIUM_ARGS = [
  ...TEST_CHROMIUM_ARGS,
  '--enable-unsafe-webgpu',
  ...(process.env.KINDLING_CHROMIUM_ARGS ?? '').split(/\s+/).filter(Boolean),
];

// scripts/server.mjs on a free port, without the CSP (TF.js needs more than the page);
// resolves to { url, close }. `coi` adds the cross-origin isolation headers
// (SharedArrayBuffer, which TF.js-wasm needs for its threads).
export function startServer({ coi = false } = {}) {
  return serve({ root: REPO, coi });
}

export async function launchBrowser() {
  const profile = await mkdtemp(join(tmpdir(), 'kindling-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const problems = [];
  context.on('page', (page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  });
  const browser = context.browser();
  return {
    context,
    problems,
    version: browser ? browser.version() : null,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

// A fresh page at `url`, once `readyGlobal` (a promise the page sets on window) has resolved:
// resolves to { page, ready }. Long benchmarks run inside page.evaluate with no timeout.
export async function openPage(context, url, readyGlobal) {
  const page = await context.newPage();
  page.setDefaultTimeout(0);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction((name) => window[name] !== undefined, readyGlobal);
  const ready = await page.evaluate((name) => window[name], readyGlobal);
  return { page, ready };
}

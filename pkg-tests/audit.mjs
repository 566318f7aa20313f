// @ts-check
// An axe-core audit of what a page shows now (every rule axe runs by default, best practices
// included), in each colour scheme and viewport, with a screenshot of each view in
// test-artifacts/a11y-<name>-<viewport>-<scheme>.png. Fails listing the violations.
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ARTIFACTS, animationFrames } from './browser.mjs';

const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 360, height: 780 } };
/** @type {('light' | 'dark')[]} */
const SCHEMES = ['light', 'dark'];
/** @type {string | null} */
let axeSource = null;

// The page's window once axe-core's script has run in it (cast through unknown: tsc finds no
// overlap between a window and one with a property it lacks).
/** @typedef {Window & { axe: typeof import('axe-core') }} AxeWindow */

// axe goes in through DevTools, as the strict CSP admits no injected script tag.
/**
 * @param {import('playwright-core').Page} page
 * @param {string} name in the screenshots' names
 */
export async function audit(page, name) {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await mkdir(ARTIFACTS, { recursive: true });
  if (!(await page.evaluate(() => Boolean(/** @type {AxeWindow} */ (/** @type {unknown} */ (window)).axe))))
    await page.evaluate(axeSource);
  /** @type {object[]} */
  const found = [];
  for (const [viewport, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    for (const colorScheme of SCHEMES) {
      await page.emulateMedia({ colorScheme });
      await animationFrames(page); // the chart redraws on the next frame
      await page.screenshot({ path: join(ARTIFACTS, `a11y-${name}-${viewport}-${colorScheme}.png`), fullPage: true });
      const violations = await page.evaluate(async () => {
        const { violations } = await /** @type {AxeWindow} */ (/** @type {unknown} */ (window)).axe.run(document, {
          resultTypes: ['violations'],
        });
        return violations.map(({ id, impact, help, nodes }) => ({
          id,
          impact,
          help,
          nodes: nodes.slice(0, 5).map(({ target, failureSummary }) => ({ target, failureSummary })),
        }));
      });
      for (const violation of violations) found.push({ view: `${name}, ${viewport}, ${colorScheme}`, ...violation });
    }
  }
  await page.setViewportSize(VIEWPORTS.desktop);
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));
}

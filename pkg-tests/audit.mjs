// An axe-core audit of what a page shows now (every rule axe runs by default, best practices
// included), in each colour scheme and viewport, with a screenshot of each view in
// test-artifacts/a11y-<name>-<viewport>-<scheme>.png. Fails listing the violations.
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ARTIFACTS, animationFrames } from './browser.mjs';

const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 360, height: 780 } };
const SCHEMES = ['light', 'dark'];
let axeSource = null;

// axe goes in through DevTools, as the strict CSP admits no injected script tag.
export async function audit(page, name) {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await mkdir(ARTIFACTS, { recursive: true });
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const found = [];
  for (const [viewport, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    for (const colorScheme of SCHEMES) {
      await page.emulateMedia({ colorScheme });
      await animationFrames(page); // the chart redraws on the next frame
      await page.screenshot({ path: join(ARTIFACTS, `a11y-${name}-${viewport}-${colorScheme}.png`), fullPage: true });
      const violations = await page.evaluate(async () => {
        const { violations } = await window.axe.run(document, { resultTypes: ['violations'] });
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

// Times bench/hf-tokenizers/page.html in headless Chromium (see scripts/bench-hf-tokenizers.sh).
import { startServer, launchBrowser, openPage } from '../browser.mjs';

const server = await startServer();
const browser = await launchBrowser();
try {
  const { page, ready } = await openPage(browser.context, `${server.url}/bench/hf-tokenizers/page.html`, 'benchReady');
  if (!ready.ok) throw new Error(`page not ready: ${ready.error}`);
  console.log(JSON.stringify(await page.evaluate(() => window.result)));
} finally {
  await browser.close();
  server.close();
}

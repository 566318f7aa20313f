// Test page for pkg.test.mjs: loads the engine through the same wrapper the playground
// uses, then hands it to the test through `window`.
import { loadKindling, tokens } from '../www/kindling.js';
import { HelperWorkers } from '../www/worker/helper-pool.js';

try {
  window.Kindling = await loadKindling();
  window.tokens = tokens;
  window.HelperWorkers = HelperWorkers;
  document.body.dataset.state = 'ready';
} catch (error) {
  document.body.dataset.state = 'failed';
  document.body.dataset.error = error.message;
}

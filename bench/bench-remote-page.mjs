// Training in the tab on the local CPU (pkg/) against a compute peer (pkg-remote/, backend
// 'remote'), ms per step in chunks of `chunk` steps as the page's worker trains. Run through
// scripts/bench-remote.sh, which starts the peer (`--transport iroh`) and passes its address.
//
//   node bench/bench-remote-page.mjs --peer <address> --secret <secret> [--steps 30] [--chunk 10]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO, startServer, launchBrowser, openPage } from './browser.mjs';
import { parseArgs, markdownTable } from './common.mjs';

const opts = parseArgs(process.argv.slice(2), {
  data: '../shared/data/tinyshakespeare.txt',
  peer: '',
  secret: '',
  steps: 30,
  chunk: 10,
  warmup: 3,
});
if (!opts.peer) throw new Error('--peer: the address `kindling peer --transport iroh` printed');

const MODELS = {
  'baby-GPT (4 × 128)': { preset: 'baby-gpt' },
  '256-dim GPT (4 × 256, 8 heads)': { preset: 'baby-gpt', nEmbd: 256, nHead: 8 },
};
const TEXT = readFileSync(resolve(REPO, opts.data), 'utf8').slice(0, 200_000);

const server = await startServer();
const browser = await launchBrowser();
try {
  const { page } = await openPage(browser.context, `${server.url}/pkg-tests/pkg-page.html`, 'Kindling');
  // The peer first, then the CPU: the page's Iroh connection lives on the thread that trains on
  // the CPU here, and a thread busy for longer than its 10 s idle timeout drops it.
  const ms = {};
  for (const backend of ['remote', 'cpu']) {
    for (const [label, model] of Object.entries(MODELS)) {
      ms[`${label} ${backend}`] = await page.evaluate(
        async ({ text, model, backend, opts }) => {
          const Engine =
            backend === 'cpu'
              ? window.Kindling
              : await (await import('/www/kindling.js')).loadKindling(undefined, 'remote');
          const placement = backend === 'cpu' ? { backend } : { backend, peer: opts.peer, secret: opts.secret };
          const k = await Engine.create({ text, ...model, ...placement, warmupSteps: 3, evalInterval: 0 });
          try {
            await k.trainSteps(opts.warmup);
            const start = performance.now();
            for (let done = 0; done < opts.steps; done += opts.chunk) await k.trainSteps(opts.chunk);
            return (performance.now() - start) / opts.steps;
          } finally {
            k.free();
          }
        },
        { text: TEXT, model, backend, opts },
      );
      console.error(`[bench-remote] ${label} on ${backend}: ${ms[`${label} ${backend}`].toFixed(1)} ms/step`);
    }
  }
  const rows = Object.keys(MODELS).map((label) => {
    const [cpu, remote] = [ms[`${label} cpu`], ms[`${label} remote`]];
    return [label, cpu.toFixed(1), remote.toFixed(1), `${(remote / cpu).toFixed(2)}×`];
  });
  console.log(markdownTable(['model', 'local CPU (ms/step)', 'peer over loopback (ms/step)', 'peer / local'], rows));
} finally {
  await browser.close();
  server.close();
}

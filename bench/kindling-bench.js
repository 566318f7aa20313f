// Kindling's in-browser benchmarks, shared by scripts/bench.sh and scripts/bench-browser.sh.
// Loads the engine through the same wrapper the playground uses (www/kindling.js -> pkg/) and
// exposes `window.bench`, whose functions the Playwright drivers call with page.evaluate. The
// training text is passed in by the driver (read from ../shared/data at run time).
import { loadKindling } from '../www/kindling.js';
import { HelperWorkers } from '../www/worker/helper-pool.js';
import { installGpuCounters, gpuCalls, gpuCallsBetween, startTrace, stopTrace } from './gpu-calls.js';

// Before the engine starts, so that its device's first calls are counted too.
const countingGpu = new URLSearchParams(location.search).has('count-gpu') && installGpuCounters();

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const message = (error) => error?.message || String(error);

let Kindling = null; // the CPU build (pkg/); WebGPU models come from pkg-webgpu/

// Creates a model; the caller frees it. Fails with the engine's own message, and also when the
// engine quietly ran on another backend than the one asked for (a benchmark must not report a
// CPU figure as a WebGPU one).
async function createModel(text, options) {
  const Engine = options.backend === 'webgpu' ? await loadKindling(undefined, 'webgpu') : Kindling;
  const start = performance.now();
  const k = await Engine.create({ text, ...options });
  const createMs = performance.now() - start;
  if (options.backend && options.backend !== 'auto' && k.backend !== options.backend) {
    const backend = k.backend;
    k.free();
    throw new Error(`asked for backend "${options.backend}" but the engine ran on "${backend}"`);
  }
  return { k, createMs };
}

function describe(k) {
  return { backend: k.backend, parameterCount: k.parameterCount, vocabSize: k.vocabSize, config: k.config };
}

// Training speed: `warmup` untimed trainSteps(1), then `iters` individually timed trainSteps(1)
// (each reads the loss back), then `chunks` timed trainSteps(chunk) for the chunked figure.
// Automatic evaluations are off (evalInterval 0) so that no timed step includes one. With
// `helpers` > 0, that many helper workers compute shards of each batch (www/worker/helper-pool.js).
// `profile`: the timed single steps run under the DevTools profiler (console.profile), for
// bench/profile-browser.mjs.
async function train({ text, options, helpers = 0, warmup = 10, iters = 50, chunk = 10, chunks = 3, profile = false }) {
  try {
    const { k, createMs } = await createModel(text, { evalInterval: 0, ...options });
    const workers = helpers > 0 ? new HelperWorkers(helpers) : null;
    try {
      await workers?.replicate(k);
      const info = describe(k);
      const tokensPerStep = info.config.batchSize * info.config.blockSize;
      const warmupMs = [];
      for (let i = 0; i < warmup; i++) {
        const start = performance.now();
        await k.trainSteps(1, workers);
        warmupMs.push(performance.now() - start);
      }
      const times = [];
      let last = null;
      if (profile) console.profile('timed');
      for (let i = 0; i < iters; i++) {
        const start = performance.now();
        last = await k.trainSteps(1, workers);
        times.push(performance.now() - start);
      }
      if (profile) console.profileEnd('timed');
      const chunked = [];
      for (let i = 0; i < chunks; i++) {
        const start = performance.now();
        last = await k.trainSteps(chunk, workers);
        chunked.push((performance.now() - start) / chunk);
      }
      const msPerIterMedian = median(times);
      return {
        ok: true,
        ...info,
        helpers,
        createMs,
        warmup,
        iters,
        firstStepMs: warmupMs[0] ?? times[0],
        msPerIterMedian,
        msPerIterMean: mean(times),
        msPerIterMin: Math.min(...times),
        chunk,
        chunks,
        chunkedMsPerIter: chunks ? median(chunked) : null,
        tokensPerStep,
        tokensPerSecond: (tokensPerStep * 1000) / msPerIterMedian,
        lastTrainLoss: last.trainLoss,
        step: last.step,
      };
    } finally {
      workers?.terminate();
      k.free();
    }
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

// A whole training run (e.g. baby-GPT's 2000 iterations) in chunks, then the val loss once
// (no evaluations on the way, as the PyTorch reference). `helpers` as in `train`.
async function trainFull({ text, options, helpers = 0, iters = 2000, chunk = 50 }) {
  try {
    const { k } = await createModel(text, { evalInterval: 0, ...options });
    const workers = helpers > 0 ? new HelperWorkers(helpers) : null;
    try {
      await workers?.replicate(k);
      const start = performance.now();
      let last = null;
      while (k.step < iters) last = await k.trainSteps(Math.min(chunk, iters - k.step), workers);
      const trainMs = performance.now() - start;
      const valLoss = await k.evaluate();
      return {
        ok: true,
        ...describe(k),
        helpers,
        iters: k.step,
        trainMs,
        msPerIterMean: trainMs / k.step,
        lastTrainLoss: last.trainLoss,
        valLoss,
        evalBatches: k.config.evalBatches,
      };
    } finally {
      workers?.terminate();
      k.free();
    }
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

// Generation speed of an (untrained) model: speed does not depend on the weights. The first
// generate() call on a fresh page is timed on its own (`cold`: the wasm engine has not yet
// optimised the generation code, as when a person first presses Generate); then `runs` more
// calls, whose medians are the warm figures. Each call is timed from generate() to the first
// token and to the last; tokensPerSecond = tokens / total time (first token included, as the
// native bench counts it); steady = the tokens after the first over the time after the first.
// `profile`: the cold call runs under the DevTools profiler (console.profile).
async function generate({ text, options, prompt = 'ROMEO:', maxTokens = 500, runs = 3, profile = false }) {
  try {
    const { k } = await createModel(text, options);
    try {
      const once = async (seed) => {
        const start = performance.now();
        const stream = k.generate(prompt, { maxTokens, temperature: 0.8, seed });
        let first = null;
        let count = 0;
        try {
          for (;;) {
            const { done } = await stream.next();
            if (done) break;
            count++;
            if (first === null) first = performance.now() - start;
          }
        } finally {
          stream.free();
        }
        const total = performance.now() - start;
        return {
          tokens: count,
          firstTokenMs: first,
          totalMs: total,
          tokensPerSecond: (count * 1000) / total,
          steadyTokensPerSecond: count > 1 ? ((count - 1) * 1000) / (total - first) : null,
        };
      };
      if (profile) console.profile('timed');
      const cold = await once(7);
      if (profile) console.profileEnd('timed');
      const results = [];
      for (let i = 0; i < runs; i++) results.push(await once(1 + i));
      return {
        ok: true,
        ...describe(k),
        prompt,
        maxTokens,
        runs,
        tokens: results[0].tokens,
        cold,
        coldFirstTokenMs: cold.firstTokenMs,
        coldTokensPerSecond: cold.tokensPerSecond,
        firstTokenMs: median(results.map((r) => r.firstTokenMs)),
        tokensPerSecond: median(results.map((r) => r.tokensPerSecond)),
        steadyTokensPerSecond: median(results.map((r) => r.steadyTokensPerSecond)),
        perRun: results,
      };
    } finally {
      k.free();
    }
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

// What one WebGPU training step and one generated token cost in GPU calls (see gpu-calls.js),
// beside their time: model creation; the first step (its shader compilations); `steps` single
// trainSteps(1) calls after `warmup` steps (the first included); one trainSteps(steps) chunk
// (one loss read-back for the whole chunk); `tokens` generated tokens after the second (the
// first, the whole prompt at once, and the second, the first single position, compile the
// inference kernels: each is measured on its own). The single steps and the tokens after the
// second also keep their calls in order (`trace`: kernel names, [submit], [write], [readback]).
async function gpuCounts({ text, options, warmup = 2, steps = 5, tokens = 20 }) {
  if (!countingGpu) return { ok: false, error: 'open the page with ?count-gpu to count WebGPU calls' };
  try {
    const measure = async (work, per = 1) => {
      const before = gpuCalls();
      const start = performance.now();
      await work();
      const ms = (performance.now() - start) / per;
      return { ms, ...gpuCallsBetween(before, gpuCalls(), per) };
    };
    let k = null;
    const create = await measure(async () => {
      ({ k } = await createModel(text, { evalInterval: 0, ...options }));
    });
    try {
      const firstStep = await measure(() => k.trainSteps(1));
      for (let i = 1; i < warmup; i++) await k.trainSteps(1);
      startTrace();
      const single = await measure(async () => {
        for (let i = 0; i < steps; i++) await k.trainSteps(1);
      }, steps);
      single.trace = stopTrace();
      const chunk = await measure(() => k.trainSteps(steps), steps);
      const stream = k.generate('ROMEO:', { maxTokens: tokens + 2, temperature: 0.8, seed: 1 });
      let generated = 0;
      let token = null;
      try {
        const firstToken = await measure(() => stream.next());
        const secondToken = await measure(() => stream.next());
        startTrace();
        token = await measure(async () => {
          while (!(await stream.next()).done) generated++;
        }, tokens);
        token.trace = stopTrace();
        Object.assign(token, { firstToken, secondToken });
      } finally {
        stream.free();
      }
      return { ok: true, ...describe(k), create, firstStep, single, chunk, steps, token, tokens: generated };
    } finally {
      k.free();
    }
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

// What WebGPU adapter Chromium offers (SwiftShader, a CPU emulating a GPU, on GPU-less machines).
async function gpuInfo() {
  if (!navigator.gpu) return { ok: false, error: 'navigator.gpu is undefined (no WebGPU in this browser)' };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { ok: false, error: 'navigator.gpu.requestAdapter() found no adapter' };
    const info = adapter.info ?? {};
    return {
      ok: true,
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter,
    };
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

// Inspection speed: `runs` timed inspect() calls over the first `tokens` characters of the
// text (after one untimed call), the whole result read into JS (Float32Arrays included).
async function inspect({ text, options, tokens = 64, runs = 5 }) {
  try {
    const { k } = await createModel(text, options);
    try {
      const sample = [...text].slice(0, tokens).join('');
      const once = async () => {
        const start = performance.now();
        const inspection = await k.inspect(sample);
        return { ms: performance.now() - start, inspection };
      };
      const cold = await once();
      const times = [];
      for (let i = 0; i < runs; i++) times.push((await once()).ms);
      const floats = ['attention', 'hidden', 'cell', 'gates', 'embedding', 'nextLogits'].reduce(
        (sum, key) => sum + (cold.inspection[key]?.values.length ?? 0),
        0,
      );
      return {
        ok: true,
        ...describe(k),
        tokens: cold.inspection.tokens.length,
        coldMs: cold.ms,
        ms: median(times),
        perRun: times,
        floats,
      };
    } finally {
      k.free();
    }
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

// Tokenizer cost: `runs` timed Kindling.validate calls with byte-level BPE of `merges`
// merges over `chars` characters of the text (it learns the merges, encodes the text and
// sizes the model), against the same with characters.
function tokenizer({ text, chars = 1_000_000, merges = 512, runs = 3 }) {
  try {
    const sample = text.slice(0, chars);
    const time = (options) => {
      const times = [];
      let report;
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        report = Kindling.validate({ text: sample, ...options });
        times.push(performance.now() - start);
      }
      return { ms: median(times), vocabSize: report.vocabSize, charsPerToken: report.charsPerToken, ok: report.ok };
    };
    return { ok: true, chars: sample.length, merges, bpe: time({ tokenizer: 'bpe', merges }), char: time({}) };
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

// Which WebAssembly SIMD this browser runs: each probe is the smallest module using one
// instruction (as wasm-feature-detect does): v128.const for SIMD128, f32x4.relaxed_madd for
// relaxed SIMD.
function wasmFeatures() {
  const module = (body) => {
    const code = [0x00, ...body, 0x0b]; // no locals, the body, end
    return new Uint8Array([
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00, // magic, version 1
      0x01,
      0x05,
      0x01,
      0x60,
      0x00,
      0x01,
      0x7b, // one type: () -> v128
      0x03,
      0x02,
      0x01,
      0x00, // one function of that type
      0x0a,
      code.length + 2,
      0x01,
      code.length,
      ...code, // its code
    ]);
  };
  const v128 = [0xfd, 0x0c, ...new Array(16).fill(0)]; // v128.const 0
  return {
    simd128: WebAssembly.validate(module(v128)),
    relaxedSimd: WebAssembly.validate(module([...v128, ...v128, ...v128, 0xfd, 0x85, 0x02])),
  };
}

window.bench = { train, trainFull, generate, inspect, tokenizer, gpuCounts, gpuInfo, wasmFeatures };
window.benchReady = (async () => {
  try {
    Kindling = await loadKindling();
    // performance.now() counts from the navigation's start: this is navigation -> engine ready.
    const readyMs = performance.now();
    const nav = performance.getEntriesByType('navigation')[0];
    const wasm = performance.getEntriesByType('resource').find((entry) => entry.name.endsWith('.wasm'));
    return {
      ok: true,
      readyMs,
      domContentLoadedMs: nav ? nav.domContentLoadedEventEnd : null,
      wasmFetchedMs: wasm ? wasm.responseEnd : null,
      webgpu: typeof navigator.gpu !== 'undefined',
      userAgent: navigator.userAgent,
      crossOriginIsolated: self.crossOriginIsolated,
    };
  } catch (error) {
    return { ok: false, error: message(error) };
  }
})();

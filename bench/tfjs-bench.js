// TF.js side of the LSTM comparison (scripts/bench.sh, part b): the same char-level model as
// Kindling's `lstm` (embedding -> LSTM x2 with returnSequences -> dense to the vocabulary,
// softmax cross-entropy, Adam), trained step by step with optimizer.minimize on the backend
// asked for ('wasm' or 'cpu'). Each step reads the loss back, as Kindling's trainSteps(1) does.
/* global tf */

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

// mulberry32: a seeded generator so both runs of a page draw the same windows.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Character-level ids over Unicode scalar values, vocabulary sorted, first 90% for training
// (the split Kindling and nanoGPT use).
function encode(text) {
  const chars = [...new Set(Array.from(text))].sort((a, b) => a.codePointAt(0) - b.codePointAt(0));
  const index = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(Array.from(text), (c) => index.get(c));
  return { vocab: chars.length, train: ids.subarray(0, Math.floor(ids.length * 0.9)) };
}

async function lstm({
  text,
  backend,
  warmup = 3,
  iters = 20,
  embd = 128,
  hidden = 128,
  layers = 2,
  batch = 64,
  seq = 64,
  learningRate = 1e-3,
  seed = 1,
}) {
  try {
    if (backend === 'wasm') {
      tf.wasm.setWasmPaths(new URL('node_modules/@tensorflow/tfjs-backend-wasm/dist/', location.href).href);
    }
    if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start the ${backend} backend`);
    await tf.ready();
    const { vocab, train } = encode(text);
    const random = rng(seed);
    const model = tf.sequential();
    // The embedding is a bias-free dense layer on one-hot inputs: the same function and the
    // same gradient as a lookup, but TF.js-wasm has no kernel for the lookup's gradient
    // (UnsortedSegmentSum). The one-hot matmul is ~1% of the step's arithmetic.
    model.add(tf.layers.dense({ units: embd, useBias: false, inputShape: [seq, vocab] }));
    for (let i = 0; i < layers; i++) {
      // TF.js defaults to hardSigmoid gates; burn's (Kindling's) LSTM uses the logistic sigmoid.
      model.add(tf.layers.lstm({ units: hidden, returnSequences: true, recurrentActivation: 'sigmoid' }));
    }
    model.add(tf.layers.dense({ units: vocab }));
    const optimizer = tf.train.adam(learningRate, 0.9, 0.999, 1e-8);

    const nextBatch = () => {
      const x = new Int32Array(batch * seq);
      const y = new Int32Array(batch * seq);
      for (let b = 0; b < batch; b++) {
        const start = Math.floor(random() * (train.length - seq));
        x.set(train.subarray(start, start + seq), b * seq);
        y.set(train.subarray(start + 1, start + seq + 1), b * seq);
      }
      return [tf.tensor2d(x, [batch, seq], 'int32'), tf.tensor1d(y, 'int32')];
    };
    const step = async () => {
      const [x, y] = nextBatch();
      const loss = optimizer.minimize(() => {
        const logits = model.apply(tf.oneHot(x, vocab).toFloat(), { training: true }).reshape([batch * seq, vocab]);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y, vocab).toFloat(), logits);
      }, true);
      const value = (await loss.data())[0];
      tf.dispose([x, y, loss]);
      return value;
    };

    const warmupMs = [];
    let lastLoss = NaN;
    for (let i = 0; i < warmup; i++) {
      const start = performance.now();
      lastLoss = await step();
      warmupMs.push(performance.now() - start);
    }
    const tensorsAfterWarmup = tf.memory().numTensors;
    const times = [];
    for (let i = 0; i < iters; i++) {
      const start = performance.now();
      lastLoss = await step();
      times.push(performance.now() - start);
    }
    const msPerStepMedian = median(times);
    const result = {
      ok: true,
      backend: tf.getBackend(),
      tfjsVersion: tf.version.tfjs,
      parameterCount: model.countParams(),
      vocabSize: vocab,
      shape: { embd, hidden, layers, batch, seq, learningRate },
      warmup,
      iters,
      firstStepMs: warmupMs[0] ?? times[0],
      msPerStepMedian,
      msPerStepMean: mean(times),
      tokensPerSecond: (batch * seq * 1000) / msPerStepMedian,
      lastTrainLoss: lastLoss,
      leakedTensors: tf.memory().numTensors - tensorsAfterWarmup,
    };
    if (backend === 'wasm') {
      result.wasmSimd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      result.wasmThreads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      result.crossOriginIsolated = self.crossOriginIsolated;
    }
    model.dispose();
    optimizer.dispose();
    return result;
  } catch (error) {
    return { ok: false, error: error?.message || String(error) };
  }
}

window.tfBench = { lstm };
window.tfBenchReady = Promise.resolve({ ok: typeof tf !== 'undefined', tfjsVersion: tf?.version?.tfjs });

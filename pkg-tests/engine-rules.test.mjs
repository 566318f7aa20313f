// The engine worker's pure rules, in Node: how many steps each chunk asks for (worker/chunk-size.js)
// and 'auto''s choice between the CPU and WebGPU once both are measured (worker/backends.js).
// The worker applies them in a browser: workers.test.mjs and webgpu.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK_MS, CHUNK_MS_WHILE_GENERATING, MAX_CHUNK_STEPS, nextChunkSize } from '../www/worker/chunk-size.js';
import { decide, shapeKey } from '../www/worker/backends.js';

test('a chunk grows gently towards CHUNK_MS of steps and shrinks at once', () => {
  // 10 steps in 20 ms: 40 would fill CHUNK_MS, but a chunk at most doubles.
  assert.equal(nextChunkSize(10, 20, false), 20);
  assert.equal(nextChunkSize(10, (10 * CHUNK_MS) / 15, false), 15);
  // 10 steps in 400 ms: 2 fill CHUNK_MS, at once.
  assert.equal(nextChunkSize(10, 400, false), 2);
  assert.equal(nextChunkSize(1, 5_000, false), 1, 'never below one step');
  assert.equal(nextChunkSize(8_000, 1, false), MAX_CHUNK_STEPS);
  assert.equal(nextChunkSize(10, 0, false), 20, 'a chunk timed at 0 ms still only doubles');
});

test('a generation interleaving with training shortens the chunks', () => {
  const steps = 40;
  const elapsedMs = steps; // 1 ms a step
  assert.equal(nextChunkSize(steps, elapsedMs, true), CHUNK_MS_WHILE_GENERATING);
  assert.equal(nextChunkSize(steps, elapsedMs, false), Math.min(CHUNK_MS, 2 * steps));
});

test("'auto' moves to WebGPU only when it is faster by the margin a move costs", () => {
  assert.equal(decide({ cpuMs: 100, gpuMs: 50 }).backend, 'webgpu');
  assert.equal(decide({ cpuMs: 100, gpuMs: 95 }).backend, 'cpu', 'within the margin: not worth a move');
  assert.equal(decide({ cpuMs: 100, gpuMs: 150 }).backend, 'cpu');
  assert.equal(
    decide({ cpuMs: 120, gpuMs: 40, workers: 2 }).notice,
    'WebGPU 40.0 ms/step, CPU with 1 helper 120 ms/step: training on WebGPU',
  );
  assert.equal(
    decide({ cpuMs: 30.25, gpuMs: 80, workers: 3 }).notice,
    'WebGPU 80.0 ms/step, CPU with 2 helpers 30.3 ms/step: training on the CPU',
  );
});

test('models of the same shape share a choice; another shape, batch or vocabulary does not', () => {
  const config = { model: 'gpt', nLayer: 2, nHead: 2, nEmbd: 64, hiddenSize: 128, blockSize: 64, batchSize: 16 };
  const key = shapeKey({ config: /** @type {any} */ ({ ...config, learningRate: 1e-3 }), vocabSize: 65 });
  assert.equal(shapeKey({ config: /** @type {any} */ ({ ...config, learningRate: 3e-3 }), vocabSize: 65 }), key);
  assert.notEqual(shapeKey({ config: /** @type {any} */ ({ ...config, batchSize: 8 }), vocabSize: 65 }), key);
  assert.notEqual(shapeKey({ config: /** @type {any} */ (config), vocabSize: 66 }), key);
});

// How many workers 'auto' trains with (www/worker/helper-count.js), in Node: the decision on measured
// ms per step, the cap, the search fed chunk by chunk, and the badge's note. (In a browser, with
// timings injected: workers.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GAIN,
  MAX_WORKERS,
  MEASURED_CHUNKS,
  MEASURED_STEPS,
  WARMUP_CHUNKS,
  WARMUP_STEPS,
  WorkerSearch,
  nextWorkers,
  timingsNote,
  workerCap,
} from '../www/worker/helper-count.js';

test('the core count and the batch cap the search; an unknown core count does not', () => {
  assert.equal(MAX_WORKERS, 4);
  assert.equal(workerCap({ cores: 16, batchSize: 64 }), 4);
  assert.equal(workerCap({ cores: 2, batchSize: 64 }), 2);
  assert.equal(workerCap({ cores: 1, batchSize: 64 }), 1);
  assert.equal(workerCap({ cores: 8, batchSize: 3 }), 3, 'a batch of 3 rows splits among 3 workers at most');
  assert.equal(workerCap({ cores: 8, batchSize: 1 }), 1);
  assert.equal(workerCap({ cores: undefined, batchSize: 16 }), 4);
});

test('one more worker is tried while each pays by GAIN, up to the cap', () => {
  assert.deepEqual(nextWorkers({ timings: { 1: 17.3 }, current: 1, cap: 4 }), { action: 'try', workers: 2 });
  assert.deepEqual(nextWorkers({ timings: { 1: 17.3, 2: 10.1 }, current: 2, cap: 4 }), { action: 'try', workers: 3 });
  assert.deepEqual(nextWorkers({ timings: { 1: 17.3, 2: 10.1 }, current: 2, cap: 2 }), {
    action: 'settle',
    workers: 2,
  });
  assert.deepEqual(nextWorkers({ timings: { 1: 17.3 }, current: 1, cap: 1 }), { action: 'settle', workers: 1 });
  // Exactly GAIN faster pays; a hair less does not.
  assert.equal(GAIN, 0.15);
  assert.deepEqual(nextWorkers({ timings: { 1: 20, 2: 17 }, current: 2, cap: 4 }), { action: 'try', workers: 3 });
  assert.deepEqual(nextWorkers({ timings: { 1: 20, 2: 17.01 }, current: 2, cap: 4 }), { action: 'settle', workers: 1 });
});

test('the search settles on the count before the first that does not pay', () => {
  assert.deepEqual(nextWorkers({ timings: { 1: 17.3, 2: 10.1, 3: 14 }, current: 3, cap: 4 }), {
    action: 'settle',
    workers: 2,
  });
  // Slower with a helper (WebKit on 2 cores reporting 4): one worker.
  assert.deepEqual(nextWorkers({ timings: { 1: 13, 2: 30 }, current: 2, cap: 4 }), { action: 'settle', workers: 1 });
  // Settled, a fresh measure that still pays keeps the count, and never tries one more.
  assert.deepEqual(nextWorkers({ timings: { 1: 17.3, 2: 10.4, 3: 14 }, current: 2, cap: 4, settled: true }), {
    action: 'settle',
    workers: 2,
  });
  assert.deepEqual(nextWorkers({ timings: { 1: 17.3, 2: 10.4 }, current: 2, cap: 4, settled: true }), {
    action: 'settle',
    workers: 2,
  });
  assert.deepEqual(nextWorkers({ timings: { 1: 17.3 }, current: 1, cap: 4, settled: true }), {
    action: 'settle',
    workers: 1,
  });
});

test('a settled count that stops paying drops back one worker', () => {
  assert.deepEqual(nextWorkers({ timings: { 1: 17.3, 2: 16.9, 3: 14 }, current: 2, cap: 4, settled: true }), {
    action: 'drop',
    workers: 1,
  });
  assert.deepEqual(nextWorkers({ timings: { 1: 40, 2: 20, 3: 19, 4: 18 }, current: 3, cap: 4, settled: true }), {
    action: 'drop',
    workers: 2,
  });
});

// Feeds `search` chunks of 10 steps at `msPerStep` until its count or its settling changes;
// returns how many chunks that took.
function feed(search, msPerStep, { cold = false } = {}) {
  const before = [search.workers, search.settled];
  for (let chunk = 1; chunk <= 100; chunk++) {
    search.record({ steps: 10, ms: 10 * msPerStep(search.workers), cold: cold && chunk === 1, usable: true });
    if (search.workers !== before[0] || search.settled !== before[1]) return chunk;
  }
  return Infinity;
}

test('the search measures steady chunks, leaving out the warm-up after each change', () => {
  const search = new WorkerSearch(4);
  const ms = (workers) => ({ 1: 17.3, 2: 10.1, 3: 7.9, 4: 7.5 })[workers];
  assert.equal(search.workers, 1);
  assert.equal(search.note, undefined, 'nothing measured yet');
  assert.equal(feed(search, ms), WARMUP_CHUNKS + MEASURED_CHUNKS);
  assert.deepEqual([search.workers, search.settled], [2, false]);
  assert.equal(search.note, '1 worker 17 ms/step → trying 2');
  // The helper's first chunk is cold (it loads the engine); that one and the next are left out.
  assert.equal(feed(search, ms, { cold: true }), WARMUP_CHUNKS + MEASURED_CHUNKS);
  assert.equal(feed(search, ms, { cold: true }), WARMUP_CHUNKS + MEASURED_CHUNKS);
  assert.equal(search.workers, 4);
  assert.equal(feed(search, ms, { cold: true }), WARMUP_CHUNKS + MEASURED_CHUNKS);
  assert.deepEqual([search.workers, search.settled], [3, true], '4 workers gained 5%');
  assert.equal(
    search.note,
    '1 worker 17 ms/step · 2 workers 10 ms/step · 3 workers 7.9 ms/step · 4 workers 7.5 ms/step → 3',
  );
});

test('unusable chunks are left out, a cold one restarts the warm-up', () => {
  const search = new WorkerSearch(2);
  for (let i = 0; i < WARMUP_CHUNKS + MEASURED_CHUNKS - 1; i++)
    search.record({ steps: 10, ms: 100, cold: false, usable: true });
  // An evaluation inside a chunk: not a step's time.
  search.record({ steps: 10, ms: 900, cold: false, usable: false });
  assert.equal(search.workers, 1);
  search.record({ steps: 10, ms: 100, cold: false, usable: true });
  assert.equal(search.workers, 2);
  assert.equal(search.timings[1], 10);
  // Helpers restarted mid-measure (the model moved back from WebGPU): the warm-up again.
  search.record({ steps: 10, ms: 50, cold: false, usable: true });
  search.record({ steps: 10, ms: 5000, cold: true, usable: true });
  for (let i = 0; i < WARMUP_CHUNKS - 1; i++) search.record({ steps: 10, ms: 5000, cold: false, usable: true });
  for (let i = 0; i < MEASURED_CHUNKS; i++) search.record({ steps: 10, ms: 50, cold: false, usable: true });
  assert.deepEqual([search.workers, search.settled, search.timings[2]], [2, true, 5]);
});

test('one-step chunks: the warm-up and the measure count steps, so a helper slow at first still pays', () => {
  const search = new WorkerSearch(2);
  // 2 × 64 GPT in Chromium, one step a chunk: one worker 46–50 ms; a new helper's cold step,
  // four slow ones, then 31–41 ms (bench figures, one worker measured first).
  const alone = [48, 50, 48, 46, 48, 55, 48, 47];
  const helped = [163, 54, 59, 70, 33, 39, 32, 46, 39, 31, 41, 33, 35, 41, 31, 43, 36, 32, 43, 33, 31, 37, 36, 30];
  let chunks = 0;
  while (search.workers === 1 && chunks < 100) {
    search.record({ steps: 1, ms: alone[chunks % alone.length], cold: false, usable: true });
    chunks += 1;
  }
  assert.equal(chunks, WARMUP_STEPS + MEASURED_STEPS, 'steps, not chunks, bound the windows');
  helped.forEach((ms, i) => search.record({ steps: 1, ms, cold: i === 0, usable: true }));
  assert.deepEqual([search.workers, search.settled], [2, true]);
  assert.ok(search.timings[2] < 40, `the slow first steps are left out: ${search.timings[2]}`);
});

test('the settled count is measured again and again; one that stops paying is dropped', () => {
  const search = new WorkerSearch(4);
  let ms = (workers) => ({ 1: 40, 2: 20, 3: 12, 4: 11 })[workers];
  while (!search.settled) feed(search, ms);
  assert.equal(search.workers, 3);
  // Still paying: a fresh measure every MEASURED_CHUNKS chunks, no warm-up, no change.
  assert.equal(feed(search, ms), Infinity);
  assert.equal(search.workers, 3);
  // The tab lost its cores: 3 workers now no faster than 2 (within two measures: the one under
  // way may hold chunks from before).
  ms = (workers) => ({ 1: 40, 2: 20, 3: 19, 4: 11 })[workers];
  assert.ok(feed(search, ms) <= 2 * MEASURED_CHUNKS);
  assert.deepEqual([search.workers, search.settled], [2, true]);
  assert.equal(
    search.note,
    '1 worker 40 ms/step · 2 workers 20 ms/step · 3 workers 19 ms/step · 4 workers 11 ms/step → 2',
  );
  // 2 still pays against 1: it stays, and 3 is not tried again.
  assert.equal(feed(search, ms), Infinity);
  assert.equal(search.workers, 2);
});

test('a drop is checked against a fresh measure of the fewer workers: a run slowed as a whole keeps its helper', () => {
  const search = new WorkerSearch(2);
  let ms = (workers) => ({ 1: 40, 2: 20 })[workers];
  while (!search.settled) feed(search, ms);
  assert.equal(search.workers, 2);
  // Every step now takes 1.8 times as long: 2 workers' 36 ms is under 15 % faster than 1
  // worker's old 40, so the helper is dropped; 1 worker's own fresh measure, 72, shows it paid.
  ms = (workers) => ({ 1: 72, 2: 36 })[workers];
  assert.ok(feed(search, ms) <= 2 * MEASURED_CHUNKS);
  assert.deepEqual([search.workers, search.settled], [1, true]);
  assert.ok(feed(search, ms) <= WARMUP_CHUNKS + MEASURED_CHUNKS);
  assert.deepEqual([search.workers, search.settled], [2, true]);
  assert.equal(search.note, '1 worker 72 ms/step · 2 workers 36 ms/step → 2');
  assert.equal(feed(search, ms), Infinity, 'and it stays there');
  // A helper that really stopped paying stays dropped: 1 worker's fresh measure confirms it.
  ms = (workers) => ({ 1: 72, 2: 70 })[workers];
  assert.ok(feed(search, ms) <= 2 * MEASURED_CHUNKS);
  assert.equal(search.workers, 1);
  assert.equal(feed(search, ms), Infinity);
  assert.equal(search.workers, 1);
});

test('helpers that do not pay leave one worker', () => {
  const search = new WorkerSearch(4);
  const ms = (workers) => ({ 1: 13.4, 2: 44.7 })[workers];
  while (!search.settled) feed(search, ms);
  assert.equal(search.workers, 1);
  assert.equal(search.note, '1 worker 13 ms/step · 2 workers 45 ms/step → 1');
  assert.equal(feed(search, ms), Infinity, 'and it stays there');
});

test('the note names each count measured, singular for one worker', () => {
  assert.equal(timingsNote({}, 1, false), undefined);
  assert.equal(
    timingsNote({ 1: 17.3, 2: 10.1, 3: 14 }, 2, true),
    '1 worker 17 ms/step · 2 workers 10 ms/step · 3 workers 14 ms/step → 2',
  );
  assert.equal(timingsNote({ 1: 121.4, 2: 4.56 }, 2, false), '1 worker 121 ms/step · 2 workers 4.6 ms/step → trying 2');
});

test("a run too short to repay a helper's start never tries one", () => {
  // 150 steps at 18 ms: 2.7 s left, under MIN_REMAINING_MS.
  assert.deepEqual(nextWorkers({ timings: { 1: 18 }, current: 1, cap: 4, remainingSteps: 150 }), {
    action: 'settle',
    workers: 1,
  });
  assert.deepEqual(nextWorkers({ timings: { 1: 18 }, current: 1, cap: 4, remainingSteps: 10_000 }), {
    action: 'try',
    workers: 2,
  });
  // A settled count that stopped paying still drops, however little is left.
  assert.deepEqual(nextWorkers({ timings: { 1: 18, 2: 19 }, current: 2, cap: 4, settled: true, remainingSteps: 10 }), {
    action: 'drop',
    workers: 1,
  });
});

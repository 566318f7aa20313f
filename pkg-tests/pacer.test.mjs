// The generation's pace (www/playground/pacer.js), in Node: the tokens the display is given
// per frame at each pace, on a clock and frames the test moves by hand. (The playground's
// Pace control in a browser: pace.test.mjs.)
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Pacer, READABLE_PER_SECOND } from '../www/playground/pacer.js';

// Frames run only when the test says so; a test is synchronous, so the pacer's 100 ms
// fallback timer never fires before the test drops it.
let clock = 0;
let frames = new Map();
let lastFrame = 0;
performance.now = () => clock;
globalThis.requestAnimationFrame = (callback) => {
  frames.set(++lastFrame, callback);
  return lastFrame;
};
globalThis.cancelAnimationFrame = (id) => frames.delete(id);

function frame(ms = 1000 / 60) {
  clock += ms;
  const due = [...frames.values()];
  frames = new Map();
  for (const callback of due) callback();
}

const token = (i) => ({ text: String.fromCharCode(97 + (i % 26)), id: i, prob: 0.5, top: [] });

// A pacer at `pace`, with `count` tokens queued and what it has shown so far.
function pacerWith(pace, count = 0) {
  const shown = [];
  const pacer = new Pacer((tokens) => shown.push(...tokens));
  pacer.setPace(pace);
  for (let i = 0; i < count; i++) pacer.push(token(i));
  return { pacer, shown };
}

beforeEach(() => {
  clock = 1000;
  frames = new Map();
});

test('readable shows READABLE_PER_SECOND tokens a second however fast they came', () => {
  const { pacer, shown } = pacerWith('readable', 300);
  assert.equal(shown.length, 0, 'nothing before a frame');
  frame();
  assert.equal(shown.length, 1, 'the first token at the first frame');
  for (let i = 0; i < 120; i++) frame(); // two seconds at 60 frames a second
  assert.ok(Math.abs(shown.length - 1 - 2 * READABLE_PER_SECOND) <= 1, `${shown.length} tokens in 2 s`);
  assert.deepEqual(
    shown.map((t) => t.id),
    [...shown.keys()],
    'in order',
  );
  pacer.drop();
});

test('readable catches up after a stall, and does not burst after waiting for the engine', () => {
  const { pacer, shown } = pacerWith('readable', 300);
  frame();
  frame(1000); // a background tab: no frame for a second
  assert.ok(Math.abs(shown.length - 1 - READABLE_PER_SECOND) <= 1, `${shown.length} after the stall`);
  while (pacer.queued) frame();
  const before = shown.length;
  clock += 5000; // the engine is slow: the queue stays empty for five seconds
  for (let i = 0; i < 10; i++) pacer.push(token(i));
  frame();
  assert.equal(shown.length, before + 1, 'one token, not five seconds of them');
  pacer.drop();
});

test('step shows one token per step, now or as soon as it arrives', () => {
  const { pacer, shown } = pacerWith('step', 2);
  for (let i = 0; i < 10; i++) frame();
  assert.equal(shown.length, 0, 'frames show nothing');
  pacer.step();
  assert.equal(shown.length, 1);
  pacer.step();
  pacer.step(); // the queue is empty: the next token shows when it arrives
  assert.equal(shown.length, 2);
  pacer.push(token(2));
  pacer.push(token(3));
  assert.equal(shown.length, 3, 'the step owed, and no more');
  assert.equal(pacer.queued, 1);
});

test('instant shows every token received at the next frame', () => {
  const { pacer, shown } = pacerWith('instant', 250);
  frame();
  assert.equal(shown.length, 250);
  pacer.push(token(0));
  frame();
  assert.equal(shown.length, 251);
});

test('a new pace takes effect at once: instant shows the queue, step holds it', () => {
  const { pacer, shown } = pacerWith('readable', 300);
  frame();
  pacer.setPace('step');
  for (let i = 0; i < 10; i++) frame();
  assert.equal(shown.length, 1, 'step holds the queue');
  pacer.setPace('instant');
  assert.equal(shown.length, 300, 'instant shows it all, without waiting for a frame');
  assert.equal(pacer.queued, 0);
});

test('drop forgets the queue and its frames, also from inside show()', () => {
  const { pacer, shown } = pacerWith('readable', 50);
  pacer.drop();
  for (let i = 0; i < 10; i++) frame();
  assert.equal(shown.length, 0);
  let calls = 0;
  const ending = new Pacer(() => {
    calls++;
    ending.drop(); // the generation ends on this token
  });
  ending.setPace('instant');
  for (let i = 0; i < 5; i++) ending.push(token(i));
  frame();
  frame();
  assert.equal(calls, 1);
  assert.equal(ending.queued, 0);
});

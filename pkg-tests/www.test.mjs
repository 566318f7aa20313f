// The page's pure helpers, in Node: no browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as format from '../www/format.js';
import { SAMPLES } from '../www/samples.js';
import { FEATURES, pearson, findNeurons } from '../www/playground/inspect/features.js';

test('numbers are formatted for people', () => {
  assert.equal(format.compact(950), '950');
  assert.equal(format.compact(7300), '7.3k');
  assert.equal(format.compact(25_000), '25k');
  assert.equal(format.compact(1_234_567), '1.2M');
  assert.equal(format.compact(undefined), '—');
  assert.equal(format.bytes(512), '512 B');
  assert.equal(format.bytes(395 * 1024), '395 KiB');
  assert.equal(format.bytes(3.5 * 1024 * 1024), '3.5 MiB');
  assert.equal(format.bytes(1.25 * 1024 ** 3), '1.3 GiB');
  assert.equal(format.loss(1.23456), '1.235');
  assert.equal(format.percent(0.4213), '42%');
  assert.equal(format.percent(0.0123), '1.2%');
  assert.equal(format.duration(42.2), '43 s');
  assert.equal(format.duration(125), '2 min 5 s');
  assert.equal(format.duration(Infinity), '—');
});

test('characters are counted as code points', () => {
  assert.equal(format.codePoints('abc'), 3);
  assert.equal(format.codePoints('a🦊b'), 3);
  assert.equal(format.codePoints(''), 0);
});

test('invisible tokens are shown with symbols', () => {
  assert.equal(format.visibleToken(' \n\t'), '␣⏎⇥');
  assert.equal(format.visibleToken(''), '∅');
});

test('generated samples are the same every time and long enough to train on', async () => {
  for (const sample of SAMPLES.filter((s) => s.generated)) {
    const text = await sample.load();
    assert.equal(text, await sample.load(), `${sample.id} is deterministic`);
    assert.ok(text.length > 5000, `${sample.id} has ${text.length} characters`);
    assert.ok(new Set(text).size > 10, `${sample.id} has a vocabulary`);
  }
});

test('"find a neuron" features: where the text stands after each character', () => {
  const texts = [...'a "b" (c)\nde'];
  const feature = (id) => FEATURES.find((f) => f.id === id).values(texts);
  assert.deepEqual(feature('quoted'), [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0]);
  assert.deepEqual(feature('column'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);
  assert.deepEqual(feature('newline'), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  assert.deepEqual(FEATURES.find((f) => f.id === 'cjk').values([...'a猫 1の']), [0, 1, null, null, 1]);
});

test("Pearson's r, and the units that track a feature best", () => {
  assert.equal(pearson([1, 2, 3], [2, 4, 6]), 1);
  assert.equal(pearson([1, 2, 3], [3, 2, 1]), -1);
  assert.equal(pearson([1, null, 3], [0, 99, 1]), 1, 'positions without a value are left out');
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), null, 'a feature that never varies says nothing');
  // Two layers of three units over five characters: layer 2's unit 3 follows the quotes,
  // inverted; layer 1's unit 1 the position in the line.
  const texts = [...'x"ab"'];
  const [layers, T, units] = [2, 5, 3];
  const values = new Float32Array(layers * T * units).map((_, i) => Math.sin(i * 12.9898) * 0.1);
  texts.forEach((_, t) => {
    values[(1 * T + t) * units + 2] = [0, 1, 1, 1, 0][t] ? -0.8 : 0.5;
    values[t * units] = t / 10;
  });
  const found = Object.fromEntries(findNeurons({ dims: [layers, T, units], values }, texts).map((f) => [f.id, f]));
  assert.deepEqual(
    { ...found.quoted.units[0], r: Math.round(found.quoted.units[0].r * 100) / 100 },
    { layer: 1, unit: 2, r: -1 },
  );
  assert.deepEqual(
    { ...found.column.units[0], r: Math.round(found.column.units[0].r * 100) / 100 },
    { layer: 0, unit: 0, r: 1 },
  );
  assert.equal(found.quoted.units.length, 3);
  assert.equal(found.newline.units.length, 0);
  assert.match(found.newline.absent, /no line break/);
  assert.match(found.cjk.absent, /CJK/);
});

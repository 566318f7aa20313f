// The page's pure helpers, in Node: no browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as format from '../www/format.js';
import { SAMPLES } from '../www/samples.js';

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
  for (const sample of SAMPLES.filter((s) => s.id !== 'source')) {
    const text = await sample.load();
    assert.equal(text, await sample.load(), `${sample.id} is deterministic`);
    assert.ok(text.length > 5000, `${sample.id} has ${text.length} characters`);
    assert.ok(new Set(text).size > 10, `${sample.id} has a vocabulary`);
  }
});

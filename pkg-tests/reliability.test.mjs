// docs/reliability.md's catalogue against the tests it names (pure Node, no browser): every
// row names a test that exists in the file the row gives, and there are at least 60 rows, so
// the catalogue cannot drift from the tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './browser.mjs';

const MIN_ROWS = 60;
const DOC = readFileSync(join(REPO, 'docs', 'reliability.md'), 'utf8');

// The rows between <!-- reliability:begin --> and <!-- reliability:end -->, as
// { fault, test, file }; the header and its rule are left out.
function catalogue() {
  const begin = DOC.indexOf('<!-- reliability:begin -->');
  const end = DOC.indexOf('<!-- reliability:end -->');
  assert.ok(begin >= 0 && end > begin, 'docs/reliability.md has no reliability table');
  const rows = [];
  for (const line of DOC.slice(begin, end).split('\n')) {
    if (!line.startsWith('|') || /^\|[-| ]+\|$/.test(line) || line.startsWith('| Fault |')) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    assert.equal(cells.length, 5, `not five cells: ${line}`);
    const [fault, sees, kept, name, file] = cells;
    assert.ok(fault && sees && kept, `an empty cell: ${line}`);
    const test = name.match(/^`([^`]+)`$/)?.[1];
    assert.ok(test, `the test is not in backticks: ${line}`);
    rows.push({ fault, test, file });
  }
  return rows;
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// A Rust test is a `fn name(` (async or not, inside a proptest! block or not); a pkg-test a
// test('title', …) call (test("title", …) where the title has an apostrophe: Biome's quotes).
function defines(source, file, name) {
  if (file.endsWith('.rs')) return new RegExp(`^\\s*(async\\s+)?fn ${escapeRegExp(name)}\\s*\\(`, 'm').test(source);
  return source.includes(`test('${name}'`) || source.includes(`test("${name}"`);
}

test(`docs/reliability.md lists at least ${MIN_ROWS} faults`, () => {
  const rows = catalogue();
  assert.ok(rows.length >= MIN_ROWS, `${rows.length} rows`);
});

test('every test docs/reliability.md names exists in the file it gives', () => {
  const missing = [];
  for (const { test: name, file } of catalogue()) {
    assert.match(file, /^(tests\/.+\.rs|pkg-tests\/[\w-]+\.test\.mjs)$/, `not a test file: ${file}`);
    const path = join(REPO, file);
    if (!existsSync(path) || !defines(readFileSync(path, 'utf8'), file, name)) missing.push(`${file}: ${name}`);
  }
  assert.deepEqual(missing, []);
});

// scripts/server.mjs: MIME types, the strict CSP and cross-origin isolation headers, and
// no way out of the served folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startServer, CSP } from '../scripts/server.mjs';
import { REPO } from './browser.mjs';

let server;
let base;

before(async () => {
  server = await startServer({ port: 0, root: REPO, csp: true, coi: true });
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => server.close());

// fetch() would normalise "/../"; a raw request sends the path as written.
function get(path) {
  return new Promise((resolve, reject) => {
    request(`${base}${path}`, (response) => {
      response.resume();
      response.on('end', () => resolve(response));
    })
      .on('error', reject)
      .end();
  });
}

test('serves files with their MIME types and the security headers', async () => {
  const expected = {
    '/': 'text/html; charset=utf-8',
    '/www/kindling-playground.js': 'text/javascript; charset=utf-8',
    '/www/style.css': 'text/css; charset=utf-8',
    '/package.json': 'application/json; charset=utf-8',
  };
  for (const [path, type] of Object.entries(expected)) {
    const response = await get(path);
    assert.equal(response.statusCode, 200, path);
    assert.equal(response.headers['content-type'], type, path);
    assert.equal(response.headers['content-security-policy'], CSP);
    assert.equal(response.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(response.headers['cross-origin-embedder-policy'], 'require-corp');
  }
});

test('wasm is served as application/wasm', async () => {
  // pkg-tests/run.sh refuses to start without pkg/, so the file is there.
  const response = await get('/pkg/kindling_bg.wasm');
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['content-type'], 'application/wasm');
});

test('paths outside the root are not served', async () => {
  for (const path of [
    '/..%2f..%2fetc%2fpasswd',
    '/www/..%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/%E0%A4%A',
  ]) {
    assert.equal((await get(path)).statusCode, 404, path);
  }
});

test('the command line prints the URL it listens on', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['scripts/server.mjs', '--port', '0'], { cwd: REPO });
  const line = await new Promise((resolve) => child.stdout.once('data', (chunk) => resolve(String(chunk))));
  child.kill();
  assert.match(line, /^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
});

#!/usr/bin/env node
// @ts-check
// Zero-dependency static file server for Kindling's pages and browser tests.
//   node scripts/server.mjs [--port 8080] [--root .] [--csp] [--coi]
// --port 0 picks a free port. Prints "listening on http://127.0.0.1:PORT" once ready,
// which is what the tests wait for.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @type {Record<string, string>} */
const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.kindling': 'application/octet-stream',
};

// The strictest policy the playground must work under: no inline code, no other origin,
// and only the wasm compilation the engine needs.
export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
  "style-src 'self'; connect-src 'self'";

/**
 * @typedef {object} ServerOptions
 * @property {number} [port] 0: a free port
 * @property {string} [root] the directory served
 * @property {boolean} [csp] send the strict Content-Security-Policy
 * @property {boolean} [coi] send the cross-origin isolation headers
 * @property {string[]} [connect] other origins the CSP's connect-src allows
 */

/**
 * @param {string[]} argv the command line's arguments, after the script's path
 * @returns {{ port: number, root: string, csp: boolean, coi: boolean }}
 */
export function parseArgs(argv) {
  const options = { port: 8080, root: '.', csp: false, coi: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') options.port = Number(argv[++i]);
    else if (arg === '--root') options.root = argv[++i];
    else if (arg === '--csp') options.csp = true;
    else if (arg === '--coi') options.coi = true;
    else throw new Error(`unknown argument: ${arg}`);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new Error('--port needs a number from 0 to 65535');
  }
  return options;
}

// `connect`: origins besides the page's own that the page may reach (a compute peer's relay,
// ws://host:port), as a page that offers a peer lists them in its connect-src.
/**
 * @param {{ csp: boolean, coi: boolean, connect?: string[] }} options
 * @returns {Record<string, string>}
 */
function securityHeaders({ csp, coi, connect = [] }) {
  /** @type {Record<string, string>} */
  const headers = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };
  if (csp) headers['Content-Security-Policy'] = [CSP, ...connect].join(' ');
  if (coi) {
    headers['Cross-Origin-Opener-Policy'] = 'same-origin';
    headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
  }
  return headers;
}

// Maps a URL path to a file under root, or null when it would escape root.
/**
 * @param {string} root
 * @param {string} urlPath
 * @returns {string | null}
 */
function fileFor(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const path = resolve(join(root, decoded));
  return path === root || path.startsWith(root + sep) ? path : null;
}

/**
 * @param {string} path
 * @returns {Promise<{ path: string, size: number } | null>}
 */
async function findFile(path) {
  const info = await stat(path).catch(() => null);
  if (info?.isFile()) return { path, size: info.size };
  if (info?.isDirectory()) return findFile(join(path, 'index.html'));
  return null;
}

/**
 * @param {ServerOptions} [options]
 * @returns {Promise<import('node:http').Server>}
 */
export function startServer({ port = 0, root = '.', csp = false, coi = false, connect = [] } = {}) {
  const rootDir = resolve(root);
  const headers = securityHeaders({ csp, coi, connect });
  const server = createServer(async (req, res) => {
    /**
     * @param {number} status
     * @param {Record<string, string>} extra
     * @param {string} body
     */
    const send = (status, extra, body) => {
      res.writeHead(status, { ...headers, ...extra });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }, 'method not allowed\n');
    }
    const urlPath = new URL(/** @type {string} */ (req.url), 'http://localhost').pathname;
    const path = fileFor(rootDir, urlPath);
    const file = path && (await findFile(path));
    if (!file) return send(404, { 'Content-Type': 'text/plain' }, 'not found\n');
    const type = MIME_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': file.size });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file.path)
      .on('error', () => res.destroy())
      .pipe(res);
  });
  return new Promise((resolveListening, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListening(server));
  });
}

// The server the browser tests and benchmarks use (pkg-tests/browser.mjs, bench/browser.mjs):
// on a free port, closed with every connection it holds (a browser keeps them alive).
// Resolves to { url, close }.
/**
 * @param {Omit<ServerOptions, 'port'>} [options]
 * @returns {Promise<{ url: string, close: () => void }>}
 */
export async function serve(options = {}) {
  const server = await startServer({ ...options, port: 0 });
  return {
    url: `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const server = await startServer(parseArgs(process.argv.slice(2)));
    console.log(
      `listening on http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`,
    );
  } catch (error) {
    console.error(`server.mjs: ${/** @type {Error} */ (error).message}`);
    process.exit(2);
  }
}

// The npm package (the root package.json): its types and its tarball.
// - Types: the README's JS example type-checks with `tsc --noEmit --strict` against the built
//   pkg/kindling.d.ts; the declarations a page uses hold no `any`; and the misuses in
//   pkg-tests/types/misuse.ts fail to type-check, each on its own line. The same for the
//   element's hand-written declarations (www/types/*.d.ts) and pkg-tests/types/element-misuse.ts.
// - Tarball: `npm pack` holds the engine, its declarations, the element and LICENSE, and no
//   tests, sources or benchmarks; installed offline into a scratch app, its exports resolve in
//   Node and in TypeScript (pkg-tests/types/consumer.ts: the engine and the element), and a
//   page that includes node_modules/kindling/www/kindling-embed.js gets a <kindling-playground>
//   whose engine loads and trains, under the strict CSP, with every request answered from
//   node_modules.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, launchBrowser, foreignRequests } from './browser.mjs';
import { serve } from '../scripts/server.mjs';

const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const TYPES = join(REPO, 'pkg-tests', 'types');
const DTS = join(REPO, 'pkg', 'kindling.d.ts');
// The element's declarations, hand-written: the package's 'kindling/element' and 'kindling/embed'.
const ELEMENT_DTS = ['kindling-playground.d.ts', 'kindling-embed.d.ts'].map((name) => join(REPO, 'www', 'types', name));
const LONG = { timeout: 180_000 };

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: 'es2022',
    module: 'esnext',
    moduleResolution: 'bundler',
    lib: ['esnext', 'dom'],
    types: [],
    skipLibCheck: false,
  },
};

const scratch = [];
async function tempDir(prefix) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

// Type-checks `files` of `dir` with the repository's TypeScript, strictly, under `options`
// (added to TSCONFIG's). Resolves to { ok, output, errors: [{ file, line, text }] }.
async function typeCheck(dir, files, options = {}) {
  assert.ok(existsSync(TSC), 'no TypeScript in node_modules: run `npm ci` (it is a devDependency)');
  const config = { compilerOptions: { ...TSCONFIG.compilerOptions, ...options }, files };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
  const run = spawnSync(process.execPath, [TSC, '-p', dir, '--noEmit', '--strict', '--pretty', 'false'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.error, undefined, `tsc did not run: ${run.error?.message}`);
  const output = `${run.stdout}${run.stderr}`.trim();
  const errors = [...output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/gm)].map((m) => ({
    file: m[1],
    line: Number(m[2]),
    text: m[3],
  }));
  return { ok: run.status === 0, output, errors };
}

// A folder holding pkg/kindling.d.ts as the engine module './pkg/kindling.js' resolves to.
async function withDeclarations() {
  const dir = await tempDir('kindling-types-');
  await mkdir(join(dir, 'pkg'));
  await copyFile(DTS, join(dir, 'pkg', 'kindling.d.ts'));
  return dir;
}

// withDeclarations' folder, with the element's declarations in www/types/ (they import
// '../../pkg/kindling.js').
async function withElementDeclarations() {
  const dir = await withDeclarations();
  await mkdir(join(dir, 'www', 'types'), { recursive: true });
  for (const file of ELEMENT_DTS) await copyFile(file, join(dir, 'www', 'types', basename(file)));
  return dir;
}

// Type-checks pkg-tests/types/`name` in `dir`: it must fail on each line marked `// error:`
// (code, then the mark) and on no other line.
async function assertMisusesFail(dir, name) {
  const fixture = await readFile(join(TYPES, name), 'utf8');
  await writeFile(join(dir, name), fixture);
  const marked = fixture.split('\n').flatMap((line, i) => (/^\s*[^\s/].*\/\/ error:/.test(line) ? [i + 1] : [])); // code, then the mark
  assert.ok(marked.length >= 5, `${name} marks too few misuses`);
  const result = await typeCheck(dir, [name]);
  assert.equal(result.ok, false, `tsc accepted every misuse in pkg-tests/types/${name}`);
  assert.ok(result.errors.length > 0, `tsc failed without a type error:\n${result.output}`);
  const failed = [...new Set(result.errors.map((e) => e.line))].sort((a, b) => a - b);
  assert.deepEqual(failed, marked, `lines with type errors != lines marked "// error:"\n${result.output}`);
}

// The README's first ```js block that imports the engine.
async function readmeExample() {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const example = blocks.find((code) => /from '\.\/pkg\/kindling\.js'/.test(code));
  assert.ok(example, "the README has no ```js block importing './pkg/kindling.js'");
  return example;
}

// `source` with comments and the insides of string literals blanked to spaces (newlines kept,
// so offsets and line numbers stay those of the original).
function blankCommentsAndStrings(source) {
  let out = '';
  let i = 0;
  const blank = (text) => text.replace(/[^\n]/g, ' ');
  while (i < source.length) {
    const two = source.slice(i, i + 2);
    let end;
    if (two === '//') end = source.indexOf('\n', i) === -1 ? source.length : source.indexOf('\n', i);
    else if (two === '/*') end = source.indexOf('*/', i + 2) === -1 ? source.length : source.indexOf('*/', i + 2) + 2;
    else if (`"'\``.includes(source[i])) {
      const quote = source[i];
      let j = i + 1;
      while (j < source.length && source[j] !== quote) j += source[j] === '\\' ? 2 : 1;
      out += quote + blank(source.slice(i + 1, j)) + quote;
      i = j + 1;
      continue;
    }
    if (end === undefined) {
      out += source[i++];
      continue;
    }
    out += blank(source.slice(i, end));
    i = end;
  }
  return out;
}

// The declarations a page uses: kindling.d.ts without wasm-bindgen's plumbing (the InitOutput
// interface of raw wasm exports, init/initSync and their input types), comments and strings
// blanked. Fails if a piece of plumbing is not where it is expected, so a change of the
// generated file is noticed rather than silently checked less.
function publicDeclarations(dts) {
  let code = blankCommentsAndStrings(dts);
  const cut = (start, end, what) => {
    assert.ok(start >= 0 && end > start, `kindling.d.ts: no ${what} found`);
    code = code.slice(0, start) + code.slice(start, end).replace(/[^\n]/g, ' ') + code.slice(end);
  };
  const init = code.search(/^export interface InitOutput \{/m);
  let depth = 0;
  let close = -1;
  for (let i = code.indexOf('{', init); i < code.length && init >= 0; i++) {
    if (code[i] === '{') depth++;
    else if (code[i] === '}' && --depth === 0) {
      close = i + 1;
      break;
    }
  }
  cut(init, close, 'InitOutput interface');
  for (const [pattern, what] of [
    [/^export type InitInput = [^;]*;/m, 'InitInput type'],
    [/^export type SyncInitInput = [^;]*;/m, 'SyncInitInput type'],
    [/^export function initSync\([^;]*;/m, 'initSync declaration'],
    [/^export default function __wbg_init ?\([^;]*;/m, 'init (default export) declaration'],
  ]) {
    const match = code.match(pattern);
    cut(match?.index ?? -1, (match?.index ?? -1) + (match?.[0].length ?? 0), what);
  }
  return code;
}

function anyLines(code, original) {
  const lines = original.split('\n');
  return [...code.matchAll(/\bany\b/g)].map((m) => {
    const line = code.slice(0, m.index).split('\n').length;
    return `${line}: ${lines[line - 1].trim()}`;
  });
}

describe('types', () => {
  test("the README's JS example type-checks strictly against pkg/kindling.d.ts", async () => {
    const dir = await withDeclarations();
    await writeFile(join(dir, 'readme-example.ts'), await readmeExample());
    const result = await typeCheck(dir, ['readme-example.ts']);
    assert.ok(result.ok, `tsc --noEmit --strict refused the README's example:\n${result.output}`);
  });

  test('the public declarations hold no any', async () => {
    const dts = await readFile(DTS, 'utf8');
    // The detector finds the plumbing's any, so finding none elsewhere means something.
    assert.ok(anyLines(blankCommentsAndStrings(dts), dts).length > 0, 'no any at all: is the detector broken?');
    const code = publicDeclarations(dts);
    for (const name of ['class Kindling', 'class GenerationStream', 'interface KindlingError', 'type CreateOptions']) {
      assert.ok(code.includes(name), `the public declarations lack ${name}`);
    }
    assert.deepEqual(anyLines(code, dts), [], 'any in the public declarations of pkg/kindling.d.ts');
  });

  test('misusing the API fails to type-check, on every misuse and nowhere else', async () => {
    await assertMisusesFail(await withDeclarations(), 'misuse.ts');
  });

  test("the element's declarations hold no any, and misusing the element fails to type-check", async () => {
    for (const file of ELEMENT_DTS) {
      const dts = await readFile(file, 'utf8');
      assert.deepEqual(anyLines(blankCommentsAndStrings(dts), dts), [], `any in ${relative(REPO, file)}`);
    }
    await assertMisusesFail(await withElementDeclarations(), 'element-misuse.ts');
  });
});

describe('the npm package', () => {
  let packDir;
  let tarball;
  let app; // a scratch app with the tarball installed
  let entries; // the tarball's file names, without the leading package/

  before(async () => {
    packDir = await tempDir('kindling-pack-');
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', packDir], {
        cwd: REPO,
        encoding: 'utf8',
        timeout: 120_000,
      }),
    );
    tarball = join(packDir, packed[0].filename);
    entries = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((name) => name.replace(/^package\//, ''));
    console.log(
      `# ${packed[0].filename}: ${packed[0].size} bytes packed, ${packed[0].unpackedSize} unpacked, ${packed[0].entryCount} files`,
    );
    app = await tempDir('kindling-app-');
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'kindling-scratch-app', version: '1.0.0', private: true, type: 'module' }, null, 2),
    );
    execFileSync('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 120_000,
    });
  });

  test('the tarball holds the engine, its types, the element and LICENSE, and nothing test-only', async () => {
    for (const file of [
      'package.json',
      'LICENSE',
      'README.md',
      'pkg/kindling.js',
      'pkg/kindling_bg.wasm',
      'pkg/kindling.d.ts',
      'pkg/kindling_bg.wasm.d.ts',
      'pkg-webgpu/kindling.js',
      'pkg-webgpu/kindling_bg.wasm',
      'pkg-webgpu/kindling.d.ts',
      'pkg-remote/kindling.js',
      'pkg-remote/kindling_bg.wasm',
      'pkg-remote/kindling.d.ts',
      'www/kindling-playground.js',
      'www/kindling-embed.js',
      'www/types/kindling-playground.d.ts',
      'www/types/kindling-embed.d.ts',
      'www/engine-loader.js',
      'www/worker/engine-worker.js',
      'www/worker/helper-worker.js',
      'www/style.css',
      'docs/embedding.md', // the README's links into docs/ work from the package too
    ]) {
      assert.ok(entries.includes(file), `the tarball lacks ${file}`);
    }
    const unwanted = entries.filter(
      (name) =>
        /^(src|tests|pkg-tests|bench|scripts|examples|target|node_modules|test-artifacts|\.ci)\//.test(name) ||
        /(^|\/)(Cargo\.(toml|lock)|package-lock\.json|\.gitignore)$/.test(name) ||
        /\.(test|spec)\.m?js$|\.rs$/.test(name) ||
        (/^pkg(-webgpu|-remote)?\//.test(name) &&
          !/^pkg(-webgpu|-remote)?\/kindling(_bg)?\.(js|wasm|d\.ts|wasm\.d\.ts)$/.test(name)),
    );
    assert.deepEqual(unwanted, [], 'files a package does not need');
    const manifest = JSON.parse(await readFile(join(app, 'node_modules', 'kindling', 'package.json'), 'utf8'));
    assert.equal(manifest.name, 'kindling');
    assert.equal(manifest.license, 'MIT');
    assert.equal(manifest.private, undefined, 'a private package cannot be published');
    assert.match(await readFile(join(app, 'node_modules', 'kindling', 'LICENSE'), 'utf8'), /MIT License/);
  });

  test('its exports resolve from an app that installed it', () => {
    // Node's resolution (bundlers follow the same exports map), from inside the scratch app.
    const specifiers = [
      'kindling',
      'kindling/webgpu',
      'kindling/remote',
      'kindling/element',
      'kindling/embed',
      'kindling/www/style.css',
      'kindling/pkg/kindling_bg.wasm',
      'kindling/pkg-webgpu/kindling_bg.wasm',
    ];
    const resolved = JSON.parse(
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `console.log(JSON.stringify(${JSON.stringify(specifiers)}.map((s) => import.meta.resolve(s))))`,
        ],
        { cwd: app, encoding: 'utf8' },
      ),
    );
    const installed = join(app, 'node_modules', 'kindling');
    assert.deepEqual(
      resolved.map((url) => relative(installed, fileURLToPath(url))),
      [
        'www/api/cpu.js',
        'www/api/webgpu.js',
        'www/api/remote.js',
        'www/kindling-playground.js',
        'www/kindling-embed.js',
        'www/style.css',
        'pkg/kindling_bg.wasm',
        'pkg-webgpu/kindling_bg.wasm',
      ],
    );
    for (const name of resolved.map((url) => relative(installed, fileURLToPath(url)))) {
      assert.ok(entries.includes(name), `an export points at ${name}, which is not in the tarball`);
    }
  });

  test("TypeScript finds the engine's and the element's types through the package's exports", async () => {
    await copyFile(join(TYPES, 'consumer.ts'), join(app, 'consumer.ts'));
    for (const moduleResolution of ['bundler', 'nodenext']) {
      const module = moduleResolution === 'nodenext' ? 'nodenext' : 'esnext';
      const result = await typeCheck(app, ['consumer.ts'], { module, moduleResolution });
      assert.ok(result.ok, `consumer.ts (moduleResolution ${moduleResolution}) did not type-check:\n${result.output}`);
    }
  });

  test('a page that includes the installed kindling-embed.js gets a working <kindling-playground>', LONG, async () => {
    const embed = join(app, 'node_modules', 'kindling', 'www', 'kindling-embed.js');
    const src = `/${relative(app, embed).split('\\').join('/')}`;
    const text = 'the cat sat on the mat. the dog sat on the log. '.repeat(30);
    await writeFile(
      join(app, 'index.html'),
      `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>An app with Kindling from node_modules</title>
  <link rel="icon" href="${src.replace(/kindling-embed\.js$/, 'icon.svg')}" type="image/svg+xml">
  <script type="module" src="${src}"></script>
</head>
<body>
  <h1>Kindling, installed</h1>
  <kindling-playground mode="train" steps="30" workers="2" text="${text}"></kindling-playground>
</body>
</html>
`,
    );
    const server = await serve({ root: app, csp: true });
    const browser = await launchBrowser();
    try {
      const failed = [];
      browser.context.on('response', (response) => {
        if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
      });
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/index.html`);
      // Renders: defined, with its controls in a shadow root, and taking space on the page.
      await page.waitForFunction(() => customElements.get('kindling-playground'), null, { timeout: 30_000 });
      const shown = await page.evaluate(() => {
        const element = document.querySelector('kindling-playground');
        return {
          buttons: element.shadowRoot?.querySelectorAll('button').length ?? 0,
          height: element.getBoundingClientRect().height,
        };
      });
      assert.ok(shown.buttons > 0, 'the element shows no controls');
      assert.ok(shown.height > 100, `the element is ${shown.height}px tall`);
      // The engine loads (the element is in view) and trains its few steps.
      const outcome = await page.evaluate(
        () =>
          new Promise((resolve) => {
            const element = document.querySelector('kindling-playground');
            const timer = setTimeout(() => resolve({ error: 'no kindling-ready within 120 s' }), 120_000);
            element.addEventListener('kindling-error', ({ detail }) => resolve({ error: JSON.stringify(detail) }));
            const trained = () =>
              element.addEventListener('kindling-finished', ({ detail }) => {
                if (detail.task !== 'training') return;
                clearTimeout(timer);
                resolve({ ready: element.ready, step: detail.step, backend: element.backend });
              });
            const start = () => {
              trained();
              element.train().catch((error) => resolve({ error: `train(): ${error.message}` }));
            };
            if (element.ready) start();
            else element.addEventListener('kindling-ready', start, { once: true });
          }),
      );
      assert.equal(outcome.error, undefined, `the element failed: ${outcome.error}`);
      assert.deepEqual(outcome, { ready: true, step: 30, backend: 'cpu' });
      // Everything came from the installed package, on this origin, and nothing was refused.
      const wasm = browser.requests.filter((url) => url.endsWith('.wasm'));
      assert.deepEqual(wasm, [`${server.url}/node_modules/kindling/pkg/kindling_bg.wasm`]);
      assert.deepEqual(foreignRequests(browser.requests, server.url), []);
      assert.deepEqual(failed, []);
      assert.deepEqual(browser.problems, [], 'console errors or CSP violations');
    } finally {
      await browser.close();
      server.close();
    }
  });
});

// Each layer uses only what is below it: no file of src/ or www/ may reach itself through its
// imports. Reads `crate::` paths in src/**/*.rs and relative `import`s (static and dynamic) in
// www/**/*.js (not JSDoc's type imports), file by file, and prints every cycle it finds; exits 1
// if there is one.
// Written here rather than taken from npm (madge, dependency-cruiser): those read JS only, and
// ~60 lines cover both languages. Run by scripts/test.sh's "types" stage.
//
//   node scripts/check-imports.mjs
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');

/** @param {string} dir @param {string} ext @returns {string[]} */
const files = (dir, ext) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path, ext) : entry.name.endsWith(ext) ? [path] : [];
  });

// A Rust path `crate::a::b::c` names the deepest of src/a/b/c.rs, src/a/b/c/mod.rs, src/a/b.rs…
/** @param {string[]} segments @returns {string | null} */
function rustModule(segments) {
  for (let n = segments.length; n > 0; n--) {
    const base = join(ROOT, 'src', ...segments.slice(0, n));
    for (const path of [`${base}.rs`, join(base, 'mod.rs')]) if (existsSync(path)) return path;
  }
  return null;
}

/** @param {string} file @returns {string[]} */
function rustImports(file) {
  const text = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '');
  const found = new Set();
  // `crate::a::b::{c, d}`: the module is a::b (or a, when b is an item).
  for (const [, path] of text.matchAll(/\bcrate((?:::[a-z_][a-z0-9_]*)+)/g)) {
    const module = rustModule(path.slice(2).split('::'));
    if (module && module !== file) found.add(module);
  }
  return [...found];
}

/** @param {string} file @returns {string[]} */
function jsImports(file) {
  // Comments go first: a JSDoc type's import('./x.js') is no import at run time.
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*['"](\.[^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s*['"](\.[^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].map((match) => match[1]);
  return specifiers.map((spec) => resolve(dirname(file), spec)).filter((path) => path.startsWith(join(ROOT, 'www')));
}

/** Every cycle of `graph` once, as a list of files (Tarjan's strongly connected components).
 * @param {Map<string, string[]>} graph */
function cycles(graph) {
  let index = 0;
  const order = new Map(),
    low = new Map(),
    stack = [],
    onStack = new Set(),
    found = [];
  /** @param {string} node */
  const visit = (node) => {
    order.set(node, index), low.set(node, index++), stack.push(node), onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!order.has(next)) visit(next), low.set(node, Math.min(low.get(node), low.get(next)));
      else if (onStack.has(next)) low.set(node, Math.min(low.get(node), order.get(next)));
    }
    if (low.get(node) !== order.get(node)) return;
    const component = [];
    for (let member; member !== node; ) onStack.delete((member = stack.pop())), component.push(member);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!order.has(node)) visit(node);
  return found;
}

const graphs = {
  'src/': new Map(files(join(ROOT, 'src'), '.rs').map((file) => [file, rustImports(file)])),
  'www/': new Map(files(join(ROOT, 'www'), '.js').map((file) => [file, jsImports(file)])),
};
let failed = false;
for (const [name, graph] of Object.entries(graphs)) {
  const found = cycles(graph);
  const edges = [...graph.values()].reduce((sum, next) => sum + next.length, 0);
  console.log(`${name}: ${graph.size} files, ${edges} imports, ${found.length} import cycle(s)`);
  for (const cycle of found) console.log(`  cycle: ${cycle.map((file) => relative(ROOT, file)).join(' ⇄ ')}`);
  failed ||= found.length > 0;
}
process.exit(failed ? 1 : 0);

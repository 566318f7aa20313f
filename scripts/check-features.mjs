// CI builds the engine for wasm32 three times (pkg-webgpu/ with the browser tests, pkg/,
// pkg-remote/: scripts/build.sh), and cargo reuses a dependency built before only when its
// features, and its dependencies', are the same. A feature one build turns on deep in the tree
// (serde's `rc`, burn-backend's `serde`, proc-macro2's `span-locations`) makes the others
// compile again everything above it: 5 minutes of a cold CI (docs/design.md, "CI time").
// Cargo.toml's "one set of features" section turns on in every build what any build needs;
// this check fails when a crate's features still differ between builds, except where the
// difference is what the build is for (EXPECTED), and prints the lines that section needs.
// Cargo has no option that unifies features across builds of one package (its
// `feature-unification` works across a workspace's packages), hence this script.
// Run by scripts/test.sh's "types" stage (three `cargo tree`: about 3 s).
//
//   node scripts/check-features.mjs
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const BUILDS = { 'pkg-webgpu': 'webgpu', pkg: '', 'pkg-remote': 'remote-client' };

// Crates whose features choose the backend, and the features that do it elsewhere: these differ.
/** @type {Record<string, RegExp>} */
const EXPECTED = {
  kindling: /./,
  burn: /./,
  'burn-core': /./,
  'burn-dispatch': /./,
  'burn-tensor': /./,
  'burn-backend': /^cubecl/,
  'cubecl-common': /^(float4|fp4|hash|xxhash-rust)$/,
};

/**
 * Every crate of one build (host crates too: procedural macros and build scripts) and its
 * features, from `cargo tree`: "name vX.Y.Z" → features.
 * @param {string} features
 * @param {string} [edges] cargo tree's `-e`
 * @returns {Map<string, Set<string>>}
 */
function crates(features, edges = 'normal,build') {
  const args = ['tree', '--target', 'wasm32-unknown-unknown', '-e', edges];
  args.push('--prefix', 'none', '-f', '{p}|{f}', '--features', features);
  let out = '';
  try {
    out = execFileSync('cargo', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch {
    console.error(`check-features: cargo ${args.join(' ')} failed (its message is above)`);
    process.exit(1);
  }
  const found = new Map();
  for (const line of out.split('\n')) {
    if (!line.includes('|')) continue;
    const [crate, list] = line.replace(' (*)', '').split('|');
    const name = crate.split(' ').slice(0, 2).join(' ');
    found.set(name, new Set(list.split(',').filter(Boolean)));
  }
  return found;
}

/** @param {string} crate @param {string} feature */
const expected = (crate, feature) => EXPECTED[crate.split(' ')[0]]?.test(feature) ?? false;

/** @type {Map<string, Map<string, Set<string>>>} */
const builds = new Map(Object.entries(BUILDS).map(([name, f]) => [name, crates(f)]));
// pkg/'s crates: the builds before and after it can share them. (A pin for a crate pkg/ lacks
// would add it to pkg/.) crate → the features some build lacks: turned on in all, they agree.
/** @type {Map<string, string[]>} */
const differing = new Map();
for (const crate of builds.get('pkg')?.keys() ?? []) {
  const sets = [...builds.values()].flatMap((b) => b.get(crate) ?? []);
  const union = new Set(sets.flatMap((s) => [...s]));
  const missing = [...union].filter((f) => !expected(crate, f) && sets.some((s) => !s.has(f)));
  if (missing.length > 0) differing.set(crate, missing.sort());
}

if (differing.size === 0) {
  console.log('check-features: every crate the wasm builds share has one set of features');
  process.exit(0);
}
console.error(`check-features: ${differing.size} crates differ in features between the wasm`);
console.error('builds, so each build compiles them again. Cargo.toml\'s "one set of features"');
console.error("section needs these lines (the versions are Cargo.lock's):");
// Crates outside the wasm module's own tree are the host's (procedural macros, build scripts).
const wasm = crates('', 'normal,no-proc-macro');
for (const host of [false, true]) {
  console.error(host ? '[build-dependencies]' : '[target.wasm32-unknown-unknown.dependencies]');
  for (const [crate, missing] of differing) {
    if (wasm.has(crate) === host) continue;
    const [name, version] = crate.split(' ');
    const list = missing.filter((f) => f !== 'default').map((f) => JSON.stringify(f));
    const defaults = missing.includes('default') ? [] : ['default-features = false'];
    const keys = [`version = "${version.slice(1).split('+')[0]}"`, ...defaults];
    if (list.length > 0) keys.push(`features = [${list.join(', ')}]`);
    console.error(`${name} = { ${keys.join(', ')} }`);
  }
}
process.exit(1);

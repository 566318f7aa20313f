// @ts-check
// Built-in training texts, all made by the project itself: two generated corpora (same
// output every time, from a fixed seed), a short play scene in French written for Kindling
// (samples/scene-fr.txt: text in another language than the base model's, to fine-tune on) and
// the playground's own source code.

// Small deterministic PRNG (mulberry32): the samples must not change between visits.
/**
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * @template T
 * @param {() => number} next
 * @param {readonly T[]} items
 * @returns {T}
 */
const pick = (next, items) => items[Math.floor(next() * items.length)];

/**
 * @param {number} count
 * @param {number} seed
 * @param {(next: () => number) => string} makeLine
 */
function lines(count, seed, makeLine) {
  const next = random(seed);
  return Array.from({ length: count }, () => makeLine(next)).join('\n') + '\n';
}

// "17+25=42": a model can learn the format fast and the carries slowly.
function arithmetic() {
  return lines(2500, 7, (next) => {
    const a = Math.floor(next() * 100);
    const b = Math.floor(next() * 100);
    if (next() < 0.5) return `${a}+${b}=${a + b}`;
    const [big, small] = a >= b ? [a, b] : [b, a];
    return `${big}-${small}=${big - small}`;
  });
}

// A tiny grammar: the model learns words first, then agreement and punctuation.
const GRAMMAR = {
  subject: ['the fox', 'a small robot', 'my neighbour', 'the old cat', 'a curious child', 'the baker'],
  verb: ['finds', 'paints', 'follows', 'carries', 'watches', 'builds'],
  object: ['a red kite', 'the quiet river', 'two blue boxes', 'a paper boat', 'the tall tower', 'some warm bread'],
  place: ['near the hill', 'in the garden', 'after the rain', 'before dinner', 'under the bridge', 'at dawn'],
  ending: ['.', '.', '.', '!', ', and smiles.', ', then rests.'],
};

function grammar() {
  return lines(900, 11, (next) => {
    const [first, ...rest] = pick(next, GRAMMAR.subject);
    const place = next() < 0.6 ? ` ${pick(next, GRAMMAR.place)}` : '';
    const sentence = `${first.toUpperCase()}${rest.join('')} ${pick(next, GRAMMAR.verb)} ${pick(next, GRAMMAR.object)}`;
    return `${sentence}${place}${pick(next, GRAMMAR.ending)}`;
  });
}

/**
 * @param {string} path
 * @param {string} what
 */
async function fetchText(path, what) {
  const response = await fetch(new URL(path, import.meta.url));
  if (!response.ok) throw new Error(`Could not load ${what} (${response.status}).`);
  return response.text();
}

/** @typedef {{ id: string, label: string, generated?: boolean, load: () => Promise<string> }} Sample */

/** @type {Sample[]} */
export const SAMPLES = [
  { id: 'grammar', label: 'Tiny grammar (generated)', generated: true, load: async () => grammar() },
  { id: 'arithmetic', label: 'Arithmetic (generated)', generated: true, load: async () => arithmetic() },
  {
    id: 'scene-fr',
    label: 'A scene in French (written for Kindling)',
    load: () => fetchText('./samples/scene-fr.txt', 'the scene'),
  },
  { id: 'source', label: "This page's source code", load: () => fetchText('./kindling-playground.js', 'the source') },
];

// @ts-check
// "Find a neuron": simple features of a text, one value per character, and the units of a
// recurrent model whose activation tracks each one best (Pearson's r over the positions). A
// unit's state at a position is what it holds after reading that character, so each feature
// says where the text stands after it: an opening quote is already inside the quote, a closing
// one outside again. Pure functions (pkg-tests/www.test.mjs runs them in Node).

/** @type {Record<string, string>} */
const OPENING = { '(': ')', '[': ']', '{': '}', '“': '”', '«': '»', '「': '」', '『': '』', '（': '）' };
const CLOSING = new Set(Object.values(OPENING));
export const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const LATIN = /\p{Script=Latin}/u;

/** @param {string[]} texts */
function quotedOrBracketed(texts) {
  let depth = 0;
  let quoted = false; // straight quotes open and close alike
  return texts.map((text) => {
    if (text === '"') quoted = !quoted;
    else if (OPENING[text]) depth++;
    else if (CLOSING.has(text)) depth = Math.max(0, depth - 1);
    return quoted || depth > 0 ? 1 : 0;
  });
}

/** @param {string[]} texts */
function column(texts) {
  let position = 0;
  return texts.map((text) => (position = text === '\n' ? 0 : position + 1));
}

// values(texts): a number per character, or null where the feature says nothing (CJK vs
// Latin leaves out digits, spaces and punctuation). absent: why it cannot be tracked in a
// text where it never varies.
/**
 * @typedef {object} Feature
 * @property {string} id
 * @property {string} label
 * @property {(texts: string[]) => (number | null)[]} values
 * @property {string} absent
 */
/** @type {Feature[]} */
export const FEATURES = [
  {
    id: 'quoted',
    label: 'Inside quotes or brackets',
    values: quotedOrBracketed,
    absent: 'The text has nothing in quotes or brackets.',
  },
  { id: 'column', label: 'Position in the line', values: column, absent: 'The text is too short.' },
  {
    id: 'newline',
    label: 'Just after a line break',
    values: (texts) => texts.map((text) => (text === '\n' ? 1 : 0)),
    absent: 'The text has no line break.',
  },
  {
    id: 'cjk',
    label: 'CJK rather than Latin',
    values: (texts) => texts.map((text) => (CJK.test(text) ? 1 : LATIN.test(text) ? 0 : null)),
    absent: 'The text needs both CJK characters and Latin letters.',
  },
];

// Pearson's correlation of xs and ys over the positions where xs is not null; null where
// either does not vary.
/**
 * @param {(number | null)[]} xs
 * @param {ArrayLike<number>} ys
 * @returns {number | null}
 */
export function pearson(xs, ys) {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (x === null) continue;
    const y = ys[i];
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  if (n < 2 || vx <= 1e-9 || vy <= 1e-9) return null;
  return Math.max(-1, Math.min(1, (sxy - (sx * sy) / n) / Math.sqrt(vx * vy)));
}

// For each feature, the `top` units (over every layer) whose state tracks it best, by |r|:
// [{ id, label, absent?, units: [{ layer, unit, r }] }]. states: { dims: [layers, T, units],
// values } as the engine's inspection gives them; texts: the T characters.
/**
 * @typedef {{ layer: number, unit: number, r: number }} Unit
 * @typedef {{ id: string, label: string, absent?: string, units: Unit[] }} Found
 */
/**
 * @param {import('../../../pkg/kindling.js').Floats} states
 * @param {string[]} texts
 * @param {number} [top]
 * @returns {Found[]}
 */
export function findNeurons({ dims: [layers, T, units], values }, texts, top = 3) {
  const activation = new Float64Array(T);
  return FEATURES.map(({ id, label, values: feature, absent }) => {
    const xs = feature(texts);
    if (new Set(xs.filter((x) => x !== null)).size < 2) return { id, label, absent, units: [] };
    /** @type {Unit[]} */
    const found = [];
    for (let layer = 0; layer < layers; layer++) {
      for (let unit = 0; unit < units; unit++) {
        for (let t = 0; t < T; t++) activation[t] = values[(layer * T + t) * units + unit];
        const r = pearson(xs, activation);
        if (r !== null) found.push({ layer, unit, r });
      }
    }
    found.sort((a, b) => Math.abs(b.r) - Math.abs(a.r));
    return { id, label, units: found.slice(0, top) };
  });
}

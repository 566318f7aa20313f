// @ts-check
// Embeddings: every character of the vocabulary at its embedding, projected on the two
// directions along which the embeddings vary most (PCA, done by the engine). Characters the
// model treats alike end up close: after some training vowels, digits, punctuation and CJK
// gather in groups, coloured here by kind.
import * as format from '../../format.js';
import { el } from '../markup.js';
import { svg, CENTRED, readout, place, CellReader } from './grid.js';
import { CJK } from './features.js';

/** @typedef {import('../../../pkg/kindling.js').Inspection} Inspection */

export const has = () => true;

const WIDTH = 360; // about a phone's width: the characters keep their size there
const HEIGHT = 300;
const PAD = 16;

// Each kind of character: its name in the legend, and for one of them.
const KINDS = {
  vowel: ['Vowels', 'a vowel'],
  consonant: ['Consonants', 'a consonant'],
  digit: ['Digits', 'a digit'],
  punctuation: ['Punctuation and symbols', 'punctuation'],
  space: ['Spaces and line breaks', 'white space'],
  cjk: ['CJK', 'CJK'],
  other: ['Other letters', 'another letter'],
};

/** @param {string} text */
export function kindOf(text) {
  if (/^\s+$/u.test(text)) return 'space';
  if (/^[aeiouàáâäãåèéêëìíîïòóôöõùúûü]$/iu.test(text)) return 'vowel';
  if (CJK.test(text)) return 'cjk';
  if (/^\p{Script=Latin}$/u.test(text)) return 'consonant';
  if (/^\p{N}$/u.test(text)) return 'digit';
  if (/^[\p{P}\p{S}]$/u.test(text)) return 'punctuation';
  return 'other';
}

/**
 * @param {HTMLElement} panel
 * @param {Inspection} inspection
 */
export function render(panel, { embedding: { tokens, values, explained } }) {
  const V = tokens.length;
  const xs = Array.from({ length: V }, (_, i) => values[2 * i]);
  const ys = Array.from({ length: V }, (_, i) => values[2 * i + 1]);
  /** @type {(values: number[], from: number, to: number) => (value: number) => number} */
  const scale = (values, from, to) => {
    const low = Math.min(...values);
    const span = Math.max(...values) - low || 1;
    return (value) => from + ((value - low) / span) * (to - from);
  };
  const px = scale(xs, PAD, WIDTH - PAD);
  const py = scale(ys, HEIGHT - PAD, PAD); // up is positive
  const kinds = tokens.map(kindOf);

  const image = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'scatter', 'aria-hidden': 'true' });
  // The axes through zero, where zero is in view.
  /** @param {number[]} values */
  const crosses = (values) => Math.min(...values) < 0 && Math.max(...values) > 0;
  if (crosses(xs))
    image.append(svg('line', { x1: px(0), x2: px(0), y1: PAD / 2, y2: HEIGHT - PAD / 2, class: 'zero' }));
  if (crosses(ys)) image.append(svg('line', { y1: py(0), y2: py(0), x1: PAD / 2, x2: WIDTH - PAD / 2, class: 'zero' }));
  /** @param {number} i */
  const share = (i) => `${Math.round(100 * explained[i])}% of the variance`;
  const current = svg('circle', { r: 10, class: 'mark', visibility: 'hidden' });
  image.append(current);
  tokens.forEach((text, id) => {
    const at = { x: px(xs[id]), y: py(ys[id]), class: `point ${kinds[id]}`, 'data-row': 0, 'data-col': id, ...CENTRED };
    image.append(svg('text', at, format.visibleToken(text)));
  });

  const said = readout(
    'embedding-readout',
    'Hover a token, or focus the plot and use the arrow keys, to see where it lies and what is near it.',
  );
  const { region } = new CellReader({
    className: 'cells plot',
    label: `The ${V} tokens the model knows, placed by their embeddings. Use the arrow keys to go through them.`,
    children: [image],
    rows: 1,
    cols: V,
    readout: said,
    show: (_row, id) => {
      place(current, { cx: px(xs[id]), cy: py(ys[id]) });
      const near = tokens
        .map(
          /** @returns {[string, number, number]} */
          (text, other) => [text, Math.hypot(xs[other] - xs[id], ys[other] - ys[id]), other],
        )
        .filter(([, , other]) => other !== id)
        .sort((a, b) => a[1] - b[1])
        .slice(0, 3)
        .map(([text]) => format.quoted(text))
        .join(', ');
      return `${format.quoted(tokens[id])} (${KINDS[kinds[id]][1]}) at (${xs[id].toFixed(2)}, ${ys[id].toFixed(2)}). Nearest here: ${near}.`;
    },
  });

  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const legend = el('ul', { class: 'kinds', 'aria-label': 'Colours' });
  for (const [kind, [name]] of Object.entries(KINDS)) {
    if (counts.has(kind)) legend.append(el('li', { class: kind }, [`${name} (${counts.get(kind)})`]));
  }
  panel.append(
    region,
    el('p', { class: 'hint' }, [`Across: direction 1 (${share(0)}). Up: direction 2 (${share(1)}).`]),
    legend,
    said,
    el('p', { class: 'hint' }, [
      'Each token sits at its embedding, seen along the two directions in which the embeddings differ most. ' +
        'Characters the model treats alike end up close together.',
    ]),
  );
}

// @ts-check
// Attention: how much of its attention each position gives to each position up to it, for one
// head (a heatmap with the text along both sides) or for every head of a layer at once (small
// multiples). The text above the figure shows where its current character looks.
import * as format from '../../format.js';
import { el, tell } from '../markup.js';
import { svg, choice, layerChoice, readout, heat, place, range, strip, CellReader, cellOf } from './grid.js';

/** @typedef {import('../../../pkg/kindling.js').Inspection} Inspection */
/** @typedef {import('../../../pkg/kindling.js').Floats} Floats */
/** @typedef {import('../../../pkg/kindling.js').ModelKind} ModelKind */
/**
 * The reader's choices: the layer, one head or all of them, the token whose attention shows.
 * @typedef {{ layer: number, head: number | 'all', query: number }} Saved
 */

/** @param {ModelKind | null} kind */
export const has = (kind) => kind === 'gpt';

const CELL = 14; // one heatmap cell, in the SVG's units
const MARGIN = 2 * CELL; // room for the characters along the top and the left
const TILE_CELL = 4;

/**
 * @param {HTMLElement} panel
 * @param {Inspection & { attention: Floats }} inspection a GPT's (see has())
 * @param {import('./grid.js').Context<Saved>} context
 */
export function render(panel, { tokens, attention }, { saved }) {
  const [layers, heads, T] = attention.dims;
  // The reader's layer and head stay when the text is inspected again.
  if (saved.head !== 'all' && !(saved.head < heads)) saved.head = 0;
  saved.query = T - 1;
  /** @type {(layer: number, head: number, q: number, k: number) => number} */
  const at = (layer, head, q, k) => attention.values[((layer * heads + head) * T + q) * T + k];
  /** @type {(q: number, k: number) => number} */
  const weight = (q, k) => {
    if (saved.head !== 'all') return at(saved.layer, saved.head, q, k);
    let sum = 0;
    for (let head = 0; head < heads; head++) sum += at(saved.layer, head, q, k);
    return sum / heads;
  };
  // The square root lets the small shares show: a head spreading its attention is not blank.
  /** @type {(node: HTMLElement | SVGElement, value: number) => void} */
  const shade = (node, value) => heat(node, Math.sqrt(value));
  // T × T cells of `size`, `offset` from the corner: those after the query (k > q) grey, the
  // others shaded by value(q, k).
  /**
   * @param {SVGSVGElement} image
   * @param {number} size
   * @param {number} offset
   * @param {(q: number, k: number) => number} value
   */
  function cells(image, size, offset, value) {
    for (let q = 0; q < T; q++) {
      for (let k = 0; k < T; k++) {
        const masked = k > q;
        const x = offset + k * size;
        const y = offset + q * size;
        const cell = svg('rect', {
          x,
          y,
          width: size,
          height: size,
          class: masked ? 'cell masked' : 'cell',
          'data-row': q,
          'data-col': k,
        });
        if (!masked) shade(cell, value(q, k));
        image.append(cell);
      }
    }
  }
  /** @param {number} position */
  const token = (position) => `${format.quoted(tokens[position].text)} (position ${position + 1})`;
  /** @type {(q: number, k: number, value: number) => string} */
  const share = (q, k, value) =>
    k > q
      ? `${token(q)} cannot see ${token(k)}: it comes later.`
      : `${token(q)} gives ${format.percent(value)} of its attention to ${token(k)}.`;

  const layerSelect = layerChoice('attention-layer', layers, saved, draw);
  /** @type {[number | 'all', string][]} */
  const headOptions = [
    ...range(heads).map(/** @returns {[number, string]} */ (h) => [h, `Head ${h + 1}`]),
    ['all', 'All heads'],
  ];
  const headChoice = choice('attention-head', 'Head', headOptions, saved.head, (value) => {
    saved.head = value === 'all' ? 'all' : Number(value);
    draw();
  });
  const said = readout(
    'attention-readout',
    'Hover a token, or focus the text and use the arrow keys, to see where it looks.',
  );

  // The text: each character tinted by how much the current one attends to it.
  const { spans: glyphs, reader: text } = strip(tokens, {
    label: 'The text. Use the arrow keys to pick the token whose attention is shown.',
    start: [0, T - 1],
    readout: said,
    show: (_row, q) => {
      setQuery(q);
      const looks = range(q + 1)
        .map((k) => [k, weight(q, k)])
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([k, value]) => `${token(k)} ${format.percent(value)}`)
        .join(', ');
      const averaged = saved.head === 'all' ? `, averaged over layer ${saved.layer + 1}'s ${heads} heads` : '';
      return `${token(q)} looks most at ${looks}${averaged}.`;
    },
  });

  const figure = el('div', { class: 'attention-figure' });
  /** @type {((q: number) => void)[]} */
  const marks = []; // what shows the current query row in the figure
  /** @param {number} q */
  function setQuery(q) {
    saved.query = q;
    glyphs.forEach((span, k) => {
      shade(span, k <= q ? weight(q, k) : 0);
      span.classList.toggle('current', k === q);
    });
    for (const mark of marks) mark(q);
  }

  function draw() {
    marks.length = 0;
    figure.replaceChildren(saved.head === 'all' ? tiles() : heatmap());
    setQuery(saved.query);
  }

  // One head: T × T cells, with the characters along both sides.
  function heatmap() {
    const size = MARGIN + T * CELL;
    const image = svg('svg', { viewBox: `0 0 ${size} ${size}`, width: size, class: 'heatmap', 'aria-hidden': 'true' });
    for (let i = 0; i < T; i++) {
      const centre = MARGIN + i * CELL + CELL / 2;
      const glyph = format.visibleToken(tokens[i].text);
      image.append(svg('text', { x: centre, y: MARGIN - 6, class: 'axis', 'text-anchor': 'middle' }, glyph));
      const left = { x: MARGIN - 6, y: centre, class: 'axis', 'text-anchor': 'end', 'dominant-baseline': 'central' };
      image.append(svg('text', left, glyph));
    }
    cells(image, CELL, MARGIN, weight);
    const row = svg('rect', { x: MARGIN, width: T * CELL, height: CELL, class: 'row-mark' });
    const current = svg('rect', { width: CELL, height: CELL, class: 'mark', visibility: 'hidden' });
    image.append(row, current);
    marks.push((q) => row.setAttribute('y', String(MARGIN + q * CELL)));
    const reader = new CellReader({
      className: 'cells',
      label:
        `Attention of layer ${saved.layer + 1}, head ${/** @type {number} */ (saved.head) + 1}: ` +
        `${T} rows, the token that looks, by ${T} columns, where it looks. Use the arrow keys to read each cell.`,
      children: [image],
      rows: T,
      cols: T,
      start: [saved.query, saved.query],
      readout: said,
      show: (q, k) => {
        place(current, { x: MARGIN + k * CELL, y: MARGIN + q * CELL });
        setQuery(q);
        return share(q, k, weight(q, k));
      },
    });
    return reader.region;
  }

  // Every head of the layer, small; choosing one shows it large.
  function tiles() {
    const grid = el('div', { class: 'tiles' });
    for (let head = 0; head < heads; head++) {
      const size = T * TILE_CELL;
      const image = svg('svg', { viewBox: `0 0 ${size} ${size}`, 'aria-hidden': 'true' });
      cells(image, TILE_CELL, 0, (q, k) => at(saved.layer, head, q, k));
      const row = svg('rect', { x: 0, width: size, height: TILE_CELL, class: 'row-mark' });
      image.append(row);
      marks.push((q) => row.setAttribute('y', String(q * TILE_CELL)));
      const tile = el('button', { type: 'button', class: 'tile', 'data-head': head }, [
        el('span', {}, [`Head ${head + 1}`]),
        image,
      ]);
      tile.setAttribute('aria-label', `Layer ${saved.layer + 1}, head ${head + 1}: show it large`);
      tile.addEventListener('click', () => {
        saved.head = head;
        headChoice.input.value = String(head);
        draw();
      });
      grid.append(tile);
    }
    grid.addEventListener('mouseover', ({ target }) => {
      const cell = cellOf(/** @type {HTMLElement | SVGElement | null} */ (target));
      if (!cell) return;
      const head = Number(/** @type {HTMLElement} */ (/** @type {Element} */ (target).closest('.tile')).dataset.head);
      const [q, k] = cell;
      tell(said, `Layer ${saved.layer + 1}, head ${head + 1}: ${share(q, k, at(saved.layer, head, q, k))}`, false);
    });
    return grid;
  }

  panel.append(
    el('div', { class: 'fields inspect-fields' }, [layerSelect.field, headChoice.field]),
    text.region,
    figure,
    said,
    el('p', { class: 'hint' }, [
      'Each row is a token (here a character, or a BPE piece); its cells show how much of its attention goes to each token up to it (stronger colour: more). ' +
        'A model reads tokens one after another, so it never attends to later ones (grey).',
    ]),
  );
  draw();
}

// @ts-check
// The logit lens: what the model would guess next if it stopped after each layer (the
// residual stream read through the final norm and the output head early). A grid of layers ×
// positions, each cell the layer's best guess, coloured by how sure it is; the last row is the
// model's own prediction.
import * as format from '../../format.js';
import { el } from '../markup.js';
import { svg, CENTRED, readout, heat, place, CellReader } from './grid.js';

/** @typedef {import('../../../pkg/kindling.js').Inspection} Inspection */
/** @typedef {import('../../../pkg/kindling.js').Alternative} Alternative */

/** @param {import('../../../pkg/kindling.js').ModelKind | null} kind */
export const has = (kind) => kind === 'gpt';

const COL = 24; // a cell, in pixels: the grid keeps its size and scrolls on a narrow screen
const ROW = 28;
const TOP = 26; // the text along the top
const LEFT = 64; // the layers' names

/**
 * @param {HTMLElement} panel
 * @param {Inspection & { lens: Alternative[][][] }} inspection a GPT's (see has())
 */
export function render(panel, { tokens, lens }) {
  const layers = lens.length;
  const T = tokens.length;
  const width = LEFT + T * COL;
  const height = TOP + layers * ROW;
  const image = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'lens', 'aria-hidden': 'true' });
  tokens.forEach(({ text }, t) => {
    const at = { x: LEFT + t * COL + COL / 2, y: TOP - 8, class: 'axis', 'text-anchor': 'middle' };
    image.append(svg('text', at, format.visibleToken(text)));
  });
  for (let layer = 0; layer < layers; layer++) {
    const y = TOP + layer * ROW;
    const at = { x: LEFT - 8, y: y + ROW / 2, class: 'axis', 'text-anchor': 'end', 'dominant-baseline': 'central' };
    image.append(svg('text', at, `Layer ${layer + 1}`));
    for (let t = 0; t < T; t++) {
      const [best] = lens[layer][t];
      const x = LEFT + t * COL;
      const cell = svg('rect', { x, y, width: COL, height: ROW, class: 'cell', 'data-row': layer, 'data-col': t });
      heat(cell, best.prob);
      // A guess the text bears out (the next character) is bold.
      const hit = tokens[t + 1]?.id === best.id;
      const at = { x: x + COL / 2, y: y + ROW / 2, class: hit ? 'guess hit' : 'guess', ...CENTRED };
      const guess = svg('text', at, format.visibleToken(best.text));
      image.append(cell, guess);
    }
  }
  const current = svg('rect', { width: COL, height: ROW, class: 'mark', visibility: 'hidden' });
  image.append(current);

  const said = readout(
    'lens-readout',
    'Hover a cell, or focus the grid and use the arrow keys, to see what each layer guesses.',
  );
  const { region } = new CellReader({
    className: 'cells scroll',
    label:
      `Logit lens: ${layers} rows, one per layer, by ${T} columns, one per token; each cell is that layer's ` +
      'best guess at the next token. Use the arrow keys to read each cell.',
    children: [image],
    rows: layers,
    cols: T,
    start: [layers - 1, T - 1],
    readout: said,
    show: (layer, t, byKey) => {
      place(current, { x: LEFT + t * COL, y: TOP + layer * ROW });
      // The keyboard may go past the edge of a narrow screen; the mouse is where it points.
      if (byKey) current.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      const guesses = lens[layer][t]
        .map(({ text, prob }) => `${format.quoted(text)} ${format.percent(prob)}`)
        .join(', ');
      const next = tokens[t + 1] ? ` The text goes on with ${format.quoted(tokens[t + 1].text)}.` : '';
      const which =
        layer === layers - 1
          ? `After the last layer (the model's prediction)`
          : `After layer ${layer + 1} of ${layers}`;
      return `${which}, at ${format.quoted(tokens[t].text)} (position ${t + 1}): ${guesses}.${next}`;
    },
  });
  panel.append(
    region,
    said,
    el('p', { class: 'hint' }, [
      "Each row reads the model's guess for the next token after one more layer; the last row is its prediction. " +
        'Stronger colour: a surer guess. Bold and underlined: the text goes on with that token.',
    ]),
  );
}

// @ts-check
// What the inspect views share: SVG built in code, the small labelled controls they carry, and
// a reader for cells in rows and columns (a heatmap, a grid of guesses, a strip of text, the
// points of a plot) that the mouse and the keyboard both reach: hover a cell, or focus the
// region and use the arrow keys; a readout shows what the current cell holds (and reads it out
// when the keyboard went there). Every string reaches the DOM as text.
import { el, tell } from '../markup.js';

/** @typedef {import('../../../pkg/kindling.js').GenerateOptions} GenerateOptions */
/** @typedef {import('../../../pkg/kindling.js').Inspection} Inspection */
/** @typedef {import('../../../pkg/kindling.js').ModelKind} ModelKind */

/**
 * What inspect-view.js hands each view's render(): the element's shadow root, the view's own
 * choices (`saved`: kept from one inspection to the next; `{}` until the view first sets them,
 * which it does before reading them) and the engine's sampler.
 * @template [Saved=object]
 * @typedef {object} Context
 * @property {ShadowRoot} root
 * @property {Saved} saved
 * @property {(logits: Float32Array, options: GenerateOptions) => Promise<Float32Array>}
 *   distribution the probabilities the sampler draws from with `options` (the worker's)
 */

/**
 * What each view module exports: has(kind), whether a model of that kind (null: none yet) offers
 * the view; render(panel, inspection, context), which draws it into `panel` and may return what
 * stops it. A view's render() may ask more of the inspection than Inspection promises (a GPT's
 * attention): has() said the model has it (methods, so such a render() still fits).
 * @typedef {{
 *   has(kind: ModelKind | null): boolean,
 *   render(panel: HTMLElement, inspection: Inspection, context: Context): (() => void) | void,
 * }} ViewModule
 */

/** @typedef {[row: number, col: number]} Cell */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number>} [attributes]
 * @param {string} [text]
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// SVG text centred on its x and y.
export const CENTRED = { 'text-anchor': 'middle', 'dominant-baseline': 'central' };

/** @type {(n: number) => number[]} */
export const range = (n) => Array.from({ length: n }, (_, i) => i);

// A token inside running text: a newline shows as ⏎ and still breaks the line.
/** @param {string} text */
const inline = (text) => (text === '\n' ? '⏎\n' : text);

// A labelled <select> of `options` ([value, label] pairs); onChange(value) on each change.
/**
 * @param {string} id
 * @param {string} label
 * @param {[value: string | number, label: string][]} options
 * @param {string | number} value
 * @param {(value: string) => void} onChange
 */
export function choice(id, label, options, value, onChange) {
  const input = el('select', { id });
  for (const [optionValue, optionLabel] of options) {
    input.append(el('option', { value: optionValue }, [optionLabel]));
  }
  input.value = String(value);
  input.addEventListener('change', () => onChange(input.value));
  return { input, field: el('div', { class: 'field' }, [el('label', { for: id }, [label]), input]) };
}

// The Layer select. The reader's layer is kept in saved.layer (the first layer where the model
// has fewer); redraw() on a change.
/**
 * @param {string} id
 * @param {number} layers
 * @param {{ layer: number }} saved
 * @param {() => void} redraw
 */
export function layerChoice(id, layers, saved, redraw) {
  if (!(saved.layer < layers)) saved.layer = 0;
  return choice(
    id,
    'Layer',
    range(layers).map((l) => [l, `Layer ${l + 1}`]),
    saved.layer,
    (value) => {
      saved.layer = Number(value);
      redraw();
    },
  );
}

// The line that says what the current cell holds, read out as it changes.
/**
 * @param {string} id
 * @param {string} hint
 */
export function readout(id, hint) {
  const node = el('p', { id, class: 'readout', 'aria-live': 'polite' });
  node.textContent = hint;
  return node;
}

// Moves a marker (the outline of the current cell) and shows it: markers start hidden, as
// there is no current cell before the reader points at one.
/**
 * @param {SVGElement} marker
 * @param {Record<string, number>} attributes
 */
export function place(marker, attributes) {
  for (const [key, value] of Object.entries(attributes)) marker.setAttribute(key, String(value));
  marker.removeAttribute('visibility');
}

// A value in [0, 1] as the heat of a cell: SVG cells take it as their fill's opacity, HTML
// ones as --v (style.css mixes the heat colour with it; a property, so the strict CSP allows it).
/**
 * @param {HTMLElement | SVGElement} node
 * @param {number} value
 * @param {boolean} [negative]
 */
export function heat(node, value, negative = false) {
  const v = Math.min(1, Math.abs(value) || 0).toFixed(3);
  if (node instanceof SVGElement) node.setAttribute('fill-opacity', v);
  else node.style.setProperty('--v', v);
  node.classList.toggle('negative', negative);
}

/** @type {Record<string, (cell: Cell, cols: number) => Cell>} */
const MOVES = {
  ArrowLeft: ([row, col]) => [row, col - 1],
  ArrowRight: ([row, col]) => [row, col + 1],
  ArrowUp: ([row, col]) => [row - 1, col],
  ArrowDown: ([row, col]) => [row + 1, col],
  Home: ([row]) => [row, 0],
  End: ([row], cols) => [row, cols - 1],
};

/**
 * @typedef {object} ReaderOptions
 * @property {string} className
 * @property {string} [label]
 * @property {(Node | string)[]} children
 * @property {number} rows
 * @property {number} cols
 * @property {(row: number, col: number, byKey: boolean) => string} show
 * @property {HTMLElement} readout
 * @property {Cell} [start]
 */

export class CellReader {
  // A focusable group of `rows` × `cols` cells: a <div class=className> of `children`,
  // labelled `label` (or later) and described by `readout`, the line that says what the current
  // cell holds. show(row, col, byKey) marks that cell as current and returns what the readout
  // says of it; byKey: the keyboard went there, not the mouse.
  /** @param {ReaderOptions} options */
  constructor({ className, label, children, rows, cols, show, readout, start = [0, 0] }) {
    const region = el('div', { class: className, role: 'group', 'aria-describedby': readout.id }, children);
    if (label) region.setAttribute('aria-label', label);
    this.region = region;
    this.rows = rows;
    this.cols = cols;
    this.show = show;
    this.readout = readout;
    /** @type {Cell} */
    this.current = start;
    region.tabIndex = 0;
    region.addEventListener('mouseover', ({ target }) => {
      const cell = cellOf(/** @type {HTMLElement | SVGElement | null} */ (target));
      if (cell) this.move(cell, false);
    });
    region.addEventListener('focus', () => this.move(this.current));
    region.addEventListener('keydown', (event) => {
      const move = MOVES[event.key];
      if (!move) return;
      const [row, col] = move(this.current, this.cols);
      if (row < 0 || col < 0 || row >= this.rows || col >= this.cols) return;
      event.preventDefault();
      this.move([row, col]);
    });
  }

  /**
   * @param {Cell} cell
   * @param {boolean} [byKey]
   */
  move([row, col], byKey = true) {
    this.current = [row, col];
    tell(this.readout, this.show(row, col, byKey), byKey);
  }
}

// The text, a span a character (tinted with heat()), read a character at a time: the spans
// and their CellReader (its region, `className`; `reading`: the rest of its options).
/**
 * @param {{ text: string }[]} tokens
 * @param {Omit<ReaderOptions, 'className' | 'children' | 'rows' | 'cols'>
 *   & { className?: string }} reading
 */
export function strip(tokens, { className = 'strip', ...reading }) {
  const spans = tokens.map(({ text }, t) => {
    const span = el('span', { class: 'heat', 'data-row': 0, 'data-col': t });
    span.textContent = inline(text);
    return span;
  });
  return { spans, reader: new CellReader({ className, children: spans, rows: 1, cols: tokens.length, ...reading }) };
}

// The [row, col] of the cell a node stands for (its data-row and data-col), or null.
/**
 * @param {HTMLElement | SVGElement | null | undefined} node
 * @returns {Cell | null}
 */
export function cellOf(node) {
  const { row, col } = node?.dataset ?? {};
  return row === undefined || col === undefined ? null : [Number(row), Number(col)];
}

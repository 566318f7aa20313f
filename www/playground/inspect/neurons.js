// @ts-check
// Neurons of a recurrent model: the text coloured by one unit's state, or one of its gates,
// after each character, and "find a neuron": the units whose state best tracks a simple feature
// of the text (features.js), with their correlation, one click from being shown.
import * as format from '../../format.js';
import { el, tell } from '../markup.js';
import { choice, layerChoice, readout, heat, strip } from './grid.js';
import { findNeurons } from './features.js';

/** @typedef {import('../../../pkg/kindling.js').Inspection} Inspection */
/** @typedef {import('../../../pkg/kindling.js').Floats} Floats */
/** @typedef {import('../../../pkg/kindling.js').ModelKind} ModelKind */
/**
 * The reader's choices: the layer, the unit (from 0) and the state or gate (a sources() key).
 * @typedef {{ layer: number, unit: number, state: string }} Saved
 */
/**
 * @typedef {object} Scale
 * @property {(largest: number) => number} full
 * @property {(value: number) => string} amount
 * @property {(largest: number) => string} legend
 */
/**
 * @typedef {object} Source
 * @property {string} label
 * @property {string} name
 * @property {Scale} scale
 * @property {(layer: number, t: number, unit: number) => number} value
 */

/** @param {ModelKind | null} kind */
export const has = (kind) => kind === 'lstm' || kind === 'gru';

/** @type {(value: number, digits?: number) => string} */
const signed = (value, digits = 2) => (value < 0 ? `−${(-value).toFixed(digits)}` : `+${value.toFixed(digits)}`);

// How a value is coloured and written. The states have no fixed range (an LSTM's cell grows):
// the strongest colour is the unit's largest value in the text. The gates have one, and it is
// their colour scale: a sigmoid goes from 0 (closed) to 1, the candidate (a tanh) from −1 to 1.
/** @type {{ state: Scale, sigmoid: Scale, tanh: Scale }} */
const SCALES = {
  state: {
    full: (largest) => largest,
    amount: signed,
    legend: (largest) =>
      `Orange: above zero; blue: below. The strongest colour is this unit's largest value here, ${largest.toFixed(2)}.`,
  },
  sigmoid: {
    full: () => 1,
    amount: (value) => value.toFixed(2),
    legend: () => 'Orange: how open the gate is, from 0 (closed, no colour) to 1 (open, the strongest).',
  },
  tanh: {
    full: () => 1,
    amount: signed,
    legend: () => 'From −1 to +1. Orange: above zero; blue: below; the strongest colour at −1 and +1.',
  },
};

// What the text can be coloured by, by the State select's value: its label, its name in a
// sentence, its scale and its value(layer, t, unit).
/** @param {Inspection & { hidden: Floats }} inspection */
function sources({ hidden, cell, gates }) {
  const [, T, units] = hidden.dims;
  /** @type {(floats: Floats) => Source['value']} */
  const state = (floats) => (layer, t, unit) => floats.values[(layer * T + t) * units + unit];
  /** @type {Record<string, Source>} */
  const found = { hidden: { label: 'Hidden (h)', name: 'hidden state', scale: SCALES.state, value: state(hidden) } };
  if (cell) found.cell = { label: 'Cell (c)', name: 'cell state', scale: SCALES.state, value: state(cell) };
  // `[layers, gates, time, units]`, the gates in `names`' order.
  const G = /** @type {number} */ (gates?.names.length); // read only where there are gates
  gates?.names.forEach((gate, g) => {
    found[gate] = {
      label: `${gate[0].toUpperCase()}${gate.slice(1)} gate`,
      name: `${gate} gate`,
      scale: gate === 'candidate' ? SCALES.tanh : SCALES.sigmoid,
      value: (layer, t, unit) => gates.values[((layer * G + g) * T + t) * units + unit],
    };
  });
  return found;
}

/**
 * @param {HTMLElement} panel
 * @param {Inspection & { hidden: Floats }} inspection an LSTM's or a GRU's (see has())
 * @param {import('./grid.js').Context<Saved>} context
 */
export function render(panel, inspection, { saved }) {
  const { tokens, hidden } = inspection;
  const [layers, T, units] = hidden.dims;
  const shown = sources(inspection);
  if (!(saved.unit < units)) saved.unit = 0;
  if (!shown[saved.state]) saved.state = 'hidden';
  const source = () => shown[saved.state];
  /** @param {number} t */
  const value = (t) => source().value(saved.layer, t, saved.unit);
  const where = () => `layer ${saved.layer + 1}, unit ${saved.unit + 1}`;

  const layerSelect = layerChoice('neuron-layer', layers, saved, draw);
  const stateOptions = Object.entries(shown).map(/** @returns {[string, string]} */ ([id, { label }]) => [id, label]);
  const stateChoice = choice('neuron-state', 'State or gate', stateOptions, saved.state, (v) => {
    saved.state = v;
    draw();
  });
  const unitInput = el('input', {
    id: 'neuron-unit',
    type: 'number',
    min: 1,
    max: units,
    step: 1,
    inputmode: 'numeric',
  });
  unitInput.value = String(saved.unit + 1);
  unitInput.addEventListener('input', () => {
    const unit = Number(unitInput.value) - 1;
    if (Number.isInteger(unit) && unit >= 0 && unit < units) {
      saved.unit = unit;
      draw();
    }
  });
  const unitField = el('div', { class: 'field' }, [
    el('label', { for: 'neuron-unit' }, [`Unit (1–${units})`]),
    unitInput,
  ]);

  const said = readout('neuron-readout', 'Hover a token, or focus the text and use the arrow keys, to read the unit.');
  const { spans, reader } = strip(tokens, {
    className: 'strip neuron-text',
    readout: said,
    show: (_row, t) => {
      spans.forEach((span, i) => span.classList.toggle('current', i === t));
      const { name, scale } = source();
      return `${format.quoted(tokens[t].text)} (position ${t + 1}): the ${name} of ${where()} is ${scale.amount(value(t))}.`;
    },
  });
  const text = reader.region;
  const legend = el('p', { class: 'hint' });

  function draw() {
    layerSelect.input.value = String(saved.layer);
    stateChoice.input.value = saved.state;
    unitInput.value = String(saved.unit + 1);
    const { name, scale } = source();
    let largest = 0;
    for (let t = 0; t < T; t++) largest = Math.max(largest, Math.abs(value(t)));
    const full = scale.full(largest);
    spans.forEach((span, t) => heat(span, full ? value(t) / full : 0, value(t) < 0));
    text.setAttribute(
      'aria-label',
      `The text coloured by the ${name} of ${where()}. Use the arrow keys to read it at each token.`,
    );
    legend.textContent = scale.legend(largest);
    if (text.matches(':focus')) reader.move(reader.current);
  }

  // ---- find a neuron ----------------------------------------------------------------
  const find = el('button', { type: 'button', id: 'find-neuron' }, ['Find a neuron']);
  const found = el('ul', { class: 'found', 'aria-label': 'Units that track a feature of the text' });
  found.hidden = true;
  find.addEventListener('click', () => {
    const results = findNeurons(
      hidden,
      tokens.map((token) => token.text),
    );
    found.replaceChildren(...results.map(listing));
    found.hidden = false;
  });
  /** @param {import('./features.js').Found} found */
  function listing({ id, label: feature, absent, units: best }) {
    const item = el('li', { 'data-feature': id }, [el('span', { class: 'feature' }, [feature])]);
    if (absent) item.append(el('span', { class: 'muted' }, [absent]));
    for (const { layer, unit, r } of best) {
      const show = el('button', { type: 'button', class: 'unit', 'data-r': r }, [
        `Layer ${layer + 1}, unit ${unit + 1}: r = ${signed(r)}`,
      ]);
      show.addEventListener('click', () => {
        Object.assign(saved, { layer, unit, state: 'hidden' });
        draw();
        tell(said, `Showing ${where()}: its hidden state has r = ${signed(r)} with “${feature.toLowerCase()}”.`);
      });
      item.append(show);
    }
    return item;
  }

  panel.append(
    el('div', { class: 'fields inspect-fields' }, [
      layerSelect.field,
      ...(stateOptions.length > 1 ? [stateChoice.field] : []),
      unitField,
    ]),
    text,
    said,
    legend,
    el('div', { class: 'row find-row' }, [
      find,
      el('span', { class: 'muted' }, [
        "The units whose hidden state best follows a feature of this text (Pearson's r).",
      ]),
    ]),
    found,
  );
  draw();
}

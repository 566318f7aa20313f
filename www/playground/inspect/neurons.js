// Neurons of a recurrent model: the text coloured by one unit's state after each character
// (orange above zero, blue below), and "find a neuron": the units whose state best tracks a
// simple feature of the text (features.js), with their correlation, one click from being shown.
import { el } from '../markup.js';
import { quoted, inline, choice, readout, heat, range, CellReader, cellOf } from './grid.js';
import { findNeurons } from './features.js';

export const has = (kind) => kind === 'lstm' || kind === 'gru';

const signed = (value, digits = 2) => (value < 0 ? `−${(-value).toFixed(digits)}` : `+${value.toFixed(digits)}`);

export function render(panel, { tokens, hidden, cell }, { saved }) {
  const [layers, T, units] = hidden.dims;
  const states = cell ? { hidden, cell } : { hidden };
  if (!(saved.layer < layers)) saved.layer = 0;
  if (!(saved.unit < units)) saved.unit = 0;
  if (!states[saved.state]) saved.state = 'hidden';
  const value = (t) => states[saved.state].values[(saved.layer * T + t) * units + saved.unit];
  const where = () => `layer ${saved.layer + 1}, unit ${saved.unit + 1}`;

  const layerChoice = choice('neuron-layer', 'Layer', range(layers).map((l) => [l, `Layer ${l + 1}`]), saved.layer, (v) => {
    saved.layer = Number(v);
    draw();
  });
  const stateOptions = [['hidden', 'Hidden (h)'], ...(cell ? [['cell', 'Cell (c)']] : [])];
  const stateChoice = choice('neuron-state', 'State', stateOptions, saved.state, (v) => {
    saved.state = v;
    draw();
  });
  const unitInput = el('input', { id: 'neuron-unit', type: 'number', min: 1, max: units, step: 1, inputmode: 'numeric' });
  unitInput.value = saved.unit + 1;
  unitInput.addEventListener('input', () => {
    const unit = Number(unitInput.value) - 1;
    if (Number.isInteger(unit) && unit >= 0 && unit < units) {
      saved.unit = unit;
      draw();
    }
  });
  const unitField = el('div', { class: 'field' }, [el('label', { for: 'neuron-unit' }, [`Unit (1–${units})`]), unitInput]);

  const said = readout('neuron-readout', 'Hover a character, or focus the text and use the arrow keys, to read the unit.');
  const text = el('div', { class: 'strip neuron-text', role: 'group', 'aria-describedby': said.id });
  const spans = tokens.map((token, t) => {
    const span = el('span', { class: 'heat', 'data-row': 0, 'data-col': t });
    span.textContent = inline(token.text);
    return span;
  });
  text.append(...spans);
  const scale = el('p', { class: 'hint' });
  const reader = new CellReader({
    region: text,
    rows: 1,
    cols: T,
    start: [0, 0],
    locate: cellOf,
    readout: said,
    show: (row, t) => {
      spans.forEach((span, i) => span.classList.toggle('current', i === t));
      return `${quoted(tokens[t].text)} (position ${t + 1}): ${where()} holds ${signed(value(t))}.`;
    },
  });

  function draw() {
    layerChoice.input.value = String(saved.layer);
    stateChoice.input.value = saved.state;
    unitInput.value = saved.unit + 1;
    let largest = 0;
    for (let t = 0; t < T; t++) largest = Math.max(largest, Math.abs(value(t)));
    spans.forEach((span, t) => heat(span, largest ? value(t) / largest : 0, value(t) < 0));
    const name = saved.state === 'cell' ? 'cell state' : 'hidden state';
    text.setAttribute('aria-label', `The text coloured by the ${name} of ${where()}. Use the arrow keys to read it at each character.`);
    scale.textContent = `Orange: above zero; blue: below. The strongest colour is this unit's largest value here, ${largest.toFixed(2)}.`;
    if (text.matches(':focus')) reader.move(reader.current);
  }

  // ---- find a neuron ----------------------------------------------------------------
  const find = el('button', { type: 'button', id: 'find-neuron' }, ['Find a neuron']);
  const found = el('ul', { class: 'found', 'aria-label': 'Units that track a feature of the text' });
  found.hidden = true;
  find.addEventListener('click', () => {
    const results = findNeurons(hidden, tokens.map((token) => token.text));
    found.replaceChildren(...results.map(listing));
    found.hidden = false;
  });
  function listing({ id, label: feature, absent, units: best }) {
    const item = el('li', { 'data-feature': id }, [el('span', { class: 'feature' }, [feature])]);
    if (absent) item.append(el('span', { class: 'muted' }, [absent]));
    for (const { layer, unit, r } of best) {
      const show = el('button', { type: 'button', class: 'unit', 'data-r': r }, [`Layer ${layer + 1}, unit ${unit + 1}: r = ${signed(r)}`]);
      show.addEventListener('click', () => {
        Object.assign(saved, { layer, unit, state: 'hidden' });
        draw();
        said.textContent = `Showing ${where()}: its hidden state has r = ${signed(r)} with “${feature.toLowerCase()}”.`;
      });
      item.append(show);
    }
    return item;
  }

  panel.append(
    el('div', { class: 'fields inspect-fields' }, [layerChoice.field, ...(cell ? [stateChoice.field] : []), unitField]),
    text,
    said,
    scale,
    el('div', { class: 'row find-row' }, [
      find,
      el('span', { class: 'muted' }, ["The units whose hidden state best follows a feature of this text (Pearson's r)."]),
    ]),
    found,
  );
  draw();
}

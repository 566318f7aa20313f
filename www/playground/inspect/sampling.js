// @ts-check
// Sampling made visible: the model's distribution for the character after the text, as bars
// before (its own probabilities: temperature 1, nothing cut) and after the Generate card's
// temperature, top-k and top-p reshape it. The sliders here move those same settings, and the
// bars follow either as they move (the engine's own sampler reshapes them: `distribution`).
import * as format from '../../format.js';
import { el, say, sentence } from '../markup.js';
import { KNOBS as CARD } from '../generation-view.js';

/** @typedef {import('../../../pkg/kindling.js').Inspection} Inspection */
/** @typedef {{ cell: HTMLTableCellElement, set: (prob: number) => void }} Bar */

export const has = () => true;

const SHOWN = 20; // bars: the most likely characters before reshaping
const BEFORE = { temperature: 1, topK: 0, topP: 1 };
// The line under the bars is read out (a live region): while a slider moves, once it is still.
const SETTLED_MS = 400;

// The Generate card's settings this view moves: its inputs, and the sliders.
const KNOBS = [
  { name: 'temperature', input: CARD.temperature.id, label: 'Temperature', min: 0.05, max: 3, step: 0.05 },
  { name: 'topK', input: CARD['top-k'].id, label: 'Top-k (0: all)', min: 0, max: null, step: 1 },
  { name: 'topP', input: CARD['top-p'].id, label: 'Top-p', min: 0.05, max: 1, step: 0.05 },
];

/**
 * @param {string} kind
 * @returns {Bar}
 */
function bar(kind) {
  const fill = el('span', { class: 'fill' });
  const text = el('span', { class: 'pct' });
  const cell = el('td', { class: kind }, [el('span', { class: 'bar', 'aria-hidden': 'true' }, [fill]), text]);
  return {
    cell,
    set(prob) {
      fill.style.width = `${(prob * 100).toFixed(2)}%`; // a CSSOM property: the strict CSP allows it
      text.textContent = prob > 0 ? format.percent(prob) : 'cut';
      cell.dataset.value = String(prob);
      cell.classList.toggle('cut', prob === 0);
    },
  };
}

/**
 * @param {HTMLElement} panel
 * @param {Inspection} inspection
 * @param {import('./grid.js').Context} context
 * @returns {() => void} what stops the view (its listeners on the Generate card, its timers)
 */
export function render(panel, { tokens, nextLogits, embedding, tokenizer }, { root, distribution }) {
  const names = embedding.tokens;
  const tail = tokens
    .slice(-12)
    .map((token) => token.text)
    .join('');
  const summary = el('p', { class: 'readout', 'aria-live': 'polite' });
  const error = el('p', { class: 'error', role: 'alert', hidden: '' });
  const body = el('tbody');
  const table = el('table', { class: 'dist' }, [
    el('caption', {}, [
      `The next token after ${format.quoted(tail)}: the ${Math.min(SHOWN, names.length)} most likely`,
    ]),
    el('thead', {}, [
      el('tr', {}, [
        el('th', { scope: 'col' }, ['Next']),
        el('th', { scope: 'col' }, ['Before: the model']),
        el('th', { scope: 'col' }, ['After: the sampler']),
      ]),
    ]),
    body,
  ]);

  // The sliders and the Generate card's inputs move together.
  const sliders = el('div', { class: 'fields sliders' });
  /** @type {(() => void)[]} */
  const listeners = [];
  for (const knob of KNOBS) {
    const input = /** @type {HTMLInputElement} */ (root.getElementById(knob.input));
    const slider = el('input', {
      id: `slide-${knob.input}`,
      type: 'range',
      min: knob.min,
      max: knob.max ?? names.length,
      step: knob.step,
    });
    const shown = el('output', { for: slider.id });
    /** @type {(from: HTMLInputElement, to: HTMLInputElement) => () => void} */
    const sync = (from, to) => () => {
      to.value = from.value;
      shown.textContent = input.value;
      schedule();
    };
    slider.value = input.value;
    shown.textContent = input.value;
    slider.addEventListener('input', sync(slider, input));
    const fromCard = sync(input, slider);
    input.addEventListener('input', fromCard);
    listeners.push(() => input.removeEventListener('input', fromCard));
    sliders.append(el('div', { class: 'field' }, [el('label', { for: slider.id }, [knob.label, ' ', shown]), slider]));
  }
  const settings = () =>
    Object.fromEntries(
      KNOBS.map(({ name, input }) => [
        name,
        Number(/** @type {HTMLInputElement} */ (root.getElementById(input)).value),
      ]),
    );

  /** @type {{ id: number, before: Bar, after: Bar }[]} */
  let rows = [];
  let alive = true;
  let frame = 0;
  let settled = 0;
  let busy = false;
  let again = false;
  // Before the first bars there is nothing to redraw: they are drawn from the settings then.
  function schedule() {
    if (!rows.length) return;
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      refresh();
    });
  }
  // One request at a time; moves made meanwhile are drawn from the latest settings after it.
  async function refresh() {
    if (busy) return void (again = true);
    busy = true;
    const options = settings();
    try {
      const after = await distribution(nextLogits.values, options);
      if (!alive) return;
      say(error, '');
      rows.forEach(({ id, after: cell }) => cell.set(after[id]));
      const drawn = after.filter((prob) => prob > 0).length;
      const best = rows.reduce((a, b) => (after[b.id] > after[a.id] ? b : a));
      const line =
        `At temperature ${options.temperature}, top-k ${options.topK || 'off'}, top-p ${options.topP}: ` +
        `${drawn} of ${names.length} tokens can be drawn; ${format.quoted(names[best.id])} has ${format.percent(after[best.id])}.`;
      clearTimeout(settled);
      settled = setTimeout(() => (summary.textContent = line), SETTLED_MS);
    } catch (failure) {
      if (alive) say(error, sentence(/** @type {Error} */ (failure).message));
    } finally {
      busy = false;
      if (again && alive) {
        again = false;
        refresh();
      }
    }
  }

  distribution(nextLogits.values, BEFORE).then(
    (before) => {
      if (!alive) return;
      const ids = Array.from(before.keys())
        .sort((a, b) => before[b] - before[a])
        .slice(0, SHOWN);
      rows = ids.map((id) => {
        const row = { id, before: bar('before'), after: bar('after') };
        row.before.set(before[id]);
        body.append(
          el('tr', {}, [el('th', { scope: 'row' }, [format.visibleToken(names[id])]), row.before.cell, row.after.cell]),
        );
        return row;
      });
      refresh();
    },
    (failure) => alive && say(error, sentence(failure.message)),
  );

  panel.append(
    sliders,
    table,
    summary,
    error,
    el('p', { class: 'hint' }, [
      'Temperature divides the scores before they become probabilities: below 1 the favourites grow, above 1 the long shots do. ' +
        'Top-k keeps only the k most likely tokens, top-p the fewest whose probabilities add up to p; the rest are cut and the others scaled up.' +
        (tokenizer === 'bpe'
          ? ' This model reads bytes: tokens that cannot begin a valid character (a lone continuation byte) are left out of both columns, as they are when it writes.'
          : ''),
    ]),
  );
  return () => {
    alive = false;
    cancelAnimationFrame(frame);
    clearTimeout(settled);
    for (const remove of listeners) remove();
  };
}

// @ts-check
// What the Runs card shows of a run (a summary as runs-store.js keeps it): its line in the list,
// its curve on the overlay chart with a legend key, and its row in the table.
import * as format from '../format.js';
import { smooth } from '../loss-chart.js';
import { el } from './markup.js';

/** @typedef {import('../loss-chart.js').Curve} Curve */
/** @typedef {import('../loss-chart.js').Point} Point */
/** @typedef {import('../runs-store.js').RunSummary} Run */
/**
 * A run's curve, with the run's name and its place among the ticked runs (its colour and dash).
 * @typedef {Curve & { name: string, index: number }} RunCurve
 */

/** @type {Record<string, string>} */
const MODEL_NAMES = { gpt: 'GPT', lstm: 'LSTM', gru: 'GRU' };
/** @type {Record<string, string>} */
const TOKENIZERS = { char: 'characters', bpe: 'BPE' };
// Each ticked run's curve: a colour (--run-N in style.css, one per theme) and a dash pattern,
// so curves differ in more than colour; the legend draws the same pattern.
const DASHES = [[], [7, 4], [2, 3], [9, 3, 2, 3], [14, 5], [4, 2, 4, 7]];
const SVG = 'http://www.w3.org/2000/svg';

/** @param {Run} run */
const start = ({ startFrom }) =>
  startFrom === 'scratch' ? 'from scratch' : startFrom === 'base' ? 'from the base model' : `from ${startFrom}`;
/** @param {Run} run */
const tokenizer = ({ tokenizer: kind, vocabSize }) =>
  `${TOKENIZERS[kind] ?? kind}, ${format.compact(vocabSize)} tokens`;
/** @param {number | undefined} value */
const bits = (value) => (Number.isFinite(value) ? format.loss(/** @type {number} */ (value)) : '—');
/** @param {Run} run */
const time = ({ trainingMs }) => format.duration(trainingMs / 1000);

/** @param {Run} run */
function shape({ config }) {
  const width = config.model === 'gpt' ? `${config.nEmbd} wide, ${config.nHead} heads` : `${config.hiddenSize} units`;
  return `${config.nLayer} × ${width}, context ${config.blockSize}`;
}

// One line: "GPT · 25.9k parameters · characters, 40 tokens · from scratch · 30 of 30 steps · 2 s · val 3.102 bits/char".
/** @param {Run} run */
export function describeRun(run) {
  const loss = Number.isFinite(run.valBitsPerChar)
    ? `val ${bits(run.valBitsPerChar)}`
    : `train ${bits(run.trainBitsPerChar)}`;
  return [
    MODEL_NAMES[run.config.model] ?? run.config.model,
    `${format.compact(run.parameterCount)} parameters`,
    tokenizer(run),
    start(run),
    `${run.step} of ${run.maxSteps} steps`,
    time(run),
    `${loss} bits/char`,
  ].join(' · ');
}

// The runs' curves in bits per character ('val' or 'train', smoothed as the live chart does),
// for LossChart.setCurves; each keeps its run's name for the legend.
/**
 * @param {Run[]} runs
 * @param {'val' | 'train'} metric
 * @returns {RunCurve[]}
 */
export function curves(runs, metric) {
  const key = metric === 'val' ? 'valLoss' : 'trainLoss';
  return runs.map((run, index) => {
    const factor = run.bitsPerNat;
    /** @type {Point[]} */
    const points = Number.isFinite(factor)
      ? run.history
          .filter((point) => Number.isFinite(point[key]))
          // Both are numbers here: the tests above let no other through.
          .map((point) => [point.step, /** @type {number} */ (point[key]) * /** @type {number} */ (factor)])
      : [];
    return {
      name: run.name,
      points: metric === 'val' ? points : smooth(points),
      color: `--run-${index % DASHES.length}`,
      dash: DASHES[index % DASHES.length],
      index: index % DASHES.length,
    };
  });
}

// A legend entry: a short line in the curve's colour and dash pattern, and the run's name.
/** @param {RunCurve} curve */
export function legendKey({ name, dash, index }) {
  const line = document.createElementNS(SVG, 'line');
  for (const [key, value] of Object.entries({
    x1: 1,
    y1: 5,
    x2: 31,
    y2: 5,
    'stroke-dasharray': dash.join(' ') || 'none',
  })) {
    line.setAttribute(key, String(value));
  }
  const svg = document.createElementNS(SVG, 'svg');
  for (const [key, value] of Object.entries({
    width: 32,
    height: 10,
    viewBox: '0 0 32 10',
    'aria-hidden': 'true',
    class: `swatch run-${index}`,
  })) {
    svg.setAttribute(key, String(value));
  }
  svg.append(line);
  const label = el('span');
  label.textContent = name;
  return el('span', { class: 'run-key' }, [svg, label]);
}

// The table's row: the run's name heads it.
/** @param {Run} run */
export function tableRow(run) {
  const name = el('th', { scope: 'row' });
  name.textContent = run.name;
  const cells = [
    MODEL_NAMES[run.config.model] ?? run.config.model,
    shape(run),
    tokenizer(run),
    start(run).replace(/^from /, ''),
    String(run.step),
    time(run),
    bits(run.trainBitsPerChar),
    bits(run.valBitsPerChar),
  ].map((text) => {
    const cell = el('td');
    cell.textContent = text;
    return cell;
  });
  return el('tr', { 'data-id': run.id }, [name, ...cells]);
}

// @ts-check
// The Runs card of the full playground: every training run kept in this browser
// (runs-store.js; the engine worker saves them, worker/runs.js), with what it takes of the
// storage; each can be reopened, continued, downloaded or deleted (after an in-page
// confirmation). Ticked runs are overlaid on one chart and compared in a table
// (runs-figures.js); two runs write side by side below (runs-compare.js).
import * as format from '../format.js';
import { listRuns, runsLimit, loadRunModel, deleteRun, totalBytes } from '../runs-store.js';
import { LossChart } from '../loss-chart.js';
import { el, nodes, say, sentence } from './markup.js';
import { workerSettings } from './attributes.js';
import { saveModelFile } from './model-files.js';
import { RunsCompare } from './runs-compare.js';
import { describeRun, curves, legendKey, tableRow } from './runs-figures.js';

/** @typedef {import('../kindling-playground.js').KindlingPlayground} KindlingPlayground */
/** @typedef {import('./engine-client.js').EngineClient} EngineClient */
/** @typedef {import('./training-view.js').TrainingView} TrainingView */
/** @typedef {import('../runs-store.js').RunSummary} Run */
/** @typedef {import('../protocol.js').ModelInfo} ModelInfo */
/** @typedef {import('../protocol.js').ErrorKind} ErrorKind */
/** @typedef {import('../../pkg/kindling.js').GenerateOptions} GenerateOptions */

/**
 * @typedef {Record<'runsCard' | 'runsStorage' | 'runsError' | 'runsEmpty' | 'runsList'
 *   | 'runsCompared' | 'runsMetric' | 'runsLegend', HTMLElement>
 *   & { runsChart: HTMLCanvasElement, runsTable: HTMLTableElement }} RunsNodes
 */

export class RunsView {
  // The worker's messages this takes: the element hands it these and no others.
  accepts = /** @type {const} */ (['run-saved', 'model']);

  // host: the element (its phase and settings, train()); engine: its EngineClient; training:
  // its TrainingView (the status line); sampling(): the Generate card's sampling options.
  /**
   * @param {ShadowRoot} root
   * @param {object} parts
   * @param {KindlingPlayground} parts.host
   * @param {EngineClient} parts.engine
   * @param {TrainingView} parts.training
   * @param {() => GenerateOptions} parts.sampling
   */
  constructor(root, { host, engine, training, sampling }) {
    this.host = host;
    this.engine = engine;
    this.training = training;
    this.$ = /** @type {RunsNodes} */ (
      nodes(
        root,
        'runs-card runs-storage runs-error runs-empty runs-list runs-compared runs-metric runs-chart runs-legend runs-table',
      )
    );
    this.chart = new LossChart(this.$.runsChart, { empty: 'Tick runs above to overlay their curves' });
    this.compare = new RunsCompare(root, { engine, sampling });
    /** @type {Run[]} */
    this.runs = [];
    this.refreshes = 0;
    /** @type {Set<string>} */
    this.ticked = new Set(); // ids
    /** @type {{ run: Run, train: boolean } | null} */
    this.opening = null; // { run, train } while the worker opens a run
    this.unsaved = false; // the last save was refused (full): a deletion makes room for it
    this.$.runsMetric.addEventListener('change', () => this.showCompared());
  }

  /** @returns {'val' | 'train'} */
  get metric() {
    const checked = this.$.runsMetric.querySelector('input:checked');
    return /** @type {'val' | 'train'} */ (/** @type {HTMLInputElement} */ (checked).value);
  }

  // Reads the list from IndexedDB and shows it; the full page only (the embeds keep no runs).
  async refresh() {
    if (this.host.compact) return;
    const id = ++this.refreshes;
    let runs;
    let limit;
    try {
      [runs, { limit }] = await Promise.all([
        listRuns(),
        runsLimit(workerSettings(this.host).runsCapBytes ?? undefined),
      ]);
    } catch (error) {
      return say(this.$.runsError, /** @type {Error} */ (error).message);
    }
    if (id !== this.refreshes) return; // a later refresh read a newer list
    this.runs = runs;
    const ids = new Set(runs.map((run) => run.id));
    for (const id of this.ticked) if (!ids.has(id)) this.ticked.delete(id);
    const count = runs.length === 1 ? '1 run' : `${runs.length} runs`;
    this.$.runsStorage.textContent = `${count} · ${format.bytes(totalBytes(runs))} of ${format.bytes(limit)}`;
    this.$.runsStorage.dataset.bytes = String(totalBytes(runs));
    this.$.runsStorage.dataset.limit = String(limit);
    this.$.runsEmpty.hidden = runs.length > 0;
    this.$.runsList.replaceChildren(...runs.map((run) => this.item(run)));
    this.$.runsList.dataset.count = String(runs.length);
    this.showCompared();
    this.compare.setRuns(runs, [...this.ticked], this.host.ready);
  }

  // One run in the list: its tick, name and figures, its sample, and what can be done with it.
  /** @param {Run} run */
  item(run) {
    const tick = el('input', { type: 'checkbox', 'aria-describedby': `run-${run.id}-figures` });
    tick.checked = this.ticked.has(run.id);
    tick.addEventListener('change', () => {
      if (tick.checked) this.ticked.add(run.id);
      else this.ticked.delete(run.id);
      this.showCompared();
      this.compare.setRuns(this.runs, [...this.ticked], this.host.ready);
    });
    const name = el('span', { class: 'run-name' });
    name.textContent = run.name;
    const figures = el('p', { class: 'run-figures muted', id: `run-${run.id}-figures` });
    figures.textContent = describeRun(run);
    const sample = el('p', { class: 'run-sample', title: 'What it writes unprompted (seed 1)' });
    sample.textContent = run.sample ? `“${run.sample.trim().replace(/\s+/g, ' ')}”` : '';

    // Open and Continue need the engine; Download and Delete only what is stored.
    /**
     * @param {string} label
     * @param {(node: HTMLButtonElement) => void} action
     * @param {{ engine?: boolean, disabled?: boolean }} [needs]
     */
    const button = (label, action, { engine = false, disabled = false } = {}) => {
      const node = el('button', { type: 'button', 'aria-label': `${label} ${run.name}` }, [label]);
      node.disabled = disabled || (engine && !this.host.ready);
      node.addEventListener('click', () => action(node));
      return node;
    };
    const finished = run.step >= run.maxSteps;
    const item = el('li', { class: 'run', 'data-id': run.id });
    const actions = el('div', { class: 'row run-actions' }, [
      button('Open', () => this.open(run), { engine: true }),
      button('Continue', () => this.open(run, true), { engine: true, disabled: finished }),
      button('Download', () => this.download(run)),
      button('Delete', (node) => this.confirmDelete(item, run, node)),
    ]);
    if (finished) /** @type {HTMLElement} */ (actions.children[1]).title = 'Its training steps are done';
    item.append(el('label', { class: 'run-pick' }, [tick, name]), figures, sample, actions);
    return item;
  }

  // ---- what a run can do ------------------------------------------------------------

  // Loads the run as the live model (the page shows its text and settings); `train`: and
  // trains on from its last step.
  /**
   * @param {Run} run
   * @param {boolean} [train]
   */
  async open(run, train = false) {
    say(this.$.runsError, '');
    let bytes;
    try {
      bytes = await loadRunModel(run.id);
    } catch (error) {
      return say(this.$.runsError, /** @type {Error} */ (error).message);
    }
    this.opening = { run, train };
    this.engine.send({ type: 'open-run', bytes, run }, [bytes.buffer]);
  }

  /** @param {Run} run */
  async download(run) {
    try {
      const bytes = await loadRunModel(run.id);
      const slug = run.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
      saveModelFile(bytes, `kindling-${slug}-${run.config.model}-step${run.step}.kindling`);
    } catch (error) {
      say(this.$.runsError, /** @type {Error} */ (error).message);
    }
  }

  // Asks in place, with the safe answer focused; Escape keeps the run too.
  /**
   * @param {HTMLElement} item
   * @param {Run} run
   * @param {HTMLButtonElement} deleteButton
   */
  confirmDelete(item, run, deleteButton) {
    item.querySelector('.run-confirm')?.remove();
    const question = el('p', { id: `run-${run.id}-confirm` });
    question.textContent = `Delete ${run.name} and its model? This cannot be undone.`;
    const yes = el('button', { type: 'button', class: 'danger' }, [`Delete ${run.name}`]);
    const no = el('button', { type: 'button' }, ['Keep it']);
    const box = el('div', { class: 'run-confirm', role: 'group', 'aria-labelledby': question.id }, [
      question,
      el('div', { class: 'row' }, [yes, no]),
    ]);
    const cancel = () => {
      box.remove();
      deleteButton.focus();
    };
    no.addEventListener('click', cancel);
    box.addEventListener('keydown', (event) => event.key === 'Escape' && cancel());
    yes.addEventListener('click', () => this.delete(run));
    item.append(box);
    no.focus();
  }

  /** @param {Run} run */
  async delete(run) {
    try {
      await deleteRun(run.id);
    } catch (error) {
      return say(this.$.runsError, /** @type {Error} */ (error).message);
    }
    this.ticked.delete(run.id);
    await this.refresh();
    this.$.runsList.querySelector('input')?.focus();
    // A run refused for want of room is saved now, if it fits.
    if (this.unsaved) this.engine.send({ type: 'save-run' });
  }

  // ---- the worker's messages ----------------------------------------------------------

  /** @param {import('./parts.js').Accepted<RunsView['accepts']>} message */
  received(message) {
    if (message.type === 'run-saved') {
      if (this.unsaved) say(this.$.runsError, '');
      this.unsaved = false;
      return this.refresh();
    }
    if (message.type !== 'model') return;
    const opening = this.opening;
    this.opening = null;
    if (message.origin !== 'run' || !opening) return;
    const info = /** @type {ModelInfo} */ (message.info); // the run's model
    this.training.status(`Reopened ${opening.run.name} at step ${info.step}.`);
    if (opening.train && this.host.phase === 'paused') this.host.train();
  }

  // Shows the errors that belong here; false for the others.
  /**
   * @param {string} source
   * @param {string} message
   * @param {ErrorKind} [kind]
   * @returns {boolean}
   */
  showError(source, message, kind) {
    if (source === 'runs') {
      this.unsaved = kind === 'storage';
      say(this.$.runsError, message);
      return true;
    }
    if (source !== 'open-run') return false;
    const name = this.opening?.run.name ?? 'the run';
    this.opening = null;
    say(this.$.runsError, `Could not reopen ${name}: ${sentence(message)} Your current model is unchanged.`);
    return true;
  }

  // ---- the ticked runs: chart and table -------------------------------------------------

  showCompared() {
    const ticked = this.runs.filter((run) => this.ticked.has(run.id));
    this.$.runsCompared.hidden = !ticked.length;
    const shown = curves(ticked, this.metric);
    this.chart.setCurves(shown);
    this.$.runsLegend.replaceChildren(...shown.map(legendKey));
    const which = this.metric === 'val' ? 'validation' : 'train';
    this.$.runsChart.setAttribute(
      'aria-label',
      `${which} bits per character against step of ${ticked.map((run) => run.name).join(', ') || 'no runs'}`,
    );
    this.$.runsTable.tBodies[0].replaceChildren(...ticked.map(tableRow));
  }

  connect() {
    this.chart.connect();
  }

  disconnect() {
    this.chart.disconnect();
  }
}

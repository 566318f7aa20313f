// @ts-check
// The Runs card's "Two runs, one prompt": the two chosen runs' models write from one prompt
// and seed with the same sampling settings, side by side, as they stream
// (compare-models.js). The same run twice writes the same text twice.
import { loadRunModel } from '../runs-store.js';
import { compareModels } from './compare-models.js';
import { el, nodes, say } from './markup.js';

/** @typedef {import('../runs-store.js').RunSummary} Run */
/**
 * @typedef {Record<'runsCompareStatus' | 'runsCompareError' | 'runsOutA' | 'runsOutB'
 *   | 'runsOutATitle' | 'runsOutBTitle', HTMLElement>
 *   & Record<'runsA' | 'runsB', HTMLSelectElement>
 *   & Record<'runsPrompt' | 'runsSeed' | 'runsLength', HTMLInputElement>
 *   & { runsGenerate: HTMLButtonElement }} Nodes
 */

export class RunsCompare {
  // engine: the element's EngineClient; sampling(): { temperature, topK, topP } as the Generate
  // card has them.
  /**
   * @param {ShadowRoot} root
   * @param {object} parts
   * @param {import('./engine-client.js').EngineClient} parts.engine
   * @param {() => import('../../pkg/kindling.js').GenerateOptions} parts.sampling
   */
  constructor(root, { engine, sampling }) {
    this.engine = engine;
    this.sampling = sampling;
    this.$ = /** @type {Nodes} */ (
      nodes(
        root,
        'runs-a runs-b runs-prompt runs-seed runs-length runs-generate runs-compare-status runs-compare-error runs-out-a runs-out-b runs-out-a-title runs-out-b-title',
      )
    );
    /** @type {Run[]} */
    this.runs = [];
    this.running = false;
    this.$.runsGenerate.addEventListener('click', () => this.generate());
    // A run the reader chose stays chosen as the list changes; until then, the ticked ones.
    for (const select of [this.$.runsA, this.$.runsB])
      select.addEventListener('change', () => (select.dataset.chosen = 'true'));
  }

  // The runs to choose from, and the ticked ones (ids, the first two are chosen when the
  // reader has not chosen yet). `ready`: the engine is loaded.
  /**
   * @param {Run[]} runs
   * @param {string[]} ticked
   * @param {boolean} ready
   */
  setRuns(runs, ticked, ready) {
    this.runs = runs;
    this.ready = ready;
    const ids = runs.map((run) => run.id);
    const defaults = [...ticked, ...ids.slice(-2).reverse()].filter((id) => ids.includes(id));
    [this.$.runsA, this.$.runsB].forEach((select, index) => {
      const kept =
        ids.includes(select.value) && select.dataset.chosen ? select.value : (defaults[index] ?? defaults[0]);
      select.replaceChildren(
        ...runs.map((run) => {
          const option = el('option', { value: run.id });
          option.textContent = run.name;
          return option;
        }),
      );
      if (kept) select.value = kept;
    });
    this.update();
  }

  update() {
    this.$.runsGenerate.disabled = !this.ready || !this.runs.length || this.running;
  }

  async generate() {
    // Runs: where one is missing, the line below returns.
    const chosen = /** @type {Run[]} */ (
      [this.$.runsA, this.$.runsB].map((select) => this.runs.find((run) => run.id === select.value))
    );
    if (chosen.some((run) => !run)) return;
    const prompt = this.$.runsPrompt.value;
    const outputs = [this.$.runsOutA, this.$.runsOutB];
    say(this.$.runsCompareError, '');
    this.running = true;
    this.update();
    this.$.runsCompareStatus.textContent = 'Generating…';
    chosen.forEach((run, index) => {
      [this.$.runsOutATitle, this.$.runsOutBTitle][index].textContent = run.name;
      outputs[index].textContent = prompt;
    });
    try {
      const models = await Promise.all(chosen.map((run) => loadRunModel(run.id)));
      const options = {
        ...this.sampling(),
        maxTokens: Number(this.$.runsLength.value),
        seed: Number(this.$.runsSeed.value),
      };
      await compareModels(this.engine, {
        models: /** @type {[Uint8Array, Uint8Array]} */ (models),
        prompt,
        options,
        onToken: (index, token) => outputs[index].append(token.text),
        onWarning: (index, message) => say(this.$.runsCompareError, `${chosen[index].name}: ${message}`),
      });
      this.$.runsCompareStatus.textContent = `Done: ${chosen[0].name} and ${chosen[1].name}, seed ${options.seed}.`;
    } catch (error) {
      this.$.runsCompareStatus.textContent = '';
      say(this.$.runsCompareError, /** @type {Error} */ (error).message);
    } finally {
      this.running = false;
      this.update();
    }
  }
}

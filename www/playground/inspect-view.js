// @ts-check
// The Inspect card: look inside the model at a text, the one just generated (the prompt and
// its output) or any text typed in. The worker runs the model over it (worker/engine-worker.js,
// `inspect`); each view in inspect/ draws one part of what comes back: attention, the logit
// lens, neurons, embeddings, and how the sampling settings reshape the next-token distribution.
// A model offers only some of them (a GPT has no neurons to follow, an LSTM no attention): the
// tabs show those it has and a line says why the others are missing.
import { nodes, say, sentence } from './markup.js';
import { VIEWS, givenText } from './attributes.js';
import * as attention from './inspect/attention.js';
import * as lens from './inspect/lens.js';
import * as neurons from './inspect/neurons.js';
import * as embeddings from './inspect/embeddings.js';
import * as sampling from './inspect/sampling.js';

/** @typedef {import('../kindling-playground.js').KindlingPlayground} KindlingPlayground */
/** @typedef {import('../../pkg/kindling.js').Inspection} Inspection */
/** @typedef {import('../../pkg/kindling.js').ModelKind} ModelKind */
/** @typedef {import('../protocol.js').InspectRequest} InspectRequest */
/** @typedef {import('../protocol.js').DistributionRequest} DistributionRequest */
/**
 * @template {import('../protocol.js').RequestType} T
 * @typedef {import('../protocol.js').Answer<T>} Answer
 */
/** @typedef {import('./attributes.js').View} View */
/** @typedef {import('./inspect/grid.js').Context} Context */

/**
 * A view in inspect/: whether a model of `kind` has it, and what draws it (from an inspection
 * of such a model: the view's own type says which parts it reads), with what stops it, if any.
 * Methods, so that each view may take the narrower inspection it is only ever given.
 * @typedef {{
 *   has(kind: ModelKind | null): boolean,
 *   render(panel: HTMLElement, inspection: Inspection, context: Context): (() => void) | void,
 * }} Renderer
 */

/** @typedef {HTMLElement & { dataset: { view: View } }} Tab its data-view names its view */

/**
 * @typedef {Record<'inspectSource' | 'inspectStatus' | 'inspectError' | 'inspectTabs'
 *   | 'inspectNote' | 'inspectPanel', HTMLElement>
 *   & { inspectText: HTMLTextAreaElement, inspect: HTMLButtonElement }} InspectNodes
 */

/** @type {Record<View, Renderer>} */
const RENDERERS = { attention, lens, neurons, embeddings, sampling };
const TOP_GUESSES = 5;
// A recurrent model reads any length; its views stay light on this many characters (the end).
const MAX_CHARACTERS = 1000;

// Why the views a model lacks are missing.
const recurrent = (/** @type {string} */ name) =>
  `${name} reads one token at a time into a recurrent state: it has no attention and no layer-by-layer guesses. ` +
  'Follow its neurons instead.';
const MISSING = {
  gpt: 'A GPT has no recurrent state, so there are no neurons to follow: its attention and logit lens show how it reads instead.',
  lstm: recurrent('An LSTM'),
  gru: recurrent('A GRU'),
};

const PLACEHOLDER = {
  none: 'Train a model or open one, then press Inspect to look inside it.',
  ready: 'Press Inspect to run the model over the text and look inside.',
};

export class InspectView {
  // The worker's messages this takes: the element hands it these and no others.
  accepts = /** @type {const} */ (['model']);

  // host: the element (its mode, its view, its given text); request(message): an engine
  // request; generated(): the last generation's prompt and the text shown after it.
  /**
   * @param {ShadowRoot} root
   * @param {object} parts
   * @param {KindlingPlayground} parts.host
   * @param {<R extends InspectRequest | DistributionRequest>(message: R)
   *   => Promise<Answer<R['type']>>} parts.request
   * @param {() => string} parts.generated
   */
  constructor(root, { host, request, generated }) {
    this.root = root;
    this.host = host;
    this.request = request;
    this.generated = generated;
    this.$ = /** @type {InspectNodes} */ (
      nodes(
        root,
        'inspect-source inspect-text inspect inspect-status inspect-error inspect-tabs inspect-note inspect-panel',
      )
    );
    /** @type {ModelKind | null} */
    this.kind = null; // the model's kind: 'gpt' | 'lstm' | 'gru', null without one
    /** @type {Inspection | null} */
    this.inspection = null;
    /** @type {View} */
    this.view = VIEWS[0]; // the chosen view
    /** @type {View | null} */
    this.shown = null; // the view shown: the chosen one, or the first the model has
    this.saved = Object.fromEntries(VIEWS.map((view) => [view, {}])); // each view's choices
    /** @type {(() => void) | null} */
    this.cleanup = null;
    this.runs = 0;
    this.embedded = false; // mode="inspect": the text is the page's, or the reader's
    this.tabs = /** @type {Tab[]} */ ([...this.$.inspectTabs.querySelectorAll('[role=tab]')]);
    for (const tab of this.tabs) tab.addEventListener('click', () => this.choose(tab.dataset.view));
    this.$.inspectTabs.addEventListener('keydown', (event) => this.tabKey(event));
    this.$.inspect.addEventListener('click', () => this.run());
    this.$.inspectSource.addEventListener('change', () => this.sourceChanged());
    // Shown to the end (at the reader's pace), a generation is the text to look at.
    host.addEventListener('kindling-finished', ({ detail }) => {
      if (detail.task === 'generation') this.sourceChanged();
    });
    this.show();
  }

  get source() {
    const checked = this.$.inspectSource.querySelector('input:checked');
    return this.embedded ? 'typed' : /** @type {HTMLInputElement} */ (checked).value;
  }

  // ---- the element's side --------------------------------------------------------------

  /** @param {string} mode */
  setMode(mode) {
    this.embedded = mode === 'inspect';
    this.sourceChanged();
    this.givenTextChanged();
  }

  // mode="inspect" looks at the page's text (the text attribute, or the element's <template>);
  // a new one is looked at again.
  givenTextChanged() {
    const text = givenText(this.host);
    if (!this.embedded || text == null) return;
    this.$.inspectText.value = text.replace(/\n$/, '');
    // With a model (even one whose first look is under way: its reply is dropped), look again.
    if (this.kind) this.run();
  }

  /** @param {import('./parts.js').Accepted<InspectView['accepts']>} message */
  received(message) {
    this.kind = message.info?.config.model ?? null;
    this.inspection = null;
    // What was said of the old model goes, and so do the replies still coming about it.
    this.runs++;
    this.$.inspectStatus.textContent = '';
    say(this.$.inspectError, '');
    this.show();
    if (message.origin === 'model-src' && this.embedded) {
      // Without a text of its own, an embed looks at the start of what the model learned from.
      if (!this.$.inspectText.value) this.$.inspectText.value = firstLine(message.setup?.text ?? '');
      this.run();
    }
  }

  // ---- the text ---------------------------------------------------------------------

  // "The text just generated" is the last generation's prompt and output, as they were when it
  // ended; "Text I type" keeps what is there to edit.
  sourceChanged() {
    const generated = this.source === 'generated';
    this.$.inspectText.readOnly = generated;
    if (generated) this.$.inspectText.value = this.generated();
  }

  async run() {
    this.sourceChanged();
    const characters = [...this.$.inspectText.value];
    const text = characters.slice(-MAX_CHARACTERS).join('');
    const cut = characters.length - MAX_CHARACTERS;
    say(this.$.inspectError, '');
    if (!text) {
      const hint = this.source === 'generated' ? ' Generate some first, or choose “Text I type”.' : '';
      return say(this.$.inspectError, `There is no text to inspect.${hint}`);
    }
    const run = ++this.runs;
    this.$.inspectStatus.textContent = 'Inspecting…';
    try {
      const { inspection } = await this.request({ type: 'inspect', text, options: { topK: TOP_GUESSES } });
      if (run !== this.runs) return;
      this.inspection = inspection;
      this.kind = inspection.model;
      this.$.inspectStatus.textContent = summary(inspection, cut);
      this.show();
    } catch (error) {
      if (run !== this.runs) return;
      this.$.inspectStatus.textContent = '';
      say(this.$.inspectError, sentence(/** @type {Error} */ (error).message));
    }
  }

  // ---- tabs and views -----------------------------------------------------------------

  /** @param {View} view */
  available(view) {
    return RENDERERS[view].has(this.kind);
  }

  // The element's `view`: shows it, unless it is the chosen view already.
  /** @param {View} view */
  select(view) {
    if (!VIEWS.includes(view) || view === this.view) return;
    this.view = view;
    this.show();
  }

  // The reader chose a view: the element's `view` follows (as `pace` follows the Pace control)
  // and, changed, selects it; select() sets no attribute, so nothing loops.
  /** @param {View} view */
  choose(view) {
    this.host.view = view;
    this.select(view);
    this.tabs.find((tab) => tab.dataset.view === this.shown)?.focus();
  }

  // The arrow keys, Home and End move between the tabs (the ARIA tabs pattern).
  /** @param {KeyboardEvent} event */
  tabKey(event) {
    const tabs = this.tabs.filter((tab) => !tab.hidden);
    const at = tabs.findIndex((tab) => tab.dataset.view === this.shown);
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    this.choose(tabs[(next + tabs.length) % tabs.length].dataset.view);
  }

  // Shows the chosen view of the inspection, or where the model lacks it the first it has.
  show() {
    const { inspectTabs, inspectNote, inspectPanel } = this.$;
    inspectTabs.hidden = !this.kind;
    say(inspectNote, this.kind ? MISSING[this.kind] : '');
    const view =
      !this.kind || this.available(this.view)
        ? this.view
        : /** @type {View} */ (VIEWS.find((name) => this.available(name))); // all have embeddings
    this.shown = view;
    for (const tab of this.tabs) {
      const selected = tab.dataset.view === view;
      tab.hidden = Boolean(this.kind) && !this.available(tab.dataset.view);
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected) inspectPanel.setAttribute('aria-labelledby', tab.id);
    }
    this.cleanup?.();
    this.cleanup = null;
    inspectPanel.replaceChildren();
    inspectPanel.dataset.view = view;
    if (!this.inspection) {
      inspectPanel.textContent = PLACEHOLDER[this.kind ? 'ready' : 'none'];
      return;
    }
    /** @type {Context} */
    const context = {
      root: this.root,
      saved: this.saved[view],
      distribution: (logits, options) =>
        this.request({ type: 'distribution', logits, options }).then((reply) => reply.probs),
    };
    this.cleanup = RENDERERS[view].render(inspectPanel, this.inspection, context) ?? null;
  }
}

// What was inspected, in a line: how many characters (or BPE tokens), and what was left out.
/**
 * @param {Inspection} inspection
 * @param {number} cut
 */
function summary({ tokens, skipped, warning, tokenizer }, cut) {
  const unit = tokenizer === 'bpe' ? 'token' : 'character';
  const count = `${tokens.length.toLocaleString('en')} ${unit}${tokens.length === 1 ? '' : 's'}`;
  /** @param {number} n */
  const before = (n) => ` The ${n.toLocaleString('en')} before them were left out`;
  let left = '';
  // Tokens and the card's cut in characters do not add up: with BPE the count is left out.
  if (skipped && unit === 'token')
    left = ` The text before them was left out: the model reads at most ${tokens.length} tokens at a time.`;
  else if (skipped) left = `${before(skipped + Math.max(0, cut))}: the model reads at most ${tokens.length} at a time.`;
  else if (cut > 0) left = `${before(cut)}: the Inspect card looks at ${MAX_CHARACTERS.toLocaleString('en')} at most.`;
  return `Inspected ${count}.${left}${warning ? ` ${sentence(warning)}` : ''}`;
}

/** @param {string} text */
function firstLine(text) {
  return (
    text
      .split('\n')
      .find((line) => line.trim())
      ?.slice(0, 200) ?? ''
  );
}

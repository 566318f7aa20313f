// The Inspect card: look inside the model at a text, the one just generated (the prompt and
// its output) or any text typed in. The worker runs the model over it (engine-worker.js,
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

const RENDERERS = { attention, lens, neurons, embeddings, sampling };
const TOP_GUESSES = 5;
// A recurrent model reads any length; its views stay light on this many characters (the end).
const MAX_CHARACTERS = 1000;

// Why the views a model lacks are missing.
const recurrent = (name) =>
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
  // host: the element (its mode, its view, its given text); request(message): an engine
  // request; generated(): the last generation's prompt and the text shown after it.
  constructor(root, { host, request, generated }) {
    Object.assign(this, { root, host, request, generated });
    this.$ = nodes(root, 'inspect-source inspect-text inspect inspect-status inspect-error inspect-tabs inspect-note inspect-panel');
    this.kind = null; // the model's kind: 'gpt' | 'lstm' | 'gru', null without one
    this.inspection = null;
    this.view = VIEWS[0]; // the chosen view
    this.shown = null; // the view shown: the chosen one, or the first the model has
    this.saved = Object.fromEntries(VIEWS.map((view) => [view, {}])); // each view's choices
    this.cleanup = null;
    this.runs = 0;
    this.embedded = false; // mode="inspect": the text is the page's, or the reader's
    this.tabs = [...this.$.inspectTabs.querySelectorAll('[role=tab]')];
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
    return this.embedded ? 'typed' : this.$.inspectSource.querySelector('input:checked').value;
  }

  // ---- the element's side --------------------------------------------------------------

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

  received(message) {
    if (message.type !== 'model') return;
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
      say(this.$.inspectError, sentence(error.message));
    }
  }

  // ---- tabs and views -----------------------------------------------------------------

  available(view) {
    return RENDERERS[view].has(this.kind);
  }

  // The element's `view`: shows it, unless it is the chosen view already.
  select(view) {
    if (!VIEWS.includes(view) || view === this.view) return;
    this.view = view;
    this.show();
  }

  // The reader chose a view: the element's `view` follows (as `pace` follows the Pace control)
  // and, changed, selects it; select() sets no attribute, so nothing loops.
  choose(view) {
    this.host.view = view;
    this.select(view);
    this.tabs.find((tab) => tab.dataset.view === this.shown)?.focus();
  }

  // The arrow keys, Home and End move between the tabs (the ARIA tabs pattern).
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
    const view = !this.kind || this.available(this.view) ? this.view : VIEWS.find((name) => this.available(name));
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
    const context = {
      root: this.root,
      saved: this.saved[view],
      distribution: (logits, options) => this.request({ type: 'distribution', logits, options }).then((reply) => reply.probs),
    };
    this.cleanup = RENDERERS[view].render(inspectPanel, this.inspection, context) ?? null;
  }
}

// What was inspected, in a line: how many characters (or BPE tokens), and what was left out.
function summary({ tokens, skipped, warning, tokenizer }, cut) {
  const unit = tokenizer === 'bpe' ? 'token' : 'character';
  const count = `${tokens.length.toLocaleString('en')} ${unit}${tokens.length === 1 ? '' : 's'}`;
  const before = (n) => ` The ${n.toLocaleString('en')} before them were left out`;
  let left = '';
  // Tokens and the card's cut in characters do not add up: with BPE the count is left out.
  if (skipped && unit === 'token') left = ` The text before them was left out: the model reads at most ${tokens.length} tokens at a time.`;
  else if (skipped) left = `${before(skipped + Math.max(0, cut))}: the model reads at most ${tokens.length} at a time.`;
  else if (cut > 0) left = `${before(cut)}: the Inspect card looks at ${MAX_CHARACTERS.toLocaleString('en')} at most.`;
  return `Inspected ${count}.${left}${warning ? ` ${sentence(warning)}` : ''}`;
}

function firstLine(text) {
  return text.split('\n').find((line) => line.trim())?.slice(0, 200) ?? '';
}

// @ts-check
// The Text card's "Show tokens": how the current model's tokenizer cuts the start of the
// training text, every other segment shaded as the generated pieces are. The textarea stays
// as it is for editing; this read-only view sits below it.
import * as format from '../format.js';
import { el, nodes, say } from './markup.js';

/** @typedef {import('../../pkg/kindling.js').Segment} Segment */
/** @typedef {import('../protocol.js').TokenizeRequest} TokenizeRequest */
/** @typedef {import('../protocol.js').TokenizedMessage} TokenizedMessage */
/**
 * @typedef {Record<'tokensHint' | 'tokenPanel' | 'tokensSummary' | 'tokenView' | 'tokensError',
 *   HTMLElement> & { showTokens: HTMLButtonElement }} Nodes
 */

// Enough to see how the tokenizer cuts a text; a whole corpus would be a long, slow page.
const TOKEN_VIEW_CHARS = 4000;

const NO_MODEL = 'Tokens show once a model exists: press Train or open a model.';

// A segment as spans: spaces and line ends get a mark (style.css) that is no character of
// the text, so the view's text stays the training text.
/** @param {Segment} segment */
function segmentSpan({ text, tokens }) {
  const span = el('span', { class: tokens > 1 ? 'tok multi' : 'tok' });
  if (tokens > 1) span.title = `${tokens} tokens`;
  for (const part of text.split(/( +|\n)/)) {
    if (!part) continue;
    const mark = part === '\n' ? 'nl' : part[0] === ' ' ? 'sp' : null;
    const node = mark ? el('span', { class: mark }) : part;
    if (mark) /** @type {HTMLElement} */ (node).textContent = part;
    span.append(node);
  }
  return span;
}

export class TokenView {
  // The worker's messages this takes: the element hands it these and no others.
  accepts = /** @type {const} */ (['model']);

  // request(message): to the engine worker, resolving to its reply.  text(): the training text.
  /**
   * @param {ShadowRoot} root
   * @param {object} parts
   * @param {(message: TokenizeRequest) => Promise<TokenizedMessage>} parts.request
   * @param {() => string} parts.text
   */
  constructor(root, { request, text }) {
    this.request = request;
    this.text = text;
    this.$ = /** @type {Nodes} */ (
      nodes(root, 'show-tokens tokens-hint token-panel tokens-summary token-view tokens-error')
    );
    this.hasModel = false;
    this.asked = 0; // the latest request: older replies are stale
    this.$.showTokens.addEventListener('click', () => this.toggle());
    this.modelExists(false);
  }

  get shown() {
    return this.$.showTokens.getAttribute('aria-pressed') === 'true';
  }

  toggle() {
    this.$.showTokens.setAttribute('aria-pressed', String(!this.shown));
    this.$.tokenPanel.hidden = !this.shown;
    this.refresh();
  }

  /** @param {boolean} exists */
  modelExists(exists) {
    this.hasModel = exists;
    this.$.showTokens.disabled = !exists;
    say(this.$.tokensHint, exists ? '' : NO_MODEL);
    if (!exists && this.shown) this.toggle();
  }

  // 'model' messages: a new tokenizer (or none) cuts the text anew.
  /** @param {import('./parts.js').Accepted<TokenView['accepts']>} message */
  received(message) {
    this.modelExists(Boolean(message.info));
    this.refresh();
  }

  // The text changed (a model-src element's `text` may change under its model).
  textChanged() {
    this.refresh();
  }

  async refresh() {
    const id = ++this.asked;
    if (!this.shown || !this.hasModel) return;
    const text = this.text();
    this.$.tokenView.setAttribute('aria-busy', 'true');
    say(this.$.tokensError, '');
    try {
      // TOKEN_VIEW_CHARS characters are at most twice as many UTF-16 units.
      const { segments } = await this.request({
        type: 'tokenize',
        text: text.slice(0, 2 * TOKEN_VIEW_CHARS),
        maxChars: TOKEN_VIEW_CHARS,
      });
      if (id === this.asked) this.show(segments, format.codePoints(text));
    } catch (error) {
      if (id === this.asked) say(this.$.tokensError, /** @type {Error} */ (error).message);
    } finally {
      if (id === this.asked) this.$.tokenView.removeAttribute('aria-busy');
    }
  }

  /**
   * @param {Segment[]} segments
   * @param {number} totalChars
   */
  show(segments, totalChars) {
    this.$.tokenView.replaceChildren(...segments.map(segmentSpan));
    const chars = segments.reduce((sum, { text }) => sum + format.codePoints(text), 0);
    const tokens = segments.reduce((sum, segment) => sum + segment.tokens, 0);
    /** @param {number} n */
    const count = (n) => n.toLocaleString('en');
    const which = chars < totalChars ? `First ${count(chars)} characters` : `All ${count(chars)} characters`;
    const ratio = tokens ? ` (${format.ratio(chars / tokens)} characters per token)` : '';
    this.$.tokensSummary.textContent = `${which}: ${count(tokens)} tokens${ratio}`;
    this.$.tokensSummary.dataset.tokens = String(tokens);
    this.$.tokensSummary.dataset.chars = String(chars);
  }
}

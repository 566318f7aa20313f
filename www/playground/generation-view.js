// @ts-check
// The Generate card: the prompt and sampling knobs, the output drawn as the tokens stream in
// at the chosen pace (pacer.js), and the token inspector (hover a token, or focus the text and
// use the arrow keys: how likely the model found it, and the alternatives it weighed).
import * as format from '../format.js';
import { el, nodes, say, tell } from './markup.js';
import { Pacer } from './pacer.js';

/** @typedef {import('../../pkg/kindling.js').Token} Token */
/** @typedef {import('../protocol.js').GenerateRequest} GenerateRequest */
/** @typedef {import('../protocol.js').StopRequest} StopRequest */
/** @typedef {import('./pacer.js').Pace} Pace */
/** @typedef {import('../types/kindling-playground.js').GenerationResult} GenerationResult */

/**
 * A generation from start to end: `count` and `text` are what was shown; `finished`, the
 * engine's 'done'.
 * @typedef {object} Generation
 * @property {number} id
 * @property {string} prompt
 * @property {number} count
 * @property {string} text
 * @property {boolean} finished
 * @property {(result: GenerationResult) => void} resolve
 */

/** @typedef {HTMLElement & { token: Token }} TokenSpan */

/**
 * @typedef {Record<'promptWarning' | 'pace' | 'genStatus' | 'genError' | 'output' | 'tokenInfo',
 *   HTMLElement>
 *   & Record<'temperature' | 'topK' | 'topP' | 'length', HTMLInputElement>
 *   & Record<'generate' | 'nextToken', HTMLButtonElement>
 *   & { prompt: HTMLTextAreaElement }} GenerationNodes
 */

// Generation attributes → the inputs they fill, with the inputs' defaults.
/** @type {Record<string, { id: string, value: string }>} */
export const KNOBS = {
  temperature: { id: 'temperature', value: '0.8' },
  'top-k': { id: 'top-k', value: '20' },
  'top-p': { id: 'top-p', value: '0.95' },
  'max-tokens': { id: 'length', value: '300' },
};

// Probability bands for colouring tokens; the lowest is also underlined so it does not
// rely on colour alone.
/** @param {number} prob */
function tokenClass(prob) {
  if (prob < 0.1) return 'tok low';
  if (prob < 0.3) return 'tok mid';
  return 'tok';
}

export class GenerationView {
  // The worker's messages this takes (those of its generation's id are the ones it shows): the
  // element hands it these and no others.
  accepts = /** @type {const} */ (['token', 'warning', 'generated']);

  // send(message): to the engine worker.  onStart(): a generation started.  onToken(token):
  // each token as it is shown.  onEnd({ reason, text, tokens }): a generation ended ('done',
  // 'stopped' or 'error'), with what was shown.
  /**
   * @param {ShadowRoot} root
   * @param {object} hooks
   * @param {(message: GenerateRequest | StopRequest) => void} hooks.send
   * @param {() => void} hooks.onStart
   * @param {(token: Token) => void} hooks.onToken
   * @param {(result: GenerationResult) => void} hooks.onEnd
   */
  constructor(root, { send, onStart, onToken, onEnd }) {
    this.root = root;
    this.send = send;
    this.onStart = onStart;
    this.onToken = onToken;
    this.onEnd = onEnd;
    this.$ = /** @type {GenerationNodes} */ (
      nodes(
        root,
        'prompt prompt-warning temperature top-k top-p length pace generate next-token gen-status gen-error output token-info',
      )
    );
    // From start to end: { id, prompt, count and text (shown), finished (the engine's 'done'), resolve }.
    /** @type {Generation | null} */
    this.current = null;
    // The last generation's prompt and the text shown after it (the Inspect card looks at it).
    this.written = '';
    this.pacer = new Pacer((/** @type {Token[]} */ tokens) => this.draw(tokens));
    const { output, nextToken } = this.$;
    output.addEventListener('mouseover', (event) =>
      this.inspect(/** @type {Element} */ (event.target).closest('.tok'), false),
    );
    output.addEventListener('focus', () => this.inspect(this.currentToken() ?? output.lastElementChild));
    output.addEventListener('keydown', (event) => this.tokenKey(event));
    nextToken.addEventListener('click', () => this.pacer.step());
  }

  get active() {
    return Boolean(this.current);
  }

  get prompt() {
    return this.$.prompt.value;
  }

  set prompt(text) {
    this.$.prompt.value = text;
  }

  // A generation attribute changed (or is read at start): null restores the default.
  /**
   * @param {string} attribute
   * @param {string | null} value
   */
  setKnob(attribute, value) {
    const knob = KNOBS[attribute];
    /** @type {HTMLInputElement} */ (this.root.getElementById(knob.id)).value = value ?? knob.value;
  }

  // 'step' | 'readable' | 'instant' (the element's `pace`): takes effect at once.
  /** @param {Pace} pace */
  setPace(pace) {
    const choice = this.$.pace.querySelector(`input[value=${pace}]`);
    /** @type {HTMLInputElement} */ (choice).checked = true;
    this.$.nextToken.hidden = pace !== 'step';
    this.pacer.setPace(pace);
    if (this.current) this.generatingStatus();
  }

  generatingStatus() {
    const stepping = this.pacer.pace === 'step';
    this.$.genStatus.textContent = stepping ? 'Press “Next token” for each token.' : 'Generating…';
  }

  // The sampling knobs, as the engine's generate options.
  sampling() {
    const number = (/** @type {HTMLInputElement} */ node) => Number(node.value);
    return {
      maxTokens: number(this.$.length),
      temperature: number(this.$.temperature),
      topK: number(this.$.topK),
      topP: number(this.$.topP),
    };
  }

  // Starts generation `id`; resolves to { reason, text, tokens } when it ends.
  /**
   * @param {number} id
   * @returns {Promise<GenerationResult>}
   */
  start(id) {
    const prompt = this.$.prompt.value;
    say(this.$.genError, '');
    this.$.promptWarning.hidden = true;
    this.$.output.replaceChildren();
    const pressed = this.root.activeElement === this.$.generate;
    /** @type {Promise<GenerationResult>} */
    const ended = new Promise((resolve) => {
      this.current = { id, prompt, count: 0, text: '', finished: false, resolve };
    });
    this.onStart(); // Generate is disabled, Next token enabled
    // Stepping, the reader presses Next token next: focus goes there rather than be lost.
    if (pressed && this.pacer.pace === 'step') this.$.nextToken.focus();
    this.generatingStatus();
    this.send({
      type: 'generate',
      id,
      prompt,
      options: this.sampling(),
    });
    return ended;
  }

  // Stops the engine, and the display where it is.
  stop() {
    if (!this.current) return;
    if (!this.current.finished) this.send({ type: 'stop', id: this.current.id });
    this.end('stopped');
  }

  // token, warning and generated messages; those of an earlier generation are ignored.
  /** @param {import('./parts.js').Accepted<GenerationView['accepts']>} message */
  received(message) {
    if (!this.current || message.id !== this.current.id) return;
    if (message.type === 'token') this.pacer.push(message.token);
    else if (message.type === 'warning') say(this.$.promptWarning, message.message);
    else if (message.type === 'generated') this.generated(message.reason);
  }

  // The engine is done: the generation ends once the reader has seen every token. Stopped
  // by the engine (a new model), it ends where the display is.
  /** @param {'done' | 'stopped'} reason */
  generated(reason) {
    /** @type {Generation} */ (this.current).finished = true;
    if (reason !== 'done' || !this.pacer.queued) this.end(reason);
  }

  /** @param {string} message */
  failed(message) {
    if (this.current) this.end('error');
    say(this.$.genError, message);
  }

  // The engine went away mid-stream: nothing more will come.
  abandon() {
    if (this.current) this.end('error');
  }

  // The tokens not shown yet are dropped: the result is what the reader saw.
  /** @param {GenerationResult['reason']} reason */
  end(reason) {
    this.pacer.drop();
    const { prompt, count, text, resolve } = /** @type {Generation} */ (this.current);
    const stepping = this.root.activeElement === this.$.nextToken;
    this.$.genStatus.textContent = {
      done: `Done: ${count} tokens.`,
      stopped: `Stopped after ${count} tokens.`,
      error: `Stopped by an error after ${count} tokens.`,
    }[reason];
    this.current = null;
    this.written = prompt + text;
    const result = { reason, text, tokens: count };
    resolve(result);
    this.onEnd(result); // Next token is disabled: the reader goes on to read what was written
    if (stepping) this.$.output.focus();
  }

  // The pacer's tokens, all in one go: a long instant generation costs one layout per frame
  // rather than one per token. Stepping, the inspector describes each token as it comes.
  /** @param {Token[]} tokens */
  draw(tokens) {
    const generation = /** @type {Generation} */ (this.current);
    const { output } = this.$;
    const atBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 24;
    const spans = tokens.map((token) => {
      const span = /** @type {TokenSpan} */ (el('span', { class: tokenClass(token.prob) }));
      span.textContent = token.text;
      span.token = token;
      return span;
    });
    output.append(...spans);
    if (atBottom) output.scrollTop = output.scrollHeight;
    if (this.pacer.pace === 'step') this.inspect(spans.at(-1));
    // A BPE piece may hold several of the model's tokens: the count is of those, as Length is.
    generation.count += tokens.reduce((sum, token) => sum + (token.tokens ?? 1), 0);
    generation.text += tokens.map((token) => token.text).join('');
    for (const token of tokens) {
      if (generation !== this.current) break; // a host's kindling-token handler stopped it
      this.onToken(token);
    }
    if (generation.finished && !this.pacer.queued && generation === this.current) this.end('done');
  }

  // ---- the token inspector ------------------------------------------------------------

  /** @returns {TokenSpan | null} */
  currentToken() {
    return this.$.output.querySelector('.tok.current');
  }

  /** @param {KeyboardEvent} event */
  tokenKey(event) {
    const { output } = this.$;
    const current = this.currentToken() ?? output.lastElementChild;
    // Stepping, Space or → past the last token shows the next one.
    const stepKey = event.key === ' ' || (event.key === 'ArrowRight' && !current?.nextElementSibling);
    if (this.current && this.pacer.pace === 'step' && stepKey) {
      event.preventDefault();
      return this.pacer.step();
    }
    /** @type {Record<string, () => Element | null | undefined>} */
    const moves = {
      ArrowLeft: () => current?.previousElementSibling,
      ArrowRight: () => current?.nextElementSibling,
      Home: () => output.firstElementChild,
      End: () => output.lastElementChild,
    };
    if (!moves[event.key]) return;
    event.preventDefault();
    this.inspect(moves[event.key]());
  }

  // Shows a token's probability and the alternatives the model weighed; spoken (read out) but
  // where the mouse only hovers it.
  /**
   * @param {(Element & { token?: Token }) | null | undefined} span
   * @param {boolean} [spoken]
   */
  inspect(span, spoken = true) {
    if (!span?.token) return;
    this.currentToken()?.classList.remove('current');
    span.classList.add('current');
    span.scrollIntoView({ block: 'nearest' });
    const { text, prob, top = [] } = span.token;
    const alternatives = top
      .filter((alt) => alt.text !== text)
      .slice(0, 5)
      .map((alt) => `${format.visibleToken(alt.text)} ${format.percent(alt.prob)}`)
      .join(' · ');
    const said =
      `${format.quoted(text)} had probability ${format.percent(prob)}.` +
      (alternatives ? ` Alternatives: ${alternatives}.` : '');
    tell(this.$.tokenInfo, said, spoken);
  }
}

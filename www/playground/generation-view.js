// The Generate card: the prompt and sampling knobs, the output drawn as the tokens stream in,
// and the token inspector (hover a token, or focus the text and use the arrow keys: how likely
// the model found it, and the alternatives it weighed).
import * as format from '../format.js';
import { el, nodes, say } from './markup.js';

// Generation attributes → the inputs they fill, with the inputs' defaults.
export const KNOBS = {
  temperature: { id: 'temperature', value: '0.8' },
  'top-k': { id: 'top-k', value: '20' },
  'top-p': { id: 'top-p', value: '0.95' },
  'max-tokens': { id: 'length', value: '300' },
};

// Probability bands for colouring tokens; the lowest is also underlined so it does not
// rely on colour alone.
function tokenClass(prob) {
  if (prob < 0.1) return 'tok low';
  if (prob < 0.3) return 'tok mid';
  return 'tok';
}

export class GenerationView {
  // send(message): to the engine worker.  onToken(token): each token as it arrives.
  // onEnd({ reason, text, tokens }): a generation ended ('done', 'stopped' or 'error').
  constructor(root, { send, onToken, onEnd }) {
    Object.assign(this, { root, send, onToken, onEnd });
    this.$ = nodes(root, 'prompt prompt-warning temperature top-k top-p length gen-status gen-error output token-info');
    // While streaming: { id, count, text, pending (tokens not drawn yet), resolve }.
    this.current = null;
    const { output } = this.$;
    output.addEventListener('mouseover', (event) => this.inspect(event.target.closest('.tok')));
    output.addEventListener('focus', () => this.inspect(this.currentToken() ?? output.lastElementChild));
    output.addEventListener('keydown', (event) => this.tokenKey(event));
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
  setKnob(attribute, value) {
    const knob = KNOBS[attribute];
    this.root.getElementById(knob.id).value = value ?? knob.value;
  }

  // Starts generation `id`; resolves to { reason, text, tokens } when it ends.
  start(id) {
    const number = (node) => Number(node.value);
    say(this.$.genError, '');
    this.$.promptWarning.hidden = true;
    this.flush(); // what is left of an earlier generation
    this.$.output.replaceChildren();
    this.$.genStatus.textContent = 'Generating…';
    const ended = new Promise((resolve) => {
      this.current = { id, count: 0, text: '', pending: [], resolve };
    });
    this.send({
      type: 'generate',
      id,
      prompt: this.$.prompt.value,
      options: {
        maxTokens: number(this.$.length),
        temperature: number(this.$.temperature),
        topK: number(this.$.topK),
        topP: number(this.$.topP),
      },
    });
    return ended;
  }

  stop() {
    if (this.current) this.send({ type: 'stop', id: this.current.id });
  }

  // token, warning and generated messages; those of an earlier generation are ignored.
  received(message) {
    if (!this.current || message.id !== this.current.id) return;
    if (message.type === 'token') this.add(message.token);
    else if (message.type === 'warning') say(this.$.promptWarning, message.message);
    else if (message.type === 'generated') this.end(message.reason);
  }

  failed(message) {
    if (this.current) this.end('error');
    say(this.$.genError, message);
  }

  // The engine went away mid-stream: nothing more will come.
  abandon() {
    if (this.current) this.end('error');
  }

  end(reason) {
    this.flush();
    const { count, text, resolve } = this.current;
    this.$.genStatus.textContent = {
      done: `Done: ${count} tokens.`,
      stopped: `Stopped after ${count} tokens.`,
      error: `Stopped by an error after ${count} tokens.`,
    }[reason];
    this.current = null;
    const result = { reason, text, tokens: count };
    resolve(result);
    this.onEnd(result);
  }

  // Tokens can arrive faster than frames; they are drawn once per frame (or every 100 ms
  // where frames stop, as in a background tab), so a long generation costs one layout per
  // frame rather than one per token.
  add(token) {
    const generation = this.current;
    generation.pending.push(token);
    generation.count++;
    generation.text += token.text;
    this.onToken(token);
    if (this.flushTimer) return;
    const flush = () => this.flush();
    this.flushFrame = requestAnimationFrame(flush);
    this.flushTimer = setTimeout(flush, 100);
  }

  flush() {
    cancelAnimationFrame(this.flushFrame);
    clearTimeout(this.flushTimer);
    this.flushTimer = 0;
    const pending = this.current?.pending.splice(0) ?? [];
    if (!pending.length) return;
    const { output } = this.$;
    const atBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 24;
    output.append(
      ...pending.map((token) => {
        const span = el('span', { class: tokenClass(token.prob) });
        span.textContent = token.text;
        span.token = token;
        return span;
      }),
    );
    if (atBottom) output.scrollTop = output.scrollHeight;
  }

  // ---- the token inspector ------------------------------------------------------------

  currentToken() {
    return this.$.output.querySelector('.tok.current');
  }

  tokenKey(event) {
    const { output } = this.$;
    const current = this.currentToken() ?? output.lastElementChild;
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

  // Shows a token's probability and the alternatives the model weighed.
  inspect(span) {
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
    this.$.tokenInfo.textContent =
      `“${format.visibleToken(text)}” had probability ${format.percent(prob)}.` +
      (alternatives ? ` Alternatives: ${alternatives}.` : '');
  }
}

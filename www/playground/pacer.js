// @ts-check
// The pace at which a generation is shown. The engine streams tokens as fast as it computes
// them (a trained `tiny` writes 300 characters in a few frames); only the display is paced,
// from a queue of the tokens received and not shown yet:
//   step      one token per step() (the Next token button, or Space / → in the output)
//   readable  READABLE_PER_SECOND tokens a second
//   instant   every token received, drawn once per frame

// The tokens are characters. A practised reader takes in 250–300 words a minute, some 25
// characters a second; 40 keeps the text just ahead of the eye, so a reader never waits on it,
// while each character still visibly lands, and the default 300 tokens take 7.5 s.
export const READABLE_PER_SECOND = 40;

/** @typedef {import('../types/kindling-playground.js').Pace} Pace the element's `pace` */

/** @template T a token */
export class Pacer {
  // show(tokens): draw these tokens now (never an empty array).
  /** @param {(tokens: T[]) => void} show */
  constructor(show) {
    this.show = show;
    /** @type {Pace} */
    this.pace = 'readable';
    /** @type {T[]} */
    this.queue = [];
    this.credit = 0; // tokens due: readable's elapsed time, step's unanswered steps, instant's all
    this.last = 0; // readable: when credit was last counted; 0 while idle
    this.frame = 0;
    this.timer = 0;
  }

  get queued() {
    return this.queue.length;
  }

  /** @param {T} token */
  push(token) {
    this.queue.push(token);
    if (this.pace === 'step') this.release();
    else this.schedule();
  }

  // Takes effect at once: instant shows the whole queue now, step waits for the next step().
  /** @param {Pace} pace */
  setPace(pace) {
    this.pace = pace;
    this.reset();
    this.release();
    this.schedule();
  }

  // Step pace: one more token, now or as soon as it arrives.
  step() {
    if (this.pace !== 'step') return;
    this.credit++;
    this.release();
  }

  // Forgets the tokens not shown yet (Stop, the end of a generation).
  drop() {
    this.queue = [];
    this.reset();
  }

  reset() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    this.frame = this.timer = this.last = 0;
    this.credit = this.pace === 'instant' ? Infinity : 0;
  }

  // Shows the tokens due. show() may end the generation and drop() the queue: nothing here
  // touches the queue after it.
  release() {
    const count = Math.min(Math.floor(this.credit), this.queue.length);
    if (!count) return;
    this.credit -= count;
    this.show(this.queue.splice(0, count));
  }

  // On the next frame, or in 100 ms where frames stop (a background tab).
  schedule() {
    if (this.frame || this.pace === 'step' || !this.queue.length) return;
    const tick = () => this.tick();
    this.frame = requestAnimationFrame(tick);
    this.timer = setTimeout(tick, 100);
  }

  tick() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    this.frame = this.timer = 0;
    if (this.pace === 'readable') {
      // From idle the first token shows at once; then one per 1/40 s, caught up by elapsed time.
      const now = performance.now();
      this.credit = this.last ? this.credit + ((now - this.last) * READABLE_PER_SECOND) / 1000 : 1;
      this.last = now;
    }
    this.release();
    if (this.queue.length) this.schedule();
    else if (this.pace === 'readable') this.last = 0;
  }
}

// @ts-check
// A small canvas line chart of train and validation loss against step. Drawn by hand
// rather than with a library: two lines, two axes and a legend are ~150 lines, need no
// vendoring, and keep the page free of third-party code. The same chart overlays several
// runs' curves (setCurves: the run list's), each in its own colour and dash pattern.
//
// Colours come from CSS custom properties on the canvas (--chart-train, --chart-val,
// --chart-grid, --chart-text), so light/dark themes need no code here. They are written with
// light-dark(), which a custom property keeps unresolved: each is resolved through the
// canvas's own `color` (unused by a canvas) into a colour the 2D context understands.

/** @typedef {import('../pkg/kindling.js').HistoryPoint} HistoryPoint */
/** @typedef {[step: number, value: number]} Point */
/**
 * One of setCurves's curves.
 * @typedef {object} Curve
 * @property {Point[]} points
 * @property {string} color a custom property's name
 * @property {number[]} dash setLineDash's pattern
 */
/**
 * A line as draw() strokes it.
 * @typedef {object} Line
 * @property {Point[]} points
 * @property {string} color a custom property's name
 * @property {number} width
 * @property {number} [alpha]
 * @property {boolean} [dots]
 * @property {number[]} [dash]
 */
/** @typedef {{ left: number, top: number, width: number, height: number }} Plot */
/**
 * @typedef {object} Scales
 * @property {(step: number) => number} x
 * @property {(loss: number) => number} y
 * @property {number} xMax
 * @property {number} yMin
 * @property {number} yMax
 */

const PAD = { left: 44, right: 12, top: 12, bottom: 26 };

// At most one paint per this many ms: a run sends a chunk's metrics up to ~15 times a second,
// and on a 2-core machine painting each took time from the training worker (a 2 × 64 GPT's
// steps ran ~5–10 % slower with the chart drawn than without, in Chromium).
const MIN_DRAW_MS = 250;

// 1, 2, 2.5 or 5 times a power of ten: ticks a person can read at a glance.
/**
 * @param {number} span
 * @param {number} count
 */
function niceStep(span, count) {
  const raw = span / Math.max(count, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  // None for a span that is no finite number: NaN, and then 1.
  const step = /** @type {number} */ ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw)) * power;
  return step || 1;
}

/**
 * @param {number} min
 * @param {number} max
 * @param {number} count
 */
function ticks(min, max, count) {
  const step = niceStep(max - min, count);
  const first = Math.ceil(min / step) * step;
  const values = [];
  for (let v = first; v <= max + step * 1e-9; v += step) values.push(Number(v.toPrecision(12)));
  return values;
}

// Exponential moving average: per-step train loss is noisy, the trend is what matters.
// Short runs are drawn as they are (an average would only lag); the window grows with the
// run so long runs still read as one line.
/**
 * @param {Point[]} points
 * @returns {Point[]}
 */
export function smooth(points) {
  const alpha = Math.min(1, Math.max(0.02, 30 / points.length));
  let average = /** @type {number} */ (points[0]?.[1]); // undefined only where there is no point
  return points.map(([step, loss]) => {
    average += alpha * (loss - average);
    return [step, average];
  });
}

// At most `limit` points, each the mean of a run of neighbours: drawing more than the
// canvas has pixels only costs time.
/**
 * @param {Point[]} points
 * @param {number} limit
 * @returns {Point[]}
 */
function thin(points, limit) {
  const size = Math.ceil(points.length / Math.max(limit, 1));
  if (size <= 1) return points;
  /** @type {Point[]} */
  const thinned = [];
  for (let i = 0; i < points.length; i += size) {
    const group = points.slice(i, i + size);
    thinned.push([
      /** @type {Point} */ (group.at(-1))[0],
      group.reduce((sum, [, loss]) => sum + loss, 0) / group.length,
    ]);
  }
  return thinned;
}

// While training, the x axis runs a little past the last step rather than to the end of
// a long run, so early progress is not squeezed against the left edge.
/**
 * @param {number} lastStep
 * @param {number} totalSteps
 */
function stepRange(lastStep, totalSteps) {
  if (!lastStep) return Math.max(totalSteps, 1);
  const ahead = niceStep(lastStep * 1.25, 1); // the next round number past the last step
  return Math.min(Math.max(totalSteps, lastStep), Math.max(ahead, 10));
}

/** @param {number} value */
function formatTick(value) {
  if (Math.abs(value) >= 1000) return `${Number((value / 1000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

export class LossChart {
  // empty: what the chart says while it has nothing to draw.
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ empty?: string }} [options]
   */
  constructor(canvas, { empty = 'Loss appears here once training starts' } = {}) {
    this.canvas = canvas;
    this.empty = empty;
    /** @type {Point[]} */
    this.train = [];
    /** @type {Point[]} */
    this.val = [];
    /** @type {Curve[] | null} */
    this.curves = null; // setCurves's, drawn instead of train and val
    this.totalSteps = 0;
    this.frame = 0;
    this.timer = 0; // a paint put off until MIN_DRAW_MS after the last
    this.drawnAt = -Infinity;
    this.resizeObserver = new ResizeObserver(() => this.redraw());
    this.darkScheme = matchMedia('(prefers-color-scheme: dark)');
    this.onScheme = () => this.redraw();
    this.connect();
  }

  // Watches size and colour scheme; disconnect() stops that (the page keeps nothing alive
  // for a chart whose element was removed). Both are safe to call twice.
  connect() {
    this.resizeObserver.observe(this.canvas);
    this.darkScheme.addEventListener('change', this.onScheme);
  }

  disconnect() {
    this.resizeObserver.disconnect();
    this.darkScheme.removeEventListener('change', this.onScheme);
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    this.frame = 0;
    this.timer = 0;
  }

  // history: [{ step, trainLoss, valLoss? }] as the engine keeps it.
  /**
   * @param {HistoryPoint[]} history
   * @param {number} totalSteps
   */
  setHistory(history, totalSteps) {
    this.train = [];
    this.val = [];
    this.totalSteps = totalSteps;
    for (const point of history) this.add(point);
    this.redraw();
  }

  /** @param {HistoryPoint} point */
  add({ step, trainLoss, valLoss }) {
    if (Number.isFinite(trainLoss)) this.train.push([step, trainLoss]);
    if (Number.isFinite(valLoss)) this.val.push([step, /** @type {number} */ (valLoss)]);
    this.canvas.dataset.points = String(this.train.length + this.val.length);
    this.redraw();
  }

  // curves: [{ points: [[step, value]], color (a custom property's name), dash (setLineDash's
  // pattern) }], drawn over each other on shared axes. The canvas's data-curves says how many
  // have points.
  /** @param {Curve[]} curves */
  setCurves(curves) {
    this.curves = curves;
    this.canvas.dataset.curves = String(curves.filter(({ points }) => points.length).length);
    this.canvas.dataset.points = String(curves.reduce((sum, { points }) => sum + points.length, 0));
    this.redraw();
  }

  // What to draw: the live run's train loss (faint as measured, and smoothed) and validation
  // loss, or the overlaid curves; at most `limit` points each.
  /**
   * @param {number} limit
   * @returns {Line[]}
   */
  lines(limit) {
    if (this.curves)
      return this.curves.map(({ points, color, dash }) => ({ points: thin(points, limit), color, width: 2, dash }));
    return [
      { points: thin(this.train, limit), color: '--chart-train', width: 1, alpha: 0.25 },
      { points: thin(smooth(this.train), limit), color: '--chart-train', width: 2 },
      { points: thin(this.val, limit), color: '--chart-val', width: 2, dots: true },
    ];
  }

  // Coalesces many updates into one paint per frame, and at most one per MIN_DRAW_MS.
  redraw() {
    if (this.frame || this.timer) return;
    const wait = this.drawnAt + MIN_DRAW_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.redraw();
      }, wait);
      return;
    }
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.drawnAt = performance.now();
      this.draw();
    });
  }

  draw() {
    const { canvas } = this;
    const ratio = devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const style = getComputedStyle(canvas);
    /** @param {string} name */
    const color = (name) => {
      canvas.style.color = `var(${name}, gray)`;
      return style.color;
    };
    ctx.font = `11px ${style.fontFamily}`;

    const all = this.curves ? this.curves.flatMap(({ points }) => points) : [...this.train, ...this.val];
    const lastStep = all.reduce((max, [step]) => Math.max(max, step), 0);
    const xMax = stepRange(lastStep, this.totalSteps);
    const losses = all.map(([, loss]) => loss);
    let yMin = losses.length ? losses.reduce((a, b) => Math.min(a, b)) : 0;
    let yMax = losses.length ? losses.reduce((a, b) => Math.max(a, b)) : 1;
    const margin = (yMax - yMin) * 0.08 || 0.5;
    yMin = Math.max(0, yMin - margin);
    yMax += margin;

    const plot = {
      left: PAD.left,
      top: PAD.top,
      width: width - PAD.left - PAD.right,
      height: height - PAD.top - PAD.bottom,
    };
    /** @param {number} step */
    const x = (step) => plot.left + (step / xMax) * plot.width;
    /** @param {number} loss */
    const y = (loss) => plot.top + (1 - (loss - yMin) / (yMax - yMin)) * plot.height;

    this.drawAxes(ctx, plot, { x, y, xMax, yMin, yMax }, color);
    for (const line of this.lines(plot.width * 2)) {
      ctx.globalAlpha = line.alpha ?? 1;
      this.drawLine(ctx, line.points, x, y, color(line.color), line);
    }
    ctx.globalAlpha = 1;
    if (!all.length) {
      ctx.fillStyle = color('--chart-text');
      ctx.textAlign = 'center';
      ctx.fillText(this.empty, plot.left + plot.width / 2, plot.top + plot.height / 2);
    }
  }

  /**
   * @param {CanvasRenderingContext2D} ctx
   * @param {Plot} plot
   * @param {Scales} scales
   * @param {(name: string) => string} color
   */
  drawAxes(ctx, plot, { x, y, xMax, yMin, yMax }, color) {
    ctx.strokeStyle = color('--chart-grid');
    ctx.fillStyle = color('--chart-text');
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const value of ticks(yMin, yMax, Math.max(2, Math.floor(plot.height / 40)))) {
      const py = Math.round(y(value)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(plot.left, py);
      ctx.lineTo(plot.left + plot.width, py);
      ctx.stroke();
      ctx.fillText(formatTick(value), plot.left - 6, py);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const value of ticks(0, xMax, Math.max(2, Math.floor(plot.width / 80)))) {
      ctx.fillText(formatTick(value), x(value), plot.top + plot.height + 8);
    }
  }

  /**
   * @param {CanvasRenderingContext2D} ctx
   * @param {Point[]} points
   * @param {(step: number) => number} x
   * @param {(loss: number) => number} y
   * @param {string} stroke
   * @param {Line} line
   */
  drawLine(ctx, points, x, y, stroke, { width, dots = false, dash = [] }) {
    if (!points.length) return;
    ctx.strokeStyle = stroke;
    ctx.fillStyle = stroke;
    ctx.lineWidth = width;
    ctx.lineJoin = 'round';
    ctx.setLineDash(dash);
    ctx.beginPath();
    points.forEach(([step, loss], i) => (i ? ctx.lineTo(x(step), y(loss)) : ctx.moveTo(x(step), y(loss))));
    ctx.stroke();
    ctx.setLineDash([]);
    if (!dots && points.length > 1) return;
    for (const [step, loss] of points) {
      ctx.beginPath();
      ctx.arc(x(step), y(loss), 3, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}

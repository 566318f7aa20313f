// A small canvas line chart of train and validation loss against step. Drawn by hand
// rather than with a library: two lines, two axes and a legend are ~150 lines, need no
// vendoring, and keep the page free of third-party code.
//
// Colours come from CSS custom properties on the canvas (--chart-train, --chart-val,
// --chart-grid, --chart-text), so light/dark themes need no code here. They are written with
// light-dark(), which a custom property keeps unresolved: each is resolved through the
// canvas's own `color` (unused by a canvas) into a colour the 2D context understands.

const PAD = { left: 44, right: 12, top: 12, bottom: 26 };

// 1, 2, 2.5 or 5 times a power of ten: ticks a person can read at a glance.
function niceStep(span, count) {
  const raw = span / Math.max(count, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= raw) * power;
  return step || 1;
}

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
function smooth(points) {
  const alpha = Math.min(1, Math.max(0.02, 30 / points.length));
  let average = points[0]?.[1];
  return points.map(([step, loss]) => {
    average += alpha * (loss - average);
    return [step, average];
  });
}

// At most `limit` points, each the mean of a run of neighbours: drawing more than the
// canvas has pixels only costs time.
function thin(points, limit) {
  const size = Math.ceil(points.length / Math.max(limit, 1));
  if (size <= 1) return points;
  const thinned = [];
  for (let i = 0; i < points.length; i += size) {
    const group = points.slice(i, i + size);
    thinned.push([group.at(-1)[0], group.reduce((sum, [, loss]) => sum + loss, 0) / group.length]);
  }
  return thinned;
}

// While training, the x axis runs a little past the last step rather than to the end of
// a long run, so early progress is not squeezed against the left edge.
function stepRange(lastStep, totalSteps) {
  if (!lastStep) return Math.max(totalSteps, 1);
  const ahead = niceStep(lastStep * 1.25, 1); // the next round number past the last step
  return Math.min(Math.max(totalSteps, lastStep), Math.max(ahead, 10));
}

function formatTick(value) {
  if (Math.abs(value) >= 1000) return `${Number((value / 1000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

export class LossChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.train = [];
    this.val = [];
    this.totalSteps = 0;
    this.frame = 0;
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
    this.frame = 0;
  }

  // history: [{ step, trainLoss, valLoss? }] as the engine keeps it.
  setHistory(history, totalSteps) {
    this.train = [];
    this.val = [];
    this.totalSteps = totalSteps;
    for (const point of history) this.add(point);
    this.redraw();
  }

  add({ step, trainLoss, valLoss }) {
    if (Number.isFinite(trainLoss)) this.train.push([step, trainLoss]);
    if (Number.isFinite(valLoss)) this.val.push([step, valLoss]);
    this.canvas.dataset.points = String(this.train.length + this.val.length);
    this.redraw();
  }

  // Coalesces many updates into one paint per frame.
  redraw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
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
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const style = getComputedStyle(canvas);
    const color = (name) => {
      canvas.style.color = `var(${name}, gray)`;
      return style.color;
    };
    ctx.font = `11px ${style.fontFamily}`;

    const all = [...this.train, ...this.val];
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
    const x = (step) => plot.left + (step / xMax) * plot.width;
    const y = (loss) => plot.top + (1 - (loss - yMin) / (yMax - yMin)) * plot.height;

    this.drawAxes(ctx, plot, { x, y, xMax, yMin, yMax }, color);
    const limit = plot.width * 2;
    ctx.globalAlpha = 0.25;
    this.drawLine(ctx, thin(this.train, limit), x, y, color('--chart-train'), { width: 1 });
    ctx.globalAlpha = 1;
    this.drawLine(ctx, thin(smooth(this.train), limit), x, y, color('--chart-train'), { width: 2 });
    this.drawLine(ctx, thin(this.val, limit), x, y, color('--chart-val'), { width: 2, dots: true });
    if (!all.length) {
      ctx.fillStyle = color('--chart-text');
      ctx.textAlign = 'center';
      ctx.fillText('Loss appears here once training starts', plot.left + plot.width / 2, plot.top + plot.height / 2);
    }
  }

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

  drawLine(ctx, points, x, y, stroke, { width, dots = false }) {
    if (!points.length) return;
    ctx.strokeStyle = stroke;
    ctx.fillStyle = stroke;
    ctx.lineWidth = width;
    ctx.lineJoin = 'round';
    ctx.beginPath();
    points.forEach(([step, loss], i) => (i ? ctx.lineTo(x(step), y(loss)) : ctx.moveTo(x(step), y(loss))));
    ctx.stroke();
    if (!dots && points.length > 1) return;
    for (const [step, loss] of points) {
      ctx.beginPath();
      ctx.arc(x(step), y(loss), 3, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}

// @ts-check
// The recorder of bench-engines.mjs's page, a classic script in its <head>: it runs before the
// element's module is even fetched, so it sees every event of the page's one train embed, each
// stamped with performance.now() (ms since the navigation started), into `window.benchLog`:
//   phases    each change of the host's data-phase ('empty' → 'training' → 'finished'):
//             'training' is set the moment the element sends `create` with `train: true`
//   ready     kindling-ready (the engine is loaded in the element's worker)
//   metrics   every kindling-metrics: { t, step, totalSteps, valLoss, workers, backend, notice }
//   finished  kindling-finished for training: { t, step, badge: { text, title } }, the badge
//             (#backend) read as the event fires, after the last chunk's metrics updated it
//   errors    kindling-error details; pageErrors: uncaught errors and rejections
// The benchmark reads it with one in-page wait, so nothing polls the page while it trains.
(() => {
  /**
   * @typedef {object} BenchLog
   * @property {number} hardwareConcurrency
   * @property {string} userAgent
   * @property {{ t: number, phase: string | undefined }[]} phases
   * @property {number | null} ready
   * @property {{ t: number, step: number, totalSteps: number, valLoss: number | null, workers: number, backend: string | null, notice: string | null }[]} metrics
   * @property {{ t: number, step: number, badge: { text: string, title: string } | null } | null} finished
   * @property {unknown[]} errors
   * @property {string[]} pageErrors
   */
  /** @type {BenchLog} */
  const log = {
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    phases: [],
    ready: null,
    metrics: [],
    finished: null,
    errors: [],
    pageErrors: [],
  };
  /** @type {any} */ (window).benchLog = log;
  const now = () => performance.now();

  /** @param {Event} event */
  const detail = (event) => /** @type {CustomEvent} */ (event).detail ?? {};
  // Capturing on the document: the element's events bubble and are composed.
  document.addEventListener(
    'kindling-ready',
    () => {
      log.ready ??= now();
    },
    true,
  );
  document.addEventListener(
    'kindling-metrics',
    (event) => {
      const t = now();
      const { step, totalSteps, valLoss, workers, backend, notice } = detail(event);
      log.metrics.push({ t, step, totalSteps, valLoss, workers, backend, notice });
    },
    true,
  );
  document.addEventListener(
    'kindling-finished',
    (event) => {
      const t = now();
      const { task, step } = detail(event);
      if (task !== 'training') return;
      const badge = document.querySelector('kindling-playground')?.shadowRoot?.getElementById('backend');
      log.finished = { t, step, badge: badge ? { text: badge.textContent ?? '', title: badge.title } : null };
    },
    true,
  );
  document.addEventListener('kindling-error', (event) => log.errors.push(detail(event)), true);
  addEventListener('error', (event) => log.pageErrors.push(String(event.message || event.error)));
  addEventListener('unhandledrejection', (event) => log.pageErrors.push(`unhandled rejection: ${event.reason}`));

  // The host's data-phase, from the first update of the element on (the body is parsed later).
  new MutationObserver((records) => {
    const t = now();
    for (const record of records) {
      const phase = /** @type {HTMLElement} */ (record.target).dataset.phase;
      if (log.phases.at(-1)?.phase !== phase) log.phases.push({ t, phase });
    }
  }).observe(document.documentElement, { subtree: true, attributes: true, attributeFilter: ['data-phase'] });
})();

// @ts-check
// Whether the reader can see the element: it is on screen in a visible tab (training runs only
// then), and whether it is well in view (autoplay waits for that; never before it has been
// scrolled to).

// Well in view: this much of the element on screen, or it fills half the view.
const WELL_IN_VIEW = 0.25;

export class Visibility {
  // onChange(): `inView`, `wellInView` or the tab's visibility changed.
  /**
   * @param {HTMLElement} element
   * @param {() => void} onChange
   */
  constructor(element, onChange) {
    this.element = element;
    this.onChange = onChange;
    this.inView = false;
    this.wellInView = false;
    this.pausedTraining = false; // training was paused because the reader could not see it
    this.onTab = () => onChange();
    this.observer = new IntersectionObserver((entries) => this.viewChanged(entries.at(-1)), {
      threshold: [0, WELL_IN_VIEW],
    });
  }

  get shown() {
    return this.inView && !document.hidden;
  }

  // Why training would pause now: 'hidden' (the tab), 'offscreen', or null.
  get hiddenBecause() {
    if (document.hidden) return 'hidden';
    return this.inView ? null : 'offscreen';
  }

  // What training should do now, in `phase`: 'pause' (it runs unseen), 'resume' (it was
  // paused for that and the reader is back), or null.
  /**
   * @param {import('./controls.js').Phase} phase
   * @returns {'pause' | 'resume' | null}
   */
  trainingAction(phase) {
    if (!this.shown && phase === 'training') {
      this.pausedTraining = true;
      return 'pause';
    }
    if (this.shown && this.pausedTraining && phase === 'paused') {
      this.pausedTraining = false;
      return 'resume';
    }
    return null;
  }

  // Reports at once whether the element is in view.
  connect() {
    document.addEventListener('visibilitychange', this.onTab);
    this.observer.observe(this.element);
  }

  disconnect() {
    document.removeEventListener('visibilitychange', this.onTab);
    this.observer.unobserve(this.element);
    this.inView = false;
    this.wellInView = false;
  }

  /** @param {IntersectionObserverEntry | undefined} entry */
  viewChanged(entry) {
    if (!entry || !this.element.isConnected) return;
    const view = entry.rootBounds?.height || innerHeight;
    this.inView = entry.isIntersecting;
    this.wellInView =
      entry.isIntersecting && (entry.intersectionRatio >= WELL_IN_VIEW || entry.intersectionRect.height >= view / 2);
    this.onChange();
  }
}

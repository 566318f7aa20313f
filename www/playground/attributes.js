// @ts-check
// What the element's attributes mean: their properties, the engine worker's settings they make,
// and the training text a page author writes inside the element.

/** @typedef {import('../kindling-playground.js').KindlingPlayground} KindlingPlayground */
/** @typedef {import('../types/kindling-playground.js').KindlingPlayground} PublicPlayground */
/**
 * The element's properties for its attributes, as reflectAttributes() defines them (their
 * types: types/kindling-playground.d.ts, the element's public declaration).
 * @typedef {Pick<PublicPlayground, 'mode' | 'view' | 'theme' | 'modelSrc' | 'baseModelSrc' | 'text' |
 *   'preset' | 'steps' | 'budget' | 'workers' | 'prompt' | 'temperature' | 'topK' | 'topP' |
 *   'maxTokens' | 'pace' | 'autoplay' | 'storageName' | 'autosaveEvery'>} Reflected
 */

/** @typedef {import('../types/kindling-playground.js').PlaygroundMode} Mode */
/** @typedef {import('../types/kindling-playground.js').InspectViewName} View */
/** @typedef {import('../types/kindling-playground.js').Theme} Theme */
/** @typedef {import('../types/kindling-playground.js').BackendSetting} BackendSetting */

/** @type {Mode[]} */
export const MODES = ['full', 'train', 'generate', 'inspect'];
/** @type {View[]} */
export const VIEWS = ['attention', 'lens', 'neurons', 'embeddings', 'sampling']; // the Inspect card's
/** @type {Theme[]} */
export const THEMES = ['auto', 'light', 'dark'];
/** @type {BackendSetting[]} */
export const BACKENDS = ['auto', 'cpu', 'webgpu', 'remote'];
/** @type {import('./pacer.js').Pace[]} */
export const PACES = ['readable', 'step', 'instant'];

// The element's attributes (changes after load take effect), mirrored by properties of the
// same name in camelCase: 'string', 'number' (read as a number), 'boolean' (presence) or the
// allowed values (the first is the default). Absent reads as null. `backend` ("auto" |
// "cpu" | "webgpu" | "remote") has no property: the element's `backend` says where the model
// runs; "remote" is the peer connectPeer() set.
/** @type {Record<string, 'string' | 'number' | 'boolean' | readonly string[]>} */
export const REFLECTED = {
  mode: MODES, // full: the whole playground; train: text, train, generate, compact; generate: inference;
  // inspect: the Inspect card alone, on model-src's model and the text (attribute or child)
  view: VIEWS, // the Inspect card's view (its tabs set it): where mode="inspect" starts
  theme: THEMES,
  'model-src': 'string', // a model saved with "Download model": loaded, ready to generate
  'base-model-src': 'string', // the model "Start from: Base model" fine-tunes (default: www/models/base.kindling)
  text: 'string', // the training text (or a child <template> / <textarea> holding it); inspect: the text looked at
  preset: 'string', // the engine preset (default "tiny")
  steps: 'number', // training steps (maxSteps), else the preset's
  budget: 'string', // "Train for": seconds ("60"), "until-stopped" (or "0"), "steps" (budget.js's parseBudget);
  // absent: "steps" with a steps attribute, else a minute. Training from scratch only.
  workers: 'string', // "auto" | 1–8 workers sharing each training step on the CPU
  prompt: 'string', // generation settings: prompt, temperature, top-k, top-p, max-tokens
  temperature: 'number',
  'top-k': 'number',
  'top-p': 'number',
  'max-tokens': 'number',
  pace: PACES, // how fast generated text is shown (pacer.js); the Generate card's Pace sets it
  autoplay: 'boolean', // train (or generate, with a loaded model) once well in view
  'storage-name': 'string', // IndexedDB name of full mode's autosave (default "playground")
  'autosave-every': 'number', // steps between autosaves (default 100)
};

/** @param {string} name */
const camel = (name) => name.replace(/-(\w)/g, (_, letter) => letter.toUpperCase());

/**
 * @template {string} T
 * @param {unknown} value
 * @param {readonly T[]} allowed
 * @returns {T}
 */
export function oneOf(value, allowed) {
  const normal = /** @type {T} */ (
    String(value ?? '')
      .trim()
      .toLowerCase()
  );
  return allowed.includes(normal) ? normal : allowed[0];
}

// Defines the properties on the element's class: numbers read as numbers, booleans as
// presence, absent as null; null, undefined and false remove the attribute.
/** @param {{ prototype: HTMLElement }} elementClass */
export function reflectAttributes(elementClass) {
  for (const [attribute, type] of Object.entries(REFLECTED)) {
    Object.defineProperty(elementClass.prototype, camel(attribute), {
      configurable: true,
      get() {
        const value = this.getAttribute(attribute);
        if (type === 'boolean') return value !== null;
        if (Array.isArray(type)) return oneOf(value, type);
        if (value === null) return null;
        return type === 'number' ? Number(value) : value;
      },
      set(value) {
        if (value === null || value === undefined || value === false) this.removeAttribute(attribute);
        else this.setAttribute(attribute, value === true ? '' : String(value));
      },
    });
  }
}

// A property a page set before the element was defined shadows the class's accessor: pass it
// through, so it becomes the attribute it stands for.
/**
 * @template {HTMLElement} E
 * @param {E} element
 */
export function upgradeProperties(element) {
  for (const property of /** @type {(keyof E)[]} */ (Object.keys(REFLECTED).map(camel))) {
    if (!Object.hasOwn(element, property)) continue;
    const value = element[property];
    delete element[property];
    element[property] = value;
  }
}

// The `workers` attribute: `auto` (as many as measure faster, at most 4: worker/helper-count.js) or
// how many workers share each CPU training step; the worker takes the number of helpers
// besides itself.
/**
 * @param {string | null} value
 * @returns {number | 'auto'}
 */
function helperSetting(value) {
  const workers = Number.parseInt(/** @type {string} */ (value), 10); // null: NaN, so 'auto'
  return workers >= 1 ? Math.min(workers, 8) - 1 : 'auto';
}

// The engine worker's `configure` message. Full mode keeps an autosave, the compact embeds
// do not (they show a fixed demo in someone's blog post).
/** @param {KindlingPlayground} element */
export function workerSettings(element) {
  return {
    name: element.getAttribute('storage-name') || 'playground',
    autosaveEvery: Number(element.getAttribute('autosave-every')) || 100,
    persist: oneOf(element.getAttribute('mode'), MODES) === 'full',
    backend: oneOf(element.getAttribute('backend'), BACKENDS),
    peer: element.peers?.current ?? null, // { address, secret } for 'remote' (peer-dialog.js)
    helpers: helperSetting(element.getAttribute('workers')),
    // Tests: 'auto' takes this as WebGPU's measured ms/step (a fast GPU where there is none).
    debugWebgpuMs: Number(element.dataset.debugWebgpuMs) || null,
    // Tests: 'auto' workers take "40,20,12" as the measured ms/step of 1, 2 and 3 workers.
    debugWorkerMs: element.dataset.debugWorkerMs?.split(',').map(Number) ?? null,
    // Tests: a budget's probe takes "1000" (every shape) or "20,50,120" (by shape) as measured ms/step.
    debugBudgetMs: element.dataset.debugBudgetMs ?? null,
    // Tests: the run list's cap in bytes (runs-store.js), to reach "full" with small runs.
    runsCapBytes: Number(element.dataset.runsCapBytes) || null,
  };
}

// Training text written inside the element: indentation from the HTML source is removed.
/** @param {string} raw */
function dedent(raw) {
  const lines = raw.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length && !lines[0].trim()) lines.shift();
  while (lines.length && !(/** @type {string} */ (lines.at(-1)).trim())) lines.pop();
  if (!lines.length) return '';
  const indent = Math.min(
    ...lines
      .filter((line) => line.trim())
      .map((line) => /** @type {RegExpMatchArray} */ (line.match(/^[ \t]*/))[0].length), // always matches
  );
  return lines.map((line) => line.slice(indent)).join('\n') + '\n';
}

// The training text the page author wrote: the attribute, else a child element; null if none.
/**
 * @param {HTMLElement} element
 * @returns {string | null}
 */
export function givenText(element) {
  if (element.hasAttribute('text')) return element.getAttribute('text');
  const source = /** @type {HTMLTemplateElement | HTMLTextAreaElement | null} */ (
    element.querySelector(':scope > template, :scope > textarea')
  );
  if (!source) return null;
  return dedent(
    source instanceof HTMLTemplateElement
      ? /** @type {string} */ (source.content.textContent) // a fragment's is never null
      : source.value,
  );
}

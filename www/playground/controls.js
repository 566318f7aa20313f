// @ts-check
// The element's phase and what it allows, as pure functions: which controls are usable and
// what the Train button says for a state, and the phase after each message to or from the
// engine. The one place these rules live, testable without a browser (pkg-tests/controls.test.mjs).
//
// state:
//   ready         the engine is loaded in the worker
//   phase         'empty' (no model) | 'training' | 'pausing' | 'paused' | 'finished'
//   valid         the text and settings passed validation (matters only without a model)
//   loadingModel  a model-src file is being fetched or opened
//   generating    a generation is streaming
//   inspectsTyped the Inspect card looks at typed text, not the text just generated
//   startReady    Train can start from the chosen start point (start-from.js): Scratch, a
//                 fetched base model or a picked file, and no fine-tune request under way
//   continuable   a finished model trains on when asked (a budget's: Continue)
//
// Returns { [element id in markup.js]: { DOM property: value } }, applied as it is.

/** @typedef {import('../types/kindling-playground.js').Phase} Phase */
/**
 * @typedef {object} ControlState
 * @property {boolean} [ready]
 * @property {Phase} [phase]
 * @property {boolean} [valid]
 * @property {boolean} [loadingModel]
 * @property {boolean} [generating]
 * @property {boolean} [inspectsTyped]
 * @property {boolean} [startReady]
 * @property {boolean} [continuable]
 */

/** @type {Phase[]} */
export const PHASES = ['empty', 'training', 'pausing', 'paused', 'finished'];

/** @type {Record<Phase, string>} */
const TRAIN_LABELS = {
  empty: 'Train',
  training: 'Pause',
  pausing: 'Pausing…',
  paused: 'Resume',
  finished: 'Finished',
};

/** @param {ControlState} [state] */
export function controls({
  ready = false,
  phase = 'empty',
  valid = false,
  loadingModel = false,
  generating = false,
  inspectsTyped = false,
  startReady = true,
  continuable = false,
} = {}) {
  if (!PHASES.includes(phase)) throw new Error(`controls: unknown phase ${phase}`);
  const hasModel = phase !== 'empty';
  // A model fixes its text and settings: they change only after Reset.
  const locked = hasModel;
  const continues = phase === 'finished' && continuable;
  return {
    train: {
      textContent: continues ? 'Continue' : TRAIN_LABELS[phase],
      disabled:
        !ready ||
        phase === 'pausing' ||
        (phase === 'finished' && !continues) ||
        (phase === 'empty' && (!valid || !startReady)),
    },
    reset: { disabled: !ready || !hasModel },
    download: { disabled: !ready || !hasModel },
    'open-model': { disabled: !ready },
    'model-fields': { disabled: locked },
    'start-fields': { disabled: locked },
    text: { readOnly: locked },
    sample: { disabled: locked },
    'pick-file': { disabled: locked },
    'model-hint': { hidden: !locked },
    generate: { disabled: !ready || !hasModel || loadingModel || generating },
    'next-token': { disabled: !generating },
    stop: { disabled: !generating },
    // While a generation is shown the text just generated is half there: typed text only.
    inspect: { disabled: !ready || !hasModel || loadingModel || (generating && !inspectsTyped) },
  };
}

// The phase after a message to or from the engine worker (worker/engine-worker.js): requests move
// it at once (a click shows at once), the worker's replies settle it.
/**
 * @param {Phase} phase
 * @param {import('../protocol.js').Request | import('../protocol.js').WorkerMessage} message
 * @returns {Phase}
 */
export function nextPhase(phase, message) {
  switch (message.type) {
    case 'create': // with train: true, the only way the element creates
    case 'train':
      return 'training';
    case 'pause':
      return 'pausing';
    case 'paused':
      return 'paused';
    case 'finished':
      return 'finished';
    case 'model': {
      const { info, origin } = message;
      if (!info) return 'empty';
      if (origin === 'create') return phase;
      if (origin === 'fine-tune') return 'training'; // the element fine-tunes with train: true
      return info.step >= info.config.maxSteps ? 'finished' : 'paused';
    }
    case 'error':
      if (message.source === 'create') return 'empty';
      // The engine kept the last good weights: the model is there, paused.
      if (message.source === 'train' && phase !== 'empty') return 'paused';
      return phase;
    default:
      return phase;
  }
}

// What autoplay starts now, if anything. An element given a model (model-src, or generate
// mode) generates once the model is loaded and not training; the others train once the
// settings are valid.
/**
 * @param {Required<Pick<ControlState, 'ready' | 'phase' | 'valid' | 'loadingModel' | 'generating'>>
 *   & { wantsModel: boolean }} state
 * @returns {'generate' | 'train' | null}
 */
export function autoplayAction({ ready, phase, valid, loadingModel, generating, wantsModel }) {
  if (!ready || loadingModel || generating) return null;
  if (wantsModel) return phase === 'paused' || phase === 'finished' ? 'generate' : null;
  return phase === 'empty' && valid ? 'train' : null;
}

// @ts-check
// The live model saved: its autosave (autosave-store.js, one tab per name) and its run in the
// run list (runs.js).
import { saveAutosave } from '../autosave-store.js';
import { recordRun } from './runs.js';
import { settings, live, post, exclusive, describe, autosaved } from './state.js';

/** @typedef {import('../../pkg/kindling.js').Kindling} Model */
/** @typedef {import('../../pkg/kindling.js').SaveOptions} SaveOptions */

// `options`: toBytes's ({ merged: true } folds a LoRA model's adapters into its weights).
// Both read the live model once it has its turn: call them only when there is one.
/** @param {SaveOptions} [options] */
export function checkpoint(options) {
  return exclusive(() => /** @type {Model} */ (live.model).toBytes(options));
}

// The live model as safetensors and its manifest (Kindling.toSafetensors).
export function safetensors() {
  return exclusive(() => /** @type {Model} */ (live.model).toSafetensors());
}

// Two tabs on one autosave name would overwrite each other's model: the first worker to
// autosave under a name holds a Web Lock on it until it ends (its tab closes, reloads or
// crashes), and the others are told, once, and keep their model in memory only. Asked
// again at each autosave, so a second tab takes over once the first has gone.
/** @type {Set<string>} */
const heldLocks = new Set(); // names this worker owns
/** @type {string | null} */
let refusedName = null; // the name another tab owns, once this worker has been told

/**
 * @param {string} name
 * @returns {Promise<boolean>}
 */
function ownsAutosave(name) {
  if (heldLocks.has(name) || !self.navigator?.locks) return Promise.resolve(true);
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(`kindling-autosave:${name}`, { ifAvailable: true }, (lock) => {
        resolve(Boolean(lock));
        if (!lock) return undefined;
        heldLocks.add(name);
        return new Promise(() => {}); // held for the worker's life
      })
      .catch(reject);
  });
}

// Saves the model with what it needs to continue; storage failures are reported.
export async function autosave() {
  if (!live.model || !live.setup || !settings.persist) return;
  const step = live.model.step;
  const name = settings.name;
  try {
    if (!(await ownsAutosave(name))) {
      if (refusedName !== name) {
        refusedName = name;
        const message =
          `Another tab is autosaving to “${name}”, so this tab's model is not autosaved. ` +
          'Training goes on; download the model to keep it, or close the other tab.';
        post({ type: 'error', source: 'storage', kind: 'locked', fatal: false, message });
      }
      return;
    }
    refusedName = null;
    const bytes = await checkpoint();
    const summary = {
      step,
      maxSteps: live.model.config.maxSteps,
      model: live.model.config.model,
      preset: live.setup.options?.preset,
      lastLoss: live.model.history.at(-1)?.trainLoss,
      savedAt: Date.now(),
    };
    await saveAutosave(name, summary, { checkpoint: bytes, ...live.setup });
    autosaved(step);
    post({ type: 'saved', step, savedAt: summary.savedAt });
  } catch (error) {
    post({ type: 'error', source: 'storage', ...describe(error) });
  }
}

// The live model's run, saved in the run list (runs.js); the full page's only, as the
// autosave. Its snapshot is queued at once, ahead of any later engine call.
export function saveRun() {
  if (!live.model || !live.setup || !settings.persist) return;
  recordRun({ model: live.model, setup: live.setup, exclusive, cap: settings.runsCapBytes }).then(
    (saved) => saved && post({ type: 'run-saved', id: saved.id, name: saved.name, step: saved.step }),
    (error) => post({ type: 'error', source: 'runs', ...describe(error) }),
  );
}

// @ts-check
// The autosave: a model and what it was made from, kept in IndexedDB so a reload can pick up
// where it left off. The engine worker writes it; the page only reads the small summary (to
// offer "resume") and clears it. Each autosave is two records under one name so the page never
// has to load the weights just to show a line.
import { database, read } from './idb-store.js';

// The names on disk predate the word "autosave"; renaming the store would need a version
// upgrade and would orphan what readers already saved. The run list keeps its own database
// (runs-store.js), so this one never needs an upgrade either.
const STORE = 'sessions';
const { transact } = database({
  name: 'kindling',
  version: 1,
  upgrade: (db) => db.createObjectStore(STORE),
  opening: 'open the autosaves',
});

// summary: small, plain data shown on reload ({ step, maxSteps, preset, savedAt, ... }).
// data: { checkpoint: Uint8Array, text, options } — what the engine needs to continue.
/**
 * @typedef {object} AutosaveSummary
 * @property {number} step
 * @property {number} maxSteps
 * @property {import('../pkg/kindling.js').ModelKind} model
 * @property {string} [preset]
 * @property {number} [lastLoss] the last training loss
 * @property {number} savedAt Date.now() at the save
 */
/**
 * The checkpoint and the setup the model was made from (the engine worker's live.setup).
 * @typedef {{ checkpoint: Uint8Array } & import('./protocol.js').Setup} AutosaveData
 */

/**
 * @param {string} name
 * @param {AutosaveSummary} summary
 * @param {AutosaveData} data
 */
export function saveAutosave(name, summary, data) {
  return transact(STORE, 'readwrite', 'autosave the model', (store) => {
    store.put(data, `${name}:data`);
    store.put(summary, `${name}:summary`);
    return {};
  });
}

/**
 * @param {string} name
 * @returns {Promise<AutosaveSummary | undefined>} undefined: there is none
 */
export function loadAutosaveSummary(name) {
  return transact(STORE, 'readonly', 'read the autosave', (store) => read(store.get(`${name}:summary`)));
}

/**
 * @param {string} name
 * @returns {Promise<AutosaveData | undefined>} undefined: there is none
 */
export function loadAutosave(name) {
  return transact(STORE, 'readonly', 'read the saved model', (store) => read(store.get(`${name}:data`)));
}

/** @param {string} name */
export function clearAutosave(name) {
  return transact(STORE, 'readwrite', 'clear the autosave', (store) => {
    store.delete(`${name}:data`);
    store.delete(`${name}:summary`);
    return {};
  });
}

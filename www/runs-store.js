// @ts-check
// The run list: every training run of the full playground, kept in IndexedDB so runs can be
// compared, reopened, continued and downloaded after a reload. The engine worker saves a run
// when its training pauses or finishes; the page lists, loads and deletes them.
//
// A database of its own ("kindling-runs"), beside the autosave's ("kindling", autosave-store.js):
// adding stores to that one would mean a version upgrade, which an older tab still open on it
// would block. Each run is two records under its id: its summary (what the list, chart and
// table show, a few kB) and its model's bytes (what reopening, comparing and downloading need),
// written in one transaction so a run is saved whole or not at all.
import * as format from './format.js';
import { database, read, storageError } from './idb-store.js';

/** @typedef {import('../pkg/kindling.js').Config} Config */
/** @typedef {import('../pkg/kindling.js').HistoryPoint} HistoryPoint */

/**
 * A run's summary, as the list, chart and table show it: worker/runs.js makes it, saveRun
 * numbers, names and sizes it.
 * @typedef {object} RunSummary
 * @property {string} id
 * @property {number} number "Run 3"'s 3
 * @property {string} name
 * @property {number} createdAt Date.now() when the run started
 * @property {number} savedAt
 * @property {number} size bytes: the model's and this summary's
 * @property {number} step
 * @property {number} maxSteps
 * @property {Config} config
 * @property {import('../pkg/kindling.js').TokenizerKind} tokenizer
 * @property {number} vocabSize
 * @property {number} parameterCount
 * @property {string} startFrom 'scratch', 'base' or a model file's name
 * @property {number} trainingMs
 * @property {number} [trainLoss]
 * @property {number} valLoss at the saved step
 * @property {number} [trainBitsPerChar]
 * @property {number} valBitsPerChar
 * @property {number} [bitsPerNat]
 * @property {HistoryPoint[]} history
 * @property {string} sample what the model writes unprompted
 * @property {Pick<import('./protocol.js').Setup, 'options' | 'startFrom' | 'fineTunedFrom' | 'openedFrom'>} setup
 */
/**
 * A run to save: one not saved yet has no number or name.
 * @typedef {Omit<RunSummary, 'number' | 'name' | 'size'> & { number?: number, name?: string }} NewRun
 */

// The runs' share of the browser's storage; the browser's quota for the site may be less.
export const RUNS_CAP_BYTES = 200 * 1024 * 1024;

const RUNS = 'runs';
const MODELS = 'models';
const META = 'meta'; // 'lastNumber': run numbers are never reused, even after a deletion
const { transact } = database({
  name: 'kindling-runs',
  version: 1,
  upgrade: (db) => {
    db.createObjectStore(RUNS, { keyPath: 'id' });
    db.createObjectStore(MODELS);
    db.createObjectStore(META);
  },
  opening: 'open the run list',
});

// What the runs may take: the cap (tests pass a smaller one), or the site's quota where the
// browser grants less. { limit, quota } in bytes.
/** @param {number} [cap] */
export async function runsLimit(cap = RUNS_CAP_BYTES) {
  let quota = Infinity;
  try {
    quota = (await navigator.storage?.estimate())?.quota || Infinity;
  } catch {
    // No estimate (an opaque origin): the cap alone.
  }
  return { limit: Math.min(cap, quota), quota };
}

// The runs' summaries, oldest first.
export async function listRuns() {
  /** @type {RunSummary[]} */
  const runs = await transact(RUNS, 'readonly', 'read the run list', (store) => read(store.getAll()));
  return runs.sort((a, b) => a.createdAt - b.createdAt);
}

/** @param {{ size?: number }[]} runs */
export const totalBytes = (runs) => runs.reduce((sum, run) => sum + (run.size ?? 0), 0);

// Saves (or replaces, for a run that trained on) `summary` with its model `bytes`, unless the
// runs would then take more than `limit` bytes: then nothing changes and the error says what
// to do (and its `number`, which the run keeps). A new run gets the next number ("Run 3").
// Resolves to the summary as stored.
/**
 * @param {NewRun} summary
 * @param {Uint8Array} bytes
 * @param {number} limit
 * @returns {Promise<RunSummary>}
 */
export function saveRun(summary, bytes, limit) {
  return transact([RUNS, MODELS, META], 'readwrite', 'save the run', ([runs, models, meta], tx) => {
    /** @type {{ value?: RunSummary }} */
    const result = { value: undefined };
    // Read and written in one transaction: two tabs saving at once cannot both squeeze in.
    const last = meta.get('lastNumber');
    runs.getAll().onsuccess = ({ target }) => {
      const all = /** @type {IDBRequest<RunSummary[]>} */ (target).result;
      const others = all.filter((run) => run.id !== summary.id);
      const number = summary.number ?? Math.max(last.result ?? 0, ...others.map((run) => run.number)) + 1;
      const stored = /** @type {RunSummary} */ ({
        ...summary,
        number,
        name: summary.name ?? `Run ${number}`,
      }); // its size follows
      stored.size = bytes.byteLength + JSON.stringify(stored).length;
      const total = totalBytes(others) + stored.size;
      if (total > limit) return tx.abort(fullError(stored, total, limit));
      runs.put(stored);
      models.put(bytes, stored.id);
      meta.put(Math.max(last.result ?? 0, number), 'lastNumber');
      result.value = stored;
    };
    return result;
  }).catch((error) => {
    throw error.quota && !error.refused ? fullError(summary, null, null) : error;
  });
}

// The message for a run that does not fit: the cap, or the browser's own quota (no sizes).
/**
 * @param {{ name?: string, number?: number }} run
 * @param {number | null} total
 * @param {number | null} limit
 */
function fullError(run, total, limit) {
  const name = run.name ?? 'This run';
  const why =
    total == null
      ? "the browser's storage for this site is full (QuotaExceededError)"
      : `the runs would take ${format.bytes(total)}, ` +
        `more than the ${format.bytes(/** @type {number} */ (limit))} they may use`;
  const message =
    `${name} was not saved: ${why}. Delete runs you no longer need (download them first to keep them); ` +
    'this run is saved once there is room. The runs already saved are kept.';
  return Object.assign(new Error(message), {
    name: 'KindlingError',
    kind: 'storage',
    quota: true,
    refused: true,
    number: run.number,
  });
}

// A run's model, as `model.toBytes()` made it.
/**
 * @param {string} id
 * @returns {Promise<Uint8Array>}
 */
export function loadRunModel(id) {
  return transact(MODELS, 'readonly', 'read the run’s model', (store) => read(store.get(id))).then((bytes) => {
    if (!bytes) throw storageError({ message: 'it is gone (was it deleted in another tab?)' }, 'read the run’s model');
    return bytes;
  });
}

/** @param {string} id */
export function deleteRun(id) {
  return transact([RUNS, MODELS], 'readwrite', 'delete the run', ([runs, models]) => {
    runs.delete(id);
    models.delete(id);
    return {};
  });
}

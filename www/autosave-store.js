// The autosave: a model and what it was made from, kept in IndexedDB so a reload can pick up
// where it left off. The engine worker writes it; the page only reads the small summary (to
// offer "resume") and clears it. Each autosave is two records under one name so the page never
// has to load the weights just to show a line.

// The names on disk predate the word "autosave"; renaming the store would need a version
// upgrade and would orphan what readers already saved.
const DB_NAME = 'kindling';
const DB_VERSION = 1;
const STORE = 'sessions';

let opening = null;

function openDb() {
  opening ??= new Promise((resolve, reject) => {
    // Private windows and locked-down browsers may have no IndexedDB, or one whose open()
    // throws: the same clear message as a failed open, never a raw exception.
    if (typeof indexedDB === 'undefined') throw { name: 'UnavailableError' };
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(storageError(request.error, 'open the autosaves'));
    request.onblocked = () => reject(storageError({ message: 'they are locked by another tab' }, 'open the autosaves'));
  }).catch((error) => {
    opening = null;
    throw error?.kind ? error : storageError(error, 'open the autosaves');
  });
  return opening;
}

// Turns a DOMException into a message a person can act on; quota errors get their own. The
// kind is what the engine worker forwards to the page with it.
function storageError(cause, doing) {
  const message =
    cause?.name === 'QuotaExceededError'
      ? `Could not ${doing}: the browser's storage quota is full (QuotaExceededError). ` +
        'Training goes on; download the model to keep it, or free space for this site.'
      : ['UnavailableError', 'SecurityError', 'InvalidStateError'].includes(cause?.name) || !cause?.message
        ? `Could not ${doing}: this browser keeps no storage for this page (a private window?). ` +
          'Training goes on; download the model to keep it.'
        : `Could not ${doing}: ${cause.message}`;
  return Object.assign(new Error(message), { name: 'KindlingError', kind: 'storage' });
}

async function transact(mode, doing, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    let tx;
    try {
      tx = db.transaction(STORE, mode);
    } catch (error) {
      return reject(storageError(error, doing));
    }
    let result;
    try {
      result = work(tx.objectStore(STORE));
    } catch (error) {
      // A request can also fail at once (a value it cannot store, a full disk).
      tx.abort();
      return reject(storageError(error, doing));
    }
    tx.oncomplete = () => resolve(result.value);
    // A failed put aborts the transaction; the abort carries the real cause (e.g. quota).
    tx.onabort = () => reject(storageError(tx.error, doing));
    tx.onerror = (event) => event.preventDefault();
  });
}

function read(store, key) {
  const result = { value: undefined };
  store.get(key).onsuccess = (event) => (result.value = event.target.result);
  return result;
}

// summary: small, plain data shown on reload ({ step, maxSteps, preset, savedAt, ... }).
// data: { checkpoint: Uint8Array, text, options } — what the engine needs to continue.
export function saveAutosave(name, summary, data) {
  return transact('readwrite', 'autosave the model', (store) => {
    store.put(data, `${name}:data`);
    store.put(summary, `${name}:summary`);
    return {};
  });
}

export function loadAutosaveSummary(name) {
  return transact('readonly', 'read the autosave', (store) => read(store, `${name}:summary`));
}

export function loadAutosave(name) {
  return transact('readonly', 'read the saved model', (store) => read(store, `${name}:data`));
}

export function clearAutosave(name) {
  return transact('readwrite', 'clear the autosave', (store) => {
    store.delete(`${name}:data`);
    store.delete(`${name}:summary`);
    return {};
  });
}

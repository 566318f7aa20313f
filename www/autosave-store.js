// IndexedDB persistence for a training session. The worker writes checkpoints; the page
// only reads the small summary (to offer "resume") and clears it. Each session is two
// records under one name so the page never has to load the weights just to show a line.

const DB_NAME = 'kindling';
const DB_VERSION = 1;
const STORE = 'sessions';

let opening = null;

function openDb() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(storageError(request.error, 'open the saved sessions'));
    request.onblocked = () => reject(new Error('Saved sessions are locked by another tab.'));
  }).catch((error) => {
    opening = null;
    throw error;
  });
  return opening;
}

// Turns a DOMException into a message a person can act on; quota errors get their own.
function storageError(cause, doing) {
  if (cause?.name === 'QuotaExceededError') {
    return new Error(
      `Could not ${doing}: the browser's storage quota is full (QuotaExceededError). ` +
        'Download the model to keep it, or free space for this site.',
    );
  }
  return new Error(`Could not ${doing}: ${cause?.message || cause?.name || 'storage error'}`);
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
    const result = work(tx.objectStore(STORE));
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
export function saveSession(name, summary, data) {
  return transact('readwrite', 'autosave the model', (store) => {
    store.put(data, `${name}:data`);
    store.put(summary, `${name}:summary`);
    return {};
  });
}

export function loadSummary(name) {
  return transact('readonly', 'read the saved session', (store) => read(store, `${name}:summary`));
}

export function loadSession(name) {
  return transact('readonly', 'read the saved model', (store) => read(store, `${name}:data`));
}

export function clearSession(name) {
  return transact('readwrite', 'clear the saved session', (store) => {
    store.delete(`${name}:data`);
    store.delete(`${name}:summary`);
    return {};
  });
}

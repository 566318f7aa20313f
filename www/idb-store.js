// @ts-check
// IndexedDB for the autosave (autosave-store.js) and the run list (runs-store.js): one open
// connection per database, one transaction per call, and failures turned into messages a
// person can act on (error kind 'storage'), never a raw DOMException.

// Turns a DOMException into a message a person can act on; quota errors get their own, which
// `quota` says the caller may replace. The kind is what the engine worker forwards to the page.
/**
 * @typedef {{ name?: string, message?: string } | null | undefined} Cause
 *   a DOMException, an Error, or a stand-in for one
 */

/**
 * @param {Cause} cause
 * @param {string} doing
 */
export function storageError(cause, doing) {
  const quota = cause?.name === 'QuotaExceededError';
  const message = quota
    ? `Could not ${doing}: the browser's storage quota is full (QuotaExceededError). ` +
      'Training goes on; download the model to keep it, or free space for this site.'
    : ['UnavailableError', 'SecurityError', 'InvalidStateError'].includes(/** @type {string} */ (cause?.name)) ||
        !cause?.message
      ? `Could not ${doing}: this browser keeps no storage for this page (a private window?). ` +
        'Training goes on; download the model to keep it.'
      : `Could not ${doing}: ${cause.message}`;
  return Object.assign(new Error(message), { name: 'KindlingError', kind: 'storage', quota });
}

/**
 * A transaction's object stores, as work() gets them: one, or an array for several names.
 * @template {string | string[]} S
 * @typedef {S extends string ? IDBObjectStore : IDBObjectStore[]} Stores
 */

// A database `name` at `version`; upgrade(db) creates its object stores. `opening` says what
// a failed open was for ("open the autosaves").
/**
 * @param {{ name: string, version: number, upgrade: (db: IDBDatabase) => void, opening: string }}
 *   options
 */
export function database({ name, version, upgrade, opening: doingOpen }) {
  /** @type {Promise<IDBDatabase> | null} */
  let opening = null;

  function open() {
    opening ??= new Promise((resolve, reject) => {
      // Private windows and locked-down browsers may have no IndexedDB, or one whose open()
      // throws: the same clear message as a failed open, never a raw exception.
      if (typeof indexedDB === 'undefined') throw { name: 'UnavailableError' };
      const request = indexedDB.open(name, version);
      request.onupgradeneeded = () => upgrade(request.result);
      request.onsuccess = () => {
        const db = request.result;
        // A newer page in another tab wants to upgrade: let it, and open afresh next time.
        db.onversionchange = () => {
          db.close();
          opening = null;
        };
        resolve(db);
      };
      request.onerror = () => reject(storageError(request.error, doingOpen));
      request.onblocked = () => reject(storageError({ message: 'they are locked by another tab' }, doingOpen));
    }).catch((error) => {
      opening = null;
      throw error?.kind ? error : storageError(error, doingOpen);
    });
    return opening;
  }

  // Runs work(stores, transaction) in one transaction over `stores` (a name or names), and
  // resolves to its result's `value` once the transaction has committed: either every write
  // in it lands or none does.
  /**
   * @template {string | string[]} S
   * @template T
   * @param {S} stores
   * @param {IDBTransactionMode} mode
   * @param {string} doing
   * @param {(stores: Stores<S>, tx: { abort(error: Error): void }) => { value?: T } | void} work
   * @returns {Promise<T>}
   */
  async function transact(stores, mode, doing, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      /** @type {IDBTransaction} */
      let tx;
      try {
        tx = db.transaction(stores, mode);
      } catch (error) {
        return reject(storageError(/** @type {Cause} */ (error), doing));
      }
      /** @type {{ value?: T } | void} */
      let result;
      /** @type {Error | null} */
      let refused = null; // work's own reason to abort, kept over the abort's
      const named = [stores].flat().map((store) => tx.objectStore(store));
      try {
        result = work(/** @type {Stores<S>} */ (named.length === 1 ? named[0] : named), {
          abort(error) {
            refused = error;
            tx.abort();
          },
        });
      } catch (error) {
        // A request can also fail at once (a value it cannot store, a full disk).
        tx.abort();
        return reject(storageError(/** @type {Cause} */ (error), doing));
      }
      tx.oncomplete = () => resolve(/** @type {T} */ (result?.value)); // every request succeeded
      // A failed put aborts the transaction; the abort carries the real cause (e.g. quota).
      tx.onabort = () => reject(refused ?? storageError(tx.error, doing));
      tx.onerror = (event) => event.preventDefault();
    });
  }

  return { transact };
}

// A request's result, read once the transaction completes: { value }.
/**
 * @template T
 * @param {IDBRequest<T>} request
 */
export function read(request) {
  /** @type {{ value: T | undefined }} */
  const result = { value: undefined };
  request.onsuccess = (event) => (result.value = /** @type {IDBRequest<T>} */ (event.target).result);
  return result;
}

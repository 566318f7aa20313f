// @ts-check
// Errors of the element and its worker, shaped as the engine's are: name 'KindlingError' and a
// `kind` the caller can test (plus `errors`, `source`… where they apply).

/** @typedef {import('./protocol.js').ErrorKind} ErrorKind */

/**
 * @template {object} [Extra={}]
 * @param {ErrorKind | undefined} kind undefined: an error reply that named no kind
 * @param {string} message
 * @param {Extra} [extra]
 */
export function kindlingError(kind, message, extra = /** @type {Extra} */ ({})) {
  return Object.assign(new Error(message), { name: 'KindlingError', kind, ...extra });
}

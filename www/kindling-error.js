// Errors of the element and its worker, shaped as the engine's are: name 'KindlingError' and a
// `kind` the caller can test (plus `errors`, `source`… where they apply).
export function kindlingError(kind, message, extra = {}) {
  return Object.assign(new Error(message), { name: 'KindlingError', kind, ...extra });
}

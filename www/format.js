// @ts-check
// Number and text formatting for the playground's read-outs.

/** @param {number} value */
export function compact(value) {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1e6) return `${(value / 1e6).toFixed(value >= 1e7 ? 0 : 1)}M`;
  if (Math.abs(value) >= 1e3) return `${(value / 1e3).toFixed(value >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(value));
}

// Characters as a person counts them (an emoji is one), without building an array.
/** @param {string} text */
export function codePoints(text) {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xdc00 || code > 0xdfff) count++; // low surrogates belong to the previous one
  }
  return count;
}

// Binary units, named as such (KiB, not KB): the engine's memory limit is 1 GiB, and a
// limit shown as "1.1 GB" here would disagree with its own message.
/** @param {number} value */
export function bytes(value) {
  if (!Number.isFinite(value)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit && value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** @param {number} value */
export function loss(value) {
  return Number.isFinite(value) ? value.toFixed(3) : '—';
}

/** @param {number} prob */
export function percent(prob) {
  return `${(prob * 100).toFixed(prob < 0.1 ? 1 : 0)}%`;
}

/** @param {number} seconds */
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** @param {number} timestamp milliseconds since the epoch */
export function ago(timestamp) {
  const seconds = (Date.now() - timestamp) / 1000;
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(timestamp).toLocaleDateString();
}

// Makes invisible characters visible where a single token is shown on its own.
/** @param {string} text */
export function visibleToken(text) {
  return text.replace(/ /g, '␣').replace(/\n/g, '⏎').replace(/\t/g, '⇥') || '∅';
}

// A token as a reader sees it on its own: “a”, “␣”.
export const quoted = (/** @type {string} */ text) => `“${visibleToken(text)}”`;

// A ratio like characters per token: two decimals, enough to compare tokenizers.
/** @param {number} value */
export function ratio(value) {
  return Number.isFinite(value) ? value.toFixed(2) : '—';
}

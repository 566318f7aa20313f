// @ts-check
// The element's header: the engine's status line and download progress, and the notice under
// it for what concerns the whole element (no WebAssembly, no model to run).
import { nodes, say } from './markup.js';

export const NO_WASM =
  'This browser cannot run WebAssembly, which Kindling needs to train and run models. ' +
  'A current Chrome, Edge, Firefox or Safari can.';

/**
 * @typedef {object} HeaderNodes
 * @property {HTMLElement} engineStatus
 * @property {HTMLProgressElement} loadProgress
 * @property {HTMLElement} notice
 * @property {HTMLSelectElement} backendChoice
 */

export class HeaderView {
  /** @param {ShadowRoot} root */
  constructor(root) {
    this.$ = /** @type {HeaderNodes} */ (nodes(root, 'engine-status load-progress notice backend-choice'));
  }

  /** @param {string} text */
  status(text) {
    this.$.engineStatus.textContent = text;
  }

  // The backend setting ('auto' | 'cpu' | 'webgpu'), as the select shows it.
  /** @param {import('./attributes.js').BackendSetting} value */
  backendSetting(value) {
    this.$.backendChoice.value = value;
  }

  /** @param {string} message */
  notice(message) {
    say(this.$.notice, message);
  }

  // The page-wide download of the engine: { loaded, total } (total 0 when unknown).
  /** @param {{ loaded: number, total: number }} progress */
  loading({ loaded, total }) {
    const bar = this.$.loadProgress;
    bar.hidden = false;
    if (total && loaded <= total) {
      bar.value = loaded / total;
      this.status(`Loading the engine… ${Math.floor((100 * loaded) / total)}%`);
    } else {
      bar.removeAttribute('value'); // indeterminate
      this.status('Loading the engine…');
    }
  }

  /** @param {string} status */
  loaded(status) {
    this.$.loadProgress.hidden = true;
    this.status(status);
  }
}

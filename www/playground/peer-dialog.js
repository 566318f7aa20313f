// @ts-check
// "Connect to a GPU peer…": where the full playground trains on a compute peer (`kindling peer
// --transport iroh` on another machine, docs/remote.md), and the element's connectPeer() behind
// it. The secret lives in this object only: never in an attribute, the page or storage.
import { nodes, say } from './markup.js';
import { workerSettings } from './attributes.js';

// Constant markup, no user data (see markup.js).
const DIALOG = `
<dialog id="peer-dialog" class="peer-dialog" aria-labelledby="peer-title" aria-describedby="peer-hint">
  <form id="peer-form" class="stack">
    <h2 id="peer-title">Connect to a GPU peer</h2>
    <p id="peer-hint" class="hint">Train on another machine's device. There, run
      <code>kindling peer --transport iroh --backend wgpu</code> and copy the address and secret it
      prints. The model's weights and the batches it trains on go to that machine.</p>
    <label for="peer-address">Peer address</label>
    <input id="peer-address" required autocomplete="off" spellcheck="false" placeholder="id@http://host:port#device">
    <label for="peer-secret">Secret</label>
    <input id="peer-secret" type="password" required autocomplete="off">
    <p id="peer-error" class="error" role="alert" hidden></p>
    <div class="row">
      <button id="peer-connect" class="primary" type="submit">Connect</button>
      <button id="peer-cancel" type="button">Cancel</button>
    </div>
  </form>
</dialog>`;

/** @typedef {import('../protocol.js').Peer} Peer */
/** @typedef {Error & { kind?: string }} KindlingError the worker's (kindling-error.js) */
/**
 * @typedef {object} Nodes
 * @property {HTMLDialogElement} peerDialog
 * @property {HTMLFormElement} peerForm
 * @property {HTMLInputElement} peerAddress
 * @property {HTMLInputElement} peerSecret
 * @property {HTMLElement} peerError
 * @property {HTMLButtonElement} peerConnect
 * @property {HTMLButtonElement} peerCancel
 * @property {HTMLSelectElement} backendChoice
 */

export class PeerDialog {
  /**
   * @param {ShadowRoot} root
   * @param {object} parts
   * @param {import('../kindling-playground.js').KindlingPlayground} parts.host
   * @param {import('./engine-client.js').EngineClient} parts.engine
   */
  constructor(root, { host, engine }) {
    /** @type {HTMLElement} */ (root.getElementById('app')).insertAdjacentHTML('beforeend', DIALOG);
    this.$ = /** @type {Nodes} */ (
      nodes(root, 'peer-dialog peer-form peer-address peer-secret peer-error peer-connect peer-cancel backend-choice')
    );
    this.option = /** @type {HTMLOptionElement} */ (this.$.backendChoice.querySelector('option[value="remote"]'));
    this.host = host;
    this.engine = engine;
    /** @type {Peer | null} */
    this.current = null; // { address, secret } of the peer the backend setting 'remote' uses
    this.$.peerForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.$.peerCancel.addEventListener('click', () => this.$.peerDialog.close());
    // Cancelled or connected, the select shows the backend setting again.
    this.$.peerDialog.addEventListener('close', () => (this.$.backendChoice.value = workerSettings(host).backend));
  }

  // The embeds offer no peer (a host can still call connectPeer()).
  /** @param {boolean} compact */
  setCompact(compact) {
    this.option.hidden = compact;
  }

  // The select chose "GPU peer…".
  open() {
    say(this.$.peerError, '');
    this.$.peerAddress.value = this.current?.address ?? '';
    this.$.peerDialog.showModal();
  }

  async submit() {
    const button = this.$.peerConnect;
    button.disabled = true;
    button.textContent = 'Connecting…';
    say(this.$.peerError, '');
    try {
      await this.connect({ address: this.$.peerAddress.value, secret: this.$.peerSecret.value });
      this.$.peerSecret.value = '';
      this.$.peerDialog.close();
    } catch (error) {
      const { message, kind } = /** @type {KindlingError} */ (error);
      say(this.$.peerError, message);
      (kind === 'peer-refused' ? this.$.peerSecret : this.$.peerAddress).focus();
    } finally {
      button.disabled = false;
      button.textContent = 'Connect';
    }
  }

  // Puts the model (and the next ones) on the peer: resolves once it is there (or, without a
  // model, once the peer answered), and sets the backend attribute to 'remote'. Rejects with the
  // worker's error (kinds 'peer-refused', 'peer-unreachable', 'argument') and changes nothing.
  /** @param {{ address?: string, secret?: string }} peer as the host page gave it */
  async connect({ address, secret }) {
    await this.host.whenReady();
    const peer = { address: String(address ?? '').trim(), secret: String(secret ?? '') };
    await this.engine.request({ type: 'configure', ...workerSettings(this.host), backend: 'remote', peer });
    this.current = peer;
    this.host.setAttribute('backend', 'remote');
  }
}

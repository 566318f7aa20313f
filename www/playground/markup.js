// @ts-check
// The element's shadow DOM: one constant template, and the small DOM helpers every part of the
// element uses. Safety: the template holds no user data; every user or generated string
// reaches the DOM through textContent only (or an attribute set by el(), never as markup).

const STYLE_URL = new URL('../style.css', import.meta.url).href;

export const MARKUP = `
<link rel="stylesheet" href="${STYLE_URL}">
<div class="app" id="app" data-mode="full" data-theme="auto" role="group" aria-label="Kindling: a tiny language model in your browser">
  <header class="top">
    <div class="brand">
      <h1 id="title">Kindling</h1>
      <p class="tagline">Train a tiny language model in your browser. Nothing leaves this page unless you connect a GPU peer.</p>
      <p id="model-line" class="model-line" hidden></p>
    </div>
    <div class="top-status">
      <label class="backend-choice"><span class="muted">Compute on</span>
        <select id="backend-choice" title="Where to train: Auto measures WebGPU against the CPU and picks the faster">
          <option value="auto">Auto</option>
          <option value="cpu">CPU</option>
          <option value="webgpu">WebGPU</option>
          <option value="remote">GPU peer…</option>
        </select>
      </label>
      <span id="backend" class="badge" title="Where the model computes.">CPU</span>
      <span id="engine-status" class="muted" role="status">Loads when it scrolls into view</span>
    </div>
    <progress id="load-progress" class="load-progress" max="1" aria-label="Loading the engine" hidden></progress>
  </header>
  <p id="notice" class="error notice" role="alert" hidden></p>

  <section id="resume-offer" class="banner" hidden aria-labelledby="resume-title">
    <div>
      <h2 id="resume-title">Pick up where you left off?</h2>
      <p id="resume-text"></p>
      <p id="resume-error" class="error" role="alert" hidden></p>
    </div>
    <div class="row">
      <button id="resume" class="primary" type="button">Resume</button>
      <button id="discard" type="button">Start fresh</button>
    </div>
  </section>

  <div class="grid">
    <section class="card text-card" aria-labelledby="text-title">
      <h2 id="text-title"><span class="num" aria-hidden="true">1</span>Text to learn from</h2>
      <div class="row sample-row">
        <label for="sample">Sample</label>
        <select id="sample"><option value="">Choose a sample…</option></select>
        <button id="pick-file" type="button">Open text file…</button>
        <input id="file" type="file" accept=".txt,.md,text/plain,text/markdown" hidden>
      </div>
      <label for="text" class="sr-only">Training text</label>
      <textarea id="text" class="corpus" spellcheck="false" aria-describedby="text-hint err-text text-error"
        placeholder="Paste any text here, or drop a .txt or .md file."></textarea>
      <p id="text-hint" class="hint">Paste, drop a file, or pick a sample. The model learns one character at a time.</p>
      <p id="err-text" class="field-error"></p>
      <p id="text-error" class="error" role="alert" hidden></p>
      <div class="row token-row">
        <button id="show-tokens" type="button" aria-pressed="false" aria-controls="token-panel" aria-describedby="tokens-hint" disabled>Show tokens</button>
        <span id="tokens-hint" class="muted"></span>
      </div>
      <div id="token-panel" class="token-panel" hidden>
        <p id="tokens-summary" class="muted" role="status"></p>
        <div id="token-view" class="output token-view" tabindex="0" role="group" aria-label="The start of the training text, cut into the model's tokens"></div>
        <p class="hint">Every other token is shaded; a dotted underline marks characters that take several tokens (hover for how many).</p>
        <p id="tokens-error" class="error" role="alert" hidden></p>
      </div>
      <dl class="stats text-stats">
        <div><dt>Characters</dt><dd id="chars">—</dd></div>
        <div><dt>Vocabulary</dt><dd id="vocab">—</dd></div>
        <div><dt>Chars per token</dt><dd id="chars-per-token">—</dd></div>
        <div><dt>Train tokens</dt><dd id="train-tokens">—</dd></div>
        <div><dt>Val tokens</dt><dd id="val-tokens">—</dd></div>
      </dl>
    </section>

    <section class="card model-card" aria-labelledby="model-title">
      <h2 id="model-title"><span class="num" aria-hidden="true">2</span>Model</h2>
      <form id="model-form" novalidate>
        <fieldset id="model-fields">
          <legend class="sr-only">Hyper-parameters</legend>
          <div class="fields">
            <div class="field">
              <label for="preset">Preset</label>
              <select id="preset" name="preset"></select>
            </div>
            <div class="field">
              <label for="f-model">Model type</label>
              <select id="f-model" name="model">
                <option value="gpt">GPT</option>
                <option value="lstm">LSTM</option>
                <option value="gru">GRU</option>
              </select>
              <p class="field-error" id="err-model"></p>
            </div>
            <div class="field">
              <label for="f-tokenizer">Tokenizer</label>
              <select id="f-tokenizer" name="tokenizer">
                <option value="char">Characters</option>
                <option value="bpe">BPE (bytes)</option>
              </select>
              <p class="field-error" id="err-tokenizer"></p>
            </div>
          </div>
        </fieldset>
      </form>
      <p id="model-hint" class="hint" hidden>Reset to change the text or the model.</p>
      <p id="shape-note" class="hint" hidden></p>
      <p id="model-error" class="error" role="alert" hidden></p>
      <dl class="stats">
        <div><dt>Parameters</dt><dd id="params">—</dd></div>
        <div><dt>Est. memory</dt><dd id="memory">—</dd></div>
      </dl>
      <p id="err-memory" class="field-error"></p>
    </section>

    <section class="card wide train-card" aria-labelledby="train-title">
      <h2 id="train-title"><span class="num" aria-hidden="true">3</span>Train</h2>
      <fieldset id="start-fields" class="start">
        <legend class="sr-only">How Train starts</legend>
        <fieldset id="train-for" class="field train-for" aria-describedby="train-for-note">
          <legend>Train for</legend>
          <div class="segmented">
            <label title="The model that learns most in a minute on this device"><input type="radio" name="train-for" value="60" checked><span>1 minute</span></label>
            <label title="The model that learns most in five minutes on this device"><input type="radio" name="train-for" value="300"><span>5 minutes</span></label>
            <label title="The model that learns most in half an hour on this device"><input type="radio" name="train-for" value="1800"><span>30 minutes</span></label>
            <label id="train-for-custom-choice" hidden><input type="radio" name="train-for" value="custom"><span id="train-for-custom"></span></label>
            <label title="Sized for half an hour, trained until you press Pause"><input type="radio" name="train-for" value="0"><span>Until I stop</span></label>
            <label title="The Model card’s settings, for its training steps"><input type="radio" name="train-for" value="steps"><span>Steps</span></label>
          </div>
        </fieldset>
        <fieldset id="start-from" class="field start-from">
          <legend>Start from</legend>
          <div class="segmented">
            <label title="A new model, shaped by the Model card"><input type="radio" name="start-from" value="scratch" checked><span>Scratch</span></label>
            <label title="The pretrained byte-level GPT, fine-tuned on your text"><input type="radio" name="start-from" value="base"><span>Base model</span></label>
            <label title="A model saved with Download model, fine-tuned on your text"><input type="radio" name="start-from" value="file"><span>A model file…</span></label>
          </div>
        </fieldset>
        <button id="choose-start-file" type="button" hidden>Choose a file…</button>
        <input id="start-file" type="file" accept=".kindling,application/octet-stream" hidden>
        <fieldset id="fine-tune-mode" class="field fine-tune-mode" hidden>
          <legend>Fine-tune</legend>
          <div class="segmented">
            <label title="Train every weight"><input type="radio" name="fine-tune-mode" value="all" checked><span>All weights</span></label>
            <label title="Train small low-rank adapters; the model's own weights stay frozen"><input type="radio" name="fine-tune-mode" value="lora"><span>LoRA</span></label>
          </div>
        </fieldset>
        <div id="lora-rank-field" class="field lora-rank" hidden>
          <label for="lora-rank">LoRA rank</label>
          <input id="lora-rank" type="number" min="1" step="1" value="8" inputmode="numeric" aria-describedby="start-error">
        </div>
      </fieldset>
      <p id="train-for-note" class="hint train-for-note"></p>
      <p id="start-note" class="hint start-note" role="status"></p>
      <p id="start-error" class="error" role="alert" hidden></p>
      <p id="param-split" class="hint param-split" hidden></p>
      <p id="config-error" class="error" role="alert" hidden></p>
      <div class="row">
        <button id="train" class="primary" type="button" disabled>Train</button>
        <button id="reset" type="button" disabled>Reset</button>
        <span class="spacer files"></span>
        <button id="download" class="files" type="button" disabled>Download model</button>
        <label class="files download-as">as
          <select id="download-format">
            <option value="kindling">Kindling file</option>
            <option value="safetensors">safetensors + JSON</option>
          </select>
        </label>
        <label id="download-as-field" class="files download-as" hidden>Save as
          <select id="download-as">
            <option value="adapters">base + adapters</option>
            <option value="merged">merged</option>
          </select>
        </label>
        <button id="open-model" class="files" type="button" disabled>Open model…</button>
        <input id="model-file" type="file" accept=".kindling,application/octet-stream" hidden>
      </div>
      <p id="file-error" class="error" role="alert" hidden></p>
      <progress id="progress" max="1" value="0" aria-label="Training progress"></progress>
      <dl class="metrics">
        <div><dt>Step</dt><dd id="step">0 / —</dd></div>
        <div><dt>Train loss</dt><dd id="loss">—</dd></div>
        <div class="detail"><dt>Train bits/char</dt><dd id="train-bits">—</dd></div>
        <div><dt>Val loss</dt><dd id="val-loss">—</dd></div>
        <div class="detail"><dt>Val bits/char</dt><dd id="val-bits">—</dd></div>
        <div class="detail"><dt>Tokens/s</dt><dd id="speed">—</dd></div>
        <div class="detail"><dt>Time left</dt><dd id="eta">—</dd></div>
      </dl>
      <p id="train-status" class="status" role="status"></p>
      <p id="train-error" class="error" role="alert" hidden></p>
      <figure class="chart">
        <canvas id="chart" role="img" aria-label="Loss chart: no data yet"></canvas>
        <figcaption class="legend">
          <span class="key train">train loss</span><span class="key val">validation loss</span>
        </figcaption>
      </figure>
      <p id="save-status" class="hint" role="status"></p>
      <p id="save-error" class="error" role="alert" hidden></p>
    </section>

    <section class="card wide gen-card" aria-labelledby="gen-title">
      <h2 id="gen-title"><span class="num" aria-hidden="true">4</span>Generate</h2>
      <label for="prompt">Prompt</label>
      <textarea id="prompt" class="prompt" rows="2" spellcheck="false" aria-describedby="prompt-warning"
        placeholder="How the text should start (optional)"></textarea>
      <p id="prompt-warning" class="warning" hidden></p>
      <div class="fields knobs">
        <div class="field"><label for="temperature">Temperature</label>
          <input id="temperature" type="number" min="0.05" max="3" step="0.05" value="0.8" inputmode="decimal"></div>
        <div class="field detail"><label for="top-k">Top-k</label>
          <input id="top-k" type="number" min="0" max="1000" step="1" value="20" inputmode="numeric"></div>
        <div class="field detail"><label for="top-p">Top-p</label>
          <input id="top-p" type="number" min="0.05" max="1" step="0.05" value="0.95" inputmode="decimal"></div>
        <div class="field"><label for="length">Length</label>
          <input id="length" type="number" min="1" max="5000" step="1" value="300" inputmode="numeric"></div>
        <fieldset id="pace" class="field pace">
          <legend>Pace</legend>
          <div class="segmented">
            <label title="One token each time you press Next token"><input type="radio" name="pace" value="step"><span>Step</span></label>
            <label title="About 40 tokens a second"><input type="radio" name="pace" value="readable" checked><span>Readable</span></label>
            <label title="As fast as the model writes"><input type="radio" name="pace" value="instant"><span>Instant</span></label>
          </div>
        </fieldset>
      </div>
      <div class="row">
        <button id="generate" class="primary" type="button" disabled>Generate</button>
        <button id="next-token" type="button" disabled hidden>Next token</button>
        <button id="stop" type="button" disabled>Stop</button>
        <span id="gen-status" class="muted" role="status"></span>
      </div>
      <p id="gen-error" class="error" role="alert" hidden></p>
      <div id="output" class="output" tabindex="0" role="group"
        aria-label="Generated text. Use the arrow keys to inspect each token." aria-describedby="token-info"></div>
      <p id="token-info" class="token-info" aria-live="polite">Hover over a token, or focus the text and use the arrow keys, to see how likely it was.</p>
      <section id="before-after" class="before-after" aria-labelledby="before-after-title" hidden>
        <h3 id="before-after-title">Before and after fine-tuning</h3>
        <p class="hint">The prompt above, one seed and the same sampling settings, generated by the model you started from and by the fine-tuned one.</p>
        <div class="row">
          <label for="compare-seed">Seed</label>
          <input id="compare-seed" class="seed" type="number" min="1" step="1" value="1" inputmode="numeric">
          <button id="compare" type="button">Compare</button>
          <span id="compare-status" class="muted" role="status"></span>
        </div>
        <p id="compare-error" class="error" role="alert" hidden></p>
        <div class="compare-grid">
          <figure class="compare-side">
            <figcaption id="compare-before-title">Before</figcaption>
            <div id="compare-before" class="output compare-output" tabindex="0" role="group" aria-labelledby="compare-before-title"></div>
          </figure>
          <figure class="compare-side">
            <figcaption id="compare-after-title">After</figcaption>
            <div id="compare-after" class="output compare-output" tabindex="0" role="group" aria-labelledby="compare-after-title"></div>
          </figure>
        </div>
        <dl class="stats">
          <div><dt>Val loss before</dt><dd id="val-loss-before">—</dd></div>
          <div><dt>Val loss after</dt><dd id="val-loss-after">—</dd></div>
          <div><dt>Bits/char before</dt><dd id="val-bits-before">—</dd></div>
          <div><dt>Bits/char after</dt><dd id="val-bits-after">—</dd></div>
        </dl>
      </section>
    </section>

    <section class="card wide inspect-card" aria-labelledby="inspect-title">
      <h2 id="inspect-title"><span class="num" aria-hidden="true">5</span>Inspect</h2>
      <fieldset id="inspect-source" class="field inspect-source">
        <legend>Text to inspect</legend>
        <div class="segmented">
          <label><input type="radio" name="inspect-source" value="generated" checked><span>The text just generated</span></label>
          <label><input type="radio" name="inspect-source" value="typed"><span>Text I type</span></label>
        </div>
      </fieldset>
      <label for="inspect-text" class="sr-only">Text to inspect</label>
      <textarea id="inspect-text" class="inspect-text" rows="3" spellcheck="false"
        placeholder="The text to run the model over"></textarea>
      <div class="row">
        <button id="inspect" class="primary" type="button" disabled>Inspect</button>
        <span id="inspect-status" class="muted" role="status"></span>
      </div>
      <p id="inspect-error" class="error" role="alert" hidden></p>
      <div id="inspect-tabs" class="tabs" role="tablist" aria-label="What to look at" hidden>
        <button id="tab-attention" type="button" role="tab" aria-controls="inspect-panel" data-view="attention">Attention</button>
        <button id="tab-lens" type="button" role="tab" aria-controls="inspect-panel" data-view="lens">Logit lens</button>
        <button id="tab-neurons" type="button" role="tab" aria-controls="inspect-panel" data-view="neurons">Neurons</button>
        <button id="tab-embeddings" type="button" role="tab" aria-controls="inspect-panel" data-view="embeddings">Embeddings</button>
        <button id="tab-sampling" type="button" role="tab" aria-controls="inspect-panel" data-view="sampling">Sampling</button>
      </div>
      <p id="inspect-note" class="hint" hidden></p>
      <div id="inspect-panel" class="inspect-panel" role="tabpanel" aria-labelledby="tab-attention"></div>
    </section>

    <section id="runs-card" class="card wide runs-card" aria-labelledby="runs-title">
      <h2 id="runs-title"><span class="num" aria-hidden="true">6</span>Runs</h2>
      <p class="hint">Each training run is kept in this browser when it pauses or finishes. Tick runs to compare their curves and figures.</p>
      <p id="runs-storage" class="muted" role="status"></p>
      <p id="runs-error" class="error" role="alert" hidden></p>
      <p id="runs-empty" class="hint">No runs yet: train a model and it appears here.</p>
      <ul id="runs-list" class="runs-list" aria-labelledby="runs-title"></ul>
      <div id="runs-compared" class="runs-compared" hidden>
        <fieldset id="runs-metric" class="field runs-metric">
          <legend>Plot</legend>
          <div class="segmented">
            <label><input type="radio" name="runs-metric" value="val" checked><span>Validation</span></label>
            <label><input type="radio" name="runs-metric" value="train"><span>Train</span></label>
          </div>
        </fieldset>
        <figure class="chart">
          <canvas id="runs-chart" role="img" aria-label="The ticked runs' loss curves"></canvas>
          <figcaption class="legend runs-legend"><span id="runs-axis" class="muted">bits per character against step</span><span id="runs-legend" class="runs-keys"></span></figcaption>
        </figure>
        <div class="table-scroll" tabindex="0" role="region" aria-labelledby="runs-table-caption">
          <table id="runs-table" class="runs-table">
            <caption id="runs-table-caption">The ticked runs side by side</caption>
            <thead><tr><th scope="col">Run</th><th scope="col">Model</th><th scope="col">Shape</th><th scope="col">Tokenizer</th>
              <th scope="col">Start</th><th scope="col">Steps</th><th scope="col">Time</th>
              <th scope="col">Train bits/char</th><th scope="col">Val bits/char</th></tr></thead>
            <tbody></tbody>
          </table>
        </div>
      </div>
      <section class="runs-compare" aria-labelledby="runs-compare-title">
        <h3 id="runs-compare-title">Two runs, one prompt</h3>
        <p class="hint">Both write from the same prompt and seed, with the Generate card's temperature, top-k and top-p. Your current model is untouched.</p>
        <div class="fields runs-compare-fields">
          <div class="field"><label for="runs-a">First run</label><select id="runs-a"></select></div>
          <div class="field"><label for="runs-b">Second run</label><select id="runs-b"></select></div>
          <div class="field"><label for="runs-prompt">Prompt</label><input id="runs-prompt" type="text" spellcheck="false"></div>
          <div class="field"><label for="runs-seed">Seed</label><input id="runs-seed" type="number" min="1" step="1" value="1" inputmode="numeric"></div>
          <div class="field"><label for="runs-length">Length</label><input id="runs-length" type="number" min="1" max="2000" step="1" value="200" inputmode="numeric"></div>
        </div>
        <div class="row">
          <button id="runs-generate" class="primary" type="button" disabled>Generate both</button>
          <span id="runs-compare-status" class="muted" role="status"></span>
        </div>
        <p id="runs-compare-error" class="error" role="alert" hidden></p>
        <div class="runs-outputs">
          <figure class="runs-side">
            <figcaption id="runs-out-a-title">First run</figcaption>
            <div id="runs-out-a" class="output runs-output" tabindex="0" role="group" aria-labelledby="runs-out-a-title"></div>
          </figure>
          <figure class="runs-side">
            <figcaption id="runs-out-b-title">Second run</figcaption>
            <div id="runs-out-b" class="output runs-output" tabindex="0" role="group" aria-labelledby="runs-out-b-title"></div>
          </figure>
        </div>
      </section>
    </section>
  </div>
</div>`;

// Element factory for markup built in code (never from user text).
/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean>} [attributes] set as their strings
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, /** @type {string} */ (value)); // as its string
  }
  node.append(...children);
  return node;
}

// The template's elements a part of the element works with, looked up once:
// nodes(root, 'train-status gen-error') → { trainStatus, genError }.
/**
 * @param {DocumentFragment} root the shadow root
 * @param {string} ids
 * @returns {Record<string, HTMLElement>} a part casts it to the elements it knows are there
 */
export function nodes(root, ids) {
  /** @type {Record<string, HTMLElement>} */
  const found = {};
  for (const id of ids.trim().split(/\s+/)) {
    const node = root.getElementById(id);
    if (!node) throw new Error(`markup.js has no #${id}`);
    found[id.replace(/-(\w)/g, (_, letter) => letter.toUpperCase())] = node;
  }
  return found;
}

// A message line (errors, notices): shown with its text, hidden when there is none.
/**
 * @param {HTMLElement} node
 * @param {string} message
 */
export function say(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

// Writes a readout. What the keyboard reaches is read out; what the mouse hovers is only shown:
// a pointer crossing a grid would otherwise have every cell it passes spoken.
/**
 * @param {Element} node
 * @param {string} text
 * @param {boolean} [spoken]
 */
export function tell(node, text, spoken = true) {
  node.setAttribute('aria-live', spoken ? 'polite' : 'off');
  node.textContent = text;
}

// A read-out with its raw value kept in data-value, for the tests and for assistive tools.
/**
 * @param {HTMLElement} node
 * @param {number | null | undefined} value
 * @param {(value: number) => string} formatter format.js's: what is not a finite number is —
 */
export function setNumber(node, value, formatter) {
  node.textContent = formatter(/** @type {number} */ (value));
  node.dataset.value = String(value ?? '');
}

// In a blog post (compact) the element must add no heading to the post's outline and no
// landmarks to its page, where its cards' titles are hidden anyway; the full playground is the
// page, and has both.
/**
 * @param {DocumentFragment} root the shadow root
 * @param {boolean} compact
 */
export function setOutline(root, compact) {
  const title = /** @type {HTMLElement} */ (root.getElementById('title'));
  if (compact) title.setAttribute('role', 'none');
  else title.removeAttribute('role');
  for (const section of root.querySelectorAll('section')) {
    // A section is a landmark only while it has a name.
    if (compact && section.hasAttribute('aria-labelledby')) {
      section.dataset.labelledby = /** @type {string} */ (section.getAttribute('aria-labelledby'));
      section.removeAttribute('aria-labelledby');
    } else if (!compact && section.dataset.labelledby) {
      section.setAttribute('aria-labelledby', section.dataset.labelledby);
    }
  }
}

// Messages from the engine end without a full stop; sentences shown to people do not.
/** @param {string} message */
export function sentence(message) {
  return /[.!?]$/.test(message) ? message : `${message}.`;
}

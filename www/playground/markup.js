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
      <p class="tagline">Train a tiny language model in your browser. Nothing leaves this page.</p>
      <p id="model-line" class="model-line" hidden></p>
    </div>
    <div class="top-status">
      <label class="backend-choice"><span class="muted">Compute on</span>
        <select id="backend-choice" title="Where to train: Auto measures WebGPU against the CPU and picks the faster">
          <option value="auto">Auto</option>
          <option value="cpu">CPU</option>
          <option value="webgpu">WebGPU</option>
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
      <p id="model-error" class="error" role="alert" hidden></p>
      <dl class="stats">
        <div><dt>Parameters</dt><dd id="params">—</dd></div>
        <div><dt>Est. memory</dt><dd id="memory">—</dd></div>
      </dl>
      <p id="err-memory" class="field-error"></p>
    </section>

    <section class="card wide train-card" aria-labelledby="train-title">
      <h2 id="train-title"><span class="num" aria-hidden="true">3</span>Train</h2>
      <p id="config-error" class="error" role="alert" hidden></p>
      <div class="row">
        <button id="train" class="primary" type="button" disabled>Train</button>
        <button id="reset" type="button" disabled>Reset</button>
        <span class="spacer files"></span>
        <button id="download" class="files" type="button" disabled>Download model</button>
        <button id="open-model" class="files" type="button" disabled>Open model…</button>
        <input id="model-file" type="file" accept=".kindling,application/octet-stream" hidden>
        <button id="fine-tune" class="files" type="button" disabled>Fine-tune a model file…</button>
        <input id="fine-tune-file" type="file" accept=".kindling,application/octet-stream" hidden>
      </div>
      <p id="file-error" class="error" role="alert" hidden></p>
      <p id="fine-tune-error" class="error" role="alert" hidden></p>
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
  </div>
</div>`;

// Element factory for markup built in code (never from user text).
export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

// The template's elements a part of the element works with, looked up once:
// nodes(root, 'train-status gen-error') → { trainStatus, genError }.
export function nodes(root, ids) {
  const found = {};
  for (const id of ids.trim().split(/\s+/)) {
    const node = root.getElementById(id);
    if (!node) throw new Error(`markup.js has no #${id}`);
    found[id.replace(/-(\w)/g, (_, letter) => letter.toUpperCase())] = node;
  }
  return found;
}

// A message line (errors, notices): shown with its text, hidden when there is none.
export function say(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

// Writes a readout. What the keyboard reaches is read out; what the mouse hovers is only shown:
// a pointer crossing a grid would otherwise have every cell it passes spoken.
export function tell(node, text, spoken = true) {
  node.setAttribute('aria-live', spoken ? 'polite' : 'off');
  node.textContent = text;
}

// A read-out with its raw value kept in data-value, for the tests and for assistive tools.
export function setNumber(node, value, formatter) {
  node.textContent = formatter(value);
  node.dataset.value = value ?? '';
}

// In a blog post (compact) the element must add no heading to the post's outline and no
// landmarks to its page, where its cards' titles are hidden anyway; the full playground is the
// page, and has both.
export function setOutline(root, compact) {
  const title = root.getElementById('title');
  if (compact) title.setAttribute('role', 'none');
  else title.removeAttribute('role');
  for (const section of root.querySelectorAll('section')) {
    // A section is a landmark only while it has a name.
    if (compact && section.hasAttribute('aria-labelledby')) {
      section.dataset.labelledby = section.getAttribute('aria-labelledby');
      section.removeAttribute('aria-labelledby');
    } else if (!compact && section.dataset.labelledby) {
      section.setAttribute('aria-labelledby', section.dataset.labelledby);
    }
  }
}

// Messages from the engine end without a full stop; sentences shown to people do not.
export function sentence(message) {
  return /[.!?]$/.test(message) ? message : `${message}.`;
}

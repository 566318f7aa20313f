// @ts-check
// What a model is made from: the training text (typed, dropped, opened or a sample) and the
// settings (a preset and the hyper-parameters it fills in), checked by the engine as they
// change, with each message next to its field.
import * as format from '../format.js';
import { SAMPLES } from '../samples.js';
import { el, nodes, say, setNumber } from './markup.js';

/** @typedef {import('../../pkg/kindling.js').Config} Config */
/** @typedef {import('../../pkg/kindling.js').CreateOptions} CreateOptions */
/** @typedef {import('../../pkg/kindling.js').FieldRule} FieldRule */
/** @typedef {import('../../pkg/kindling.js').ModelKind} ModelKind */
/** @typedef {import('../../pkg/kindling.js').PresetName} PresetName */
/** @typedef {import('../../pkg/kindling.js').Report} Report */
/** @typedef {import('../../pkg/kindling.js').TokenizerKind} TokenizerKind */

/**
 * A hyper-parameter's field (FIELDS); what it allows is the engine's rule for it (setRules).
 * @typedef {object} Field
 * @property {'merges' | 'nLayer' | 'nHead' | 'nEmbd' | 'hiddenSize' | 'blockSize' | 'dropout'
 *   | 'batchSize' | 'learningRate' | 'maxSteps'} name its config name
 * @property {string} label as the form words it
 * @property {number} [step] the spinner's, where a whole number or 'any' steps too finely
 */
/** @typedef {{ field?: string, message: string }} FormError a problem, and its field if any */
/**
 * A validation as the form shows it: the engine's Report, or the form's own refusal (a field
 * that is not a number, an engine that failed), which has only `ok` and `errors`.
 * @typedef {{ ok: boolean, errors: FormError[] } & Partial<Omit<Report, 'ok' | 'errors'>>} Validation
 */
/**
 * @typedef {object} FormNodes
 * @property {HTMLTextAreaElement} text
 * @property {HTMLSelectElement} sample
 * @property {HTMLButtonElement} pickFile
 * @property {HTMLInputElement} file
 * @property {HTMLElement} textHint
 * @property {HTMLElement} textError
 * @property {HTMLElement} chars
 * @property {HTMLElement} vocab
 * @property {HTMLElement} charsPerToken
 * @property {HTMLElement} trainTokens
 * @property {HTMLElement} valTokens
 * @property {HTMLFormElement} modelForm
 * @property {HTMLFieldSetElement} modelFields
 * @property {HTMLSelectElement} preset
 * @property {HTMLSelectElement} fModel
 * @property {HTMLSelectElement} fTokenizer
 * @property {HTMLElement} params
 * @property {HTMLElement} memory
 * @property {HTMLElement} modelError
 * @property {HTMLElement} configError
 * @property {HTMLElement} shapeNote
 */

const MAX_FILE_BYTES = 20 * 1024 * 1024;
const VALIDATE_DELAY_MS = 150;

// The hyper-parameters the form edits, by their engine (config) names, in the order shown
// (after the preset, model type and tokenizer menus). The rest is the engine's, so that its
// rules live in one place: each field's limits, whether it is a whole number, the model types
// and tokenizers that use it and whether a fine-tune may change it (Kindling.configFields(),
// sent with `ready`). Until they arrive no field shows: none has a value before the presets.
/** @type {Field[]} */
export const FIELDS = [
  { name: 'merges', label: 'BPE merges' },
  { name: 'nLayer', label: 'Layers' },
  { name: 'nHead', label: 'Attention heads' },
  { name: 'nEmbd', label: 'Embedding size' },
  { name: 'hiddenSize', label: 'Hidden size' },
  { name: 'blockSize', label: 'Context length' },
  { name: 'dropout', label: 'Dropout', step: 0.05 },
  { name: 'batchSize', label: 'Batch size' },
  { name: 'learningRate', label: 'Learning rate' },
  { name: 'maxSteps', label: 'Training steps' },
];

// What the model reads, by tokenizer, for the text's hint.
/** @type {Record<string, string>} */
const LEARNS = {
  char: 'one character at a time',
  bpe: 'a token at a time: byte-level BPE builds its tokens from the byte pairs that recur most in this text',
};
/** @type {Record<'full' | 'compact', (learns: string) => string>} */
const TEXT_HINTS = {
  full: (learns) => `Paste, drop a file, or pick a sample. The model learns ${learns}.`,
  compact: (learns) => `Edit the text or paste your own; the model learns ${learns}.`,
};

// The engine's rule gives the input its limits (ConfigForm.setRules).
/** @param {Field} field */
function numberField({ name, label }) {
  const input = el('input', { id: `f-${name}`, name, type: 'number', 'aria-describedby': `err-${name}` });
  return el('div', { class: 'field', 'data-field': name, hidden: '' }, [
    el('label', { for: input.id }, [label]),
    input,
    el('p', { class: 'field-error', id: `err-${name}` }),
  ]);
}

// An empty list in a rule: every model type, or every tokenizer.
/**
 * @param {FieldRule} rule
 * @param {{ model: ModelKind, tokenizer: TokenizerKind }} choice
 */
const usedBy = (rule, { model, tokenizer }) =>
  (!rule.models.length || rule.models.includes(model)) &&
  (!rule.tokenizers.length || rule.tokenizers.includes(tokenizer));

export class ConfigForm {
  // validate(options): resolves to the engine's validation result.
  // onPending(): a change is waiting to be validated.  onValidated(result): it was.
  // steps(): the training steps the page asked for (they override the preset's), or null.
  /**
   * @param {ShadowRoot} root
   * @param {object} hooks
   * @param {(options: CreateOptions) => Promise<Validation>} hooks.validate
   * @param {() => void} hooks.onPending
   * @param {(result: Validation) => void} hooks.onValidated
   * @param {() => string | null} hooks.steps
   */
  constructor(root, { validate, onPending, onValidated, steps }) {
    this.root = root;
    this.validate = validate;
    this.onPending = onPending;
    this.onValidated = onValidated;
    this.steps = steps;
    this.$ = /** @type {FormNodes} */ (
      nodes(
        root,
        'text sample pick-file file text-hint text-error chars vocab chars-per-token train-tokens val-tokens ' +
          'model-form model-fields preset f-model f-tokenizer params memory model-error config-error shape-note',
      )
    );
    /** @type {Record<string, Config>} */
    this.presets = {};
    /** @type {Record<string, FieldRule>} */
    this.rules = {}; // the engine's, by field, once it is loaded (setRules)
    /** @type {Validation | null} */
    this.result = null; // the last validation
    this.validationId = 0;
    this.shownId = -1;
    this.ready = false; // set by the element: validation needs the engine
    this.locked = false; // set by the element: a model fixes its text and settings
    this.compact = false;
    this.shapeFixed = false; // a fine-tune's start point gives the shape (fixShape)
    /** @type {string | null} */
    this.fixedNote = null;
    this.budget = false; // a training budget sizes the model when Train is pressed (setBudget)
    /** @type {string | null} */
    this.budgetNote = null;
    this.sized = false; // the fields hold a plan's or a model's sizes, not a preset's
    /** @type {((result: Validation) => void)[]} */
    this.waiting = []; // settled() callers

    const fields = /** @type {HTMLElement} */ (this.$.modelFields.querySelector('.fields'));
    for (const field of FIELDS) fields.append(numberField(field));
    for (const sample of SAMPLES) this.$.sample.append(el('option', { value: sample.id }, [sample.label]));
    this.bind();
  }

  /** @param {Field['name']} name */
  field(name) {
    return /** @type {HTMLInputElement} */ (this.root.getElementById(`f-${name}`));
  }

  bind() {
    const { text, sample, pickFile, file, preset, modelForm } = this.$;
    text.addEventListener('input', () => this.textChanged());
    text.addEventListener('dragover', (event) => {
      if (!event.dataTransfer?.types.includes('Files')) return;
      event.preventDefault();
      text.classList.add('dropping');
    });
    text.addEventListener('dragleave', () => text.classList.remove('dropping'));
    text.addEventListener('drop', (event) => {
      const dropped = event.dataTransfer?.files[0];
      if (!dropped) return; // plain text dropped: let the textarea insert it
      event.preventDefault();
      text.classList.remove('dropping');
      this.readTextFile(dropped);
    });
    sample.addEventListener('change', () => this.loadSample(sample.value));
    pickFile.addEventListener('click', () => file.click());
    file.addEventListener('change', () => this.readTextFile(/** @type {FileList} */ (file.files)[0]));
    preset.addEventListener('change', () => this.applyPreset(preset.value));
    modelForm.addEventListener('input', () => this.schedule());
    modelForm.addEventListener('submit', (event) => event.preventDefault());
  }

  /** @param {boolean} compact */
  setCompact(compact) {
    this.compact = compact;
    this.showTextHint();
    this.showGeneralErrors();
  }

  showTextHint() {
    const learns = LEARNS[this.$.fTokenizer.value] ?? LEARNS.char;
    this.$.textHint.textContent = (this.compact ? TEXT_HINTS.compact : TEXT_HINTS.full)(learns);
  }

  // ---- text -------------------------------------------------------------------------

  get text() {
    return this.$.text.value;
  }

  /** @param {string} text */
  setText(text) {
    this.$.text.value = text;
    this.textChanged();
  }

  textChanged() {
    say(this.$.textError, '');
    setNumber(this.$.chars, format.codePoints(this.$.text.value), format.compact);
    this.schedule();
  }

  /** @param {string} id */
  async loadSample(id) {
    const sample = SAMPLES.find((s) => s.id === id);
    if (!sample || this.locked) return;
    try {
      this.$.sample.value = id;
      this.setText(await sample.load());
    } catch (error) {
      say(this.$.textError, /** @type {Error} */ (error).message);
    }
  }

  // Only valid UTF-8 text replaces the current text; anything else leaves it as it was.
  /** @param {File | undefined} file */
  async readTextFile(file) {
    this.$.file.value = '';
    if (!file) return;
    const refuse = (/** @type {string} */ message) => say(this.$.textError, message);
    if (this.locked) return refuse('Reset the model before training on another text.');
    if (file.size > MAX_FILE_BYTES) {
      return refuse(`“${file.name}” is ${format.bytes(file.size)}; the limit is ${format.bytes(MAX_FILE_BYTES)}.`);
    }
    // The size is checked above, before a byte is read: a huge file never fills the memory.
    let text;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (error) {
      if (/** @type {Error | undefined} */ (error)?.name !== 'TypeError') {
        const why = /** @type {Error | undefined} */ (error)?.message ?? error;
        return refuse(`Could not read “${file.name}”: ${why}. Your text is unchanged.`);
      }
      return refuse(`“${file.name}” is not UTF-8 text, so it was not loaded. Your text is unchanged.`);
    }
    if (text.includes('\0')) {
      return refuse(`“${file.name}” looks like a binary file, so it was not loaded. Your text is unchanged.`);
    }
    this.$.sample.value = '';
    this.setText(text);
  }

  // ---- settings ---------------------------------------------------------------------

  // The engine's rules for its config numbers (Kindling.configFields()): they give the inputs
  // their limits and say which fields a model type and tokenizer use.
  /** @param {FieldRule[]} rules */
  setRules(rules) {
    this.rules = Object.fromEntries(rules.map((rule) => [rule.field, rule]));
    for (const { name, step } of FIELDS) {
      const rule = this.rules[name];
      if (!rule) continue;
      const input = this.field(name);
      input.inputMode = rule.integer ? 'numeric' : 'decimal';
      input.step = String(step ?? (rule.integer ? 1 : 'any'));
      // An excluded minimum (a learning rate above 0) still stops the spinner; the engine's
      // message says why the value itself is refused. A cap by another field (heads at the
      // width) has no fixed number: the engine checks it.
      input.min = String(rule.min);
      if (rule.max === undefined) input.removeAttribute('max');
      else input.max = String(rule.max);
    }
    this.schedule();
  }

  /**
   * The engine's rule for a config number (shown here or not); undefined until it is loaded.
   * @param {string} name
   * @returns {FieldRule | undefined}
   */
  rule(name) {
    return this.rules[name];
  }

  // The engine's presets, once it is loaded; `wanted` is chosen if it is one of them.
  /**
   * @param {Record<string, Config>} presets
   * @param {string | null} wanted
   */
  setPresets(presets, wanted) {
    this.presets = presets;
    if (this.$.preset.options.length) return;
    for (const name of Object.keys(presets)) this.$.preset.append(el('option', { value: name }, [name]));
    this.applyPreset(this.presetName(wanted));
  }

  /**
   * @param {string | null} wanted
   * @returns {string}
   */
  presetName(wanted) {
    if (/** @type {string} */ (wanted) in this.presets) return /** @type {string} */ (wanted);
    return 'tiny' in this.presets ? 'tiny' : Object.keys(this.presets)[0];
  }

  /** @param {string} name */
  applyPreset(name) {
    const config = this.presets[name];
    if (!config) return;
    this.$.preset.value = name;
    this.$.fModel.value = config.model;
    this.$.fTokenizer.value = config.tokenizer ?? 'char';
    for (const { name: field } of FIELDS) {
      // A preset may lack a field its model type ignores; keep another preset's value so
      // switching the model type still has something sensible there.
      const value = config[field] ?? Object.values(this.presets).find((p) => p[field] != null)?.[field];
      if (value != null) this.field(field).value = String(value);
    }
    this.applySteps();
  }

  // Training steps: the page's, else the preset's.
  applySteps() {
    const steps = this.steps() ?? this.presets[this.$.preset.value]?.maxSteps;
    if (steps != null) this.field('maxSteps').value = String(steps);
    this.schedule();
  }

  // Puts a restored or opened model's text and settings back into the form.
  /**
   * @param {import('../protocol.js').Setup} setup
   * @param {Config} config
   */
  showSetup(setup, config) {
    if (setup.text != null) this.setText(setup.text);
    if (/** @type {string} */ (setup.options?.preset) in this.presets) {
      this.$.preset.value = /** @type {{ preset: string }} */ (setup.options).preset;
    }
    this.$.fModel.value = config.model;
    this.$.fTokenizer.value = config.tokenizer ?? 'char'; // absent from checkpoints before BPE
    this.showConfig(config);
  }

  // A budget's plan: its shape and training settings (the tokenizer and merges stay the
  // reader's), and `why`.
  /**
   * @param {Config} config
   * @param {string} why
   */
  showPlan(config, why) {
    this.budgetNote = why;
    this.showConfig(config, ['merges']);
  }

  /**
   * @param {Config} config
   * @param {Field['name'][]} [except]
   */
  showConfig(config, except = []) {
    for (const { name } of FIELDS) {
      if (config[name] != null && !except.includes(name)) this.field(name).value = String(config[name]);
    }
    this.sized = true;
    this.schedule();
  }

  // The steps a budget run now ends at, once it has moved its end; nothing else changes.
  /** @param {number} steps */
  showSteps(steps) {
    const field = this.field('maxSteps');
    if (field.value !== String(steps)) field.value = String(steps);
  }

  /** @param {number} count */
  showParameters(count) {
    setNumber(this.$.params, count, format.compact);
  }

  // Options for Kindling.validate / create: the text, the preset and the visible fields; with a
  // budget, the text, model type, tokenizer and merges (the budget sizes the rest; once it has,
  // its sizes too, for the estimates).
  // Returns { options } or { errors } when a field is not a number.
  /**
   * @returns {{ options: CreateOptions, errors?: undefined }
   *   | { options?: undefined, errors: FormError[] }}
   */
  read() {
    const choice = this.choice();
    /** @type {CreateOptions} */
    const options = {
      text: this.$.text.value,
      ...(!this.budget && { preset: /** @type {PresetName} */ (this.$.preset.value) }),
      ...choice,
    };
    /** @type {FormError[]} */
    const errors = [];
    for (const field of FIELDS) {
      const rule = this.rule(field.name);
      if (!rule || !usedBy(rule, choice) || !(this.readersField(field) || this.sized)) continue;
      const raw = this.field(field.name).value.trim();
      const value = Number(raw);
      if (raw === '' || !Number.isFinite(value)) errors.push({ field: field.name, message: 'Enter a number.' });
      else if (rule.integer && !Number.isInteger(value))
        errors.push({ field: field.name, message: 'Enter a whole number.' });
      else options[field.name] = value;
    }
    // The decay floor must stay at or below the learning rate: keep the preset's ratio.
    const preset = this.presets[/** @type {string} */ (options.preset)];
    const learningRate = /** @type {number} */ (options.learningRate); // with a preset, a field's
    if (preset && learningRate > 0 && learningRate !== preset.learningRate) {
      options.minLearningRate = learningRate * (preset.minLearningRate / preset.learningRate);
    }
    return errors.length ? { errors } : { options };
  }

  // ---- validation -------------------------------------------------------------------

  // The menus that decide which fields count: { model, tokenizer }.
  choice() {
    return {
      model: /** @type {ModelKind} */ (this.$.fModel.value), // the menus offer the engine's kinds
      tokenizer: /** @type {TokenizerKind} */ (this.$.fTokenizer.value),
    };
  }

  // A start point other than Scratch (start-from.js) gives the model's shape: only the
  // training settings show, and `note` says why; null shows every field again.
  /** @param {string | null} [note] */
  fixShape(note) {
    this.shapeFixed = Boolean(note);
    this.fixedNote = note ?? null;
    this.schedule();
  }

  // A training budget (train-for.js) sizes the model when Train is pressed: the preset, sizes
  // and training settings go until it has (showPlan), then show what it chose, not for the
  // reader to edit; the model type, tokenizer and merges stay theirs. `note` says so; null
  // gives every field back.
  /** @param {string | null} note */
  setBudget(note) {
    this.budget = Boolean(note);
    this.budgetNote = note ?? null;
    this.sized = false;
    this.schedule();
  }

  // A field the reader sets now: with a budget, the tokenizer's merges only.
  /** @param {Field} field */
  readersField(field) {
    return !this.budget || field.name === 'merges';
  }

  // Validates once the typing pauses; shows only the fields the chosen model type and
  // tokenizer use (and a fine-tune changes); a budget's sizes show, not editable.
  schedule() {
    const choice = this.choice();
    // Each control is in its .field.
    for (const menu of [this.$.fModel, this.$.fTokenizer]) {
      /** @type {HTMLElement} */ (menu.closest('.field')).hidden = this.shapeFixed;
    }
    /** @type {HTMLElement} */ (this.$.preset.closest('.field')).hidden = this.shapeFixed || this.budget;
    say(this.$.shapeNote, this.fixedNote ?? this.budgetNote ?? '');
    for (const field of FIELDS) {
      const input = this.field(field.name);
      const rule = this.rule(field.name);
      const sizing = !this.readersField(field);
      /** @type {HTMLElement} */ (input.closest('.field')).hidden =
        !rule || !usedBy(rule, choice) || (this.shapeFixed && !rule.training) || (sizing && !this.sized);
      input.disabled = sizing;
    }
    this.showTextHint();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), VALIDATE_DELAY_MS);
    this.onPending();
  }

  async run() {
    this.timer = 0;
    if (!this.ready) return;
    const id = ++this.validationId;
    const { options, errors } = this.read();
    /** @type {Validation | undefined} */
    let result = errors && { ok: false, errors };
    try {
      result ??= await this.validate(/** @type {CreateOptions} */ (options)); // no errors: options
    } catch (error) {
      // The engine stopped; its successor validates again.
      if (/** @type {{ kind?: string }} */ (error).kind === 'state') return;
      result = { ok: false, errors: [{ message: /** @type {Error} */ (error).message }] };
    }
    // A later change is waiting or being validated: this result is stale already.
    if (id === this.validationId && !this.timer) this.show(result, id);
  }

  // Resolves to the result of validating what the form holds now (and no later change).
  /** @returns {Promise<Validation>} */
  settled() {
    if (!this.timer && this.shownId === this.validationId && this.result) return Promise.resolve(this.result);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * @param {Validation} result
   * @param {number} id
   */
  show(result, id) {
    this.result = result;
    this.shownId = id;
    for (const node of this.root.querySelectorAll('.field-error')) node.textContent = '';
    for (const { field, message } of result.errors ?? []) {
      const target = field && this.root.getElementById(`err-${field}`);
      if (target) target.textContent = message;
    }
    for (const node of this.root.querySelectorAll('.field')) {
      node.classList.toggle('invalid', Boolean(node.querySelector('.field-error')?.textContent));
    }
    this.showGeneralErrors();
    // A failed validation reports zeros for what it could not work out; show those as unknown.
    /** @param {number | undefined} value */
    const known = (value) => (/** @type {number} */ (value) > 0 ? value : undefined);
    // With a wrong tokenizer setting the engine counts characters instead: not this tokenizer's.
    const tokenized = !result.errors?.some(({ field }) => field === 'tokenizer' || field === 'merges');
    setNumber(this.$.vocab, tokenized ? known(result.vocabSize) : undefined, format.compact);
    setNumber(this.$.charsPerToken, tokenized ? known(result.charsPerToken) : undefined, format.ratio);
    setNumber(this.$.trainTokens, known(result.trainTokens), format.compact);
    setNumber(this.$.valTokens, known(result.valTokens), format.compact);
    // A fine-tune's size is its start point's, a budget's its plan's, not the fields' (once made,
    // the model's own count).
    const elsewhere = this.shapeFixed || (this.budget && !this.sized);
    /** @param {number | undefined} value */
    const sized = (value) => (elsewhere ? undefined : known(value));
    if (!(elsewhere && this.locked)) setNumber(this.$.params, sized(result.parameterCount), format.compact);
    setNumber(this.$.memory, sized(result.memoryBytes), format.bytes);
    this.onValidated(result);
    for (const resolve of this.waiting.splice(0)) resolve(result);
  }

  // Validation messages with no field on screen: next to the model in full mode, above
  // the Train button in the compact modes (which show only the text of all the fields).
  showGeneralErrors() {
    const errors = this.result?.errors ?? [];
    /** @param {FormError} error */
    const shown = ({ field }) =>
      field && this.root.getElementById(`err-${field}`) && (!this.compact || field === 'text');
    const general = errors.filter((error) => !shown(error)).map(({ message }) => message);
    say(this.compact ? this.$.configError : this.$.modelError, general.join(' '));
    say(this.compact ? this.$.modelError : this.$.configError, '');
  }
}

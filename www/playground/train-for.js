// @ts-check
// "Train for: 1 minute · 5 minutes · 30 minutes · Until I stop · Steps" in the Train card, and the
// element's `budget` attribute, which the control sets and follows (budget.js: what it means).
// A budget sizes the model for this device when Train is pressed: the engine worker measures a
// few shapes and plans (worker/budget-probe.js), and this shows its progress and its choice: the
// Model card's fields, and why, in the Model card and the train status. "Steps" trains the
// Model card's settings for its steps. Budgets are for training from scratch: with another
// start point (Start from) the control is disabled and a fine-tune keeps its steps.
import {
  BUDGET_HINT,
  attributeFor,
  budgetChoice,
  budgetLabel,
  choiceValue,
  measuringNote,
  trainForNote,
} from '../budget.js';
import { nodes } from './markup.js';

/**
 * @typedef {object} TrainForNodes
 * @property {HTMLFieldSetElement} trainFor its radios
 * @property {HTMLElement} trainForCustomChoice
 * @property {HTMLElement} trainForCustom
 * @property {HTMLElement} trainForNote
 */

export class TrainFor {
  // The worker's messages this takes: the element hands it these and no others.
  accepts = /** @type {const} */ (['measuring', 'planned', 'model', 'metrics']);

  // host: the element; form: its ConfigForm; training: its TrainingView.
  /**
   * @param {ShadowRoot} root
   * @param {object} parts
   * @param {import('../kindling-playground.js').KindlingPlayground} parts.host
   * @param {import('./config-form.js').ConfigForm} parts.form
   * @param {import('./training-view.js').TrainingView} parts.training
   */
  constructor(root, { host, form, training }) {
    this.host = host;
    this.form = form;
    this.training = training;
    this.$ = /** @type {TrainForNodes} */ (
      nodes(root, 'train-for train-for-custom-choice train-for-custom train-for-note')
    );
    this.$.trainFor.addEventListener('change', (event) => {
      const target = /** @type {HTMLInputElement} */ (event.target); // a radio
      const value = target.value === 'custom' ? String(this.choice) : attributeFor(target.value);
      this.host.setAttribute('budget', value);
    });
  }

  // Seconds (0: until stopped) or 'steps', as the attributes say.
  get choice() {
    return budgetChoice({ budget: this.host.getAttribute('budget'), steps: this.host.getAttribute('steps') });
  }

  get fineTunes() {
    return Boolean(this.host.files?.startFrom.fineTunes);
  }

  // The budget Train uses now, in seconds (0: until stopped), or null: the Model card's steps.
  get seconds() {
    const choice = this.choice;
    return choice === 'steps' || this.fineTunes ? null : choice;
  }

  // The `budget` or `steps` attribute or the start point changed: the control, its note and
  // the Model card follow.
  refresh() {
    const choice = this.choice;
    const value = choiceValue(choice);
    this.$.trainForCustomChoice.hidden = value !== 'custom';
    if (value === 'custom') {
      this.$.trainForCustom.textContent = capitalized(budgetLabel(/** @type {number} */ (choice))); // seconds
    }
    /** @type {HTMLInputElement} */ (this.$.trainFor.querySelector(`input[value="${value}"]`)).checked = true;
    this.$.trainFor.disabled = this.fineTunes;
    this.$.trainForNote.textContent = trainForNote(choice, this.fineTunes);
    const { seconds } = this;
    this.form.setBudget(seconds === null ? null : BUDGET_HINT);
    this.training.budgetLabel = seconds === null ? null : budgetLabel(seconds);
  }

  // The worker's budget messages, and the models that settle them.
  /** @param {import('./parts.js').Accepted<TrainFor['accepts']>} message */
  received(message) {
    switch (message.type) {
      case 'measuring':
        return this.training.status(measuringNote(message.index, message.count));
      case 'planned':
        this.form.showPlan(message.plan.config, message.plan.why);
        return this.training.status(message.plan.why);
      case 'model':
        if (!message.info) return this.refresh(); // dropped: the next Train sizes afresh
        return undefined;
      case 'metrics':
        // A budget run's end follows its measured speed (budget.js's budgetEnd): the Model
        // card's steps follow it too.
        if (this.form.budget) this.form.showSteps(message.total);
        return undefined;
    }
    return undefined;
  }
}

const capitalized = (/** @type {string} */ text) => text[0].toUpperCase() + text.slice(1);

// "Fine-tune a model file…": a saved model's weights and tokenizer, trained on from step 0
// on the text card's text (Kindling.fineTune, in the engine worker). The file fixes the
// model's shape; the form gives the training settings.
import * as format from '../format.js';
import { nodes, say, sentence } from './markup.js';

// The form's fields that fine-tuning may change; the others shape the weights.
const TRAINING_FIELDS = ['maxSteps', 'learningRate', 'minLearningRate', 'batchSize', 'dropout'];
const MODEL_NAMES = { gpt: 'a GPT', lstm: 'an LSTM', gru: 'a GRU' };
const TOKENIZERS = { char: 'one token per character', bpe: 'byte-level BPE' };

export class FineTune {
  // engine: the element's EngineClient; form: its ConfigForm; training: its TrainingView;
  // readFile(file): a picked model file's bytes (model-files.js).
  constructor(root, { engine, form, training, readFile }) {
    Object.assign(this, { engine, form, training, readFile });
    this.$ = nodes(root, 'fine-tune fine-tune-file fine-tune-error');
    this.name = null; // the file the worker is fine-tuning, until it answers
    const { fineTune, fineTuneFile } = this.$;
    fineTune.addEventListener('click', () => fineTuneFile.click());
    fineTuneFile.addEventListener('change', () => this.start(fineTuneFile.files[0]));
  }

  async start(file) {
    this.$.fineTuneFile.value = '';
    if (!file) return;
    say(this.$.fineTuneError, '');
    const { options, errors } = this.settings();
    if (errors) return this.refuse(file.name, 'a setting in the Model card is not a number');
    let bytes;
    try {
      bytes = await this.readFile(file);
    } catch (error) {
      return say(this.$.fineTuneError, `${error.message} Your current model is unchanged.`);
    }
    this.name = file.name;
    this.training.error('');
    // The worker answers with a `model` (origin 'fine-tune') and trains, or with an error.
    this.engine.send({ type: 'fine-tune', bytes, options, name: file.name, train: true }, [bytes.buffer]);
  }

  // The text and the form's training settings, or the form's { errors }.
  settings() {
    const { options, errors } = this.form.read();
    if (errors) return { errors };
    // read() leaves the decay floor out when the learning rate is the preset's: the preset's floor.
    const floor = options.minLearningRate ?? this.form.presets[options.preset]?.minLearningRate;
    const chosen = { ...options, minLearningRate: floor };
    const training = TRAINING_FIELDS.filter((name) => chosen[name] !== undefined).map((name) => [name, chosen[name]]);
    return { options: { text: options.text, ...Object.fromEntries(training) } };
  }

  // The worker's `model` messages: a model made, opened or dropped settles the last refusal.
  received({ origin, info, setup }) {
    say(this.$.fineTuneError, '');
    if (origin !== 'fine-tune') return;
    this.name = null;
    const { config, parameterCount, step } = info;
    const model = [
      MODEL_NAMES[config.model] ?? config.model,
      `${format.compact(parameterCount)} parameters`,
      TOKENIZERS[config.tokenizer ?? 'char'],
    ].join(', ');
    this.training.status(`Fine-tuning ${setup.fineTunedFrom} (${model}) on this text from step ${step}.`);
  }

  // A fine-tune request failed (the engine's message: a character model that lacks some of
  // the text's characters, a file that is no model); the worker kept the current model.
  failed(message) {
    this.refuse(this.name, message);
    this.name = null;
    return true;
  }

  refuse(name, message) {
    say(this.$.fineTuneError, `Could not fine-tune “${name}”: ${sentence(message)} Your current model is unchanged.`);
  }
}

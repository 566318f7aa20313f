// The element's phase rules (www/playground/controls.js), in Node: which controls a state
// allows, and the phase each message to or from the engine worker leads to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controls, nextPhase, autoplayAction, PHASES } from '../www/playground/controls.js';

const usable = (state) =>
  Object.entries(controls(state))
    .filter(([, properties]) => properties.disabled === false)
    .map(([id]) => id)
    .sort();

test('before the engine is ready only the text and settings can be edited', () => {
  assert.deepEqual(usable({ ready: false, phase: 'empty', valid: true }), [
    'model-fields',
    'pick-file',
    'sample',
    'start-fields',
  ]);
  assert.equal(controls({ ready: false }).train.disabled, true);
  assert.equal(controls({ ready: false }).generate.disabled, true);
});

test('no model: Train once the settings are valid; the text and settings are editable', () => {
  const invalid = controls({ ready: true, phase: 'empty', valid: false });
  assert.equal(invalid.train.textContent, 'Train');
  assert.equal(invalid.train.disabled, true);
  const valid = controls({ ready: true, phase: 'empty', valid: true });
  assert.equal(valid.train.disabled, false);
  assert.deepEqual(usable({ ready: true, phase: 'empty', valid: true }), [
    'model-fields',
    'open-model',
    'pick-file',
    'sample',
    'start-fields',
    'train',
  ]);
  assert.equal(valid.text.readOnly, false);
  assert.equal(valid['model-hint'].hidden, true);
  assert.equal(valid.reset.disabled, true);
  assert.equal(valid.download.disabled, true);
});

test('training: Pause, Reset, Download, Generate and Inspect; the setup is locked', () => {
  const state = controls({ ready: true, phase: 'training', valid: false });
  assert.equal(state.train.textContent, 'Pause');
  assert.deepEqual(usable({ ready: true, phase: 'training' }), [
    'download',
    'generate',
    'inspect',
    'open-model',
    'reset',
    'train',
  ]);
  assert.equal(state.text.readOnly, true);
  assert.equal(state['model-fields'].disabled, true);
  assert.equal(state['start-fields'].disabled, true);
  assert.equal(state['model-hint'].hidden, false);
});

test('the Train button names what it does in each phase', () => {
  const labels = PHASES.map((phase) => controls({ ready: true, phase, valid: true }).train.textContent);
  assert.deepEqual(labels, ['Train', 'Pause', 'Pausing…', 'Resume', 'Finished']);
  const disabled = PHASES.map((phase) => controls({ ready: true, phase, valid: true }).train.disabled);
  assert.deepEqual(disabled, [false, false, true, false, true]);
});

test('a finished budget run (continuable) trains on: Continue', () => {
  const finished = controls({ ready: true, phase: 'finished', continuable: true });
  assert.equal(finished.train.textContent, 'Continue');
  assert.equal(finished.train.disabled, false);
  assert.equal(
    controls({ ready: false, phase: 'finished', continuable: true }).train.disabled,
    true,
    'not before the engine is ready',
  );
  // Only a finished one: the other phases read and work as without.
  for (const phase of ['empty', 'training', 'pausing', 'paused']) {
    assert.deepEqual(
      controls({ ready: true, phase, valid: true, continuable: true }).train,
      controls({ ready: true, phase, valid: true }).train,
      phase,
    );
  }
  assert.equal(
    controls({ ready: true, phase: 'finished', continuable: true })['start-fields'].disabled,
    true,
    'the setup stays locked',
  );
});

test('while generating, Stop is the way out, Next token steps and Generate waits', () => {
  const state = controls({ ready: true, phase: 'finished', generating: true });
  assert.equal(state.generate.disabled, true);
  assert.equal(state.stop.disabled, false);
  assert.equal(state['next-token'].disabled, false);
  assert.equal(controls({ ready: true, phase: 'finished' }).stop.disabled, true);
  assert.equal(controls({ ready: true, phase: 'finished' })['next-token'].disabled, true);
  assert.equal(controls({ ready: true, phase: 'finished' }).generate.disabled, false);
});

test('a model-src file on its way holds Generate and Inspect back', () => {
  assert.equal(controls({ ready: true, phase: 'finished', loadingModel: true }).generate.disabled, true);
  assert.equal(controls({ ready: true, phase: 'finished', loadingModel: true }).inspect.disabled, true);
});

test('while a generation is shown, Inspect waits for it unless the text to inspect is typed', () => {
  assert.equal(
    controls({ ready: true, phase: 'finished', generating: true }).inspect.disabled,
    true,
    'half the text just generated',
  );
  assert.equal(
    controls({ ready: true, phase: 'finished', generating: true, inspectsTyped: true }).inspect.disabled,
    false,
  );
  assert.equal(controls({ ready: true, phase: 'finished' }).inspect.disabled, false);
  assert.equal(controls({ ready: true, phase: 'training', inspectsTyped: true }).inspect.disabled, false);
});

test('Start from: Train waits for the start point (a base model fetched, a file picked, no fine-tune under way)', () => {
  const train = (state) => !controls({ ready: true, valid: true, ...state }).train.disabled;
  assert.equal(train({ phase: 'empty' }), true, 'Scratch is always ready');
  assert.equal(train({ phase: 'empty', startReady: false }), false);
  assert.equal(train({ phase: 'empty', startReady: true, valid: false }), false);
  // With a model, Train pauses and resumes whatever the start point.
  assert.equal(train({ phase: 'training', startReady: false }), true);
  assert.equal(train({ phase: 'paused', startReady: false }), true);
  // The start point is chosen before a model exists: Reset to choose again.
  assert.equal(controls({ phase: 'empty' })['start-fields'].disabled, false);
  assert.equal(controls({ phase: 'finished' })['start-fields'].disabled, true);
});

test('every id names an element of the template', async () => {
  const { MARKUP } = await import('../www/playground/markup.js');
  for (const id of Object.keys(controls())) assert.match(MARKUP, new RegExp(`id="${id}"`), id);
});

test('an unknown phase is a bug, not a silent default', () => {
  assert.throws(() => controls({ phase: 'trainning' }), /unknown phase/);
});

test('the phase follows the messages to and from the worker', () => {
  const model = (step, maxSteps, origin) => ({ type: 'model', origin, info: { step, config: { maxSteps } } });
  const run = (messages, phase = 'empty') => messages.reduce(nextPhase, phase);
  assert.equal(run([{ type: 'create', train: true }]), 'training');
  assert.equal(run([{ type: 'create' }, model(0, 100, 'create')]), 'training');
  assert.equal(run([{ type: 'pause' }], 'training'), 'pausing');
  assert.equal(run([{ type: 'pause' }, { type: 'paused' }], 'training'), 'paused');
  assert.equal(run([{ type: 'train' }, { type: 'finished' }], 'paused'), 'finished');
  assert.equal(run([{ type: 'reset' }, { type: 'model', info: null }], 'finished'), 'empty');
  assert.equal(run([model(40, 100, 'restore')]), 'paused');
  assert.equal(run([model(100, 100, 'model-src')]), 'finished');
  // The element fine-tunes with train: true; the request waits for the worker, as it may fail.
  assert.equal(run([{ type: 'fine-tune' }], 'paused'), 'paused');
  assert.equal(run([{ type: 'fine-tune' }, model(0, 100, 'fine-tune')], 'finished'), 'training');
  assert.equal(run([{ type: 'fine-tune' }, { type: 'error', source: 'fine-tune' }], 'finished'), 'finished');
  // A failed create leaves no model; a failed chunk keeps the last good weights, paused.
  assert.equal(run([{ type: 'error', source: 'create' }], 'training'), 'empty');
  assert.equal(run([{ type: 'error', source: 'train' }], 'training'), 'paused');
  assert.equal(run([{ type: 'error', source: 'generate' }], 'training'), 'training');
  assert.equal(run([{ type: 'metrics' }, { type: 'token' }, { type: 'saved' }], 'training'), 'training');
});

test('autoplay trains a fresh element and generates with a loaded model, only when ready for it', () => {
  assert.equal(autoplayAction({ ready: true, phase: 'empty', valid: true }), 'train');
  assert.equal(autoplayAction({ ready: true, phase: 'empty', valid: false }), null);
  assert.equal(autoplayAction({ ready: false, phase: 'empty', valid: true }), null);
  assert.equal(autoplayAction({ ready: true, phase: 'finished', wantsModel: true }), 'generate');
  assert.equal(autoplayAction({ ready: true, phase: 'empty', valid: true, wantsModel: true }), null, 'no model yet');
  assert.equal(autoplayAction({ ready: true, phase: 'finished', wantsModel: true, loadingModel: true }), null);
  assert.equal(autoplayAction({ ready: true, phase: 'finished', wantsModel: true, generating: true }), null);
  assert.equal(autoplayAction({ ready: true, phase: 'training', wantsModel: true }), null);
});

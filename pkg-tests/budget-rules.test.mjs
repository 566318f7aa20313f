// Training budgets' rules (www/budget.js), in Node: what the `budget` attribute means and what
// Train does without one, the probe's arithmetic, and the sentences the page shows. (In a
// browser, with the probe's timings injected: budget.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUDGET_CHOICES,
  DEFAULT_BUDGET,
  OPEN_ENDED_STEPS,
  PROBE,
  RETARGET,
  attributeFor,
  budgetChoice,
  budgetEnd,
  budgetLabel,
  choiceValue,
  continueNote,
  fakeMsPerStep,
  finishedNote,
  measuringNote,
  msPerStep,
  parseBudget,
  parseDebugMs,
  secondsLeft,
  trainForNote,
} from '../www/budget.js';
import { MARKUP } from '../www/playground/markup.js';

test("a budget run's schedule moves to end when its time does, once it knows its speed", () => {
  const run = { step: 100, maxSteps: 1000, warmupSteps: 50 };
  // On plan: 900 steps of 20 ms fill the 18 s left.
  assert.equal(budgetEnd({ ...run, msPerStep: 20, msLeft: 18_000 }), null);
  // A helper paid: 10 ms a step, and 1,800 steps fit.
  assert.equal(budgetEnd({ ...run, msPerStep: 10, msLeft: 18_000 }), 1900);
  // Slower than planned: the schedule ends sooner rather than the budget running over.
  assert.equal(budgetEnd({ ...run, msPerStep: 40, msLeft: 18_000 }), 550);
  // A move smaller than RETARGET.minMove of the run is no move.
  assert.equal(budgetEnd({ ...run, msPerStep: 20, msLeft: 18_000 + 20 * (RETARGET.minMove * 1000 - 1) }), null);
  assert.equal(budgetEnd({ ...run, msPerStep: 20, msLeft: 18_000 + 20 * RETARGET.minMove * 1000 }), 1020);
  // Time up: the end comes at the next step, never inside the warmup.
  assert.equal(budgetEnd({ ...run, msPerStep: 20, msLeft: -5 }), 101);
  assert.equal(budgetEnd({ ...run, step: 10, msPerStep: 20, msLeft: 0 }), 50);
  // No speed yet, a finished run, or one too near its end: left alone.
  assert.equal(budgetEnd({ ...run, msPerStep: 0, msLeft: 18_000 }), null);
  assert.equal(budgetEnd({ ...run, step: 1000, msPerStep: 10, msLeft: 18_000 }), null);
  assert.equal(budgetEnd({ ...run, step: 960, msPerStep: 10, msLeft: 18_000 }), null);
});

test('the budget attribute: seconds, until stopped, or steps; anything else means nothing', () => {
  assert.equal(parseBudget('60'), 60);
  assert.equal(parseBudget(' 1800 '), 1800);
  assert.equal(parseBudget('5'), 5);
  assert.equal(parseBudget('2.5'), 2.5);
  assert.equal(parseBudget('0'), 0);
  assert.equal(parseBudget('until-stopped'), 0);
  assert.equal(parseBudget('Until-Stopped'), 0);
  assert.equal(parseBudget('steps'), 'steps');
  assert.equal(parseBudget('STEPS'), 'steps');
  for (const meaningless of [null, undefined, '', ' ', '-5', '1e3', 'abc', '60s', '86401', 'Infinity', 'NaN']) {
    assert.equal(parseBudget(meaningless), null, String(meaningless));
  }
  assert.equal(parseBudget('86400'), 86_400, 'a day is the longest');
});

test('without a budget attribute, steps keep step-based training and anything else trains for a minute', () => {
  assert.equal(DEFAULT_BUDGET, 60);
  assert.equal(budgetChoice(), 60, 'the page');
  assert.equal(budgetChoice({ budget: null, steps: null }), 60);
  assert.equal(budgetChoice({ steps: '150' }), 'steps', 'a blog embed with steps="150"');
  assert.equal(budgetChoice({ budget: '300', steps: '150' }), 300, 'the budget attribute wins');
  assert.equal(budgetChoice({ budget: 'steps' }), 'steps');
  assert.equal(budgetChoice({ budget: 'until-stopped' }), 0);
  assert.equal(budgetChoice({ budget: 'soon', steps: '150' }), 'steps', 'a budget that means nothing is not given');
  assert.equal(budgetChoice({ budget: 'soon' }), 60);
});

test('each choice has its radio; other seconds show as the custom one, and the radios write the attribute', () => {
  assert.deepEqual(
    BUDGET_CHOICES.map((choice) => choice.label),
    ['1 minute', '5 minutes', '30 minutes', 'Until I stop', 'Steps'],
  );
  for (const { value, label } of BUDGET_CHOICES) {
    assert.match(MARKUP, new RegExp(`name="train-for" value="${value}"( checked)?><span>${label}</span>`), label);
  }
  assert.match(MARKUP, /name="train-for" value="60" checked>/, '1 minute is checked before the element says otherwise');
  assert.match(MARKUP, /name="train-for" value="custom">/);
  assert.equal(choiceValue(60), '60');
  assert.equal(choiceValue(0), '0');
  assert.equal(choiceValue('steps'), 'steps');
  assert.equal(choiceValue(5), 'custom');
  assert.equal(choiceValue(90), 'custom');
  assert.equal(attributeFor('0'), 'until-stopped');
  assert.equal(attributeFor('300'), '300');
  assert.equal(attributeFor('steps'), 'steps');
});

test('budgets read as durations', () => {
  assert.equal(budgetLabel(60), '1 minute');
  assert.equal(budgetLabel(300), '5 minutes');
  assert.equal(budgetLabel(1800), '30 minutes');
  assert.equal(budgetLabel(90), '90 seconds');
  assert.equal(budgetLabel(5), '5 seconds');
  assert.equal(budgetLabel(1), '1 second');
  assert.equal(budgetLabel(2.5), '2.5 seconds');
  assert.equal(budgetLabel(0), 'until you stop');
});

test('the probe: a few steps timed per shape, and what is left of the budget to train', () => {
  assert.deepEqual(PROBE, { warmupSteps: 2, timedSteps: 3 });
  assert.equal(msPerStep(300), 100, 'three timed steps in 300 ms');
  assert.equal(msPerStep(90, 3), 30);
  assert.equal(msPerStep(50, 1), 50);
  assert.equal(secondsLeft(60, 2_500), 57.5, 'the probe took 2.5 s of the minute');
  assert.equal(secondsLeft(300, 0), 300);
  assert.equal(secondsLeft(5, 4_800), 1, 'at least a second');
  assert.equal(secondsLeft(5, 60_000), 1, 'a probe longer than the budget still leaves a second');
  assert.equal(secondsLeft(0, 3_000), 0, 'until stopped stays until stopped');
  // A plan of 60 s less a 3 s probe, at a faked 1000 ms per step, less the engine's 5% for
  // evaluations: the ~54 steps the page test expects.
  assert.equal(Math.floor((secondsLeft(60, 3_000) * 1000 * 0.95) / 1000), 54);
  assert.equal(OPEN_ENDED_STEPS, 10_000_000);
});

test("tests' fake timings: one for every shape, or one per shape with the last repeated", () => {
  assert.deepEqual(parseDebugMs('1000'), [1000]);
  assert.deepEqual(parseDebugMs('20,50,120'), [20, 50, 120]);
  assert.equal(parseDebugMs(null), null);
  assert.equal(parseDebugMs(''), null);
  assert.equal(parseDebugMs('fast'), null);
  assert.equal(parseDebugMs('10,0'), null, 'a step takes some time');
  assert.equal(fakeMsPerStep([1000], 3), 1000);
  assert.equal(fakeMsPerStep([20, 50, 120], 0), 20);
  assert.equal(fakeMsPerStep([20, 50, 120], 2), 120);
  assert.equal(fakeMsPerStep([20, 50, 120], 3), 120);
  assert.equal(fakeMsPerStep(null, 0), null, 'measured');
});

test('what the page says about a budget', () => {
  assert.equal(measuringNote(2, 4), 'Measuring this device: shape 2 of 4…');
  assert.equal(
    trainForNote(60, false),
    'Train measures this device for a few seconds, then trains the model that learns most in 1 minute.',
  );
  assert.match(trainForNote(0, false), /until you stop it\.$/);
  assert.match(trainForNote('steps', false), /Model card’s model and trains it for its training steps/);
  assert.match(
    trainForNote(60, true),
    /^A fine-tune trains for the Model card’s training steps/,
    'fine-tuning keeps its steps',
  );
  assert.equal(finishedNote({ step: 400 }), 'Finished: 400 steps. Generate below, or Reset to start again.');
  assert.equal(
    finishedNote({ step: 2280, keptBestFrom: 1824, continuable: true }),
    'Finished: 2280 steps. Validation loss stopped improving at step 1,824, so the weights from there were kept. ' +
      'Generate below, Continue to train further, or Reset to start again.',
  );
  assert.equal(
    finishedNote({ step: 57, continuable: true }),
    'Finished: 57 steps. Generate below, Continue to train further, or Reset to start again.',
  );
  assert.equal(continueNote(2280, 4560), 'Continuing for 2,280 more steps at the final learning rate, to step 4,560.');
  assert.equal(continueNote(1, 2), 'Continuing for 1 more step at the final learning rate, to step 2.');
});

//! Looking inside: `inspect` shows what the model computes, the same numbers as the forward
//! pass and the KV-cache / recurrent-state path generation takes.

use crate::common::{last_logits, repeated_text, PHRASE};

use kindling::config::{Config, ModelKind, Positions};
use kindling::device::{cpu, read_floats};
use kindling::inspect::{Floats, InspectOptions, Inspection, MAX_GPT_TOKENS};
use kindling::model::rnn::LayerState;
use kindling::model::{tokens, LanguageModel};
use kindling::sample::softmax;
use kindling::session::{Placement, Session};
use kindling::{ErrorKind, Trainer};

const TEXT: &str = "the lazy dog jumps over";

/// A `model` trained a little, on the CPU.
fn trained(model: ModelKind) -> Session {
    trained_with(Config {
        model,
        ..Config::tiny()
    })
}

fn trained_with(config: Config) -> Session {
    let mut trainer = Trainer::new(repeated_text(), config, cpu()).unwrap();
    pollster::block_on(trainer.train_steps(20)).unwrap();
    Session::new(trainer, Placement::cpu(None))
}

fn inspect(session: &Session, text: &str) -> Inspection {
    pollster::block_on(session.inspect(text, InspectOptions::default())).unwrap()
}

/// `floats` at `index` (one index per dimension).
fn at(floats: &Floats, index: &[usize]) -> f32 {
    let offset = index
        .iter()
        .zip(&floats.dims)
        .fold(0, |offset, (i, dim)| offset * dim + i);
    floats.values[offset]
}

/// The model's probabilities for the token after each prefix of `ids`, through the KV cache /
/// recurrent state, one token at a time as generation feeds them.
fn fed_probs(model: &LanguageModel, ids: &[u32]) -> Vec<Vec<f64>> {
    let device = cpu().inner();
    let mut state = model.start();
    ids.iter()
        .map(|&id| {
            let logits = model.feed(&mut state, &[id], &device);
            softmax(&pollster::block_on(read_floats(logits)).unwrap(), 1.0)
        })
        .collect()
}

#[test]
fn attention_rows_are_distributions_over_earlier_positions() {
    let session = trained(ModelKind::Gpt);
    let trainer = session.trainer();
    let inspection = inspect(&session, TEXT);
    let attention = inspection.attention.as_ref().unwrap();
    let time = TEXT.len();
    let config = &trainer.config;
    assert_eq!(attention.dims, [config.n_layer, config.n_head, time, time]);
    for layer in 0..config.n_layer {
        for head in 0..config.n_head {
            for query in 0..time {
                let row: Vec<f32> = (0..time)
                    .map(|key| at(attention, &[layer, head, query, key]))
                    .collect();
                let sum: f32 = row.iter().sum();
                assert!((sum - 1.0).abs() < 1e-4, "row {query} sums to {sum}");
                assert!(row[..=query].iter().all(|&w| w > 0.0));
                assert!(row[query + 1..].iter().all(|&w| w == 0.0), "{row:?}");
            }
        }
    }
}

#[test]
fn gpt_predictions_equal_the_forward_pass_the_kv_cache_and_the_last_lens_layer() {
    for positions in [Positions::Learned, Positions::Rotary] {
        predictions_agree(&trained_with(Config {
            positions,
            ..Config::tiny()
        }));
    }
}

/// The forward pass, the KV cache and the last lens layer give the same probabilities (with
/// rotary positions, a cached position keeps its own angles).
fn predictions_agree(session: &Session) {
    let trainer = session.trainer();
    let model = trainer.inference_model();
    let ids = trainer.tokenizer.encode(TEXT).ids;
    let inspection = inspect(session, TEXT);
    let fed = fed_probs(&model, &ids);
    let lens = inspection.lens.as_ref().unwrap();
    assert_eq!(lens.len(), trainer.config.n_layer);
    for (t, guesses) in inspection.predictions.iter().enumerate() {
        let forward = softmax(&last_logits(&model, &ids[..=t]), 1.0);
        assert_eq!(guesses.len(), 5);
        for guess in guesses {
            let id = guess.id as usize;
            assert!(
                (guess.prob as f64 - forward[id]).abs() < 1e-5,
                "position {t}"
            );
            assert!(
                (guess.prob as f64 - fed[t][id]).abs() < 1e-4,
                "position {t}"
            );
        }
        // The guesses are the most likely tokens, most likely first.
        let best = forward.iter().copied().fold(0.0, f64::max);
        assert!((guesses[0].prob as f64 - best).abs() < 1e-5);
        assert_eq!(lens.last().unwrap()[t], *guesses, "position {t}");
    }
    // Earlier layers' guesses differ from the output's somewhere: the lens is not a copy.
    assert_ne!(lens[0], inspection.predictions);
    let next = &inspection.next_logits.values;
    let expected = last_logits(&model, &ids);
    assert!(next
        .iter()
        .zip(&expected)
        .all(|(a, b)| (a - b).abs() < 1e-4));
}

#[test]
fn a_gpt_reads_only_its_context_and_unknown_characters_are_left_out() {
    let session = trained(ModelKind::Gpt);
    let trainer = session.trainer();
    let block = trainer.config.block_size;
    let long = "the quick brown fox ".repeat(4) + "Q";
    let inspection = inspect(&session, &long);
    assert_eq!(inspection.tokens.len(), block);
    assert_eq!(inspection.skipped, long.len() - 1 - block);
    let read: String = inspection.tokens.iter().map(|p| p.text.as_str()).collect();
    assert!(long.trim_end_matches('Q').ends_with(&read));
    assert!(inspection.warning.unwrap().contains("'Q'"));
}

#[test]
fn a_long_context_gpt_reads_at_most_the_inspection_cap() {
    let config = Config {
        block_size: MAX_GPT_TOKENS + 44,
        ..Config::tiny()
    };
    let trainer = Trainer::new(PHRASE.repeat(100), config, cpu()).unwrap();
    let session = Session::new(trainer, Placement::cpu(None));
    let text = PHRASE.repeat(10);
    let inspection = inspect(&session, &text);
    assert_eq!(inspection.tokens.len(), MAX_GPT_TOKENS);
    assert_eq!(inspection.skipped, text.len() - MAX_GPT_TOKENS);
}

/// Checks `inspect`'s RNN states against the ones carried from token to token by generation.
fn rnn_states_match_generation(kind: ModelKind) {
    let session = trained(kind);
    let trainer = session.trainer();
    let LanguageModel::Rnn(rnn) = trainer.inference_model() else {
        unreachable!("an RNN config")
    };
    let ids = trainer.tokenizer.encode(TEXT).ids;
    let inspection = inspect(&session, TEXT);
    let hidden = inspection.hidden.as_ref().unwrap();
    let gates = inspection.gates.as_ref().unwrap();
    let [layers, time, units] = hidden.dims[..] else {
        panic!("{:?}", hidden.dims)
    };
    assert_eq!((layers, time, units), (2, ids.len(), 64));
    let read = |t| pollster::block_on(read_floats(t)).unwrap();
    let device = cpu().inner();
    let mut state = None;
    for (t, &id) in ids.iter().enumerate() {
        let (_, next) = rnn.forward(tokens(&[id], &device), state);
        for (layer, carried) in next.iter().enumerate() {
            let (h, c) = match carried.clone() {
                LayerState::Lstm(s) => (read(s.hidden), Some(read(s.cell))),
                LayerState::Gru(h) => (read(h), None),
            };
            for unit in 0..units {
                let shown = at(hidden, &[layer, t, unit]);
                assert!((shown - h[unit]).abs() < 1e-4, "h[{layer}][{t}][{unit}]");
                if let (Some(c), Some(cell)) = (&c, &inspection.cell) {
                    let shown = at(cell, &[layer, t, unit]);
                    assert!((shown - c[unit]).abs() < 1e-4, "c[{layer}][{t}][{unit}]");
                    // h = o * tanh(c): the gates shown are the ones that made the state.
                    let output = at(&gates.floats, &[layer, 2, t, unit]);
                    assert!((output * shown.tanh() - h[unit]).abs() < 1e-4);
                }
            }
        }
        state = Some(next);
    }
    assert!(gates.floats.values.iter().all(|v| v.is_finite()));
    assert!(inspection
        .cell
        .iter()
        .all(|c| c.values.iter().all(|v| v.is_finite())));
    assert!(hidden.values.iter().all(|v| (-1.0..=1.0).contains(v)));
    let candidate = gates.names.len() - 1;
    assert_eq!(gates.names[candidate], "candidate");
    for (g, name) in gates.names.iter().enumerate() {
        let range = if g == candidate {
            -1.0..=1.0
        } else {
            0.0..=1.0
        };
        for layer in 0..layers {
            for t in 0..time {
                for unit in 0..units {
                    let v = at(&gates.floats, &[layer, g, t, unit]);
                    assert!(range.contains(&v), "{name} gate {v}");
                }
            }
        }
    }
    let expected = softmax(&last_logits(&trainer.inference_model(), &ids), 1.0);
    for guess in inspection.predictions.last().unwrap() {
        assert!((guess.prob as f64 - expected[guess.id as usize]).abs() < 1e-5);
    }
}

#[test]
fn a_single_character_is_inspected_too() {
    for kind in [ModelKind::Gpt, ModelKind::Lstm, ModelKind::Gru] {
        let inspection = inspect(&trained(kind), "t");
        assert_eq!(inspection.tokens.len(), 1, "{kind:?}");
        assert_eq!(inspection.predictions.len(), 1);
        if let Some(gates) = inspection.gates {
            assert_eq!(gates.floats.dims[2], 1);
            assert!(gates.floats.values.iter().all(|v| v.is_finite()));
        }
    }
}

#[test]
fn lstm_states_and_gates_match_generation() {
    rnn_states_match_generation(ModelKind::Lstm);
}

#[test]
fn gru_states_and_gates_match_generation() {
    rnn_states_match_generation(ModelKind::Gru);
}

#[test]
fn the_embedding_map_places_every_token() {
    let session = trained(ModelKind::Gpt);
    let trainer = session.trainer();
    let map = inspect(&session, TEXT).embedding;
    let vocab = trainer.tokenizer.vocab_size();
    assert_eq!(map.points.dims, [vocab, 2]);
    assert_eq!(map.tokens.len(), vocab);
    assert_eq!(
        map.tokens[trainer.tokenizer.encode("q").ids[0] as usize],
        "q"
    );
    let [first, second] = map.explained;
    assert!(first >= second && second > 0.0 && first + second <= 1.0 + 1e-6);
    assert!(map.points.values.iter().all(|v| v.is_finite()));
}

#[test]
fn nothing_to_read_and_bad_options_are_refused_with_a_kind() {
    let session = trained(ModelKind::Gpt);
    let refuse = |text: &str, top_k| {
        let options = InspectOptions { top_k };
        pollster::block_on(session.inspect(text, options)).unwrap_err()
    };
    assert_eq!(refuse("", 5).kind, ErrorKind::Argument);
    assert_eq!(refuse("QQQ", 5).kind, ErrorKind::Argument);
    let error = refuse(TEXT, 0);
    assert_eq!(error.kind, ErrorKind::Config);
    assert_eq!(error.fields[0].field, "topK");
}

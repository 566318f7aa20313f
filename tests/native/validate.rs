//! Validation: every field a caller sends is checked before anything is allocated, and each
//! problem names its field, its kind and what to do.

use kindling::config::{Config, ModelKind, PRESET_NAMES};
use kindling::validate;
use kindling::SamplingOptions;
use kindling::{ErrorKind, FieldError, Problem};
use serde_json::json;

const TEXT_CHARS: usize = 10_000;
const VOCAB: usize = 60;

fn messages(config: &Config) -> Vec<String> {
    config
        .validate(TEXT_CHARS, VOCAB)
        .into_iter()
        .map(|e| e.message)
        .collect()
}

fn first_error(config: Config, text_chars: usize, vocab: usize) -> FieldError {
    config
        .validate(text_chars, vocab)
        .into_iter()
        .next()
        .expect("an error")
}

#[test]
fn presets_are_valid_and_named() {
    for name in PRESET_NAMES {
        let config = Config::preset(name).unwrap();
        assert!(
            messages(&config).is_empty(),
            "{name}: {:?}",
            messages(&config)
        );
    }
    let baby = Config::preset("baby-gpt").unwrap();
    assert_eq!(
        (baby.n_layer, baby.n_head, baby.n_embd, baby.block_size),
        (4, 4, 128, 64)
    );
    assert_eq!(baby.dropout, 0.0);
    let seed = Config::preset("seed-lstm").unwrap();
    assert_eq!(
        (seed.model, seed.n_embd, seed.hidden_size, seed.n_layer),
        (ModelKind::Lstm, 256, 512, 2)
    );
    assert_eq!((seed.dropout, seed.learning_rate), (0.5, 1e-3));
    assert_eq!(Config::preset("gru").unwrap().model, ModelKind::Gru);
    assert!(Config::preset("huge").is_none());
}

#[test]
fn heads_must_divide_the_embedding() {
    let config = Config {
        n_embd: 130,
        n_head: 4,
        ..Config::tiny()
    };
    assert_eq!(
        messages(&config),
        ["embedding size 130 is not divisible by 4 heads"]
    );
}

#[test]
fn short_text_names_its_length_and_the_context() {
    let config = Config {
        block_size: 64,
        ..Config::tiny()
    };
    let error = first_error(config, 40, 10);
    assert_eq!(error.field, "text");
    assert!(
        error
            .message
            .starts_with("the text has 40 characters but the context is 64: paste more text"),
        "{}",
        error.message
    );
}

#[test]
fn empty_and_single_character_texts_are_refused() {
    assert!(first_error(Config::tiny(), 0, 0)
        .message
        .contains("the text is empty"));
    assert!(first_error(Config::tiny(), 500, 1)
        .message
        .contains("single character"));
}

#[test]
fn impossible_values_are_explained() {
    let cases: Vec<(Config, &str)> = vec![
        (
            Config {
                n_layer: 0,
                ..Config::tiny()
            },
            "nLayer",
        ),
        (
            Config {
                batch_size: 0,
                ..Config::tiny()
            },
            "batchSize",
        ),
        (
            Config {
                learning_rate: -0.1,
                ..Config::tiny()
            },
            "learningRate",
        ),
        (
            Config {
                learning_rate: f64::NAN,
                ..Config::tiny()
            },
            "learningRate",
        ),
        (
            Config {
                learning_rate: f64::INFINITY,
                ..Config::tiny()
            },
            "learningRate",
        ),
        (
            Config {
                dropout: 1.0,
                ..Config::tiny()
            },
            "dropout",
        ),
        (
            Config {
                block_size: 0,
                ..Config::tiny()
            },
            "blockSize",
        ),
        (
            Config {
                max_steps: 0,
                ..Config::tiny()
            },
            "maxSteps",
        ),
    ];
    for (config, field) in cases {
        let errors = config.validate(TEXT_CHARS, VOCAB);
        assert!(
            errors.iter().any(|e| e.field == field),
            "{field}: {errors:?}"
        );
    }
}

#[test]
fn absurd_sizes_are_refused_by_their_memory_estimate() {
    let config = Config {
        n_layer: 48,
        n_embd: 4096,
        n_head: 32,
        ..Config::tiny()
    };
    let error = first_error(config, TEXT_CHARS, VOCAB);
    assert_eq!(error.field, "memory");
    assert!(
        error
            .message
            .contains("GiB to train, above the 1.0 GiB limit"),
        "{}",
        error.message
    );
}

#[test]
fn overrides_apply_on_top_of_a_preset() {
    let overrides = json!({ "model": "lstm", "nLayer": 3, "learningRate": 0.01 });
    let config = validate::config(Some("tiny"), overrides.as_object().unwrap()).unwrap();
    assert_eq!(
        (config.model, config.n_layer, config.learning_rate),
        (ModelKind::Lstm, 3, 0.01)
    );
    assert_eq!(config.n_embd, Config::tiny().n_embd);
}

#[test]
fn overrides_of_the_wrong_kind_name_the_field() {
    let overrides =
        json!({ "nLayer": -2, "learningRate": "NaN", "model": "transformer", "colour": 1 });
    let errors = validate::config(None, overrides.as_object().unwrap())
        .unwrap_err()
        .fields;
    let text: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
    assert!(
        text.contains(&"nLayer must be 0 or more (got -2)".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(&"learningRate must be a finite number (got \"NaN\")".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(&"model must be one of gpt, lstm, gru (got \"transformer\")".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(&"unknown setting \"colour\"".to_string()),
        "{text:?}"
    );
}

#[test]
fn each_problem_has_a_kind() {
    let overrides = json!({ "nLayer": 2.5, "model": "rnn", "colour": 1, "dropout": 1.5 });
    let errors = validate::config(None, overrides.as_object().unwrap())
        .unwrap_err()
        .fields;
    let kind = |field: &str| errors.iter().find(|e| e.field == field).map(|e| e.kind);
    assert_eq!(kind("nLayer"), Some(Problem::WrongType));
    assert_eq!(kind("model"), Some(Problem::Unknown));
    assert_eq!(kind("options"), Some(Problem::Unknown));
    // dropout's type is right; its range is checked with the whole config.
    assert_eq!(kind("dropout"), None);
    let config = validate::config(None, json!({ "dropout": 1.5 }).as_object().unwrap()).unwrap();
    let errors = config.validate(TEXT_CHARS, VOCAB);
    assert_eq!(errors[0].kind, Problem::OutOfRange);
    assert_eq!(
        errors[0].message,
        "dropout must be at least 0 and below 1 (got 1.5)"
    );
    let heads = Config {
        n_embd: 130,
        n_head: 4,
        ..Config::tiny()
    };
    assert_eq!(
        heads.validate(TEXT_CHARS, VOCAB)[0].kind,
        Problem::Inconsistent
    );
    assert_eq!(first_error(Config::tiny(), 10, 5).kind, Problem::Text);
}

#[test]
fn an_unknown_preset_is_refused_with_the_names_there_are() {
    let errors = validate::config(Some("huge"), &serde_json::Map::new())
        .unwrap_err()
        .fields;
    assert_eq!(
        (errors[0].field.as_str(), errors[0].kind),
        ("preset", Problem::Unknown)
    );
    assert!(
        errors[0].message.contains(&PRESET_NAMES.join(", ")),
        "{}",
        errors[0].message
    );
}

#[test]
fn sampling_options_are_typed_and_checked_in_the_same_voice() {
    let errors = SamplingOptions::from_overrides(
        json!({ "topK": -3, "maxTokens": 2.5, "temperature": "hot", "colour": 1 })
            .as_object()
            .unwrap(),
    )
    .unwrap_err()
    .fields;
    let text: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        text.contains(&"topK must be 0 or more (got -3)"),
        "{text:?}"
    );
    assert!(
        text.contains(&"maxTokens must be a whole number of 0 or more (got 2.5)"),
        "{text:?}"
    );
    assert!(
        text.contains(&"temperature must be a finite number (got \"hot\")"),
        "{text:?}"
    );
    assert!(text.contains(&"unknown setting \"colour\""), "{text:?}");

    let options = SamplingOptions::from_overrides(
        json!({ "maxTokens": 20, "temperature": 0 })
            .as_object()
            .unwrap(),
    )
    .unwrap();
    assert_eq!((options.max_tokens, options.temperature), (20, 0.0));
    assert!(options.validate().is_empty());

    let bad = SamplingOptions {
        max_tokens: 0,
        temperature: f64::NAN,
        top_p: 0.0,
        repetition_penalty: -1.0,
        ..SamplingOptions::default()
    };
    let fields: Vec<String> = bad.validate().into_iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        ["maxTokens", "temperature", "topP", "repetitionPenalty"]
    );
    assert!(bad.validate().iter().all(|e| e.kind == Problem::OutOfRange));
}

#[test]
fn step_counts_are_whole_numbers_in_range() {
    assert_eq!(validate::steps(25.0), Ok(25));
    for (bad, says) in [
        (-5.0, "steps must be between 1 and 100000 (got -5)"),
        (0.0, "steps must be between 1 and 100000 (got 0)"),
        (f64::NAN, "steps must be between 1 and 100000 (got NaN)"),
        (1e9, "steps must be between 1 and 100000 (got 1000000000)"),
        (2.5, "steps must be a whole number (got 2.5)"),
    ] {
        let error = validate::steps(bad).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Config);
        let error = &error.fields[0];
        assert_eq!(error.field, "steps");
        assert_eq!(error.message, says);
    }
}

#[test]
fn the_report_says_what_the_model_would_be() {
    let text = "abcdefghij".repeat(100);
    let report = validate::report(&text, Ok(Config::tiny()));
    assert!(report.ok, "{:?}", report.errors);
    assert_eq!(report.vocab_size, 10);
    assert_eq!((report.train_tokens, report.val_tokens), (900, 100));
    assert_eq!(report.parameter_count, Config::tiny().parameter_count(10));
    let report = validate::report("ab", Ok(Config::tiny()));
    assert!(!report.ok);
    assert_eq!(report.errors[0].field, "text");
}

/// The field table the page's form reads names real config numbers, whole where the config
/// holds a count, and every limit it states is the one `validate` applies.
#[test]
fn the_field_table_is_the_config_and_its_limits() {
    let tiny = serde_json::to_value(Config::tiny()).unwrap();
    for rule in validate::FIELD_RULES {
        let value = &tiny[rule.field];
        assert!(value.is_number(), "{} is not a config number", rule.field);
        assert_eq!(rule.integer, value.is_u64(), "{}: whole or not", rule.field);
        if let Some(other) = rule.at_most {
            assert!(
                tiny[other].is_number(),
                "{} is capped by {other}",
                rule.field
            );
        }
        // A config that uses the field, with the field just past its maximum, is refused on it.
        let Some(max) = rule.max else { continue };
        let mut config = tiny.clone();
        for (field, value) in [
            ("model", "gpt"),
            ("tokenizer", "bpe"),
            ("optimizer", "muon"),
        ] {
            config[field] = json!(value);
        }
        if !rule.models.is_empty() {
            config["model"] = serde_json::to_value(rule.models[0]).unwrap();
        }
        config["nEmbd"] = json!(8192);
        config["nHead"] = json!(1);
        config["learningRate"] = json!(1.0);
        let past = if rule.max_excluded {
            max
        } else if rule.integer {
            max + 1.0
        } else {
            max * 1.5
        };
        config[rule.field] = if rule.integer {
            json!(past as u64)
        } else {
            json!(past)
        };
        let config: Config = serde_json::from_value(config).unwrap();
        assert!(rule.applies(&config));
        let errors = config.validate(TEXT_CHARS, VOCAB);
        assert!(
            errors
                .iter()
                .any(|e| e.field == rule.field && e.kind == Problem::OutOfRange),
            "{} = {past}: {errors:?}",
            rule.field
        );
    }
}

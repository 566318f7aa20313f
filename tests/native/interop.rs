//! Models in and out: nanoGPT's checkpoints (fixtures that bench/nanogpt/roundtrip.py made
//! with nanoGPT's own model.py), safetensors exports read back, and every kind of bad file.

use std::path::{Path, PathBuf};

use burn::tensor::Tensor;
use kindling::config::{Activation, Config, ModelKind, OptimizerKind, Positions};
use kindling::device::{cpu, read_floats};
use kindling::interop::{self, nanogpt, Exported};
use kindling::model::tokens;
use kindling::{ErrorKind, Trainer};

use crate::common::largest_difference;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/nanogpt")
        .join(name)
}

fn fixture_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/samples/scene-fr.txt");
    std::fs::read_to_string(path).unwrap()
}

/// Logits at every position of `ids`, position after position (`[positions · vocab]`).
fn all_logits(trainer: &Trainer, ids: &[u32]) -> Vec<f32> {
    let logits: Tensor<3> = trainer
        .inference_model()
        .forward(tokens(ids, &cpu().inner()));
    pollster::block_on(read_floats(logits)).unwrap()
}

#[test]
fn a_nanogpt_checkpoint_gives_nanogpts_logits() {
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("logits.json")).unwrap()).unwrap();
    let trainer = nanogpt::import(
        &fixture("ckpt.pt"),
        &fixture("meta.pkl"),
        fixture_text(),
        cpu(),
    )
    .unwrap();
    assert_eq!(trainer.step(), 30, "the checkpoint's iter_num");
    assert_eq!((trainer.config.n_layer, trainer.config.n_embd), (2, 16));

    let prompt = expected["prompt"].as_str().unwrap();
    let ids = trainer.tokenizer.encode(prompt).ids;
    let expected_ids: Vec<u32> = serde_json::from_value(expected["ids"].clone()).unwrap();
    assert_eq!(ids, expected_ids, "meta.pkl's vocabulary");
    let theirs: Vec<Vec<f32>> = serde_json::from_value(expected["logits"].clone()).unwrap();
    let difference = largest_difference(&all_logits(&trainer, &ids), &theirs.concat());
    assert!(difference <= 1e-4, "logits differ by {difference}");
}

/// The imported model goes on training: the loss falls from where nanoGPT left it.
#[test]
fn an_imported_nanogpt_model_trains_on() {
    let mut trainer = nanogpt::import(
        &fixture("ckpt.pt"),
        &fixture("meta.pkl"),
        fixture_text(),
        cpu(),
    )
    .unwrap();
    let before = pollster::block_on(trainer.evaluate()).unwrap();
    pollster::block_on(trainer.train_steps(60)).unwrap();
    let after = pollster::block_on(trainer.evaluate()).unwrap();
    assert!(after < before - 0.1, "val loss {before} -> {after}");
}

fn trained(config: Config, steps: usize) -> Trainer {
    let mut trainer = Trainer::new(fixture_text(), config, cpu()).unwrap();
    pollster::block_on(trainer.train_steps(steps)).unwrap();
    trainer
}

fn export(trainer: &Trainer) -> Exported {
    pollster::block_on(interop::export(trainer)).unwrap()
}

fn import(exported: &Exported) -> Result<Trainer, kindling::Error> {
    interop::import(
        exported.weights.clone(),
        Some(&exported.manifest),
        fixture_text(),
        cpu(),
    )
}

#[test]
fn exports_read_back_with_the_same_logits() {
    // The third is a GPT with every option nanoGPT lacks: the manifest says why it has no
    // `nanogpt` entry, and the weights still read back into the same model.
    let recipe = Config {
        activation: Activation::Relu2,
        positions: Positions::Rotary,
        qk_norm: true,
        optimizer: OptimizerKind::Muon,
        ..Config::tiny()
    };
    let gru = Config {
        model: ModelKind::Gru,
        ..Config::tiny()
    };
    for config in [Config::tiny(), gru, recipe] {
        let nanogpt = config == Config::tiny();
        let trainer = trained(config.clone(), 5);
        let exported = export(&trainer);
        let manifest: serde_json::Value = serde_json::from_str(&exported.manifest).unwrap();
        assert_eq!(manifest["nanogpt"].is_object(), nanogpt, "{manifest}");
        let why = manifest["notNanogpt"].as_str().unwrap_or_default();
        assert_eq!(why.is_empty(), nanogpt, "{manifest}");
        if config.positions == Positions::Rotary {
            for reason in ["ReLU²", "rotary", "QK-norm"] {
                assert!(why.contains(reason), "{why}");
            }
        }
        let back = import(&exported).unwrap();
        assert_eq!(back.step(), 5);
        assert_eq!(back.config, config);
        // The manifest also travels inside the weights' metadata.
        let alone = interop::import(exported.weights.clone(), None, fixture_text(), cpu());
        assert_eq!(alone.unwrap().config, back.config);
        let ids = trainer.tokenizer.encode("Le roi").ids;
        let difference = largest_difference(&all_logits(&trainer, &ids), &all_logits(&back, &ids));
        assert_eq!(difference, 0.0, "{config:?}");
    }
}

#[test]
fn a_gpt_exports_under_nanogpts_names_with_its_head_written_once() {
    let exported = export(&trained(Config::tiny(), 1));
    let header_len = u64::from_le_bytes(exported.weights[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&exported.weights[8..8 + header_len]).unwrap();
    let qkv = &header["transformer.h.1.attn.c_attn.weight"];
    assert_eq!(
        qkv["shape"],
        serde_json::json!([96, 32]),
        "PyTorch's [out, in]"
    );
    assert_eq!(qkv["dtype"], "F32");
    assert!(header.get("transformer.wte.weight").is_some());
    assert!(header.get("lm_head.weight").is_none(), "tied: written once");
}

/// Exporting a LoRA model merges its adapters: the export is a plain model with its logits.
#[test]
fn a_lora_model_exports_merged() {
    let base = trained(Config::tiny(), 5);
    let config = Config {
        lora_rank: 4,
        ..Config::tiny()
    };
    let mut tuned = Trainer::fine_tune(base, fixture_text(), config).unwrap();
    pollster::block_on(tuned.train_steps(5)).unwrap();
    let back = import(&export(&tuned)).unwrap();
    assert_eq!(back.config.lora_rank, 0);
    let ids = tuned.tokenizer.encode("Le roi").ids;
    let difference = largest_difference(&all_logits(&tuned, &ids), &all_logits(&back, &ids));
    assert!(difference <= 1e-5, "{difference}");
}

fn import_error(weights: Vec<u8>, manifest: &str, text: String) -> kindling::Error {
    match interop::import(weights, Some(manifest), text, cpu()) {
        Ok(_) => panic!("the import should have failed"),
        Err(error) => error,
    }
}

/// An `Import` error whose message names `names`.
fn check_import_error(error: kindling::Error, names: &str) {
    assert_eq!(error.kind, ErrorKind::Import, "{}", error.message);
    assert!(
        error.message.contains(names),
        "{:?} should name {names:?}",
        error.message
    );
}

fn with_manifest_field(manifest: &str, pointer: &str, value: serde_json::Value) -> String {
    let mut manifest: serde_json::Value = serde_json::from_str(manifest).unwrap();
    *manifest.pointer_mut(pointer).unwrap() = value;
    manifest.to_string()
}

#[test]
fn bad_safetensors_and_manifests_are_import_errors_that_say_what_is_wrong() {
    let exported = export(&trained(Config::tiny(), 1));
    let text = fixture_text;

    let truncated = exported.weights[..exported.weights.len() / 2].to_vec();
    check_import_error(
        import_error(truncated, &exported.manifest, text()),
        "truncated",
    );

    let wrong_shape = with_manifest_field(&exported.manifest, "/config/blockSize", 16.into());
    check_import_error(
        import_error(exported.weights.clone(), &wrong_shape, text()),
        "transformer.wpe.weight",
    );

    let deeper = with_manifest_field(&exported.manifest, "/config/nLayer", 3.into());
    check_import_error(
        import_error(exported.weights.clone(), &deeper, text()),
        "no tensor for",
    );

    let shallower = with_manifest_field(&exported.manifest, "/config/nLayer", 1.into());
    check_import_error(
        import_error(exported.weights.clone(), &shallower, text()),
        "transformer.h.1",
    );

    // Same bytes per value, another type: the header alone changes.
    let mut integers = exported.weights.clone();
    let header_len = u64::from_le_bytes(integers[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(integers[8..8 + header_len].to_vec()).unwrap();
    let header = header.replace("\"F32\"", "\"I32\"");
    integers[8..8 + header_len].copy_from_slice(header.as_bytes());
    check_import_error(import_error(integers, &exported.manifest, text()), "I32");

    let mut smaller_vocabulary =
        serde_json::from_str::<serde_json::Value>(&exported.manifest).unwrap();
    let chars: String = smaller_vocabulary["vocabulary"]
        .as_str()
        .unwrap()
        .chars()
        .skip(1)
        .collect();
    smaller_vocabulary["vocabulary"] = chars.into();
    let error = import_error(
        exported.weights.clone(),
        &smaller_vocabulary.to_string(),
        text(),
    );
    check_import_error(error, "transformer.wte.weight");

    check_import_error(
        import_error(exported.weights.clone(), "{", text()),
        "manifest",
    );
    let other = with_manifest_field(&exported.manifest, "/format", "something-else".into());
    check_import_error(
        import_error(exported.weights.clone(), &other, text()),
        "format",
    );

    check_import_error(
        import_error(
            exported.weights.clone(),
            &exported.manifest,
            "漢字".repeat(400),
        ),
        "vocabulary",
    );
}

fn nanogpt_error(checkpoint: &Path, meta: &Path) -> kindling::Error {
    match nanogpt::import(checkpoint, meta, fixture_text(), cpu()) {
        Ok(_) => panic!("the import should have failed"),
        Err(error) => error,
    }
}

/// A protocol-2 pickle of `{"itos": {0: "a", 1: "b"}}`, as `pickle.dumps` writes it.
fn two_character_meta() -> Vec<u8> {
    let string = |s: &str| [&[b'X'][..], &(s.len() as u32).to_le_bytes(), s.as_bytes()].concat();
    [
        &b"\x80\x02}"[..],
        &string("itos"),
        b"}(K\x00",
        &string("a"),
        b"K\x01",
        &string("b"),
        b"us.",
    ]
    .concat()
}

#[test]
fn bad_nanogpt_files_are_import_errors_that_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let checkpoint = std::fs::read(fixture("ckpt.pt")).unwrap();
    let meta = std::fs::read(fixture("meta.pkl")).unwrap();

    let truncated = write("truncated.pt", &checkpoint[..checkpoint.len() / 2]);
    check_import_error(
        nanogpt_error(&truncated, &fixture("meta.pkl")),
        "truncated.pt",
    );

    let truncated_meta = write("truncated.pkl", &meta[..meta.len() / 2]);
    check_import_error(
        nanogpt_error(&fixture("ckpt.pt"), &truncated_meta),
        "truncated.pkl",
    );

    let small = write("small.pkl", &two_character_meta());
    check_import_error(nanogpt_error(&fixture("ckpt.pt"), &small), "2 characters");

    let not_a_checkpoint = write("meta-as-ckpt.pt", &meta);
    check_import_error(
        nanogpt_error(&not_a_checkpoint, &fixture("meta.pkl")),
        "meta-as-ckpt.pt",
    );
}

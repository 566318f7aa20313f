//! The `kindling` command end to end, as a person runs it: train, generate, eval, export,
//! import, next; bad arguments; Ctrl-C during training.

use std::path::Path;
use std::process::{Command, Output};

use kindling::checkpoint;
use kindling::device::cpu;

fn kindling(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kindling"))
        .args(arguments)
        .output()
        .unwrap()
}

/// Runs a command that must succeed; its stdout.
fn ok(arguments: &[&str]) -> String {
    let output = kindling(arguments);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "kindling {arguments:?} failed: {stderr}"
    );
    String::from_utf8(output.stdout).unwrap()
}

fn text_file(dir: &Path) -> String {
    let path = dir.join("text.txt");
    std::fs::write(&path, crate::common::PHRASE.repeat(60)).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn train_generate_eval_export_import_and_the_same_logits() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let text = text_file(dir.path());
    let model = path("model.kindling");
    ok(&[
        "train",
        "--text",
        &text,
        "--steps",
        "150",
        "--set",
        "evalInterval=50",
        "--out",
        &model,
    ]);
    let trainer = checkpoint::load(&std::fs::read(&model).unwrap(), cpu()).unwrap();
    assert_eq!(trainer.step(), 150);
    let history = trainer.history();
    let (first, last) = (history.first().unwrap(), history.last().unwrap());
    assert!(last.train_loss < first.train_loss / 2.0, "{history:?}");

    let written = ok(&[
        "generate",
        &model,
        "--prompt",
        "the quick",
        "--temperature",
        "0",
        "--max-tokens",
        "20",
    ]);
    assert_eq!(written.trim_end(), &crate::common::PHRASE.repeat(2)[..29]);

    let eval: serde_json::Value = serde_json::from_str(&ok(&["eval", &model, "--json"])).unwrap();
    assert_eq!(eval["step"], 150);
    assert!(eval["valLoss"].as_f64().unwrap() < 1.0, "{eval}");
    assert!(eval["bitsPerChar"].as_f64().unwrap() > 0.0);
    assert!(ok(&["info", &model]).contains("step        150"));

    // Resuming trains more steps on from the saved ones.
    let resumed = path("resumed.kindling");
    ok(&[
        "train", "--resume", &model, "--steps", "10", "--out", &resumed,
    ]);
    assert!(ok(&["info", &resumed]).contains("step        160"));

    let weights = path("model.safetensors");
    ok(&["export", &model, "--out", &weights]);
    assert!(Path::new(&path("model.json")).exists());
    let imported = path("imported.kindling");
    ok(&["import", &weights, "--text", &text, "--out", &imported]);
    let logits = |file: &str| ok(&["next", file, "--prompt", "the lazy", "--json"]);
    assert_eq!(logits(&model), logits(&imported));
    let eval_back: serde_json::Value =
        serde_json::from_str(&ok(&["eval", &imported, "--json"])).unwrap();
    assert_eq!(eval_back["valLoss"], eval["valLoss"]);
}

#[test]
fn bad_arguments_get_one_line_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let text = text_file(dir.path());
    let out = dir.path().join("m.kindling");
    let out = out.to_str().unwrap();
    for (arguments, status, names) in [
        (
            vec!["train", "--text", &text, "--set", "nEmbed=64", "--out", out],
            2,
            "nEmbed",
        ),
        (
            vec!["train", "--text", &text, "--set", "nHead=3", "--out", out],
            2,
            "head",
        ),
        (
            vec!["train", "--text", "/no/such/file", "--out", out],
            2,
            "/no/such/file",
        ),
        (vec!["generate", &text], 1, "not a Kindling model file"),
        (
            vec!["import", &text, "--text", &text, "--out", out],
            2,
            "meta.pkl",
        ),
    ] {
        let output = kindling(&arguments);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(status),
            "{arguments:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(names), "{stderr:?} should name {names:?}");
    }
    assert!(!Path::new(out).exists(), "nothing was written");
}

/// Ctrl-C stops training after the step under way and saves it: nothing is lost.
#[test]
fn ctrl_c_saves_the_model_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let text = text_file(dir.path());
    let out = dir.path().join("m.kindling");
    let steps = ["--steps", "1000000", "--out", out.to_str().unwrap()];
    let (mut child, mut stderr) =
        crate::common::train_until_first_evaluation(&[&["--text", &text], &steps[..]].concat());
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130), "{rest}");
    let trainer = checkpoint::load(&std::fs::read(&out).unwrap(), cpu()).unwrap();
    assert!(
        trainer.step() >= 20 && trainer.step() < 1000000,
        "step {}",
        trainer.step()
    );
    assert!(
        rest.contains(&format!("step {} saved", trainer.step())),
        "{rest}"
    );
}

//! The rules between a page's requests and the trainer (`Session`): backend choice and
//! fallback, moving to the CPU when the GPU is lost, helpers only on the CPU, step bounds,
//! generation defaults, and the kind every failure carries.

use kindling::device::{cpu, Backend};
use kindling::parallel::{Alone, Helpers, ShardGradients};
use kindling::session::{place_with, BackendChoice, BackendRequest, Placement, Request};
use kindling::{Config, Error, ErrorKind, SamplingOptions, Session, Trainer};
use serde_json::{json, Map, Value};

use crate::common::repeated_text;

fn options(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

fn request(choice: BackendChoice) -> BackendRequest {
    BackendRequest {
        choice,
        fail_webgpu: false,
    }
}

async fn no_gpu() -> Result<Placement, Error> {
    Err(Error::device("no adapter"))
}

/// The CPU standing in for a GPU: what the session does about a GPU does not depend on the
/// device's arithmetic, and the browser tests run the same paths on real WebGPU.
async fn stand_in_gpu() -> Result<Placement, Error> {
    Ok(Placement {
        device: cpu(),
        backend: Backend::WebGpu,
        adapter: Some("stand-in".into()),
        notice: None,
    })
}

async fn must_not_start() -> Result<Placement, Error> {
    panic!("the GPU must not be started for backend \"cpu\"")
}

fn session_on(placement: Placement) -> Session {
    let trainer = Trainer::new(repeated_text(), Config::tiny(), placement.device.clone()).unwrap();
    Session::new(trainer, placement)
}

fn train(session: &mut Session, steps: f64) -> Result<kindling::session::Trained, kindling::Error> {
    pollster::block_on(session.train(steps, None::<&mut Alone>))
}

#[test]
fn prefer_webgpu_falls_back_to_the_cpu_with_a_notice_and_webgpu_refuses() {
    let auto =
        pollster::block_on(place_with(request(BackendChoice::PreferWebGpu), no_gpu)).unwrap();
    assert_eq!(auto.backend, Backend::Cpu);
    let notice = auto.notice.expect("a notice");
    assert_eq!(
        notice,
        "WebGPU is not available (no adapter); training on the CPU"
    );

    let forced = pollster::block_on(place_with(request(BackendChoice::WebGpu), no_gpu));
    let error = forced.err().expect("refused");
    assert_eq!(error.kind, ErrorKind::WebgpuUnavailable);

    let failing = BackendRequest {
        choice: BackendChoice::PreferWebGpu,
        fail_webgpu: true,
    };
    let placement = pollster::block_on(place_with(failing, stand_in_gpu)).unwrap();
    assert_eq!(placement.backend, Backend::Cpu, "debugFailWebgpu wins");

    let gpu = pollster::block_on(place_with(
        request(BackendChoice::PreferWebGpu),
        stand_in_gpu,
    ))
    .unwrap();
    assert_eq!(gpu.backend, Backend::WebGpu);
    let cpu_only = place_with(request(BackendChoice::Cpu), must_not_start);
    assert_eq!(pollster::block_on(cpu_only).unwrap().backend, Backend::Cpu);
}

#[test]
fn requests_name_the_field_they_get_wrong() {
    for (bad, field) in [
        (json!({ "text": 5 }), "text"),
        (json!({ "backend": "tpu" }), "backend"),
        // The element's "auto" measures; the engine has no such choice and says which it has.
        (json!({ "backend": "auto" }), "backend"),
        (json!({ "preset": 3 }), "preset"),
        (json!({ "backend": "remote", "secret": "s" }), "peer"),
        (
            json!({ "backend": "remote", "peer": "id@http://127.0.0.1:1" }),
            "secret",
        ),
        (
            json!({ "backend": "remote", "peer": 7, "secret": "s" }),
            "peer",
        ),
    ] {
        let error = Request::parse(options(bad)).err().expect("refused");
        assert_eq!(error.kind, ErrorKind::Config);
        assert_eq!(error.fields[0].field, field, "{error}");
    }
    let auto = Request::parse(options(json!({ "backend": "auto" })))
        .err()
        .unwrap();
    assert!(auto.to_string().contains("\"prefer-webgpu\""), "{auto}");
    let request = Request::parse(options(json!({ "text": "abc", "nLayer": 0 }))).unwrap();
    assert!(
        request.config.is_ok(),
        "ranges are checked with the text, at create"
    );

    let error = pollster::block_on(Session::create(options(json!({ "text": "too short" }))))
        .err()
        .expect("refused");
    assert_eq!(error.kind, ErrorKind::Config);
    assert_eq!(error.fields[0].field, "text");
    let error = pollster::block_on(Session::open(b"not a model", Map::new()))
        .err()
        .expect("refused");
    assert_eq!(error.kind, ErrorKind::Checkpoint);
}

#[test]
fn a_lost_gpu_moves_training_to_the_cpu_from_the_last_completed_chunk() {
    let mut session = session_on(pollster::block_on(stand_in_gpu()).unwrap());
    let first = train(&mut session, 5.0).unwrap();
    assert_eq!(first.notice, None);
    session.simulate_device_loss();
    let after = train(&mut session, 5.0).unwrap();

    assert_eq!(session.backend(), Backend::Cpu);
    assert_eq!(session.adapter(), None);
    assert_eq!(session.trainer().step(), 10, "continues from step 5");
    assert_eq!(after.metrics.step, 10);
    let notice = after.notice.expect("a notice");
    assert!(notice.starts_with("The GPU was lost"), "{notice}");
    assert!(notice.ends_with("continues from step 5"), "{notice}");
    assert!(after.metrics.train_loss < first.metrics.train_loss);
    let steps: Vec<usize> = session.trainer().history().iter().map(|p| p.step).collect();
    assert_eq!(steps, [5, 10]);
}

#[test]
fn a_gpu_lost_before_any_chunk_is_a_device_error() {
    let mut session = session_on(pollster::block_on(stand_in_gpu()).unwrap());
    session.simulate_device_loss();
    let error = train(&mut session, 5.0).expect_err("fails");
    assert_eq!(error.kind, ErrorKind::Device);
    assert!(error.message.contains("create the model again"), "{error}");
}

/// Helpers that fail if asked: a step that uses them fails with a `Helper` error.
struct Failing(usize);

impl Helpers for Failing {
    fn count(&self) -> usize {
        1
    }

    async fn gradients(
        &mut self,
        _: usize,
        _: usize,
        _: Vec<f32>,
    ) -> Result<Vec<ShardGradients>, Error> {
        self.0 += 1;
        Err(Error::helper("this helper always fails"))
    }
}

#[test]
fn helpers_work_on_the_cpu_only_and_their_failure_has_its_kind() {
    let mut on_gpu = session_on(pollster::block_on(stand_in_gpu()).unwrap());
    let mut helpers = Failing(0);
    pollster::block_on(on_gpu.train(3.0, Some(&mut helpers))).unwrap();
    assert_eq!(helpers.0, 0, "a GPU does a step at once");

    let mut on_cpu = session_on(Placement::cpu(None));
    let error = pollster::block_on(on_cpu.train(3.0, Some(&mut helpers))).expect_err("fails");
    assert_eq!(error.kind, ErrorKind::Helper);
    assert_eq!(helpers.0, 1);
    assert_eq!(on_cpu.trainer().step(), 0, "the chunk is void");
    train(&mut on_cpu, 3.0).expect("and training goes on without helpers");
    assert_eq!(on_cpu.trainer().step(), 3);
}

#[test]
fn step_counts_out_of_range_are_refused_before_training() {
    let mut session = session_on(Placement::cpu(None));
    for bad in [-5.0, 0.0, f64::NAN, 100_001.0, 1.5] {
        let error = train(&mut session, bad).expect_err("refused");
        assert_eq!(error.kind, ErrorKind::Config);
        assert_eq!(error.fields[0].field, "steps");
    }
    assert_eq!(session.trainer().step(), 0);
}

fn generated(session: &Session, prompt: &str, options: SamplingOptions, fresh: u64) -> String {
    let (mut generator, _) = session.generate(prompt, options, || fresh).unwrap();
    let mut text = String::new();
    while let Some(token) = pollster::block_on(generator.next()).unwrap() {
        text.push_str(&token.text);
    }
    text
}

#[test]
fn warming_up_changes_nothing_a_reader_can_see() {
    let mut session = session_on(Placement::cpu(None));
    let options = SamplingOptions {
        max_tokens: 30,
        seed: 5,
        ..SamplingOptions::default()
    };
    let before = generated(&session, "the", options.clone(), 1);
    pollster::block_on(session.warm_up()).unwrap();
    assert_eq!(generated(&session, "the", options.clone(), 1), before);
    assert_eq!(session.trainer().step(), 0);
    train(&mut session, 2.0).unwrap();
    pollster::block_on(session.warm_up()).unwrap();
    assert_eq!(session.trainer().step(), 2);
}

#[test]
fn generation_defaults_seed_zero_is_fresh_and_an_empty_prompt_starts() {
    let session = session_on(Placement::cpu(None));
    let options = |seed| SamplingOptions {
        max_tokens: 40,
        temperature: 1.5,
        seed,
        ..SamplingOptions::default()
    };
    // Seed 0 takes a fresh seed each call; a given seed repeats.
    let (a, b) = (
        generated(&session, "the", options(0), 11),
        generated(&session, "the", options(0), 12),
    );
    assert_ne!(a, b);
    assert_eq!(generated(&session, "the", options(0), 11), a);
    assert_eq!(generated(&session, "the", options(11), 99), a);

    assert_eq!(generated(&session, "", options(3), 0).chars().count(), 40);
    let (_, warning) = session.generate("the ✓", options(3), || 1).unwrap();
    assert!(warning.expect("a warning").contains('✓'));

    let bad = SamplingOptions {
        max_tokens: 0,
        ..SamplingOptions::default()
    };
    let error = session.generate("the", bad, || 1).err().expect("refused");
    assert_eq!(
        (error.kind, error.fields[0].field.as_str()),
        (ErrorKind::Config, "maxTokens")
    );
}

#[test]
fn shard_arguments_are_whole_numbers_never_wrapped() {
    let mut session = session_on(Placement::cpu(None));
    let weights = pollster::block_on(kindling::params::flat_weights(session.trainer().model()));
    let weights = weights.unwrap();
    for (step, rank, count, field) in [
        (-1.0, 0.0, 2.0, "step"),
        (0.0, 1.5, 2.0, "rank"),
        (0.0, 0.0, 0.0, "count"),
        (0.0, 0.0, f64::NAN, "count"),
    ] {
        let result = session.shard_gradients(step, rank, count, &weights);
        let error = pollster::block_on(result).expect_err("refused");
        assert_eq!(
            (error.kind, error.fields[0].field.as_str()),
            (ErrorKind::Config, field)
        );
        assert!(!error.message.contains("4294967295"), "{error}");
    }
    let gradients = pollster::block_on(session.shard_gradients(0.0, 1.0, 2.0, &weights));
    assert_eq!(
        gradients.expect("rows 8..16 of 16").grads.len(),
        weights.len()
    );
}

//! The JS-facing API in a real browser, on the CPU and on WebGPU (SwiftShader in headless
//! Chromium, enabled by webdriver.json): `cargo test --target wasm32-unknown-unknown --test web`
//! runs it through wasm-bindgen-test-runner (scripts/test.sh).
#![cfg(target_arch = "wasm32")]

use js_sys::{Error, Float32Array, Promise, Reflect, Uint8Array};
use kindling::web::{GenerationStream, Kindling};
use serde::Serialize;
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[cfg(feature = "webgpu")]
#[path = "shared/fused.rs"]
mod fused;

fn js(value: serde_json::Value) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

async fn wait(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// Trains until a chunk's mean loss is below 0.1; returns that loss. CPU only: at most 1000
/// steps of `tiny`, deterministic, so bounded by work whatever the machine.
async fn overfit(k: &Kindling) -> f64 {
    for _ in 0..40 {
        let metrics = wait(k.train_steps(25.0, None)).await.unwrap();
        let loss = get(&metrics, "trainLoss").as_f64().unwrap();
        if loss < 0.1 {
            return loss;
        }
    }
    panic!("loss did not fall below 0.1 in 1000 steps");
}

/// Runs `steps` training steps; their mean training loss.
async fn train_loss(k: &Kindling, steps: u32) -> f64 {
    get(
        &wait(k.train_steps(steps as f64, None)).await.unwrap(),
        "trainLoss",
    )
    .as_f64()
    .unwrap()
}

/// `k.toBytes(options)`: the model file.
async fn saved(k: &Kindling, options: JsValue) -> Uint8Array {
    wait(k.to_bytes(options)).await.unwrap().unchecked_into()
}

/// Greedy continuation, one `next()` per token; checks each call gives exactly one character.
async fn stream_text(stream: GenerationStream) -> String {
    let mut text = String::new();
    loop {
        let step = wait(stream.next()).await.unwrap();
        if get(&step, "done").as_bool().unwrap() {
            return text;
        }
        let value = get(&step, "value");
        let token = get(&value, "text").as_string().unwrap();
        assert_eq!(token.chars().count(), 1, "one token per next()");
        let prob = get(&value, "prob").as_f64().unwrap();
        assert!((0.0..=1.0).contains(&prob));
        let top: js_sys::Array = get(&value, "top").unchecked_into();
        assert_eq!(top.length(), 5);
        text.push_str(&token);
    }
}

const PHRASE: &str = "the quick brown fox jumps over the lazy dog. ";

async fn learns_and_reproduces(text: &str, prompt: &str, expected: &str) {
    let options =
        js(json!({ "text": text.repeat(40), "preset": "tiny", "backend": "cpu", "seed": 7 }));
    let k = Kindling::create(options).await.unwrap();
    assert_eq!(k.backend().unwrap(), "cpu");
    // Loss falls below the overfit threshold, then greedy generation streams the text back.
    let first = train_loss(&k, 1).await;
    let loss = overfit(&k).await;
    assert!(loss < first, "loss fell from {first} to {loss}");
    let greedy = js(json!({ "maxTokens": expected.chars().count(), "temperature": 0 }));
    let out = stream_text(k.generate(prompt, greedy).unwrap()).await;
    assert_eq!(out, expected);
}

#[cfg(feature = "webgpu")]
/// A model on WebGPU. Without an adapter this fails: these tests exist only in the WebGPU
/// build, and a browser that cannot run them must not count them as passed.
async fn on_webgpu(options: serde_json::Value) -> Kindling {
    let k = Kindling::create(js(options))
        .await
        .unwrap_or_else(|e| panic!("no WebGPU in the test browser: {e:?}"));
    assert_eq!(k.backend().unwrap(), "webgpu");
    k
}

#[wasm_bindgen_test]
async fn trains_until_it_overfits_then_streams_the_text_back() {
    learns_and_reproduces(
        PHRASE,
        "the quick",
        " brown fox jumps over the lazy dog. the quick brown",
    )
    .await;
}

#[wasm_bindgen_test]
async fn learns_chinese_text() {
    learns_and_reproduces(
        "天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。",
        "天地",
        "玄黄，宇宙洪荒。日月盈昃，辰宿列张。天地玄黄",
    )
    .await;
}

/// A rejection as JS sees it: a `KindlingError` with a kind; returns it and its message.
fn kindling_error(error: JsValue, kind: &str) -> (JsValue, String) {
    let js_error: &Error = error.dyn_ref().expect("a JS Error");
    assert_eq!(String::from(js_error.name()), "KindlingError");
    let message = String::from(js_error.message());
    assert_eq!(
        get(&error, "kind").as_string().as_deref(),
        Some(kind),
        "{message}"
    );
    (error, message)
}

/// The first `{ field, kind }` of a config error's `errors`.
fn first_field(error: &JsValue) -> (String, String) {
    let first = js_sys::Array::from(&get(error, "errors")).get(0);
    let text = |key| get(&first, key).as_string().unwrap();
    (text("field"), text("kind"))
}

#[wasm_bindgen_test]
async fn a_rejected_config_is_an_error_with_its_kind_and_fields() {
    let options = js(json!({ "text": "far too short", "preset": "baby-gpt" }));
    let error = Kindling::create(options).await.err().expect("rejected");
    let (error, message) = kindling_error(error, "config");
    assert!(
        message.starts_with("the text has 13 characters but the context is 64"),
        "{message}"
    );
    assert_eq!(first_field(&error), ("text".into(), "text".into()));

    let options = js(json!({ "text": "abc".repeat(100), "nEmbd": 130, "nHead": 4 }));
    let error = Kindling::create(options).await.err().unwrap();
    let (error, message) = kindling_error(error, "config");
    assert_eq!(message, "embedding size 130 is not divisible by 4 heads");
    assert_eq!(first_field(&error), ("nEmbd".into(), "inconsistent".into()));
}

#[wasm_bindgen_test]
async fn method_arguments_are_checked_in_the_same_voice() {
    let options = js(json!({ "text": PHRASE.repeat(20), "backend": "cpu" }));
    let k = Kindling::create(options).await.unwrap();
    for steps in [-5.0, f64::NAN, 2.5] {
        let error = wait(k.train_steps(steps, None)).await.expect_err("refused");
        let (error, message) = kindling_error(error, "config");
        assert_eq!(first_field(&error).0, "steps", "{message}");
        assert!(!message.contains("4294967291"), "{message}");
    }
    let error = k
        .generate("the", js(json!({ "topK": -3 })))
        .err()
        .expect("refused");
    let (_, message) = kindling_error(error, "config");
    assert_eq!(message, "topK must be 0 or more (got -3)");

    let helpers = js_sys::Object::new();
    let error = wait(k.train_steps(1.0, Some(helpers))).await.err().unwrap();
    kindling_error(error, "argument");
    assert_eq!(k.step().unwrap(), 0, "nothing ran");

    let error = wait(k.inspect("the".into(), js(json!({ "topK": 0 })))).await;
    let (error, _) = kindling_error(error.expect_err("refused"), "config");
    assert_eq!(first_field(&error).0, "topK");
    kindling_error(
        wait(k.inspect("".into(), JsValue::UNDEFINED))
            .await
            .unwrap_err(),
        "argument",
    );

    let logits = Float32Array::from(&[1.0f32, 3.0, 2.0][..]);
    let greedy = Kindling::sampling_distribution(logits.clone(), js(json!({ "temperature": 0 })));
    assert_eq!(greedy.unwrap().to_vec(), [0.0, 1.0, 0.0]);
    let error = Kindling::sampling_distribution(logits, js(json!({ "topP": 2 }))).unwrap_err();
    kindling_error(error, "config");
    let empty = Float32Array::new_with_length(0);
    kindling_error(
        Kindling::sampling_distribution(empty, JsValue::UNDEFINED).unwrap_err(),
        "argument",
    );
}

/// `k.inspect(text)`.
#[cfg(feature = "webgpu")]
async fn inspect(k: &Kindling, text: &str) -> JsValue {
    wait(k.inspect(text.into(), JsValue::UNDEFINED))
        .await
        .unwrap()
}

/// An inspection's `key`: its numbers, which arrive as a Float32Array.
#[cfg(feature = "webgpu")]
fn floats(inspection: &JsValue, key: &str) -> Vec<f32> {
    let values = get(&get(inspection, key), "values");
    values
        .dyn_into::<Float32Array>()
        .expect("a Float32Array")
        .to_vec()
}

#[cfg(feature = "webgpu")]
fn assert_close(a: &[f32], b: &[f32], tolerance: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= tolerance * (1.0 + y.abs()),
            "{what}: {x} vs {y}"
        );
    }
}

#[wasm_bindgen_test]
async fn bytes_round_trip_and_bad_bytes_are_refused() {
    let options = js(json!({ "text": "hello there, general. ".repeat(30), "seed": 3 }));
    let k = Kindling::create(options).await.unwrap();
    wait(k.train_steps(5.0, None)).await.unwrap();
    let bytes = saved(&k, JsValue::UNDEFINED).await;
    let restored = Kindling::from_bytes(bytes.clone(), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(restored.step().unwrap(), 5);
    let a = wait(k.train_steps(3.0, None)).await.unwrap();
    let b = wait(restored.train_steps(3.0, None)).await.unwrap();
    assert_eq!(get(&a, "trainLoss").as_f64(), get(&b, "trainLoss").as_f64());

    let truncated = bytes.subarray(0, bytes.length() / 2);
    let error = Kindling::from_bytes(truncated, JsValue::UNDEFINED)
        .await
        .err()
        .unwrap();
    let (_, message) = kindling_error(error, "checkpoint");
    assert!(message.contains("truncated"), "{message}");
}

/// On WebGPU every test is a fixed amount of work: SwiftShader (headless Chromium's software
/// adapter) takes 0.7 to 2.3 s a step depending on the machine, so "train until the loss is
/// low" would take as long as the machine makes it. The CPU tests above show learning to the
/// end; here a few steps show the loss falling, and parity with the CPU (below) shows the
/// arithmetic is the same.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn webgpu_trains_a_few_steps_then_streams_tokens() {
    let options = json!({ "text": PHRASE.repeat(40), "backend": "webgpu", "seed": 7 });
    let k = on_webgpu(options).await;
    assert!(k.adapter().unwrap().is_some_and(|name| !name.is_empty()));
    let first = train_loss(&k, 1).await;
    let later = train_loss(&k, 8).await;
    assert!(later < first, "loss {first} -> {later} in 8 steps");
    assert_eq!(k.step().unwrap(), 9);
    let greedy = js(json!({ "maxTokens": 12, "temperature": 0 }));
    let out = stream_text(k.generate("the quick", greedy).unwrap()).await;
    assert_eq!(out.chars().count(), 12);
}

/// What WebGPU writes is checked against the text itself: a model overfit on the CPU (fast,
/// and bounded by work) writes its phrase back greedily on WebGPU, token for token, as it does
/// on the CPU (`trains_until_it_overfits_then_streams_the_text_back`).
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn an_overfit_model_writes_its_text_back_on_webgpu() {
    let options =
        js(json!({ "text": PHRASE.repeat(40), "preset": "tiny", "backend": "cpu", "seed": 7 }));
    let trained = Kindling::create(options).await.unwrap();
    overfit(&trained).await;
    let bytes = saved(&trained, JsValue::UNDEFINED).await;
    let gpu = Kindling::from_bytes(bytes, js(json!({ "backend": "webgpu" })))
        .await
        .unwrap_or_else(|e| panic!("no WebGPU in the test browser: {e:?}"));
    assert_eq!(gpu.backend().unwrap(), "webgpu");
    let expected = " brown fox jumps over the lazy dog. the quick brown";
    let greedy = js(json!({ "maxTokens": expected.chars().count(), "temperature": 0 }));
    let out = stream_text(gpu.generate("the quick", greedy).unwrap()).await;
    assert_eq!(out, expected);
}

/// The paths around the usual one on WebGPU: a GPT with rotary positions, QK norm and dropout
/// writes greedily what the CPU writes from the same bytes (the cached attention kernel over
/// turned queries and keys), and trains there (attention op by op in autodiff, with the mask).
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn a_gpt_with_rotary_positions_qk_norm_and_dropout_generates_and_trains_on_webgpu() {
    let options = json!({
        "text": PHRASE.repeat(40), "preset": "tiny", "backend": "cpu", "seed": 3,
        "positions": "rotary", "qkNorm": true, "dropout": 0.1,
    });
    let trained = Kindling::create(js(options)).await.unwrap();
    wait(trained.train_steps(30.0, None)).await.unwrap();
    let bytes = saved(&trained, JsValue::UNDEFINED).await;
    let load =
        |backend: &str| Kindling::from_bytes(bytes.clone(), js(json!({ "backend": backend })));
    let (cpu, gpu) = (load("cpu").await.unwrap(), load("webgpu").await.unwrap());
    assert_eq!(gpu.backend().unwrap(), "webgpu");
    let greedy = || js(json!({ "maxTokens": 16, "temperature": 0 }));
    let on_cpu = stream_text(cpu.generate("the quick", greedy()).unwrap()).await;
    let on_gpu = stream_text(gpu.generate("the quick", greedy()).unwrap()).await;
    assert_eq!(on_gpu, on_cpu);
    let (first, later) = (train_loss(&gpu, 1).await, train_loss(&gpu, 2).await);
    assert!(first.is_finite() && later.is_finite(), "{first}, {later}");
}

/// Pipelines (compiled shaders) the page's WebGPU device has created so far: counted by
/// wrapping `GPUDevice`'s methods, which wgpu's JS glue looks up at each call.
#[cfg(feature = "webgpu")]
fn pipelines_compiled() -> u32 {
    let count = js_sys::eval(
        r#"(() => {
          if (globalThis.pipelinesCompiled === undefined) {
            globalThis.pipelinesCompiled = 0;
            for (const method of ['createComputePipeline', 'createComputePipelineAsync']) {
              const original = GPUDevice.prototype[method];
              GPUDevice.prototype[method] = function (...args) {
                globalThis.pipelinesCompiled += 1;
                return original.apply(this, args);
              };
            }
          }
          return globalThis.pipelinesCompiled;
        })()"#,
    );
    count.unwrap().as_f64().unwrap() as u32
}

/// Each generated token reuses the kernels the first ones compiled: the KV cache has one shape
/// (the whole context) at every position. Before it, each new length compiled new pipelines.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn generation_on_webgpu_compiles_nothing_after_its_second_token() {
    pipelines_compiled(); // counting from here on
    let options =
        json!({ "text": PHRASE.repeat(40), "preset": "tiny", "backend": "webgpu", "seed": 5 });
    let k = on_webgpu(options).await;
    // tiny's context is 32: a 5-character prompt and 20 tokens stay inside it.
    let greedy = js(json!({ "maxTokens": 20, "temperature": 0 }));
    let stream = k.generate("the q", greedy).unwrap();
    let mut compiled = Vec::new();
    while !get(&wait(stream.next()).await.unwrap(), "done")
        .as_bool()
        .unwrap()
    {
        compiled.push(pipelines_compiled());
    }
    // The first token (the prompt's five positions at once) and the second (the first single
    // one) may compile kernels; no later one does.
    assert_eq!(compiled.len(), 20);
    assert_eq!(
        compiled[1..].iter().min(),
        compiled[1..].iter().max(),
        "pipelines compiled, token by token: {compiled:?}"
    );
}

#[cfg(feature = "webgpu")]
async fn val_loss(k: &Kindling) -> f64 {
    wait(k.evaluate()).await.unwrap().as_f64().unwrap()
}

#[cfg(feature = "webgpu")]
fn assert_relative(a: f64, b: f64, tolerance: f64, what: &str) {
    assert!((a - b).abs() <= tolerance * b.abs(), "{what}: {a} vs {b}");
}

/// The test browser's WebGPU device; no adapter fails the test.
#[cfg(feature = "webgpu")]
async fn test_gpu() -> std::rc::Rc<kindling::gpu::Gpu> {
    kindling::gpu::gpu()
        .await
        .unwrap_or_else(|e| panic!("no WebGPU in the test browser: {e:?}"))
}

/// The hand-written backward passes match burn's op-by-op ones on WebGPU as on the CPU
/// (tests/shared/fused.rs).
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn hand_written_backward_passes_match_burns_on_webgpu() {
    // cubecl's kernel types register in wasm constructors, which the API's entry points run.
    kindling::web::start();
    let gpu = test_gpu().await;
    // Where the LSTM's, the layer norm's and attention's backward kernels (src/kernels/) apply.
    assert!(kindling::kernels::on_gpu(&gpu.device.clone().inner()));
    for op in fused::OPS {
        let difference = fused::difference(op, &gpu.device).await;
        assert!(difference.output <= 1e-4, "{op}: {difference:?}");
        assert!(
            difference.gradient <= 1e-3 * difference.largest_gradient,
            "{op}: {difference:?}"
        );
        assert!(difference.largest_gradient > 1e-3, "{op}: {difference:?}");
    }
}

/// Attention's kernels on WebGPU write the context and weights that burn's ops write on the
/// CPU: training's causal case, and a cache's (queries after `past` cached positions, then
/// empty slots), whose new keys and values land in the cache.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn attention_kernels_match_burns_ops() {
    use burn::tensor::{activation, Bool, Device, Tensor, TensorData};
    use kindling::device::read_floats;
    use kindling::kernels::attention;
    use kindling::model::fused::unpack;
    kindling::web::start();
    let gpu = test_gpu().await;
    let (heads, head_dim, scale) = (3, 8, 0.35);
    let d = heads * head_dim;
    let numbers = |n: usize, seed: usize| {
        let values = (0..n).map(move |i| ((i * 37 + seed) % 23) as f32 / 11.0 - 1.0);
        values.collect::<Vec<_>>()
    };
    let read = |t: Tensor<4>| {
        let n = t.shape().num_elements();
        read_floats(t.reshape([n]))
    };
    for (past, time, capacity) in [(0, 9, None), (3, 2, Some(9)), (5, 1, Some(7))] {
        let what = format!("past {past}, time {time}, capacity {capacity:?}");
        let close = |a: Vec<f32>, b: Vec<f32>, part: &str| {
            let worst = fused::largest_difference(&a, &b);
            assert!(worst < 1e-5, "{part} ({what}): off by {worst}");
        };
        let positions = capacity.unwrap_or(time);
        let qkv = |device: &Device| {
            let data = TensorData::new(numbers(time * 3 * d, 0), [1, time, 3 * d]);
            Tensor::<3>::from_data(data, device)
        };
        let cached = |seed: usize, device: &Device| {
            let shape = [1, heads, positions, head_dim];
            let data = TensorData::new(numbers(shape.iter().product(), seed), shape);
            Tensor::<4>::from_data(data, device)
        };
        let device = gpu.device.clone().inner();
        let (context, weights, cache) = match capacity {
            None => {
                let (context, weights) = attention::forward(qkv(&device), heads, scale);
                (context, weights, None)
            }
            Some(_) => {
                let cache = [cached(5, &device), cached(9, &device)];
                let (context, weights, cache) =
                    attention::forward_cached(qkv(&device), cache, past, scale);
                (context, weights, Some(cache))
            }
        };

        // burn's ops on the CPU over the cached positions and the new ones.
        let cpu = kindling::device::cpu();
        let [query, key, value] = unpack(qkv(&cpu), heads);
        let earlier = |seed| cached(seed, &cpu).slice([0..1, 0..heads, 0..past, 0..head_dim]);
        let key = Tensor::cat(vec![earlier(5), key], 2);
        let value = Tensor::cat(vec![earlier(9), value], 2);
        let seen = past + time;
        let hidden = (0..time).flat_map(|i| (0..seen).map(move |j| j > past + i));
        let hidden = TensorData::new(hidden.collect(), [1, 1, time, seen]);
        let hidden = Tensor::<4, Bool>::from_data(hidden, &cpu);
        let scores = query.matmul(key.clone().swap_dims(2, 3)).mul_scalar(scale);
        let expected = activation::softmax(scores.mask_fill(hidden, f32::NEG_INFINITY), 3);
        let expected_context = expected.clone().matmul(value.clone());
        let unseen = Tensor::<4>::zeros([1, heads, time, positions - seen], &cpu);
        let expected = Tensor::cat(vec![expected, unseen], 3);
        close(
            read(weights).await.unwrap(),
            read(expected).await.unwrap(),
            "weights",
        );
        let context = context.reshape([1, time, heads, head_dim]).swap_dims(1, 2);
        close(
            read(context).await.unwrap(),
            read(expected_context).await.unwrap(),
            "context",
        );
        if let Some([cache_key, cache_value]) = cache {
            let filled = [0..1, 0..heads, 0..seen, 0..head_dim];
            let cache_key = cache_key.slice(filled.clone());
            close(
                read(cache_key).await.unwrap(),
                read(key).await.unwrap(),
                "cached keys",
            );
            let cache_value = cache_value.slice(filled);
            let (a, b) = (read(cache_value).await.unwrap(), read(value).await.unwrap());
            close(a, b, "cached values");
        }
    }
}

/// The GPU's concatenation (six parts a launch) lays parts end to end as burn's `cat` does, over
/// more parts than a launch takes and parts of any length.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn concatenation_kernel_matches_burns_cat() {
    use burn::tensor::{Tensor, TensorData};
    use kindling::device::read_floats;
    kindling::web::start();
    let gpu = test_gpu().await;
    let device = gpu.device.clone().inner();
    let lengths = [5, 64, 1, 130, 7, 3, 256, 2, 9, 33, 1, 70, 4, 17];
    let (mut parts, mut expected) = (Vec::new(), Vec::<f32>::new());
    for (p, &n) in lengths.iter().enumerate() {
        let values: Vec<f32> = (0..n).map(|i| (p * 1000 + i) as f32).collect();
        expected.extend(&values);
        parts.push(Tensor::<1>::from_data(
            TensorData::new(values, [n]),
            &device,
        ));
    }
    let joined = kindling::kernels::concatenate::concatenate(parts);
    assert_eq!(read_floats(joined).await.unwrap(), expected);
}

/// AdamW's kernel on WebGPU takes the steps burn's ops take on the CPU: the first (no moments
/// yet) and later ones, with weight decay and without.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn adamw_kernel_matches_burns_ops() {
    use burn::module::ParamId;
    use burn::tensor::{Device, Tensor, TensorData};
    use kindling::config::Config;
    use kindling::device::read_floats;
    use kindling::optim::AdamW;
    kindling::web::start();
    let gpu = test_gpu().await;
    let config = Config {
        weight_decay: 0.1,
        ..Config::tiny()
    };
    let n = 300;
    let tensor = |seed: usize, device: &Device| {
        let values = (0..n).map(|i| ((i * 31 + seed) % 29) as f32 / 7.0 - 2.0);
        Tensor::<1>::from_data(TensorData::new(values.collect(), [n]), device)
    };
    let run = |device: Device| {
        let mut adamw = AdamW::new(&config);
        async move {
            let (id, mut param) = (ParamId::new(), tensor(0, &device));
            let mut trajectory = Vec::new();
            for step in 0..4 {
                let decay = step % 2 == 0;
                param = adamw.update(id, param, tensor(step * 5 + 1, &device), 0.05, decay);
                trajectory.extend(read_floats(param.clone()).await.unwrap());
            }
            trajectory
        }
    };
    let on_gpu = run(gpu.device.clone().inner()).await;
    let on_cpu = run(kindling::device::cpu()).await;
    let worst = fused::largest_difference(&on_gpu, &on_cpu);
    assert!(worst < 1e-5, "the parameters differ by {worst}");
    assert!(on_cpu[n..2 * n] != on_cpu[..n], "the steps moved nothing");
}

/// AdamW over every parameter at once on WebGPU (`update_all`: one launch, the decaying ones
/// first, and a parameter of unaligned length apart) takes the steps that one update a
/// parameter takes on the CPU, with moments carried from one
/// call to the next, through a step taken one by one, and joined again after it.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn adamw_over_every_parameter_at_once_matches_one_by_one() {
    use burn::module::ParamId;
    use burn::tensor::{Device, Tensor, TensorData};
    use kindling::config::Config;
    use kindling::device::read_floats;
    use kindling::optim::AdamW;
    kindling::web::start();
    let gpu = test_gpu().await;
    let config = Config {
        weight_decay: 0.1,
        ..Config::tiny()
    };
    // Two lengths that keep views aligned (in one launch) and one that does not (apart).
    let (lengths, decays) = ([320, 70, 128], [false, true, true]);
    let ids = lengths.map(|_| ParamId::new());
    let tensor = |n: usize, seed: usize, device: &Device| {
        let values = (0..n).map(|i| ((i * 31 + seed) % 29) as f32 / 7.0 - 2.0);
        Tensor::<1>::from_data(TensorData::new(values.collect(), [n]), device)
    };
    let run = |device: Device, at_once: [bool; 4]| {
        let mut adamw = AdamW::new(&config);
        async move {
            let mut params: Vec<_> = lengths.iter().map(|&n| tensor(n, 3, &device)).collect();
            let mut trajectory = Vec::new();
            for (step, at_once) in at_once.into_iter().enumerate() {
                let grads = lengths.map(|n| tensor(n, step * 5 + n, &device));
                params = if at_once {
                    let all: Vec<_> = (0..3)
                        .map(|i| (ids[i], params[i].clone(), grads[i].clone(), decays[i]))
                        .collect();
                    adamw
                        .update_all(0.05, &all)
                        .expect("every parameter at once")
                } else {
                    (0..3)
                        .map(|i| {
                            let (param, grad) = (params[i].clone(), grads[i].clone());
                            adamw.update(ids[i], param, grad, 0.05, decays[i])
                        })
                        .collect()
                };
                for param in &params {
                    trajectory.extend(read_floats(param.clone()).await.unwrap());
                }
            }
            trajectory
        }
    };
    let on_gpu = run(gpu.device.clone().inner(), [true, true, false, true]).await;
    let on_cpu = run(kindling::device::cpu(), [false; 4]).await;
    let worst = fused::largest_difference(&on_gpu, &on_cpu);
    assert!(worst < 1e-5, "the parameters differ by {worst}");
}

#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn cpu_and_webgpu_agree_on_the_same_checkpoint() {
    let options = js(json!({ "text": PHRASE.repeat(40), "backend": "cpu", "seed": 5 }));
    let trained = Kindling::create(options).await.unwrap();
    wait(trained.train_steps(30.0, None)).await.unwrap();
    let bytes = saved(&trained, JsValue::UNDEFINED).await;

    let load =
        |backend: &str| Kindling::from_bytes(bytes.clone(), js(json!({ "backend": backend })));
    let cpu = load("cpu").await.unwrap();
    let gpu = load("webgpu")
        .await
        .unwrap_or_else(|e| panic!("no WebGPU in the test browser: {e:?}"));
    assert_eq!(gpu.backend().unwrap(), "webgpu");
    assert_relative(val_loss(&gpu).await, val_loss(&cpu).await, 1e-3, "val loss");
    // Inspection of a model from a file reads the same inside on both backends.
    let (on_cpu, on_gpu) = (inspect(&cpu, PHRASE).await, inspect(&gpu, PHRASE).await);
    for key in ["attention", "nextLogits"] {
        assert_close(&floats(&on_gpu, key), &floats(&on_cpu, key), 1e-3, key);
    }

    // The same 20 batches (they depend on the seed and step only) on both backends, each
    // step's loss within 1e-3 of the CPU's: the GPU's kernels (attention, layer norm,
    // cross-entropy, AdamW) sum in other orders, and the difference must not grow.
    for step in 0..20 {
        let a = train_loss(&cpu, 1).await;
        let b = train_loss(&gpu, 1).await;
        let what = format!("train loss at step {}", 31 + step);
        assert!(
            (a - b).abs() <= 1e-3,
            "{what}: {b} on WebGPU, {a} on the CPU"
        );
    }

    // And back: weights saved on WebGPU predict the same on the CPU.
    let gpu_bytes = saved(&gpu, JsValue::UNDEFINED).await;
    let back = Kindling::from_bytes(gpu_bytes, js(json!({ "backend": "cpu" })))
        .await
        .unwrap();
    assert_relative(
        val_loss(&back).await,
        val_loss(&gpu).await,
        1e-3,
        "val loss after moving back",
    );
}

/// LoRA on WebGPU: adapters train over the frozen base there, and the merged file the GPU
/// writes predicts on the CPU what the adapted model did on the GPU.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn lora_fine_tunes_on_webgpu_and_merges_for_the_cpu() {
    let options = js(json!({ "text": PHRASE.repeat(40), "backend": "cpu", "seed": 5 }));
    let base = Kindling::create(options).await.unwrap();
    wait(base.train_steps(20.0, None)).await.unwrap();
    let bytes = saved(&base, JsValue::UNDEFINED).await;
    let options = json!({ "text": PHRASE.repeat(40), "backend": "webgpu", "loraRank": 4, "learningRate": 0.01 });
    let tuned = Kindling::fine_tune(bytes, js(options))
        .await
        .unwrap_or_else(|e| panic!("no WebGPU in the test browser: {e:?}"));
    assert_eq!(tuned.backend().unwrap(), "webgpu");
    let split = tuned.parameters().unwrap();
    let count = |key| get(&split, key).as_f64().unwrap();
    assert!(count("trainable") > 0.0 && count("frozen") > count("trainable"));
    let first = train_loss(&tuned, 1).await;
    let later = train_loss(&tuned, 4).await;
    assert!(later < first, "loss {first} -> {later} in 4 steps");

    let merged = saved(&tuned, js(json!({ "merged": true }))).await;
    let cpu = Kindling::from_bytes(merged, js(json!({ "backend": "cpu" })))
        .await
        .unwrap();
    assert_eq!(
        get(&cpu.parameters().unwrap(), "frozen").as_f64(),
        Some(0.0)
    );
    assert_relative(
        val_loss(&cpu).await,
        val_loss(&tuned).await,
        1e-3,
        "merged val loss",
    );
}

/// The recurrent path on WebGPU: training, greedy generation carrying the LSTM state token to
/// token as the CPU does, and bytes that the CPU reads back to the same validation loss.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn an_lstm_trains_generates_and_moves_from_webgpu_to_the_cpu() {
    let options =
        json!({ "text": PHRASE.repeat(20), "model": "lstm", "backend": "webgpu", "seed": 3 });
    let k = on_webgpu(options).await;
    let first = train_loss(&k, 1).await;
    let later = train_loss(&k, 5).await;
    assert!(later < first, "loss {first} -> {later}");

    let greedy = || js(json!({ "maxTokens": 20, "temperature": 0 }));
    let written = stream_text(k.generate("the", greedy()).unwrap()).await;
    assert_eq!(written.chars().count(), 20);

    let bytes = saved(&k, JsValue::UNDEFINED).await;
    let on_cpu = Kindling::from_bytes(bytes, js(json!({ "backend": "cpu" })))
        .await
        .unwrap();
    assert_eq!(on_cpu.step().unwrap(), 6);
    // The state carried token to token on the GPU's kernels writes what the CPU's ops write.
    let on_cpu_written = stream_text(on_cpu.generate("the", greedy()).unwrap()).await;
    assert_eq!(written, on_cpu_written);
    let (inside_gpu, inside_cpu) = (inspect(&k, PHRASE).await, inspect(&on_cpu, PHRASE).await);
    for key in ["hidden", "cell", "gates"] {
        assert_close(
            &floats(&inside_gpu, key),
            &floats(&inside_cpu, key),
            1e-3,
            key,
        );
    }
    assert_relative(
        val_loss(&on_cpu).await,
        val_loss(&k).await,
        1e-3,
        "val loss on the CPU",
    );
}

#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn prefer_webgpu_falls_back_to_the_cpu_when_webgpu_fails() {
    let text = PHRASE.repeat(10);
    let options = json!({ "text": text, "backend": "prefer-webgpu", "debugFailWebgpu": true });
    let k = Kindling::create(js(options)).await.unwrap();
    assert_eq!(k.backend().unwrap(), "cpu");
    let notice = k.notice().unwrap().expect("a notice");
    assert!(notice.starts_with("WebGPU is not available"), "{notice}");
    wait(k.train_steps(2.0, None)).await.unwrap();

    let options = json!({ "text": text, "backend": "webgpu", "debugFailWebgpu": true });
    let error = Kindling::create(js(options)).await.err().unwrap();
    let (_, message) = kindling_error(error, "webgpu-unavailable");
    assert!(message.starts_with("WebGPU is not available"), "{message}");
}

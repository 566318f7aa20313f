//! The JS-facing API in a real browser (`wasm-pack test --headless --chrome`), on the CPU.
#![cfg(target_arch = "wasm32")]

use js_sys::{Error, Promise, Reflect, Uint8Array};
use kindling::web::{GenerationStream, Kindling};
use serde::Serialize;
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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

/// Trains until a chunk's mean loss is below 0.1; returns that loss.
async fn overfit(k: &Kindling) -> f64 {
    for _ in 0..40 {
        let metrics = wait(k.train_steps(25)).await.unwrap();
        let loss = get(&metrics, "trainLoss").as_f64().unwrap();
        if loss < 0.1 {
            return loss;
        }
    }
    panic!("loss did not fall below 0.1 in 1000 steps");
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

async fn learns_and_reproduces(text: &str, prompt: &str, expected: &str) {
    let options =
        js(json!({ "text": text.repeat(40), "preset": "tiny", "backend": "cpu", "seed": 7 }));
    let k = Kindling::create(options).await.unwrap();
    assert_eq!(k.backend(), "cpu");
    let first = get(&wait(k.train_steps(1)).await.unwrap(), "trainLoss")
        .as_f64()
        .unwrap();
    let loss = overfit(&k).await;
    assert!(loss < first, "loss fell from {first} to {loss}");
    let greedy = js(json!({ "maxTokens": expected.chars().count(), "temperature": 0 }));
    let out = stream_text(k.generate(prompt, greedy).unwrap()).await;
    assert_eq!(out, expected);
}

#[wasm_bindgen_test]
async fn trains_until_it_overfits_then_streams_the_text_back() {
    learns_and_reproduces(
        "the quick brown fox jumps over the lazy dog. ",
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

#[wasm_bindgen_test]
async fn a_rejected_config_is_an_error_with_its_message() {
    let options = js(json!({ "text": "far too short", "preset": "baby-gpt" }));
    let error = Kindling::create(options).await.err().expect("rejected");
    let error: Error = error.dyn_into().expect("a JS Error");
    let message = String::from(error.message());
    assert!(
        message.starts_with("the text has 13 characters but the context is 64"),
        "{message}"
    );

    let options = js(json!({ "text": "abc".repeat(100), "nEmbd": 130, "nHead": 4 }));
    let error: Error = Kindling::create(options)
        .await
        .err()
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(
        String::from(error.message()),
        "embedding size 130 is not divisible by 4 heads"
    );
}

#[wasm_bindgen_test]
async fn bytes_round_trip_and_bad_bytes_are_refused() {
    let options = js(json!({ "text": "hello there, general. ".repeat(30), "seed": 3 }));
    let k = Kindling::create(options).await.unwrap();
    wait(k.train_steps(5)).await.unwrap();
    let bytes: Uint8Array = wait(k.to_bytes()).await.unwrap().unchecked_into();
    let restored = Kindling::from_bytes(bytes.clone(), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(restored.step().unwrap(), 5);
    let a = wait(k.train_steps(3)).await.unwrap();
    let b = wait(restored.train_steps(3)).await.unwrap();
    assert_eq!(get(&a, "trainLoss").as_f64(), get(&b, "trainLoss").as_f64());

    let truncated = bytes.subarray(0, bytes.length() / 2);
    let error: Error = Kindling::from_bytes(truncated, JsValue::UNDEFINED)
        .await
        .err()
        .unwrap()
        .dyn_into()
        .unwrap();
    assert!(String::from(error.message()).contains("truncated"));
}

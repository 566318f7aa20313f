//! Losing the GPU mid-training moves training to the CPU without losing work. In its own test
//! page: the lost device is the page's only WebGPU device.
#![cfg(all(target_arch = "wasm32", feature = "webgpu"))]

use js_sys::Reflect;
use kindling::web::Kindling;
use serde::Serialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn train(k: &Kindling, steps: u32) -> JsValue {
    JsFuture::from(k.train_steps(steps as f64, None))
        .await
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_lost_gpu_moves_training_to_the_cpu_from_the_last_completed_step() {
    let options =
        json!({ "text": "the quick brown fox. ".repeat(40), "backend": "webgpu", "seed": 2 })
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap();
    let k = Kindling::create(options)
        .await
        .unwrap_or_else(|e| panic!("no WebGPU in the test browser: {e:?}"));
    let before = train(&k, 5).await;
    Kindling::debug_lose_gpu().await.unwrap();
    let metrics = train(&k, 5).await;

    assert_eq!(k.backend().unwrap(), "cpu");
    assert_eq!(k.step().unwrap(), 10, "continues from step 5");
    let notice = Reflect::get(&metrics, &"notice".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(notice.starts_with("The GPU was lost"), "{notice}");
    assert!(notice.ends_with("continues from step 5"), "{notice}");
    // The CPU took the weights of step 5 and trained on from them: its loss goes on falling
    // from where the GPU's chunk left it (weights lost with the device would start over).
    let loss = |metrics: &JsValue| {
        Reflect::get(metrics, &"trainLoss".into())
            .unwrap()
            .as_f64()
            .unwrap()
    };
    assert!(
        loss(&metrics) < loss(&before),
        "{} then {}",
        loss(&before),
        loss(&metrics)
    );
    let history = k.history().unwrap();
    let steps: Vec<u32> = js_sys::Array::from(&history)
        .iter()
        .map(|point| {
            Reflect::get(&point, &"step".into())
                .unwrap()
                .as_f64()
                .unwrap() as u32
        })
        .collect();
    assert_eq!(
        steps,
        [5, 10],
        "one history point per chunk, on from step 5"
    );
}

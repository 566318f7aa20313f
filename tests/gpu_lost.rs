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
    let k = match Kindling::create(options).await {
        Ok(k) => k,
        Err(_) if option_env!("KINDLING_ALLOW_NO_WEBGPU") == Some("1") => return,
        Err(e) => panic!("no WebGPU in the test browser: {e:?}"),
    };
    train(&k, 5).await;
    Kindling::debug_lose_gpu().await.unwrap();
    let metrics = train(&k, 5).await;

    assert_eq!(k.backend().unwrap(), "cpu");
    assert_eq!(k.step().unwrap(), 10, "continues from step 5");
    let notice = Reflect::get(&metrics, &"notice".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(notice.starts_with("The GPU was lost"), "{notice}");
    let loss = Reflect::get(&metrics, &"trainLoss".into())
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(loss.is_finite());
}

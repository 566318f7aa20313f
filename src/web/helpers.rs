//! Helper workers as the page passes them to `trainSteps`: an object
//! `{ count, gradients(step, shards, weights) }` whose `gradients` sends each of helpers
//! 1..`shards` its shard and resolves to their `[{ loss, grads, model }]` (see `parallel`).
//! Whatever they return is checked here: a malformed reply is a `helper` error, which the page
//! answers by training on without helpers.

use js_sys::{Array, Float32Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::convert::js_message;
use crate::error::Error;
use crate::parallel::{Helpers, ShardGradients};

pub struct HelperWorkers {
    object: JsValue,
    count: usize,
    gradients: Function,
}

impl HelperWorkers {
    pub fn from_js(value: Option<Object>) -> Result<Option<Self>, Error> {
        let Some(object) = value else {
            return Ok(None);
        };
        let invalid = || {
            Error::argument("helpers must be an object { count, gradients(step, shards, weights) }")
        };
        let field = |name: &str| Reflect::get(&object, &name.into()).unwrap_or(JsValue::UNDEFINED);
        let count = field("count")
            .as_f64()
            .filter(|n| n.fract() == 0.0 && (0.0..=64.0).contains(n))
            .ok_or_else(invalid)?;
        let gradients = field("gradients")
            .dyn_into::<Function>()
            .map_err(|_| invalid())?;
        Ok(Some(HelperWorkers {
            object: object.into(),
            count: count as usize,
            gradients,
        }))
    }
}

impl Helpers for HelperWorkers {
    fn count(&self) -> usize {
        self.count
    }

    fn gradients(
        &mut self,
        step: usize,
        shards: usize,
        weights: Vec<f32>,
    ) -> impl std::future::Future<Output = Result<Vec<ShardGradients>, Error>> {
        // Called now, not when the future is polled: the helpers start before this trainer
        // computes its own shard.
        let called = self.gradients.call3(
            &self.object,
            &(step as f64).into(),
            &(shards as f64).into(),
            &Float32Array::from(&weights[..]),
        );
        // `resolve` and `dyn_into` check what JS returned: a JS exception thrown through the
        // wasm frames would leave the model borrowed for good. The JsFuture is made now so
        // that a rejection is handled even if this trainer's own shard fails first.
        let replies = called.map(|value| JsFuture::from(Promise::resolve(&value)));
        async move {
            let thrown = |value| Error::helper(js_message(value));
            let replies = replies.map_err(thrown)?.await.map_err(thrown)?;
            let replies: Array = replies.dyn_into().map_err(|_| {
                Error::helper("helpers.gradients() must resolve to an array of replies")
            })?;
            if replies.length() as usize != shards - 1 {
                return Err(Error::helper(format!(
                    "{} helper replies for {} shards: a helper worker is missing",
                    replies.length(),
                    shards
                )));
            }
            replies.iter().map(reply_gradients).collect()
        }
    }
}

fn reply_gradients(reply: JsValue) -> Result<ShardGradients, Error> {
    let field = |name: &str| Reflect::get(&reply, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let loss = field("loss").as_f64();
    let grads = field("grads").dyn_into::<Float32Array>().ok();
    let model = field("model").as_f64();
    match (loss, grads, model) {
        (Some(loss), Some(grads), Some(model)) => Ok(ShardGradients {
            loss: loss as f32,
            grads: grads.to_vec(),
            model: model as u32,
        }),
        _ => Err(Error::helper(
            "a helper worker replied without { loss, grads, model }",
        )),
    }
}

//! Kindling: train and run tiny language models in the browser.
//!
//! Plain Rust that builds and tests natively: `config` and `tokenizer` are plain data, `model`
//! holds the burn modules, `train`, `parallel`, `adamw`, `sample` and `checkpoint` one idea
//! each. `web` is the thin wasm-bindgen layer the page uses.

pub mod adamw;
pub mod checkpoint;
pub mod config;
pub mod device;
#[cfg(feature = "webgpu")]
pub mod gpu;
pub mod model;
pub mod parallel;
pub mod rng;
pub mod sample;
pub mod tokenizer;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use config::{Config, ConfigError, ModelKind};
pub use sample::{Generator, SamplingOptions, Token};
pub use tokenizer::Tokenizer;
pub use train::{Metrics, TrainError, Trainer};

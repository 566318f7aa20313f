//! Kindling: train and run tiny language models in the browser.
//!
//! Plain Rust that builds and tests natively. What a model is: `config` (its shape and run
//! settings), `tokenizer`, `model`. How it learns: `data`, `train`, `optim`, `parallel` (helpers
//! computing shards of a step). How it writes: `sample`; what happens inside it: `inspect`.
//! How long it trains: `budget` (the shape and schedule that fit a reader's minutes).
//! Around them: `validate` (every check of what a caller sends), `error` (the kinds every
//! failure carries), `params` (walks over a module's parameters), `checkpoint` (every byte
//! layout), `device` and `gpu` (where tensors live), `kernels` (a GPU's own kernels),
//! `session` (the rules between a page's requests and a trainer). `web` is the wasm-bindgen
//! layer, conversions only.

pub mod budget;
pub mod checkpoint;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
#[cfg(feature = "webgpu")]
pub mod gpu;
pub mod inspect;
pub mod interop;
#[cfg(feature = "webgpu")]
pub mod kernels;
pub mod model;
pub mod optim;
pub mod parallel;
pub mod params;
#[cfg(feature = "remote-client")]
pub mod remote;
pub mod rng;
pub mod sample;
pub mod session;
pub mod tokenizer;
pub mod train;
pub mod validate;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use config::{Config, ModelKind, PRESET_NAMES};
pub use error::{Error, ErrorKind, FieldError, Problem};
pub use sample::{Generator, SamplingOptions, Token};
pub use session::Session;
pub use tokenizer::Tokenizer;
pub use train::{Metrics, Trainer};

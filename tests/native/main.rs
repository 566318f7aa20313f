//! The engine's native tests, in one binary: each test binary links all of burn, so one binary
//! instead of six saves minutes of linking in CI.
//!
//! Run them with `cargo nextest run` (as scripts/test.sh does): nextest gives every test its
//! own process, which some need: burn's CPU random generator is one per process, so a test
//! training beside another would see the other's draws between seeding and use (checkpoint,
//! init), and the wgpu runtime is registered once per process (gpu). Plain `cargo test` runs
//! them in threads of one process; use `cargo test -- --test-threads=1` there.
#![cfg(not(target_arch = "wasm32"))]

mod common;

mod checkpoint;
mod cli;
mod engine;
mod fine_tune;
mod fused;
mod fuzz;
#[cfg(feature = "webgpu")]
mod gpu;
mod init;
mod inspect;
mod interop;
mod lora;
mod parallel;
#[cfg(feature = "remote")]
mod remote;
mod session;
mod tokenizer;
mod validate;

//! How weights change each step: AdamW, the learning-rate schedule, global gradient clipping.

pub mod adamw;
pub mod clip;
pub mod schedule;

pub use adamw::{AdamW, Moments};
pub use clip::clip_global_norm;
pub use schedule::learning_rate_at;

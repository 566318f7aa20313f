//! The learning-rate schedule: nanoGPT's `get_lr`.

use crate::config::{Config, Decay};

/// Learning rate at `step`: linear warmup, then a cosine (or linear) fall to the minimum at
/// `max_steps`.
/// burn's schedulers are stateful iterators; a pure function of the step makes a resumed run
/// follow exactly the same schedule.
pub fn learning_rate_at(config: &Config, step: usize) -> f64 {
    let (warmup, max_steps) = (config.warmup_steps, config.max_steps);
    if step < warmup {
        return config.learning_rate * (step + 1) as f64 / (warmup + 1) as f64;
    }
    if step >= max_steps {
        return config.min_learning_rate;
    }
    let progress = (step - warmup) as f64 / (max_steps - warmup).max(1) as f64;
    let coeff = match config.decay {
        Decay::Cosine => 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
        Decay::Linear => 1.0 - progress,
    };
    config.min_learning_rate + coeff * (config.learning_rate - config.min_learning_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_the_minimum() {
        let config = Config::baby_gpt();
        let lr = |step| learning_rate_at(&config, step);
        assert!(lr(0) < lr(50));
        assert!((lr(100) - 1e-3).abs() < 1e-9);
        assert!(lr(1000) < 1e-3 && lr(1000) > 1e-4);
        assert!((lr(2000) - 1e-4).abs() < 1e-12);
        assert!((lr(5000) - 1e-4).abs() < 1e-12);
    }

    #[test]
    fn a_linear_decay_falls_evenly_to_its_end() {
        let config = Config {
            decay: crate::config::Decay::Linear,
            min_learning_rate: 0.0,
            ..Config::baby_gpt()
        };
        let lr = |step| learning_rate_at(&config, step);
        assert!((lr(100) - 1e-3).abs() < 1e-12);
        // Halfway from the warmup's end to the last step: half the rate.
        assert!((lr(1050) - 5e-4).abs() < 1e-12);
        assert!(lr(1999) > 0.0);
        assert_eq!(lr(2000), 0.0);
    }
}

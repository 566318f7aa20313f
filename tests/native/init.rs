//! A new model's weights are drawn when it is made, from its seed: burn would draw them at
//! first use, from whatever state the device's RNG is in by then. Needs its own process
//! (see main.rs).

use burn::tensor::{Distribution, Tensor};
use kindling::device::cpu;
use kindling::params::flat_weights;
use kindling::{Config, Trainer};

#[test]
fn a_new_model_is_drawn_from_its_seed_alone() {
    let first = Trainer::new(crate::common::repeated_text(), Config::tiny(), cpu()).unwrap();
    // Whatever the RNG does before the weights are used must not matter.
    cpu().seed(99);
    let _noise = Tensor::<1>::random([1000], Distribution::Default, &cpu()).into_data();
    let second = Trainer::new(crate::common::repeated_text(), Config::tiny(), cpu()).unwrap();
    let weights = |t: &Trainer| pollster::block_on(flat_weights(t.model())).unwrap();
    assert_eq!(weights(&first), weights(&second));
}

//! The hand-written backward passes against burn's on the CPU (tests/shared/fused.rs; the browser
//! tests run the same comparison on WebGPU).

#[path = "../shared/fused.rs"]
pub mod shared;

use kindling::device::cpu;

#[test]
fn hand_written_backward_passes_match_burns_on_the_cpu() {
    for op in shared::OPS {
        let difference = pollster::block_on(shared::difference(op, &cpu()));
        assert!(difference.output <= 1e-5, "{op}: {difference:?}");
        assert!(
            difference.gradient <= 1e-4 * difference.largest_gradient,
            "{op}: {difference:?}"
        );
        assert!(difference.largest_gradient > 1e-3, "{op}: {difference:?}");
    }
}

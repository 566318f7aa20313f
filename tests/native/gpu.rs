//! The engine on burn's wgpu backend natively (Vulkan; Mesa's lavapipe on a machine without a
//! GPU). Needs its own process: the wgpu runtime is registered once per process. Only with
//! `--features webgpu` (CI tests WebGPU in Chromium instead: see scripts/test.sh).

use crate::common::{repeated_text, PHRASE};
use burn::module::Module;
use kindling::config::Config;
use kindling::device::cpu;
use kindling::gpu::gpu;
use kindling::params::copy_module;
use kindling::sample::SamplingOptions;
use kindling::{checkpoint, Trainer};

#[test]
fn trains_generates_and_saves_on_wgpu() {
    let gpu = pollster::block_on(gpu())
        .unwrap_or_else(|e| panic!("no wgpu adapter (install mesa-vulkan-drivers): {e}"));
    eprintln!("adapter: {}", gpu.adapter);
    let mut trainer = Trainer::new(repeated_text(), Config::tiny(), gpu.device.clone()).unwrap();
    let first = pollster::block_on(trainer.train_steps(1))
        .unwrap()
        .train_loss;
    let mut loss = first;
    while trainer.step() < 600 && loss >= 0.1 {
        loss = pollster::block_on(trainer.train_steps(25))
            .unwrap()
            .train_loss;
    }
    assert!(
        loss < 0.1,
        "loss {loss} after {} steps (from {first})",
        trainer.step()
    );

    let options = SamplingOptions {
        max_tokens: 30,
        temperature: 0.0,
        ..SamplingOptions::default()
    };
    let mut generator = trainer.generator(trainer.tokenizer.encode("the quick").ids, options);
    let mut text = String::new();
    while let Some(token) = pollster::block_on(generator.next()).unwrap() {
        text.push_str(&token.text);
    }
    assert_eq!(text, PHRASE.repeat(2)["the quick".len()..][..30]);

    // Weights saved from the GPU load on the CPU and give the same validation loss.
    let bytes = pollster::block_on(checkpoint::save(&trainer)).unwrap();
    let on_cpu = checkpoint::load(&bytes, cpu()).unwrap();
    let gpu_loss = pollster::block_on(trainer.evaluate()).unwrap();
    let cpu_loss = pollster::block_on(on_cpu.evaluate()).unwrap();
    assert!(
        (gpu_loss - cpu_loss).abs() <= 1e-3 * cpu_loss.abs().max(1e-3),
        "{gpu_loss} vs {cpu_loss}"
    );
    let copied = pollster::block_on(copy_module(trainer.model(), &cpu())).unwrap();
    assert_eq!(copied.devices().len(), 1);
}

//! Native benchmarks, printed as JSON for scripts/bench*.sh: Flex (the CPU backend), and with
//! `--features webgpu` wgpu (Vulkan, Metal or DX12 natively; lavapipe on a GPU-less Linux).
//!
//!   cargo run --release --example bench -- train-baby-gpt --iters 2000 --data PATH
//!   cargo run --release --example bench -- generate --preset baby-gpt --tokens 500
//!   cargo run --release --features webgpu --example bench -- train-speed --backend webgpu --n-embd 256
//!   cargo run --release --example bench -- train-speed --preset seed-lstm

use kindling::config::Config;
use kindling::device::{cpu, now_ms};
use kindling::sample::SamplingOptions;
use kindling::Trainer;
use serde_json::json;

/// Iterations left out of the timing while caches and allocators settle.
const WARMUP: usize = 5;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn shared_text(args: &[String]) -> String {
    let path = arg(args, "--data").unwrap_or_else(|| "../shared/data/tinyshakespeare.txt".into());
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// nanoGPT's baby-GPT recipe; val loss at the end when the run is the whole 2000 iterations
/// (or `--eval` asks for it).
fn train_baby_gpt(args: &[String]) -> serde_json::Value {
    let iters: usize = arg(args, "--iters").map_or(2000, |s| s.parse().expect("--iters N"));
    let mut trainer = Trainer::new(shared_text(args), Config::baby_gpt(), cpu())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut times = Vec::with_capacity(iters);
    let mut last_loss = f32::NAN;
    for i in 0..iters {
        let start = now_ms();
        let metrics = pollster::block_on(trainer.train_steps(1)).expect("training failed");
        times.push(now_ms() - start);
        last_loss = metrics.train_loss;
        if (i + 1) % 250 == 0 {
            eprintln!(
                "step {:>5}  train loss {:.4}  {:.1} ms/iter",
                i + 1,
                last_loss,
                median(times[i.saturating_sub(249)..].to_vec())
            );
        }
    }
    let eval = iters >= 2000 || args.iter().any(|a| a == "--eval");
    let val_loss = eval.then(|| pollster::block_on(trainer.evaluate()).expect("evaluate"));
    json!({
        "iters": iters,
        "msPerIterMedian": median(times[WARMUP.min(iters - 1)..].to_vec()),
        "lastTrainLoss": last_loss,
        "valLoss": val_loss,
    })
}

/// ms per step of baby-GPT's shape (`--n-embd` wide) on `--backend` (cpu | webgpu): the first
/// step (shader compilation on a GPU) on its own, then the median of `--iters` single steps
/// (each reads its loss back) and the mean over one chunk of as many steps.
fn train_speed(args: &[String]) -> serde_json::Value {
    let iters: usize = arg(args, "--iters").map_or(20, |s| s.parse().expect("--iters N"));
    let backend = arg(args, "--backend").unwrap_or_else(|| "cpu".into());
    let preset = arg(args, "--preset").unwrap_or_else(|| "baby-gpt".into());
    let base = Config::preset(&preset).expect("a preset name");
    let n_embd: usize =
        arg(args, "--n-embd").map_or(base.n_embd, |s| s.parse().expect("--n-embd N"));
    let (device, adapter) = match backend.as_str() {
        "cpu" => (cpu(), None::<String>),
        #[cfg(feature = "webgpu")]
        "webgpu" => {
            let gpu = pollster::block_on(kindling::gpu::gpu()).expect("wgpu could not start");
            (gpu.device.clone(), Some(gpu.adapter.clone()))
        }
        other => panic!("backend {other}: use cpu, or webgpu in a build with --features webgpu"),
    };
    let config = Config {
        n_embd,
        eval_interval: 0,
        ..base
    };
    let mut trainer =
        Trainer::new(shared_text(args), config, device).unwrap_or_else(|e| panic!("{e:?}"));
    let mut step = || {
        let start = now_ms();
        pollster::block_on(trainer.train_steps(1)).expect("training failed");
        now_ms() - start
    };
    let first_step_ms = step();
    for _ in 1..WARMUP {
        step();
    }
    let times: Vec<f64> = (0..iters).map(|_| step()).collect();
    let start = now_ms();
    pollster::block_on(trainer.train_steps(iters)).expect("training failed");
    json!({
        "backend": backend,
        "adapter": adapter,
        "preset": preset,
        "nEmbd": n_embd,
        "firstStepMs": first_step_ms,
        "msPerIterMedian": median(times),
        "chunkedMsPerIter": (now_ms() - start) / iters as f64,
    })
}

/// Generation speed of an untrained model: speed does not depend on the weights.
fn generate(args: &[String]) -> serde_json::Value {
    let preset = arg(args, "--preset").unwrap_or_else(|| "baby-gpt".into());
    let tokens: usize = arg(args, "--tokens").map_or(500, |s| s.parse().expect("--tokens N"));
    let config = Config::preset(&preset).expect("a preset name");
    let trainer =
        Trainer::new(shared_text(args), config, cpu()).unwrap_or_else(|e| panic!("{e:?}"));
    let options = SamplingOptions {
        max_tokens: tokens,
        temperature: 0.8,
        seed: 1,
        ..SamplingOptions::default()
    };
    let prompt = trainer.tokenizer.encode("ROMEO:").ids;
    let mut generator = trainer.generator(prompt, options);
    let start = now_ms();
    let mut first_token_ms = None;
    let mut produced = 0;
    while pollster::block_on(generator.next())
        .expect("generation")
        .is_some()
    {
        first_token_ms.get_or_insert(now_ms() - start);
        produced += 1;
    }
    let seconds = (now_ms() - start) / 1000.0;
    json!({
        "preset": preset,
        "tokens": produced,
        "tokensPerSecond": produced as f64 / seconds,
        "firstTokenMs": first_token_ms,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("train-baby-gpt") => train_baby_gpt(&args),
        Some("generate") => generate(&args),
        Some("train-speed") => train_speed(&args),
        _ => {
            eprintln!("usage: bench train-baby-gpt [--iters N] [--data PATH] [--eval] | generate [--preset P] [--tokens N] | train-speed [--preset P] [--backend cpu|webgpu] [--n-embd N] [--iters N]");
            std::process::exit(2);
        }
    };
    println!("{result}");
}

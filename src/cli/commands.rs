//! The commands that read a saved model: generate, eval, next, info, export, import. They run
//! on the CPU: one forward pass at a time gains little from a GPU at these sizes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::{load, read, read_text, write_atomically};
use crate::config::human_bytes;
use crate::device::{cpu, read_floats};
use crate::error::Error;
use crate::interop::{self, nanogpt};
use crate::model::lora;
use crate::sample::SamplingOptions;
use crate::session::{Placement, Session};
use crate::{checkpoint, Trainer};

#[derive(Args)]
pub struct GenerateArgs {
    /// A .kindling model.
    model: PathBuf,
    /// The text to continue (empty: from the start token).
    #[arg(long, default_value = "")]
    prompt: String,
    /// 0 always takes the likeliest token; higher is more varied.
    #[arg(long, default_value_t = SamplingOptions::default().temperature)]
    temperature: f64,
    #[arg(long, default_value_t = 500)]
    max_tokens: usize,
    /// Sample from the k likeliest tokens only (0: all).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// The same seed writes the same text (0: a new one each time).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn generate(args: GenerateArgs) -> Result<ExitCode, Error> {
    let session = Session::new(load(&args.model, cpu())?, Placement::cpu(None));
    let options = SamplingOptions {
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        top_k: args.top_k,
        seed: args.seed,
        ..SamplingOptions::default()
    };
    let clock_seed = || {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(1, |elapsed| elapsed.as_nanos() as u64)
    };
    let (mut generator, warning) = session.generate(&args.prompt, options, clock_seed)?;
    if let Some(warning) = warning {
        eprintln!("kindling: {warning}");
    }
    let mut out = std::io::stdout().lock();
    let written = |e: std::io::Error| Error::argument(format!("cannot write to stdout: {e}"));
    write!(out, "{}", args.prompt).map_err(written)?;
    while let Some(token) = pollster::block_on(generator.next())? {
        write!(out, "{}", token.text).map_err(written)?;
        out.flush().map_err(written)?;
    }
    writeln!(out).map_err(written)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct EvalArgs {
    /// A .kindling model.
    model: PathBuf,
    /// Evaluate on the held-out end of this text instead of the model's own.
    #[arg(long)]
    text: Option<PathBuf>,
    /// Print JSON ({"step", "valLoss", "bitsPerChar"}) instead of a sentence.
    #[arg(long)]
    json: bool,
    /// Every window of the held-out split, one after another, instead of the config's
    /// evalBatches random ones: the same windows for any model of the same context.
    #[arg(long)]
    all: bool,
}

pub fn eval(args: EvalArgs) -> Result<ExitCode, Error> {
    let mut trainer = load(&args.model, cpu())?;
    let step = trainer.step();
    if let Some(path) = &args.text {
        let config = crate::Config {
            lora_rank: 0,
            ..trainer.config.clone()
        };
        trainer = Trainer::fine_tune(trainer, read_text(path)?, config)?;
    }
    let loss = if args.all {
        pollster::block_on(trainer.evaluate_all())?
    } else {
        pollster::block_on(trainer.evaluate())?
    };
    let bits = trainer.bits_per_char(loss);
    if args.json {
        println!(
            "{}",
            json!({ "step": step, "valLoss": loss, "bitsPerChar": bits })
        );
    } else {
        println!("val loss {loss:.4} · {bits:.3} bits/char");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct NextArgs {
    /// A .kindling model.
    model: PathBuf,
    #[arg(long)]
    prompt: String,
    /// How many of the likeliest next tokens to show.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print the prompt's token ids and the logits after every one of them as JSON.
    #[arg(long)]
    json: bool,
}

pub fn next(args: NextArgs) -> Result<ExitCode, Error> {
    let trainer = load(&args.model, cpu())?;
    let encoded = trainer.tokenizer.encode(&args.prompt);
    if let Some(warning) = encoded.warning() {
        eprintln!("kindling: {warning}");
    }
    let ids = encoded.ids;
    let window = trainer.config.block_size;
    if ids.is_empty() || (trainer.config.model == crate::ModelKind::Gpt && ids.len() > window) {
        return Err(Error::argument(format!(
            "the prompt must hold 1 to {window} tokens the model knows"
        )));
    }
    let model = trainer.inference_model();
    let logits = model.forward(crate::model::tokens(&ids, &burn::tensor::Device::flex()));
    let logits = pollster::block_on(read_floats(logits))?;
    let vocab = trainer.tokenizer.vocab_size();
    if args.json {
        let rows: Vec<&[f32]> = logits.chunks(vocab).collect();
        println!("{}", json!({ "ids": ids, "logits": rows }));
        return Ok(ExitCode::SUCCESS);
    }
    let mut last = logits[logits.len() - vocab..].to_vec();
    trainer.tokenizer.mask_invalid(&[], false, &mut last);
    let probabilities = crate::session::sampling_distribution(
        &last,
        &SamplingOptions {
            temperature: 1.0,
            ..SamplingOptions::default()
        },
    )?;
    let mut ranked: Vec<(usize, f32)> = probabilities.into_iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (id, p) in ranked.into_iter().take(args.top) {
        println!(
            "{:6.2}%  {:?}",
            100.0 * p,
            trainer.tokenizer.token_text(id as u32)
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct InfoArgs {
    /// A .kindling model.
    model: PathBuf,
}

pub fn info(args: InfoArgs) -> Result<ExitCode, Error> {
    let trainer = load(&args.model, cpu())?;
    let size = std::fs::metadata(&args.model).map_or(0, |file| file.len());
    let split = lora::split(trainer.model());
    let config = serde_json::to_string_pretty(&trainer.config).expect("configs serialize");
    println!("{}", args.model.display());
    println!("  step        {}", trainer.step());
    println!(
        "  parameters  {} trainable, {} frozen",
        split.trainable, split.frozen
    );
    println!(
        "  tokenizer   {:?}, {} tokens",
        trainer.tokenizer.kind(),
        trainer.tokenizer.vocab_size()
    );
    println!(
        "  text        {} characters ({} for validation)",
        trainer.text.chars().count(),
        trainer.data().val.len()
    );
    println!("  file        {}", human_bytes(size));
    if let Some(last) = trainer
        .history()
        .iter()
        .rev()
        .find_map(|p| p.val_loss.map(|v| (p.step, v)))
    {
        println!("  val loss    {:.4} at step {}", last.1, last.0);
    }
    println!("  config      {}", config.replace('\n', "\n  "));
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ExportArgs {
    /// A .kindling model.
    model: PathBuf,
    /// The weights file to write (.safetensors); the manifest goes beside it as .json.
    #[arg(long)]
    out: PathBuf,
}

pub fn export(args: ExportArgs) -> Result<ExitCode, Error> {
    let trainer = load(&args.model, cpu())?;
    let exported = pollster::block_on(interop::export(&trainer))?;
    let manifest = args.out.with_extension("json");
    write_atomically(&args.out, &exported.weights)?;
    write_atomically(&manifest, exported.manifest.as_bytes())?;
    eprintln!("wrote {} and {}", args.out.display(), manifest.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ImportArgs {
    /// A .safetensors file (its manifest beside it as .json) or a nanoGPT ckpt.pt.
    weights: PathBuf,
    /// The text the model trains on: the one it was trained on, or one to fine-tune it on.
    #[arg(long)]
    text: PathBuf,
    /// nanoGPT only: the meta.pkl of the dataset (default: beside the checkpoint).
    #[arg(long)]
    meta: Option<PathBuf>,
    /// safetensors only: the manifest (default: the weights' path with .json, else the one in
    /// the weights' metadata).
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Where to save the Kindling model.
    #[arg(long)]
    out: PathBuf,
}

pub fn import(args: ImportArgs) -> Result<ExitCode, Error> {
    let text = read_text(&args.text)?;
    let trainer = if is_safetensors(&args.weights) {
        let beside = args.weights.with_extension("json");
        let manifest = match args.manifest {
            Some(path) => Some(read_text(&path)?),
            None if beside.exists() => Some(read_text(&beside)?),
            None => None,
        };
        interop::import(read(&args.weights)?, manifest.as_deref(), text, cpu())?
    } else {
        let meta = args
            .meta
            .unwrap_or_else(|| beside(&args.weights, "meta.pkl"));
        if !meta.exists() {
            return Err(Error::argument(format!(
                "no vocabulary at {}: pass the dataset's meta.pkl with --meta",
                meta.display()
            )));
        }
        nanogpt::import(&args.weights, &meta, text, cpu())?
    };
    let bytes = pollster::block_on(checkpoint::save(&trainer))?;
    write_atomically(&args.out, &bytes)?;
    eprintln!(
        "step {} model saved to {}",
        trainer.step(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn is_safetensors(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension == "safetensors")
}

fn beside(path: &Path, name: &str) -> PathBuf {
    path.with_file_name(name)
}

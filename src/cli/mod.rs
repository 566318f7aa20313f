//! The `kindling` command line: the page's engine on a terminal, with the same `Config`, the
//! same validation and the same `.kindling` files. Native only.
//!
//! Every failure is a `kindling::Error`, printed as one line; the exit status is 2 for a bad
//! argument or config and 1 for the rest (130 after Ctrl-C, once the model is saved).

mod commands;
mod train;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::tensor::Device;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, ErrorKind};
use crate::{checkpoint, Trainer};

#[derive(Parser)]
#[command(
    name = "kindling",
    version,
    about = "Train and run tiny language models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model on a text (or continue one) and save it.
    Train(train::TrainArgs),
    /// Write text with a model, token by token, to stdout.
    Generate(commands::GenerateArgs),
    /// A model's validation loss and bits per character, on its own text or another.
    Eval(commands::EvalArgs),
    /// What the model expects after a prompt: its next-token probabilities (or every logit).
    Next(commands::NextArgs),
    /// A model's config, step, sizes and tokenizer.
    Info(commands::InfoArgs),
    /// Write a model as safetensors with a JSON manifest beside it (nanoGPT's names for a GPT).
    Export(commands::ExportArgs),
    /// Make a Kindling model from safetensors + manifest or a nanoGPT ckpt.pt + meta.pkl.
    Import(commands::ImportArgs),
}

/// Where the tensors live.
#[derive(Args)]
struct BackendArgs {
    /// cpu (burn's Flex) always; wgpu and cuda in builds with those features.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    Cpu,
    Wgpu,
    Cuda,
}

impl BackendArgs {
    /// The device to train on (with autodiff).
    fn device(&self) -> Result<Device, Error> {
        let missing = |feature: &str| {
            Error::argument(format!(
                "this kindling was built without {feature}: build it with `cargo install --path . --features {feature}`"
            ))
        };
        match self.backend {
            Backend::Cpu => Ok(crate::device::cpu()),
            #[cfg(feature = "webgpu")]
            Backend::Wgpu => pollster::block_on(crate::gpu::gpu())
                .map(|gpu| {
                    eprintln!("wgpu: {}", gpu.adapter);
                    gpu.device.clone()
                })
                .map_err(Error::device),
            #[cfg(not(feature = "webgpu"))]
            Backend::Wgpu => Err(missing("wgpu")),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(0).autodiff()),
            #[cfg(not(feature = "cuda"))]
            Backend::Cuda => Err(missing("cuda")),
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train::run(args),
        Command::Generate(args) => commands::generate(args),
        Command::Eval(args) => commands::eval(args),
        Command::Next(args) => commands::next(args),
        Command::Info(args) => commands::info(args),
        Command::Export(args) => commands::export(args),
        Command::Import(args) => commands::import(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("kindling: {}", error.message);
            match error.kind {
                ErrorKind::Argument | ErrorKind::Config => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::argument(format!("cannot read {}: {e}", path.display())))
}

fn read_text(path: &Path) -> Result<String, Error> {
    String::from_utf8(read(path)?).map_err(|_| {
        Error::argument(format!(
            "{} is not UTF-8 text: save it as UTF-8 (plain text) and try again",
            path.display()
        ))
    })
}

fn load(path: &Path, device: Device) -> Result<Trainer, Error> {
    checkpoint::load(&read(path)?, device).map_err(|e| Error {
        message: format!("{}: {}", path.display(), e.message),
        ..e
    })
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a crash or
/// a full disk never leaves half a file where a model was.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let failed =
        |e: std::io::Error| Error::argument(format!("cannot write {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.as_file().sync_all().map_err(failed)?;
    file.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

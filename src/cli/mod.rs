//! The `kindling` command line: the page's engine on a terminal, with the same `Config`, the
//! same validation and the same `.kindling` files. Native only.
//!
//! Every failure is a `kindling::Error`, printed as one line; the exit status is 2 for a bad
//! argument or config and 1 for the rest (130 after Ctrl-C, once the model is saved).

mod commands;
mod peer;
mod train;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::tensor::Device;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, ErrorKind};
use crate::session::Placement;
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
    /// Lend this machine's device to `kindling train --backend remote` or a page (burn's remote
    /// server).
    Peer(peer::PeerArgs),
}

/// Where the tensors live.
#[derive(Args)]
struct BackendArgs {
    /// cpu (burn's Flex) always; wgpu, cuda and remote in builds with those features.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// remote: the peer's address, as `kindling peer` printed it (ws://host:port, or
    /// <peer id>@http://host:port for a peer serving pages).
    #[arg(long, required_if_eq("backend", "remote"))]
    peer: Option<String>,
    /// remote: the peer's secret, as `kindling peer` printed it.
    #[arg(long, env = "KINDLING_PEER_SECRET", hide_env_values = true)]
    secret: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Cpu,
    Wgpu,
    Cuda,
    Remote,
}

fn built_without(feature: &str) -> Error {
    Error::argument(format!(
        "this kindling was built without {feature}: build it with `cargo install --path . --features {feature}`"
    ))
}

impl BackendArgs {
    /// The device to train on (with autodiff), as a session places it: a GPU or a peer that is
    /// lost mid-run hands training to the CPU (`Session::train`).
    fn placement(&self) -> Result<Placement, Error> {
        match self.backend {
            Backend::Cpu => Ok(Placement::cpu(None)),
            #[cfg(feature = "webgpu")]
            Backend::Wgpu => pollster::block_on(crate::gpu::gpu()).map(|gpu| {
                Placement::on(
                    gpu.device.clone(),
                    crate::device::Backend::WebGpu,
                    gpu.adapter.clone(),
                )
            }),
            #[cfg(not(feature = "webgpu"))]
            Backend::Wgpu => Err(built_without("wgpu")),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Placement::on(
                Device::cuda(0).autodiff(),
                crate::device::Backend::Cuda,
                "CUDA device 0".into(),
            )),
            #[cfg(not(feature = "cuda"))]
            Backend::Cuda => Err(built_without("cuda")),
            #[cfg(feature = "remote")]
            Backend::Remote => {
                let url = self
                    .peer
                    .as_deref()
                    .expect("clap requires --peer with remote");
                let secret = self.secret.as_deref().ok_or_else(|| {
                    Error::argument("--backend remote needs the peer's secret: --secret or KINDLING_PEER_SECRET")
                })?;
                let address: crate::remote::PeerAddress = url.parse()?;
                let device = pollster::block_on(crate::remote::connect(&address, secret))?;
                Ok(Placement::on(
                    device,
                    crate::device::Backend::Remote,
                    address.device(),
                ))
            }
            #[cfg(not(feature = "remote"))]
            Backend::Remote => Err(built_without("remote")),
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
        Command::Peer(args) => peer::run(args),
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks a command line's definition only when it parses one: here, every command.
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}

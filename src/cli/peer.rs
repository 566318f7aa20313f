//! `kindling peer`: burn's remote server on this machine's device, for `kindling train
//! --backend remote` (src/remote.rs, docs/remote.md).

use std::io::Write;
use std::net::TcpListener;
use std::process::ExitCode;

use clap::Args;

use super::{Backend, BackendArgs};
use crate::error::Error;

#[derive(Args)]
pub struct PeerArgs {
    /// Address and port to listen on; port 0 picks a free one. Other machines can reach a peer
    /// only on a non-loopback address, and then see its traffic unencrypted (docs/remote.md).
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: String,
    /// What clients must present (default: 128 random bits, printed).
    #[arg(long, env = "KINDLING_PEER_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// The device to lend: cpu always; wgpu and cuda in builds with those features.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
}

pub fn run(args: PeerArgs) -> Result<ExitCode, Error> {
    let listener = TcpListener::bind(&args.listen)
        .map_err(|e| Error::argument(format!("cannot listen on {}: {e}", args.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::device(format!("cannot read the listening address: {e}")))?;
    let secret = match args.secret {
        Some(secret) => secret,
        None => random_secret()?,
    };
    if args.backend == Backend::Remote {
        return Err(Error::argument(
            "a peer serves its own device: --backend cpu, wgpu or cuda",
        ));
    }
    let placement = BackendArgs {
        backend: args.backend,
        peer: None,
        secret: None,
    }
    .placement()?;
    let device = placement.device.clone().inner();
    let what = placement.adapter.unwrap_or_else(|| "cpu".into());
    // On stdout for people and scripts (the tests read the first line), and not a reason to
    // stop serving when whoever reads it goes away.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "kindling peer: serving {what} on ws://{address}");
    let _ = writeln!(
        out,
        "connect with: KINDLING_PEER_SECRET={secret} kindling train --backend remote --peer ws://{address} …"
    );
    let _ = out.flush();
    drop(out);
    serve(device, listener, &secret)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "remote")]
fn serve(device: burn::tensor::Device, listener: TcpListener, secret: &str) -> Result<(), Error> {
    crate::remote::serve(device, listener, secret)
}

#[cfg(not(feature = "remote"))]
fn serve(_: burn::tensor::Device, _: TcpListener, _: &str) -> Result<(), Error> {
    Err(super::built_without("remote"))
}

fn random_secret() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::device(format!("cannot draw a random secret: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

//! `kindling peer`: burn's remote server on this machine's device, for `kindling train
//! --backend remote` and pages (src/remote.rs, docs/remote.md).

use std::io::Write;
use std::net::{TcpListener, ToSocketAddrs};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{Backend, BackendArgs};
use crate::error::Error;

#[derive(Args)]
pub struct PeerArgs {
    /// Address and port to listen on; port 0 picks a free one. Other machines can reach a peer
    /// only on a non-loopback address (docs/remote.md#security-model).
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: String,
    /// What clients must present (default: 128 random bits, printed).
    #[arg(long, env = "KINDLING_PEER_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// The device to lend: cpu always; wgpu and cuda in builds with those features.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// websocket: for `kindling train` (one TCP port, unencrypted). iroh: for pages too (a relay
    /// on --listen that pages and command lines reach the peer through, encrypted end to end).
    #[arg(long, value_enum, default_value_t = Transport::Websocket)]
    transport: Transport,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    Websocket,
    Iroh,
}

pub fn run(args: PeerArgs) -> Result<ExitCode, Error> {
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
    let cannot_listen =
        |e: std::io::Error| Error::argument(format!("cannot listen on {}: {e}", args.listen));
    match args.transport {
        Transport::Websocket => {
            let listener = TcpListener::bind(&args.listen).map_err(cannot_listen)?;
            let address = listener.local_addr().map_err(cannot_listen)?;
            announce(&what, &format!("ws://{address}"), &secret, "");
            serve(device, listener, &secret)?;
        }
        Transport::Iroh => {
            let listen = args
                .listen
                .to_socket_addrs()
                .map_err(cannot_listen)?
                .next()
                .ok_or_else(|| Error::argument(format!("{} names no address", args.listen)))?;
            serve_pages(device, &what, listen, &secret, |address| {
                announce(
                    &what,
                    address,
                    &secret,
                    " or from a page's \"Connect to a GPU peer…\"",
                );
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Says where the peer is and how to connect: on stdout for people and scripts (the tests read
/// the first line), and not a reason to stop serving when whoever reads it goes away.
fn announce(what: &str, address: &str, secret: &str, also: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "kindling peer: serving {what} on {address}");
    let _ = writeln!(
        out,
        "connect with: KINDLING_PEER_SECRET={secret} kindling train --backend remote --peer {address} …{also}"
    );
    let _ = out.flush();
}

#[cfg(feature = "remote")]
use crate::remote::{serve, serve_pages};

#[cfg(not(feature = "remote"))]
fn serve(_: burn::tensor::Device, _: TcpListener, _: &str) -> Result<(), Error> {
    Err(super::built_without("remote"))
}

#[cfg(not(feature = "remote"))]
fn serve_pages(
    _: burn::tensor::Device,
    _: &str,
    _: std::net::SocketAddr,
    _: &str,
    _: impl FnOnce(&str),
) -> Result<(), Error> {
    Err(super::built_without("remote"))
}

fn random_secret() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::device(format!("cannot draw a random secret: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

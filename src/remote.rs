//! A compute peer and a client of it: burn's remote backend over its WebSocket transport
//! (burn-remote, `remote` feature, native only). The peer serves one of its devices; a client's
//! tensors live there and every tensor operation runs there, while the autodiff graph stays with
//! the client. Only clients presenting the peer's secret get a session (burn's
//! `TokenAuthorizer`); each decision is a line on the peer's stderr. The WebSocket transport is
//! unencrypted: the secret and the tensors cross the network in clear, so a peer listens on
//! loopback unless told otherwise (docs/remote.md).

use std::net::TcpListener;

use burn::tensor::remote::RemoteHost;
use burn::tensor::server::{
    AuthorizationRequest, PeerAuthorizer, RemoteServer, TokenAuthorizer, WebSocketTransport,
};
use burn::tensor::Device;

use crate::error::Error;

/// Serves `device` (without autodiff: the graph is the client's) on `listener` to clients that
/// present `secret`, until the process ends.
pub fn serve(device: Device, listener: TcpListener, secret: &str) -> Result<(), Error> {
    let tokens = TokenAuthorizer::new(secret)
        .map_err(|_| Error::argument("the peer's secret must not be empty"))?;
    let authorizer = move |request: AuthorizationRequest<'_>| {
        let client = request.client;
        let verdict = tokens.authorize(request);
        match &verdict {
            Ok(()) => eprintln!("kindling peer: session opened for {client}"),
            Err(reason) => eprintln!("kindling peer: refused {client}: {reason}"),
        }
        verdict
    };
    RemoteServer::new([device])
        .with_authorizer(authorizer)
        .serve(WebSocketTransport::from_listener(listener))
        .map_err(|e| Error::device(format!("the peer stopped: {e}")))
}

/// A training device (with autodiff) on the peer at `url` (`ws://host:port`), which must
/// accept `secret`.
pub fn connect(url: &str, secret: &str) -> Result<Device, Error> {
    let host = RemoteHost::websocket(url).with_credential(secret);
    Device::remote_options(&host)
        .init()
        .map(Device::autodiff)
        .map_err(|e| {
            Error::device(format!(
                "could not train on the peer at {url} ({e}): check the address and the secret the peer printed"
            ))
        })
}

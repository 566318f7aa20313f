//! A compute peer and its clients: burn's remote backend (burn-remote). The peer serves one of
//! its devices; a client's tensors live there and every tensor operation runs there, while the
//! autodiff graph stays with the client. Only clients presenting the peer's secret get a
//! session (burn's `TokenAuthorizer`); each decision is a line on the peer's stderr.
//!
//! Two transports, one per kind of client (docs/remote.md#transports-what-works-where-burn-0221-measured-2026-11-30): the command line reaches
//! a peer over WebSocket (`ws://host:port`: one TCP port, unencrypted, so loopback by default);
//! a page can only use Iroh, whose browser client reaches the peer through a relay over a
//! WebSocket of its own (QUIC, end-to-end encrypted), so a peer serving pages runs that relay
//! itself and is addressed as `<endpoint id>@<relay url>#<device>` (the device's name, as
//! the peer declares it, for the page's badge: burn's protocol does not carry it).

use std::str::FromStr;

use burn::tensor::remote::{ConnectError, EndpointId, IrohHost, RelayUrl, RemoteHost};
use burn::tensor::Device;

use crate::error::{Error, ErrorKind};

/// Where a peer is, as `kindling peer` prints it.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerAddress {
    /// `ws://host:port`: burn's WebSocket transport (the command line's, native only).
    WebSocket(String),
    /// `<endpoint id>@<relay url>[#<device>]`: burn's Iroh transport through the peer's relay.
    Iroh {
        id: EndpointId,
        relay: RelayUrl,
        device: Option<String>,
    },
}

impl FromStr for PeerAddress {
    type Err = Error;

    fn from_str(address: &str) -> Result<Self, Error> {
        let address = address.trim();
        if address.starts_with("ws://") || address.starts_with("wss://") {
            return Ok(PeerAddress::WebSocket(address.to_string()));
        }
        let unknown = |why: String| {
            Error::argument(format!(
                "{address:?} is not a peer's address ({why}): give the address `kindling peer` \
                 printed, ws://host:port or <peer id>@http://host:port"
            ))
        };
        let (id, relay) = address
            .split_once('@')
            .ok_or_else(|| unknown("no ws:// and no @".into()))?;
        let (relay, device) = match relay.split_once('#') {
            Some((relay, device)) => (relay, Some(device.replace('_', " "))),
            None => (relay, None),
        };
        Ok(PeerAddress::Iroh {
            device,
            id: id
                .parse()
                .map_err(|e| unknown(format!("bad peer id: {e}")))?,
            relay: relay
                .parse()
                .map_err(|e| unknown(format!("bad relay URL: {e}")))?,
        })
    }
}

impl PeerAddress {
    /// How the page's badge names the peer's device: as the peer declared it, else by its
    /// address.
    pub fn device(&self) -> String {
        match self {
            PeerAddress::WebSocket(url) => format!("peer at {url}"),
            PeerAddress::Iroh {
                device: Some(device),
                ..
            } => device.clone(),
            PeerAddress::Iroh { id, .. } => format!("peer {}", id.fmt_short()),
        }
    }

    /// The address to dial with a declared device: `id@relay#device`, spaces as `_`.
    pub fn with_device(id: EndpointId, relay: &RelayUrl, device: &str) -> String {
        let relay = relay.as_str().trim_end_matches('/');
        format!("{id}@{relay}#{}", device.replace(' ', "_"))
    }

    async fn host(&self) -> Result<RemoteHost, Error> {
        match self {
            #[cfg(feature = "remote")]
            PeerAddress::WebSocket(url) => Ok(RemoteHost::websocket(url)),
            #[cfg(not(feature = "remote"))]
            PeerAddress::WebSocket(url) => Err(Error::argument(format!(
                "{url}: a page reaches a peer only through its relay; start the peer with \
                 `kindling peer --transport iroh` and give the address it prints"
            ))),
            PeerAddress::Iroh { id, relay, .. } => iroh_host(*id, relay).await,
        }
    }
}

/// Natively, burn binds the endpoint that dials the peer through its relay.
#[cfg(not(target_arch = "wasm32"))]
async fn iroh_host(id: EndpointId, relay: &RelayUrl) -> Result<RemoteHost, Error> {
    let relays = burn::tensor::remote::IrohRelays::Private { url: relay.clone() };
    Ok(RemoteHost::iroh(IrohHost::new(id).with_relays(relays)))
}

/// In a browser, an endpoint of our own, for the one setting burn's lacks: how long a silent
/// connection lives. Iroh's default, 30 s, was how long a page waited on a peer killed mid-run
/// before training moved to the CPU. Above iroh's 5 s keep-alive, so a peer busy computing (it
/// answers keep-alives meanwhile) is never dropped. One endpoint per relay, kept for the page.
#[cfg(target_arch = "wasm32")]
async fn iroh_host(id: EndpointId, relay: &RelayUrl) -> Result<RemoteHost, Error> {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use burn::tensor::remote::{Endpoint, EndpointAddr};
    use iroh::endpoint::{presets, QuicTransportConfig};
    use iroh::RelayMode;

    const SILENCE: std::time::Duration = std::time::Duration::from_secs(10);
    thread_local! {
        static ENDPOINTS: RefCell<HashMap<RelayUrl, Endpoint>> = RefCell::new(HashMap::new());
    }
    let open = ENDPOINTS.with_borrow(|all| all.get(relay).filter(|e| !e.is_closed()).cloned());
    let endpoint = match open {
        Some(endpoint) => endpoint,
        None => {
            let silence = SILENCE
                .try_into()
                .expect("10 s is a valid QUIC idle timeout");
            let endpoint = Endpoint::builder(presets::Minimal)
                .relay_mode(RelayMode::custom([relay.clone()]))
                .transport_config(
                    QuicTransportConfig::builder()
                        .max_idle_timeout(Some(silence))
                        .build(),
                )
                .bind()
                .await
                .map_err(|e| {
                    let message = format!("this page could not start its Iroh endpoint: {e}");
                    Error::new(ErrorKind::PeerUnreachable, message)
                })?;
            ENDPOINTS.with_borrow_mut(|all| all.insert(relay.clone(), endpoint.clone()));
            endpoint
        }
    };
    let address = EndpointAddr::new(id).with_relay_url(relay.clone());
    Ok(RemoteHost::iroh(
        IrohHost::new(address).with_endpoint(endpoint),
    ))
}

/// A training device (with autodiff) on the peer at `address`, which must accept `secret`.
pub async fn connect(address: &PeerAddress, secret: &str) -> Result<Device, Error> {
    let host = address.host().await?.with_credential(secret);
    let options = Device::remote_options(&host);
    // A browser cannot block: it waits for the handshake.
    #[cfg(target_arch = "wasm32")]
    let device = options.init_async().await;
    #[cfg(not(target_arch = "wasm32"))]
    let device = options.init();
    device.map(Device::autodiff).map_err(|e| match e {
        ConnectError::Unauthorized => Error::new(
            ErrorKind::PeerRefused,
            "the peer refused the secret: give the one it printed when it started",
        ),
        e => Error::new(
            ErrorKind::PeerUnreachable,
            format!(
                "could not reach the peer ({e}): check the address it printed and that it is \
                 still running"
            ),
        ),
    })
}

#[cfg(all(feature = "remote", not(target_arch = "wasm32")))]
pub use peer::{serve, serve_pages};

#[cfg(all(feature = "remote", not(target_arch = "wasm32")))]
mod peer {
    use std::net::{SocketAddr, TcpListener};

    use burn::tensor::remote::{IrohRelays, RelayUrl};
    use burn::tensor::server::{
        AuthorizationRequest, IrohIdentity, IrohTransport, PeerAuthorizer, RemoteServer,
        TokenAuthorizer, WebSocketTransport,
    };
    use burn::tensor::Device;
    use iroh_relay::server::{RelayConfig, Server, ServerConfig};

    use super::PeerAddress;
    use crate::error::Error;

    /// Serves `device` (without autodiff: the graph is the client's) over WebSocket on
    /// `listener` to clients that present `secret`, until the process ends.
    pub fn serve(device: Device, listener: TcpListener, secret: &str) -> Result<(), Error> {
        server(device, secret)?
            .serve(WebSocketTransport::from_listener(listener))
            .map_err(stopped)
    }

    /// Serves `device` over Iroh to clients that present `secret`, pages included: starts a
    /// relay on `listen` (plain HTTP: the relay only forwards QUIC packets that are encrypted
    /// end to end), tells `ready` the address clients dial (`<id>@http://…#<device_name>`), and
    /// serves until the process ends.
    pub fn serve_pages(
        device: Device,
        device_name: &str,
        listen: SocketAddr,
        secret: &str,
        ready: impl FnOnce(&str),
    ) -> Result<(), Error> {
        let server = server(device, secret)?;
        // The relay runs on its own runtime's threads while `serve` blocks this one.
        let runtime = tokio::runtime::Runtime::new()
            .map_err(|e| Error::device(format!("cannot start the relay's runtime: {e}")))?;
        let mut config = ServerConfig::default();
        config.relay = Some(RelayConfig::new(listen));
        let relay = runtime
            .block_on(Server::spawn(config))
            .map_err(|e| Error::argument(format!("cannot start the relay on {listen}: {e}")))?;
        let bound = relay
            .http_addr()
            .ok_or_else(|| Error::device("the relay has no HTTP address"))?;
        let url: RelayUrl = format!("http://{bound}")
            .parse()
            .map_err(|e| Error::device(format!("the relay's URL: {e}")))?;
        let transport = IrohTransport::new(IrohIdentity::random())
            .with_relays(IrohRelays::Private { url: url.clone() });
        ready(&PeerAddress::with_device(transport.id(), &url, device_name));
        server.serve(transport).map_err(stopped)
    }

    /// burn's server on `device`, admitting only `secret`'s holders and logging each decision.
    fn server(device: Device, secret: &str) -> Result<RemoteServer, Error> {
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
        Ok(RemoteServer::new([device]).with_authorizer(authorizer))
    }

    fn stopped(e: impl std::fmt::Display) -> Error {
        Error::device(format!("the peer stopped: {e}"))
    }
}

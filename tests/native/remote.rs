//! A compute peer on 127.0.0.1 (a `kindling peer` process) and clients of it, over both
//! transports (WebSocket; Iroh through the peer's own relay, as pages reach it): the same
//! losses as on the local CPU, a wrong secret refused and logged, and a peer that goes away
//! mid-run handing training to the CPU. Every test starts its peer and kills it when done.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use kindling::config::Config;
use kindling::device::cpu;
use kindling::{checkpoint, remote, ErrorKind, Trainer};

const SECRET: &str = "correct horse battery staple";

/// A `kindling peer` on a free loopback port, killed when dropped.
struct Peer {
    process: Child,
    url: String,
}

impl Peer {
    /// `transport`: `websocket` or `iroh`.
    fn start(transport: &str) -> Peer {
        let mut process = Command::new(env!("CARGO_BIN_EXE_kindling"))
            .args(["peer", "--listen", "127.0.0.1:0", "--secret", SECRET])
            .args(["--transport", transport])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Its first line: "kindling peer: serving cpu on ws://127.0.0.1:PORT" (or
        // ID@http://127.0.0.1:PORT#cpu). The pipe closes after it, as a terminal may: the peer
        // goes on serving.
        let mut line = String::new();
        BufReader::new(process.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(
            url.starts_with("ws://127.0.0.1:") || url.contains("@http://127.0.0.1:"),
            "{line}"
        );
        Peer { process, url }
    }

    /// Stops the peer; what it wrote on stderr.
    fn stop(mut self) -> String {
        self.process.kill().unwrap();
        self.process.wait().unwrap();
        let mut log = String::new();
        self.process
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        log
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn text() -> String {
    crate::common::PHRASE.repeat(60)
}

fn connect(url: &str, secret: &str) -> Result<burn::tensor::Device, kindling::Error> {
    pollster::block_on(remote::connect(&url.parse().unwrap(), secret))
}

#[test]
fn training_on_a_peer_gives_the_local_cpus_losses() {
    same_losses_as_the_cpu("websocket", "WebSocket client 127.0.0.1:");
}

#[test]
fn training_on_a_peer_through_its_relay_gives_the_local_cpus_losses() {
    same_losses_as_the_cpu("iroh", "Iroh client ");
}

/// Trains the same checkpoint here and on a peer over `transport`, whose log then names a
/// `client`.
fn same_losses_as_the_cpu(transport: &str, client: &str) {
    let peer = Peer::start(transport);
    let start = Trainer::new(text(), Config::tiny(), cpu()).unwrap();
    let bytes = pollster::block_on(checkpoint::save(&start)).unwrap();
    let mut local = checkpoint::load(&bytes, cpu()).unwrap();
    let mut remote = checkpoint::load(&bytes, connect(&peer.url, SECRET).unwrap()).unwrap();
    for _ in 0..3 {
        let here = pollster::block_on(local.train_steps(5)).unwrap().train_loss;
        let there = pollster::block_on(remote.train_steps(5))
            .unwrap()
            .train_loss;
        assert!(
            (here - there).abs() <= 1e-5 * here.abs(),
            "{here} vs {there}"
        );
    }
    let here = pollster::block_on(local.evaluate()).unwrap();
    let there = pollster::block_on(remote.evaluate()).unwrap();
    assert!(
        (here - there).abs() <= 1e-5 * here.abs(),
        "{here} vs {there}"
    );
    // Saved from the peer, the model reads back on the CPU.
    let saved = pollster::block_on(checkpoint::save(&remote)).unwrap();
    assert_eq!(checkpoint::load(&saved, cpu()).unwrap().step(), 15);
    drop(remote);
    let log = peer.stop();
    assert!(
        log.contains(&format!("session opened for {client}")),
        "{log}"
    );
}

#[test]
fn a_client_with_a_wrong_secret_is_refused_and_logged() {
    for (transport, client) in [
        ("websocket", "WebSocket client 127.0.0.1:"),
        ("iroh", "Iroh client "),
    ] {
        let peer = Peer::start(transport);
        let error = match connect(&peer.url, "guess") {
            Ok(_) => panic!("a wrong secret was let in over {transport}"),
            Err(error) => error,
        };
        assert_eq!(error.kind, ErrorKind::PeerRefused, "{}", error.message);
        let log = peer.stop();
        assert!(log.contains(&format!("refused {client}")), "{log}");
        assert!(!log.contains("session opened"), "{log}");
    }
}

#[test]
fn an_address_that_is_no_peers_says_what_one_looks_like() {
    for address in ["localhost:7878", "abc@http://127.0.0.1:1", "ws:/typo"] {
        let error = address.parse::<remote::PeerAddress>().unwrap_err();
        assert_eq!(error.kind, ErrorKind::Argument, "{address}");
        assert!(
            error.message.contains("<peer id>@http://host:port"),
            "{}",
            error.message
        );
    }
}

/// `kindling train --backend remote`: the peer is killed after the first evaluation; training
/// goes on on the CPU from the last completed chunk, says so, and ends at the step asked.
#[test]
fn the_peer_going_away_mid_run_hands_training_to_the_cpu() {
    let peer = Peer::start("websocket");
    let dir = tempfile::tempdir().unwrap();
    let text_file = dir.path().join("text.txt");
    std::fs::write(&text_file, text()).unwrap();
    let out = dir.path().join("m.kindling");
    let (mut train, mut stderr) = crate::common::train_until_first_evaluation(&[
        "--backend",
        "remote",
        "--peer",
        &peer.url,
        "--secret",
        SECRET,
        "--text",
        text_file.to_str().unwrap(),
        "--steps",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    peer.stop();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(train.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("The compute peer was lost"), "{rest}");
    let trainer = checkpoint::load(&std::fs::read(&out).unwrap(), cpu()).unwrap();
    assert_eq!(trainer.step(), 100);
}

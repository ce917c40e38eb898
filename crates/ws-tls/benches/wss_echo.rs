//! Echo round trips over wss on loopback: a client sends one binary message and reads
//! its echo from a server thread, in messages per second.
//!
//! Run with `cargo bench -p ws-tls --bench wss_echo -- --warm-up-time 1 --measurement-time 5`.
//!
//! For each size (16 B and 64 KiB), in one run:
//! - `ws-tls`: our client (`ws_tls::connect_with`) against our server (`ws_tls::server`
//!   with an echo route), as an application would use them;
//! - `tungstenite+rustls`: tungstenite on both ends (`WebSocket::from_raw_socket`) over
//!   `rustls::StreamOwned`, the peer to beat;
//! - `rustls`: the same bytes echoed with `write_all` and `read_exact` over
//!   `StreamOwned`, the limit set by TLS and loopback alone (no framing or masking).
//!
//! Every variant uses rustls' `ring` provider with its default protocol versions and
//! cipher suites (so TLS 1.3 with AES-256-GCM), a certificate made by rcgen,
//! `TCP_NODELAY` on both ends, and fresh connections.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConnection, ServerConnection, StreamOwned};
use tungstenite::protocol::{Role, WebSocket};
use ws_stream::Message;
use ws_tls::{Connector, TlsAcceptor};

criterion_group!(benches, wss_echo);
criterion_main!(benches);

const SIZES: [(usize, &str); 2] = [(16, "16B"), (64 << 10, "64KiB")];

/// A self-signed certificate for "localhost" and its key, both PEM.
struct Identity {
    cert_pem: String,
    key_pem: String,
}

fn wss_echo(c: &mut Criterion) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen");
    let identity = Identity {
        cert_pem: certified.cert.pem(),
        key_pem: certified.signing_key.serialize_pem(),
    };
    for (size, label) in SIZES {
        let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut group = c.benchmark_group(format!("wss_echo_{label}"));
        group.throughput(Throughput::Elements(1));

        group.bench_function(BenchmarkId::from_parameter("ws-tls"), |b| {
            let acceptor =
                TlsAcceptor::from_pem(identity.cert_pem.as_bytes(), identity.key_pem.as_bytes())
                    .expect("acceptor");
            let mut server = ws_tls::server("127.0.0.1:0", acceptor);
            server
                .on_connect("/echo", |stream, _path| {
                    while let Ok(message) = stream.read_message() {
                        stream.send(&message)?;
                    }
                    Ok(())
                })
                .expect("route");
            let handle = server.spawn().expect("spawn");
            let connector = Connector::builder()
                .root_certificates_pem(identity.cert_pem.as_bytes())
                .expect("roots")
                .build()
                .expect("connector");
            let url = format!("wss://localhost:{}/echo", handle.local_addr().port());
            let mut client =
                ws_tls::connect_with(&url, &Default::default(), &connector).expect("connect");
            let message = Message::binary(payload.clone());
            b.iter(|| {
                client.send(&message).expect("send");
                black_box(client.read_message().expect("echo"));
            });
            client.close().expect("close");
            handle.shutdown();
        });

        group.bench_function(BenchmarkId::from_parameter("tungstenite+rustls"), |b| {
            let (client, server) = tls_pair(&identity);
            let echo = thread::spawn(move || {
                let mut server = WebSocket::from_raw_socket(server, Role::Server, None);
                while let Ok(message) = server.read() {
                    if message.is_binary() && server.send(message).is_err() {
                        break;
                    }
                }
            });
            let mut client = WebSocket::from_raw_socket(client, Role::Client, None);
            let message = tungstenite::Message::binary(payload.clone());
            b.iter(|| {
                client.send(message.clone()).expect("send");
                black_box(client.read().expect("echo"));
            });
            client.close(None).ok();
            while client.read().is_ok() {}
            finish(echo);
        });

        group.bench_function(BenchmarkId::from_parameter("rustls"), |b| {
            let (mut client, mut server) = tls_pair(&identity);
            let echo = thread::spawn(move || {
                let mut buf = vec![0; size];
                while server.read_exact(&mut buf).is_ok() {
                    if server.write_all(&buf).is_err() {
                        break;
                    }
                }
            });
            let mut back = vec![0; size];
            b.iter(|| {
                client.write_all(&payload).expect("send");
                client.read_exact(&mut back).expect("echo");
                black_box(&back);
            });
            client.conn.send_close_notify();
            client.flush().ok();
            drop(client);
            finish(echo);
        });

        group.finish();
    }
}

type ClientTls = StreamOwned<ClientConnection, TcpStream>;
type ServerTls = StreamOwned<ServerConnection, TcpStream>;

/// A connected loopback pair with TLS on it (the handshake runs at the first read or
/// write) and `TCP_NODELAY` on both ends: (client, server).
fn tls_pair(identity: &Identity) -> (ClientTls, ServerTls) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = vec![CertificateDer::from_pem_slice(identity.cert_pem.as_bytes()).expect("cert")];
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).expect("key");
    let server_config = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain.clone(), key)
        .expect("server config");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(chain[0].clone()).expect("root");
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    client.set_nodelay(true).expect("nodelay");
    server.set_nodelay(true).expect("nodelay");
    let name = ServerName::try_from("localhost").expect("name");
    let client_tls = ClientConnection::new(Arc::new(client_config), name).expect("client");
    let server_tls = ServerConnection::new(Arc::new(server_config)).expect("server");
    (
        StreamOwned::new(client_tls, client),
        StreamOwned::new(server_tls, server),
    )
}

fn finish(echo: JoinHandle<()>) {
    echo.join().expect("echo thread");
}

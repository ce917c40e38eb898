//! The child side: one server per process (ours, tungstenite's, or the floor), serving
//! until its stdin closes.

use std::env;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{self};
use std::thread;
use std::time::Duration;

use ws_frame::{Decoded, DecoderConfig, FrameHeader, Masking, OpCode, apply_mask};
use ws_server::Server;
use ws_server::ServerHandle;

use crate::serve_async::{Peer, serve_peer};
use crate::{BoxError, option};

pub(crate) fn serve(args: &[String], kind: &str) -> Result<(), BoxError> {
    let port_file = PathBuf::from(option(args, "--port-file").ok_or("--port-file missing")?);
    // Dropping our server's handle would shut it down: it lives until the process ends.
    let (port, _handle) = match kind {
        "ours" => serve_ours().map(|handle| (handle.local_addr().port(), Some(handle)))?,
        "tungstenite" => (serve_threads(tungstenite_echo)?, None),
        "floor" => (serve_threads(floor_echo)?, None),
        "fastwebsockets" => (serve_peer(Peer::FastWebSockets)?, None),
        "tokio-tungstenite" => (serve_peer(Peer::TokioTungstenite)?, None),
        other => {
            return Err(format!(
                "--serve {other}: expected ours, tungstenite, floor, fastwebsockets or \
                 tokio-tungstenite"
            )
            .into());
        }
    };
    let partial = port_file.with_extension("partial");
    fs::write(&partial, port.to_string())?;
    fs::rename(&partial, &port_file)?;
    io::copy(&mut io::stdin().lock(), &mut io::sink()).ok();
    // Exit without shutting the servers down gracefully: nobody is listening.
    process::exit(0);
}

/// Our server with the example server's `/ws` echo, minus the `"Echo: "` prefix.
pub(crate) fn serve_ours() -> Result<ServerHandle, BoxError> {
    let mut server = Server::new("127.0.0.1:0");
    // Keep-alive is off by default, as in the example server; this shows what it costs.
    if let Some(secs) = env::var("LOAD_OURS_PING")
        .ok()
        .and_then(|secs| secs.parse().ok())
    {
        let interval = Duration::from_secs(secs);
        let config = server.config_mut();
        config.stream.ping_interval = Some(interval);
        config.stream.idle_timeout = Some(interval * 2);
    }
    server.on_connect("/ws", |stream, _path| {
        // Given away: a large payload is written from its own buffer, which then
        // takes the next message (no copy, no allocation per message).
        while let Ok(message) = stream.read_message() {
            stream.send_owned(message)?;
        }
        Ok(())
    })?;
    Ok(server.spawn()?)
}

/// A thread-per-connection server running `echo` on each connection, as tungstenite's
/// README's example server.
pub(crate) fn serve_threads(echo: fn(TcpStream)) -> Result<u16, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    thread::Builder::new()
        .name("accept".into())
        .spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else {
                    thread::sleep(Duration::from_millis(10));
                    continue;
                };
                // Ours sets TCP_NODELAY on each connection; without it here, Nagle's
                // algorithm would hold back tungstenite's echoes and skew the comparison.
                tcp.set_nodelay(true).ok();
                thread::Builder::new()
                    .name("conn".into())
                    .spawn(move || echo(tcp))
                    .ok();
            }
        })?;
    Ok(port)
}

pub(crate) fn tungstenite_echo(tcp: TcpStream) {
    let Ok(mut socket) = tungstenite::accept(tcp) else {
        return;
    };
    while let Ok(message) = socket.read() {
        if (message.is_text() || message.is_binary()) && socket.send(message).is_err() {
            break;
        }
    }
}

/// The least work an echo of this load takes: see the module docs.
pub(crate) fn floor_echo(mut tcp: TcpStream) {
    let mut buf = vec![0; 4 << 10];
    let Ok(head) = read_head(&mut tcp, &mut buf) else {
        return;
    };
    let key = head
        .split(|&byte| byte == b'\n')
        .find_map(|line| {
            let (name, value) = line.split_at(line.iter().position(|&byte| byte == b':')?);
            name.eq_ignore_ascii_case(b"sec-websocket-key")
                .then(|| value[1..].trim_ascii().to_vec())
        })
        .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        ws_handshake::accept_key(&key)
    );
    if tcp.write_all(response.as_bytes()).is_err() {
        return;
    }
    // The reply's header is four bytes shorter than the masked request's (no key), so
    // the reply is built in place over the request and written from the same buffer.
    let config = DecoderConfig::default().masking(Masking::Required);
    let mut filled = 0;
    loop {
        let header = match FrameHeader::decode(&buf[..filled], &config) {
            Ok(Decoded::Complete(header, header_len)) => Some((header, header_len)),
            Ok(Decoded::Incomplete(_)) => None,
            Err(_) => return,
        };
        let frame = header.and_then(|(header, header_len)| {
            let end = header_len + usize::try_from(header.payload_len).ok()?;
            (filled >= end).then_some((header, header_len..end))
        });
        let Some((header, payload)) = frame else {
            if filled == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            match tcp.read(&mut buf[filled..]) {
                Ok(0) | Err(_) => return,
                Ok(n) => filled += n,
            }
            continue;
        };
        // One message in flight: nothing may follow it; and no control frames here.
        let (Some(mask), OpCode::Text | OpCode::Binary) = (header.mask, header.opcode) else {
            return;
        };
        if payload.end != filled {
            return;
        }
        apply_mask(&mut buf[payload.clone()], mask);
        let mut reply = [0; FrameHeader::MAX_LEN];
        let reply_len = FrameHeader::new(header.opcode, header.payload_len).encode(&mut reply);
        let from = payload.start - reply_len;
        buf[from..payload.start].copy_from_slice(&reply[..reply_len]);
        if tcp.write_all(&buf[from..payload.end]).is_err() {
            return;
        }
        filled = 0;
    }
}

/// Reads an HTTP head; the client sends nothing more before the answer.
pub(crate) fn read_head(tcp: &mut TcpStream, buf: &mut [u8]) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let n = tcp.read(buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(head)
}

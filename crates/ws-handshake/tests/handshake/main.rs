//! Integration tests for ws-handshake, in one binary to keep link time down.
#![allow(clippy::unwrap_used)]

mod api;
mod client;
mod extensions;
mod parser;
mod props;
mod rfc;
mod server;

use ws_handshake::{
    ClientRequest, Error, Parsed, PendingHandshake, Request, RequestParser, Response,
    ResponseParser, UpgradeRequest,
};

/// The client handshake of RFC 6455 sections 1.2 and 4.1, with CRLF line endings.
const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\
\r\n";

/// The server handshake of RFC 6455 section 1.2, answering [`RFC_REQUEST`].
const RFC_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\
\r\n";

/// The 16 bytes whose base64 is the RFC's key, `dGhlIHNhbXBsZSBub25jZQ==`.
const RFC_NONCE: [u8; 16] = *b"the sample nonce";

/// A valid upgrade request, one line per entry, for tests to alter.
const VALID_REQUEST: [&str; 6] = [
    "GET /chat HTTP/1.1",
    "Host: example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
];

/// A head from its lines: CRLF after each, then the empty line.
fn head(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `lines` with every line starting with `prefix` (case-insensitively) left out.
fn without<'a>(lines: &[&'a str], prefix: &str) -> Vec<&'a str> {
    lines
        .iter()
        .copied()
        .filter(|line| {
            !line
                .to_ascii_lowercase()
                .starts_with(&prefix.to_ascii_lowercase())
        })
        .collect()
}

/// `lines` with the line starting with `prefix` replaced by `line`.
fn replaced<'a>(lines: &[&'a str], prefix: &str, line: &'a str) -> Vec<&'a str> {
    lines
        .iter()
        .map(|&old| if old.starts_with(prefix) { line } else { old })
        .collect()
}

/// `lines` with `extra` appended.
fn with<'a>(lines: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    lines.iter().chain(extra).copied().collect()
}

/// Parses a whole request head in one call, insisting it uses every byte.
fn parse_request(bytes: &[u8]) -> Request {
    match RequestParser::default().parse(bytes) {
        Ok(Parsed::Complete(request, used)) if used == bytes.len() => request,
        other => panic!("expected a complete request, got {other:?}"),
    }
}

/// Parses a whole response head in one call, insisting it uses every byte.
fn parse_response(bytes: &[u8]) -> Response {
    match ResponseParser::default().parse(bytes) {
        Ok(Parsed::Complete(response, used)) if used == bytes.len() => response,
        other => panic!("expected a complete response, got {other:?}"),
    }
}

/// Parses and validates a request given as lines.
fn upgrade(lines: &[&str]) -> Result<UpgradeRequest, Error> {
    UpgradeRequest::from_request(&parse_request(&head(lines)))
}

/// The pending state of the RFC's client request.
fn rfc_pending() -> PendingHandshake {
    ClientRequest::new("server.example.com", "/chat")
        .origin("http://example.com")
        .protocols(["chat", "superchat"])
        .build_with_key(RFC_NONCE)
        .expect("the RFC request is valid")
        .1
}

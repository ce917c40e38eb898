//! The RFC 6455 example handshake, byte for byte, and the earlier library's API.

use std::collections::HashMap;

use ws_handshake::{AcceptResponse, ClientRequest, Error, Handshake, UpgradeRequest, accept_key};

use crate::{RFC_NONCE, RFC_REQUEST, RFC_RESPONSE, parse_request, parse_response, rfc_pending};

#[test]
fn accept_key_of_the_rfc_example() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn rfc_request_parses_and_validates() {
    let request = parse_request(RFC_REQUEST);
    assert_eq!(
        (request.method(), request.target(), request.version()),
        ("GET", "/chat", (1, 1))
    );
    assert_eq!(request.headers().len(), 7);

    let upgrade = UpgradeRequest::from_request(&request).unwrap();
    assert_eq!(upgrade.host(), "server.example.com");
    assert_eq!((upgrade.path(), upgrade.query()), ("/chat", None));
    assert_eq!(upgrade.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(upgrade.origin(), Some(&b"http://example.com"[..]));
    assert_eq!(upgrade.protocols(), ["chat", "superchat"]);
    assert_eq!(upgrade.extensions().count(), 0);
    assert_eq!(upgrade.request(), &request);
}

#[test]
fn our_101_is_the_rfc_response_byte_for_byte() {
    let upgrade = UpgradeRequest::from_request(&parse_request(RFC_REQUEST)).unwrap();
    let answer = AcceptResponse::new(&upgrade)
        .protocol("chat")
        .to_bytes()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&answer),
        String::from_utf8_lossy(RFC_RESPONSE)
    );
}

#[test]
fn our_request_is_the_rfc_request_byte_for_byte() {
    let (bytes, pending) = ClientRequest::new("server.example.com", "/chat")
        .origin("http://example.com")
        .protocols(["chat", "superchat"])
        .build_with_key(RFC_NONCE)
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(RFC_REQUEST)
    );
    assert_eq!(pending.key(), "dGhlIHNhbXBsZSBub25jZQ==");
}

#[test]
fn rfc_response_validates() {
    let accepted = rfc_pending()
        .validate(parse_response(RFC_RESPONSE))
        .unwrap();
    assert_eq!(accepted.protocol(), Some("chat"));
    assert_eq!(accepted.response().status(), 101);
    assert_eq!(accepted.response().reason(), b"Switching Protocols");
    assert_eq!(
        accepted.response().headers().get("sec-websocket-accept"),
        Some(&b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="[..])
    );
}

fn seed_headers(entries: &[(&str, &str)]) -> HashMap<String, String> {
    entries
        .iter()
        .map(|&(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

const SEED_VALID: [(&str, &str); 4] = [
    ("upgrade", "websocket"),
    ("connection", "keep-alive, Upgrade"),
    ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("sec-websocket-version", "13"),
];

fn seed_with(name: &str, value: Option<&str>) -> Result<String, Error> {
    let mut headers = seed_headers(&SEED_VALID);
    match value {
        Some(value) => headers.insert(name.to_owned(), value.to_owned()),
        None => headers.remove(name),
    };
    Handshake::parse_upgrade_request(&headers)
}

#[test]
fn seed_api_returns_the_key_and_its_accept() {
    let key = Handshake::parse_upgrade_request(&seed_headers(&SEED_VALID)).unwrap();
    assert_eq!(key, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(
        Handshake::generate_accept_key(&key).unwrap(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn seed_api_checks_each_header() {
    assert_eq!(seed_with("upgrade", None), Err(Error::NoWebSocketUpgrade));
    assert_eq!(
        seed_with("upgrade", Some("h2c")),
        Err(Error::NoWebSocketUpgrade)
    );
    assert_eq!(
        seed_with("connection", None),
        Err(Error::NoConnectionUpgrade)
    );
    assert_eq!(
        seed_with("connection", Some("close")),
        Err(Error::NoConnectionUpgrade)
    );
    assert_eq!(
        seed_with("sec-websocket-version", None),
        Err(Error::MissingHeader("sec-websocket-version"))
    );
    assert_eq!(
        seed_with("sec-websocket-version", Some("8")),
        Err(Error::UnsupportedVersion)
    );
    assert_eq!(
        seed_with("sec-websocket-key", None),
        Err(Error::MissingHeader("sec-websocket-key"))
    );
    assert_eq!(
        seed_with("sec-websocket-key", Some("c2hvcnQ=")),
        Err(Error::InvalidHeader("sec-websocket-key"))
    );
    // Surrounding whitespace is not part of a value.
    assert_eq!(
        seed_with("sec-websocket-version", Some(" 13\t")).as_deref(),
        Ok("dGhlIHNhbXBsZSBub25jZQ==")
    );
}

#[test]
fn seed_api_needs_lowercase_keys() {
    // The documented weakness: a map keyed by "Upgrade" reads as having no upgrade.
    let mut headers = seed_headers(&SEED_VALID);
    let value = headers.remove("upgrade").unwrap();
    headers.insert("Upgrade".to_owned(), value);
    assert_eq!(
        Handshake::parse_upgrade_request(&headers),
        Err(Error::NoWebSocketUpgrade)
    );
}

#[test]
fn seed_accept_key_checks_the_key() {
    assert_eq!(
        Handshake::generate_accept_key("not a key"),
        Err(Error::InvalidHeader("sec-websocket-key"))
    );
    assert_eq!(
        Handshake::generate_accept_key("dGhlIHNhbXBsZSBub25jZQ"),
        Err(Error::InvalidHeader("sec-websocket-key"))
    );
}

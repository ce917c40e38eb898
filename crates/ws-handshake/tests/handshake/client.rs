//! Building a client's request, and checking the server's answer.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ws_handshake::{ClientRequest, Error, Misuse, UpgradeRequest, accept_key};

use crate::{RFC_RESPONSE, head, parse_request, parse_response, rfc_pending};

/// The RFC's 101 response, one line per entry, for tests to alter.
const RFC_RESPONSE_LINES: [&str; 5] = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    "Sec-WebSocket-Protocol: chat",
];

fn validate(lines: &[&str]) -> Result<ws_handshake::Accepted, Error> {
    rfc_pending().validate(parse_response(&head(lines)))
}

#[test]
fn build_uses_a_fresh_random_16_byte_key() {
    let request = ClientRequest::new("example.com", "/");
    let (first_bytes, first) = request.build().unwrap();
    let (_, second) = request.build().unwrap();
    assert_ne!(first.key(), second.key());
    assert_eq!(STANDARD.decode(first.key()).unwrap().len(), 16);
    let parsed = parse_request(&first_bytes);
    assert_eq!(
        parsed.headers().get("sec-websocket-key"),
        Some(first.key().as_bytes())
    );
}

#[test]
fn a_built_request_passes_the_server_checks() {
    let (bytes, pending) = ClientRequest::new("example.com:8080", "/chat?room=7&x=%20")
        .origin("https://example.com")
        .protocols(["v2.chat"])
        .protocols(vec![String::from("v1.chat")])
        .header("Authorization", "Bearer abc")
        .header("Cookie", &b"id=\xff"[..])
        .build()
        .unwrap();
    let upgrade = UpgradeRequest::from_request(&parse_request(&bytes)).unwrap();
    assert_eq!(upgrade.host(), "example.com:8080");
    assert_eq!(
        (upgrade.path(), upgrade.query()),
        ("/chat", Some("room=7&x=%20"))
    );
    assert_eq!(upgrade.origin(), Some(&b"https://example.com"[..]));
    assert_eq!(upgrade.protocols(), ["v2.chat", "v1.chat"]);
    assert_eq!(upgrade.key(), pending.key());
    assert_eq!(
        upgrade.headers().get("authorization"),
        Some(&b"Bearer abc"[..])
    );
    assert_eq!(upgrade.headers().get("cookie"), Some(&b"id=\xff"[..]));
    // Without options, no Origin or Sec-WebSocket-Protocol at all.
    let (bytes, _) = ClientRequest::new("a", "/").build().unwrap();
    let request = parse_request(&bytes);
    assert_eq!(request.headers().get("origin"), None);
    assert_eq!(request.headers().get("sec-websocket-protocol"), None);
}

#[test]
fn builder_misuse_is_refused_instead_of_injected() {
    let misuse = |request: ClientRequest| match request.build() {
        Err(Error::Misuse(misuse)) => misuse,
        other => panic!("expected misuse, got {other:?}"),
    };
    for host in ["", "a b", "a\r\nX: y", "é.example"] {
        assert_eq!(
            misuse(ClientRequest::new(host, "/")),
            Misuse::Host,
            "{host:?}"
        );
    }
    for target in ["", "chat", "ws://a/", "/a b", "/a\r\nX: y", "/é"] {
        assert_eq!(
            misuse(ClientRequest::new("a", target)),
            Misuse::Target,
            "{target:?}"
        );
    }
    let request = || ClientRequest::new("a", "/");
    assert_eq!(
        misuse(request().origin("https://a\r\nX: y")),
        Misuse::HeaderValue
    );
    for protocol in ["", "a b", "a,b", "a\r\n", "é"] {
        assert_eq!(
            misuse(request().protocols([protocol])),
            Misuse::ProtocolName,
            "{protocol:?}"
        );
    }
    assert_eq!(
        misuse(request().header("X-A", "1\r\nX-B: 2")),
        Misuse::HeaderValue
    );
    assert_eq!(misuse(request().header("X-A", "1\n")), Misuse::HeaderValue);
    assert_eq!(misuse(request().header("X-A", "\0")), Misuse::HeaderValue);
    assert_eq!(
        misuse(request().header("X-A\r\nX-B", "1")),
        Misuse::HeaderName
    );
    assert_eq!(misuse(request().header("", "1")), Misuse::HeaderName);
    assert_eq!(misuse(request().header("X:A", "1")), Misuse::HeaderName);
    assert_eq!(
        misuse(request().header("HOST", "b")),
        Misuse::ManagedHeader("host")
    );
    assert_eq!(
        misuse(request().header("Sec-WebSocket-Key", "x")),
        Misuse::ManagedHeader("sec-websocket-key")
    );
    assert_eq!(
        misuse(request().header("origin", "x")),
        Misuse::ManagedHeader("origin")
    );
    let err = request().header("X\n", "1").build().unwrap_err();
    assert!(err.is_misuse());
    assert_eq!(err.http_status(), None);
}

#[test]
fn a_valid_response_is_accepted_and_readable() {
    let accepted = validate(&[
        "HTTP/1.1 101 Switching Protocols",
        "upgrade: WebSocket",
        "Connection: keep-alive, upgrade",
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "Set-Cookie: id=2",
        "Sec-WebSocket-Extensions: ",
    ])
    .unwrap();
    assert_eq!(
        accepted.protocol(),
        None,
        "offering protocols does not oblige the server"
    );
    assert_eq!(
        accepted.response().headers().get("set-cookie"),
        Some(&b"id=2"[..])
    );
    let response = accepted.into_response();
    assert_eq!(response.status(), 101);
}

#[test]
fn another_status_keeps_the_response_for_redirects() {
    let err = rfc_pending()
        .validate(parse_response(&head(&[
            "HTTP/1.1 302 Found",
            "Location: wss://elsewhere.example/chat",
        ])))
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedStatus(_)));
    let response = err.response().unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers().get("location"),
        Some(&b"wss://elsewhere.example/chat"[..])
    );
    assert_eq!(err.to_string(), "server answered 302 instead of 101");
    assert_eq!(err.http_status(), None);
    assert!(!err.is_misuse());
    assert_eq!(Error::AcceptMismatch.response(), None);
}

#[test]
fn each_broken_rule_in_a_response_has_its_error() {
    let l = &RFC_RESPONSE_LINES;
    let cases: Vec<(Vec<&str>, Error)> = vec![
        (
            crate::replaced(l, "HTTP", "HTTP/1.0 101 Switching Protocols"),
            Error::HttpVersionTooOld,
        ),
        (crate::without(l, "Upgrade"), Error::NoWebSocketUpgrade),
        (
            crate::replaced(l, "Upgrade", "Upgrade: h2c"),
            Error::NoWebSocketUpgrade,
        ),
        (crate::without(l, "Connection"), Error::NoConnectionUpgrade),
        (
            crate::replaced(l, "Connection", "Connection: close"),
            Error::NoConnectionUpgrade,
        ),
        (
            crate::without(l, "Sec-WebSocket-Accept"),
            Error::MissingHeader("sec-websocket-accept"),
        ),
        (
            crate::with(l, &["Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]),
            Error::DuplicateHeader("sec-websocket-accept"),
        ),
        (
            crate::replaced(
                l,
                "Sec-WebSocket-Accept",
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo",
            ),
            Error::AcceptMismatch,
        ),
        (
            crate::replaced(
                l,
                "Sec-WebSocket-Accept",
                "Sec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=",
            ),
            Error::AcceptMismatch,
        ),
        (
            crate::with(l, &["Sec-WebSocket-Extensions: permessage-deflate"]),
            Error::UnexpectedExtension,
        ),
        (
            crate::replaced(
                l,
                "Sec-WebSocket-Protocol",
                "Sec-WebSocket-Protocol: megachat",
            ),
            Error::UnexpectedProtocol,
        ),
        (
            crate::replaced(l, "Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: Chat"),
            Error::UnexpectedProtocol,
        ),
        (
            crate::replaced(
                l,
                "Sec-WebSocket-Protocol",
                "Sec-WebSocket-Protocol: chat, superchat",
            ),
            Error::UnexpectedProtocol,
        ),
        (
            crate::with(l, &["Sec-WebSocket-Protocol: superchat"]),
            Error::DuplicateHeader("sec-websocket-protocol"),
        ),
    ];
    for (lines, error) in cases {
        assert_eq!(validate(&lines).err(), Some(error.clone()), "{lines:?}");
        assert!(!error.is_misuse());
    }
}

#[test]
fn a_protocol_is_unexpected_when_none_was_offered() {
    let (_, pending) = ClientRequest::new("a", "/")
        .build_with_key([7; 16])
        .unwrap();
    let accept = format!(
        "Sec-WebSocket-Accept: {}",
        accept_key(pending.key().as_bytes())
    );
    let base = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        accept.as_str(),
    ];
    assert!(pending.validate(parse_response(&head(&base))).is_ok());
    let with_protocol = crate::with(&base, &["Sec-WebSocket-Protocol: chat"]);
    assert_eq!(
        pending
            .validate(parse_response(&head(&with_protocol)))
            .err(),
        Some(Error::UnexpectedProtocol)
    );
    // The RFC's answer is for another key.
    assert_eq!(
        pending.validate(parse_response(RFC_RESPONSE)).err(),
        Some(Error::AcceptMismatch)
    );
}

//! Checking a client's request, and answering it: 101, or a refusal.

use ws_handshake::{
    AcceptResponse, Error, Limits, Misuse, Parsed, Rejection, RequestParser, ResponseParser,
};

use crate::{VALID_REQUEST, head, parse_request, parse_response, replaced, upgrade, with, without};

#[test]
fn a_valid_request_is_summarised() {
    let upgrade = upgrade(&with(
        &replaced(
            &VALID_REQUEST,
            "GET",
            "GET /chat/room%201?user=ann&x= HTTP/1.1",
        ),
        &[
            "Cookie: id=1",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo",
        ],
    ))
    .unwrap();
    assert_eq!(upgrade.path(), "/chat/room%201");
    assert_eq!(upgrade.query(), Some("user=ann&x="));
    assert_eq!(upgrade.host(), "example.com");
    assert_eq!(upgrade.origin(), None);
    assert!(upgrade.protocols().is_empty());
    assert_eq!(upgrade.headers().get("cookie"), Some(&b"id=1"[..]));
    assert_eq!(
        upgrade.extensions().collect::<Vec<_>>(),
        [&b"permessage-deflate; client_max_window_bits"[..], b"x-foo"]
    );

    let upgrade = crate::upgrade(&replaced(&VALID_REQUEST, "GET", "GET /? HTTP/1.1")).unwrap();
    assert_eq!((upgrade.path(), upgrade.query()), ("/", Some("")));
    let upgrade = crate::upgrade(&replaced(&VALID_REQUEST, "Host", "Host: [::1]:8080")).unwrap();
    assert_eq!(upgrade.host(), "[::1]:8080");
}

#[test]
fn upgrade_and_connection_are_case_insensitive_tokens_in_lists() {
    for (upgrade_line, connection_lines) in [
        ("Upgrade: WebSocket", &["Connection: upgrade"][..]),
        (
            "Upgrade: h2c, websocket",
            &["Connection: keep-alive, Upgrade"],
        ),
        (
            "upgrade: websocket",
            &["Connection: keep-alive", "Connection: Upgrade"],
        ),
        ("Upgrade:websocket", &["connection:\tUPGRADE\t"]),
    ] {
        let lines = replaced(
            &without(&VALID_REQUEST, "Connection"),
            "Upgrade",
            upgrade_line,
        );
        let lines = with(&lines, connection_lines);
        assert!(upgrade(&lines).is_ok(), "{lines:?}");
    }
}

#[test]
fn each_broken_rule_has_its_error_and_status() {
    let cases: Vec<(Vec<&str>, Error, u16)> = vec![
        (
            replaced(&VALID_REQUEST, "GET", "POST /chat HTTP/1.1"),
            Error::MethodNotGet,
            400,
        ),
        (
            replaced(&VALID_REQUEST, "GET", "get /chat HTTP/1.1"),
            Error::MethodNotGet,
            400,
        ),
        (
            replaced(&VALID_REQUEST, "GET", "GET /chat HTTP/1.0"),
            Error::HttpVersionTooOld,
            400,
        ),
        (
            replaced(&VALID_REQUEST, "GET", "GET * HTTP/1.1"),
            Error::UnsupportedTarget,
            400,
        ),
        (
            replaced(&VALID_REQUEST, "GET", "GET ws://example.com/chat HTTP/1.1"),
            Error::UnsupportedTarget,
            400,
        ),
        (
            without(&VALID_REQUEST, "Host"),
            Error::MissingHeader("host"),
            400,
        ),
        (
            with(&VALID_REQUEST, &["host: other"]),
            Error::DuplicateHeader("host"),
            400,
        ),
        (
            replaced(&VALID_REQUEST, "Host", "Host:"),
            Error::InvalidHeader("host"),
            400,
        ),
        (
            replaced(&VALID_REQUEST, "Host", "Host: a b"),
            Error::InvalidHeader("host"),
            400,
        ),
        (
            without(&VALID_REQUEST, "Upgrade"),
            Error::NoWebSocketUpgrade,
            400,
        ),
        (
            replaced(&VALID_REQUEST, "Upgrade", "Upgrade: h2c"),
            Error::NoWebSocketUpgrade,
            400,
        ),
        (
            replaced(&VALID_REQUEST, "Upgrade", "Upgrade: websockets"),
            Error::NoWebSocketUpgrade,
            400,
        ),
        (
            without(&VALID_REQUEST, "Connection"),
            Error::NoConnectionUpgrade,
            400,
        ),
        (
            replaced(&VALID_REQUEST, "Connection", "Connection: keep-alive"),
            Error::NoConnectionUpgrade,
            400,
        ),
        (
            without(&VALID_REQUEST, "Sec-WebSocket-Version"),
            Error::MissingHeader("sec-websocket-version"),
            400,
        ),
        (
            replaced(
                &VALID_REQUEST,
                "Sec-WebSocket-Version",
                "Sec-WebSocket-Version: 8",
            ),
            Error::UnsupportedVersion,
            426,
        ),
        (
            replaced(
                &VALID_REQUEST,
                "Sec-WebSocket-Version",
                "Sec-WebSocket-Version: 13, 8",
            ),
            Error::UnsupportedVersion,
            426,
        ),
        (
            with(&VALID_REQUEST, &["Sec-WebSocket-Version: 13"]),
            Error::DuplicateHeader("sec-websocket-version"),
            400,
        ),
        (
            without(&VALID_REQUEST, "Sec-WebSocket-Key"),
            Error::MissingHeader("sec-websocket-key"),
            400,
        ),
        (
            with(
                &VALID_REQUEST,
                &["Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="],
            ),
            Error::DuplicateHeader("sec-websocket-key"),
            400,
        ),
        (
            with(&VALID_REQUEST, &["Origin: a", "Origin: b"]),
            Error::DuplicateHeader("origin"),
            400,
        ),
        (
            with(&VALID_REQUEST, &["Sec-WebSocket-Protocol: chat, a/b"]),
            Error::InvalidHeader("sec-websocket-protocol"),
            400,
        ),
        (
            with(&VALID_REQUEST, &["Sec-WebSocket-Protocol: chat x"]),
            Error::InvalidHeader("sec-websocket-protocol"),
            400,
        ),
    ];
    for (lines, error, status) in cases {
        let result = upgrade(&lines);
        assert_eq!(result.as_ref().err(), Some(&error), "{lines:?}");
        assert_eq!(error.http_status(), Some(status), "{error}");
        assert!(!error.is_misuse());
    }
}

#[test]
fn the_key_must_be_16_bytes_of_base64() {
    for key in [
        "",
        "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZQ=",
        "dGhlIHNhbXBsZSBub25jZXM=",
        "dGhlIHNhbXBsZSBub25jZQ===",
        "dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ==",
        "dGhlIHNhbXBsZSBub25j*Q==",
        "dGhlIHNhbXBsZSBub25jZQ-_",
    ] {
        let line = format!("Sec-WebSocket-Key: {key}");
        let lines = replaced(&VALID_REQUEST, "Sec-WebSocket-Key", &line);
        assert_eq!(
            upgrade(&lines).err(),
            Some(Error::InvalidHeader("sec-websocket-key")),
            "{key:?}"
        );
    }
    // Surrounding whitespace belongs to the field syntax, not to the key.
    let lines = replaced(
        &VALID_REQUEST,
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Key:   AAAAAAAAAAAAAAAAAAAAAA==  ",
    );
    assert_eq!(upgrade(&lines).unwrap().key(), "AAAAAAAAAAAAAAAAAAAAAA==");
}

#[test]
fn subprotocols_combine_across_repeated_headers() {
    let lines = with(
        &VALID_REQUEST,
        &[
            "Sec-WebSocket-Protocol: v3.chat, v2.chat",
            "Sec-WebSocket-Protocol:",
            "sec-websocket-protocol: ,v1.chat",
        ],
    );
    let upgrade = upgrade(&lines).unwrap();
    assert_eq!(upgrade.protocols(), ["v3.chat", "v2.chat", "v1.chat"]);
    // The client's preference wins over the order of the server's list.
    assert_eq!(
        upgrade.choose_protocol(&["v1.chat", "v2.chat"]),
        Some("v2.chat")
    );
    assert_eq!(
        upgrade.choose_protocol(&["V1.CHAT"]),
        None,
        "names are case-sensitive"
    );
    assert_eq!(upgrade.choose_protocol(&[]), None);
}

#[test]
fn origin_is_bytes_and_may_be_anything_printable() {
    let request = parse_request(&{
        let mut bytes = head(&VALID_REQUEST);
        bytes.truncate(bytes.len() - 2);
        bytes.extend_from_slice(b"Origin: https://\xc3\xa9xample.\xff\r\n\r\n");
        bytes
    });
    let upgrade = ws_handshake::UpgradeRequest::from_request(&request).unwrap();
    assert_eq!(upgrade.origin(), Some(&b"https://\xc3\xa9xample.\xff"[..]));
}

#[test]
fn accept_response_writes_the_chosen_protocol_and_extra_headers() {
    let upgrade = upgrade(&with(&VALID_REQUEST, &["Sec-WebSocket-Protocol: a, b"])).unwrap();
    let answer = AcceptResponse::new(&upgrade)
        .protocol("b")
        .header("Set-Cookie", "id=1; HttpOnly")
        .header("X-Bytes", &b"caf\xe9"[..])
        .to_bytes()
        .unwrap();
    let response = parse_response(&answer);
    assert_eq!(response.status(), 101);
    let headers = response.headers();
    assert_eq!(headers.get("sec-websocket-protocol"), Some(&b"b"[..]));
    assert_eq!(
        headers.get("sec-websocket-accept"),
        Some(&b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="[..])
    );
    assert_eq!(headers.get("set-cookie"), Some(&b"id=1; HttpOnly"[..]));
    assert_eq!(headers.get("x-bytes"), Some(&b"caf\xe9"[..]));
    assert!(!answer.windows(24).any(|w| w == b"Sec-WebSocket-Extensions"));
}

#[test]
fn accept_response_refuses_a_protocol_not_offered() {
    let upgrade = upgrade(&with(&VALID_REQUEST, &["Sec-WebSocket-Protocol: chat"])).unwrap();
    for protocol in ["superchat", "Chat", "chat, superchat", ""] {
        let err = AcceptResponse::new(&upgrade)
            .protocol(protocol)
            .to_bytes()
            .unwrap_err();
        assert_eq!(
            err,
            Error::Misuse(Misuse::ProtocolNotOffered),
            "{protocol:?}"
        );
        assert!(err.is_misuse());
        assert_eq!(err.http_status(), None);
    }
    let no_offer = crate::upgrade(&VALID_REQUEST).unwrap();
    let err = AcceptResponse::new(&no_offer)
        .protocol("chat")
        .to_bytes()
        .unwrap_err();
    assert_eq!(err, Error::Misuse(Misuse::ProtocolNotOffered));
}

#[test]
fn accept_response_refuses_header_injection() {
    let upgrade = upgrade(&VALID_REQUEST).unwrap();
    let attempt =
        |name: &str, value: &[u8]| AcceptResponse::new(&upgrade).header(name, value).to_bytes();
    assert_eq!(
        attempt("X", b"a\r\nInjected: 1"),
        Err(Error::Misuse(Misuse::HeaderValue))
    );
    assert_eq!(
        attempt("X", b"a\nb"),
        Err(Error::Misuse(Misuse::HeaderValue))
    );
    assert_eq!(
        attempt("X", b"a\rb"),
        Err(Error::Misuse(Misuse::HeaderValue))
    );
    assert_eq!(
        attempt("X", b"a\0b"),
        Err(Error::Misuse(Misuse::HeaderValue))
    );
    assert_eq!(
        attempt("X: y\r\nZ", b"1"),
        Err(Error::Misuse(Misuse::HeaderName))
    );
    assert_eq!(attempt("", b"1"), Err(Error::Misuse(Misuse::HeaderName)));
    assert_eq!(attempt("X Y", b"1"), Err(Error::Misuse(Misuse::HeaderName)));
    assert_eq!(
        attempt("sec-websocket-ACCEPT", b"x"),
        Err(Error::Misuse(Misuse::ManagedHeader("sec-websocket-accept")))
    );
    assert_eq!(
        attempt("Upgrade", b"x"),
        Err(Error::Misuse(Misuse::ManagedHeader("upgrade")))
    );
    assert_eq!(
        attempt("Sec-WebSocket-Extensions", b"permessage-deflate"),
        Err(Error::Misuse(Misuse::ManagedHeader(
            "sec-websocket-extensions"
        )))
    );
}

#[test]
fn rejection_with_any_status() {
    let answer = Rejection::new(404).to_bytes().unwrap();
    assert_eq!(
        answer,
        b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n\
          Content-Length: 10\r\n\r\nNot Found\n"
    );
    let answer = Rejection::new(503)
        .header("Retry-After", "30")
        .body("")
        .to_bytes()
        .unwrap();
    let response = parse_response(&answer);
    assert_eq!(
        (response.status(), response.reason()),
        (503, &b"Service Unavailable"[..])
    );
    assert_eq!(response.headers().get("retry-after"), Some(&b"30"[..]));
    assert_eq!(response.headers().get("content-length"), Some(&b"0"[..]));
    assert!(answer.ends_with(b"\r\n\r\n"));

    // A redirect, with a status the table has no phrase for.
    let rejection = Rejection::new(399).header("Location", "wss://example.com/");
    assert_eq!(rejection.status(), 399);
    let answer = rejection.to_bytes().unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 399 \r\n"));
    assert!(answer.ends_with(b"Content-Length: 0\r\nLocation: wss://example.com/\r\n\r\n"));
    assert_eq!(
        parse_response(&answer).headers().get("location"),
        Some(&b"wss://example.com/"[..])
    );
}

#[test]
fn rejection_refuses_statuses_without_a_place_in_a_refusal() {
    for status in [0, 101, 200, 204, 299, 304, 600, 999] {
        assert_eq!(
            Rejection::new(status).to_bytes(),
            Err(Error::Misuse(Misuse::RejectionStatus(status))),
            "{status}"
        );
    }
}

#[test]
fn rejection_refuses_header_injection_and_managed_fields() {
    let attempt = |name: &str, value: &str| Rejection::new(403).header(name, value).to_bytes();
    assert_eq!(
        attempt("X", "a\r\nSet-Cookie: x"),
        Err(Error::Misuse(Misuse::HeaderValue))
    );
    assert_eq!(
        attempt("X\r\n", "a"),
        Err(Error::Misuse(Misuse::HeaderName))
    );
    assert_eq!(
        attempt("Content-Length", "0"),
        Err(Error::Misuse(Misuse::ManagedHeader("content-length")))
    );
    assert_eq!(
        attempt("connection", "keep-alive"),
        Err(Error::Misuse(Misuse::ManagedHeader("connection")))
    );
}

#[test]
fn upgrade_required_names_version_13() {
    let answer = Rejection::upgrade_required().to_bytes().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&answer),
        "HTTP/1.1 426 Upgrade Required\r\nConnection: Upgrade, close\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: 17\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\nUpgrade Required\n"
    );
}

#[test]
fn errors_build_the_response_a_server_should_send() {
    let err = upgrade(&replaced(
        &VALID_REQUEST,
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Version: 7",
    ))
    .unwrap_err();
    let answer = err.rejection().unwrap().to_bytes().unwrap();
    let Ok(Parsed::Complete(response, head_len)) = ResponseParser::default().parse(&answer) else {
        panic!("complete")
    };
    assert_eq!(&answer[head_len..], b"Upgrade Required\n");
    assert_eq!(response.status(), 426);
    assert_eq!(
        response.headers().get("sec-websocket-version"),
        Some(&b"13"[..])
    );

    let err = upgrade(&without(&VALID_REQUEST, "Host")).unwrap_err();
    let answer = err.rejection().unwrap().to_bytes().unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    assert!(answer.ends_with(b"\r\n\r\nmissing host header\n"));

    let limits = Limits::default().max_headers(1);
    let err = RequestParser::new(limits)
        .parse(&head(&VALID_REQUEST))
        .unwrap_err();
    let answer = err.rejection().unwrap().to_bytes().unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"));

    let err = RequestParser::default()
        .parse(b"GET / HTTP/1.1\r\nNo colon\r\n\r\n")
        .unwrap_err();
    assert_eq!(err.rejection().unwrap().status(), 400);

    for not_for_a_server in [
        Error::AcceptMismatch,
        Error::InvalidStatusLine,
        Error::Misuse(Misuse::HeaderName),
        Error::RandomUnavailable,
    ] {
        assert_eq!(not_for_a_server.rejection(), None, "{not_for_a_server}");
    }
}

#[test]
fn a_plain_get_can_still_be_served_after_a_failed_upgrade() {
    let bytes = head(&["GET /health HTTP/1.1", "Host: example.com"]);
    let Ok(Parsed::Complete(request, _)) = RequestParser::default().parse(&bytes) else {
        panic!("complete")
    };
    assert_eq!(
        ws_handshake::UpgradeRequest::from_request(&request).err(),
        Some(Error::NoWebSocketUpgrade)
    );
    assert_eq!(request.target(), "/health");
}

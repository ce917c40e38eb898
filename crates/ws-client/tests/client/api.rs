//! The shape of the public API: error size, messages and sources, auto traits, config
//! defaults, dependencies.

use std::error::Error as _;
use std::io;
use std::net::TcpStream;
use std::time::Duration;

use ws_client::{Client, ClientConfig, Error, Url, UrlError};
use ws_handshake::Limits;
use ws_stream::{CloseCode, CloseFrame, Stream};

#[test]
fn the_error_stays_small() {
    assert!(
        size_of::<Error>() <= 48,
        "Error is {} bytes",
        size_of::<Error>()
    );
}

#[test]
fn a_client_and_its_stream_can_move_to_another_thread() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync + 'static>() {}
    send::<Client<TcpStream>>();
    send::<Stream<TcpStream>>();
    send::<Client<std::io::Cursor<Vec<u8>>>>();
    send_sync::<Error>();
    send_sync::<UrlError>();
    send_sync::<Url>();
    send_sync::<ClientConfig>();
}

fn every_error() -> Vec<Error> {
    vec![
        Error::Url {
            input: "ws://h/#x".into(),
            error: UrlError::Fragment,
        },
        Error::TlsRequired,
        Error::Resolve {
            host: "chat.invalid".into(),
            error: io::Error::other("lookup failed"),
        },
        Error::Connect {
            addr: "127.0.0.1:9".parse().unwrap(),
            error: io::ErrorKind::ConnectionRefused.into(),
        },
        Error::HandshakeIo(io::ErrorKind::ConnectionReset.into()),
        Error::HandshakeTimeout,
        Error::ClosedDuringHandshake,
        Error::Handshake(ws_handshake::Error::AcceptMismatch),
        Error::Connection(ws_stream::Error::InvalidUtf8),
        Error::NoConnection,
        Error::ProxyConnect {
            proxy: "proxy.internal:3128".into(),
            error: io::ErrorKind::ConnectionRefused.into(),
        },
        Error::ProxyAuthRequired,
        Error::ProxyRefused(502),
        Error::InvalidProxyResponse(ws_handshake::Error::InvalidStatusLine),
        Error::UnexpectedProxyData,
        Error::TooManyRedirects { limit: 5 },
        Error::InsecureRedirect(Box::new(Url::parse("ws://example.com/").unwrap())),
        Error::InvalidRedirect(UrlError::UnsupportedScheme("ftp".into())),
    ]
}

#[test]
fn messages_are_lowercase_fragments_that_name_their_cause() {
    for error in every_error() {
        let message = error.to_string();
        let first = message.chars().next().unwrap();
        assert!(first.is_lowercase(), "{message:?}");
        assert!(!message.ends_with(['.', '!', '\n', ' ']), "{message:?}");
        // The message alone says what happened: a wrapped error's text is in it.
        if let Some(source) = error.source() {
            assert!(
                message.contains(&source.to_string()),
                "{message:?} hides {source}"
            );
        }
    }
    let url_errors = [
        UrlError::MissingScheme,
        UrlError::UnsupportedScheme("http".into()),
        UrlError::InvalidCharacter,
        UrlError::Fragment,
        UrlError::UserInfo,
        UrlError::EmptyHost,
        UrlError::InvalidHost,
        UrlError::InvalidPort,
    ];
    for error in url_errors {
        let message = error.to_string();
        assert!(message.starts_with("url "), "{message:?}");
        assert!(!message.ends_with(['.', '!', '\n', ' ']), "{message:?}");
    }
}

#[test]
fn the_messages_say_what_happened() {
    let messages: Vec<String> = every_error().iter().map(ToString::to_string).collect();
    assert_eq!(
        messages[0],
        "invalid url `ws://h/#x`: url has a fragment, which websocket urls may not"
    );
    assert!(messages[1].contains("ws_tls::connect"), "{}", messages[1]);
    assert_eq!(messages[2], "could not resolve chat.invalid: lookup failed");
    assert_eq!(
        messages[3],
        "could not connect to 127.0.0.1:9: connection refused"
    );
    assert_eq!(
        messages[7],
        "websocket handshake failed: sec-websocket-accept does not match the key"
    );
    assert_eq!(
        messages[10],
        "could not connect to the proxy proxy.internal:3128: connection refused"
    );
}

#[test]
fn lower_layers_errors_are_the_sources() {
    let errors = every_error();
    assert!(errors[0].source().unwrap().is::<UrlError>());
    assert!(errors[1].source().is_none());
    for io_error in &errors[2..5] {
        assert!(io_error.source().unwrap().is::<io::Error>());
    }
    assert!(errors[7].source().unwrap().is::<ws_handshake::Error>());
    assert!(errors[10].source().unwrap().is::<io::Error>());
    for no_source in &errors[11..13] {
        assert!(no_source.source().is_none());
    }
    assert!(errors[13].source().unwrap().is::<ws_handshake::Error>());
    assert!(errors[14..17].iter().all(|error| error.source().is_none()));
    assert!(errors[17].source().unwrap().is::<UrlError>());
}

#[test]
fn a_connection_error_is_transparent() {
    // The wrapper adds no words, so its message is the connection error's and the
    // chain goes on from that error's own source: no line is printed twice.
    let errors = every_error();
    assert_eq!(errors[8].to_string(), "text message is not valid utf-8");
    assert!(errors[8].source().is_none());
    let frame = Error::Connection(ws_stream::Error::Frame(ws_frame::Error::UnmaskedFrame));
    let source = frame.source().expect("the frame error");
    assert!(source.is::<ws_frame::Error>());
    assert_eq!(
        frame.to_string(),
        format!("invalid frame from the peer: {source}")
    );
}

#[test]
fn is_closed_delegates_to_the_connection_error() {
    let normal = Error::Connection(ws_stream::Error::Closed(CloseFrame::new(
        CloseCode::NORMAL,
        "",
    )));
    assert!(normal.is_closed());
    assert!(Error::Connection(ws_stream::Error::AlreadyClosed).is_closed());
    let abnormal = Error::Connection(ws_stream::Error::Closed(CloseFrame::new(
        CloseCode::ABNORMAL,
        "",
    )));
    assert!(!abnormal.is_closed());
    assert!(!Error::ClosedDuringHandshake.is_closed());
    assert!(!Error::NoConnection.is_closed());
}

#[test]
fn config_defaults_are_the_documented_ones() {
    let config = ClientConfig::default();
    assert!(config.headers.is_empty());
    assert_eq!(config.origin, None);
    assert!(config.protocols.is_empty());
    assert_eq!(config.connect_timeout, Some(Duration::from_secs(10)));
    assert_eq!(config.handshake_timeout, Some(Duration::from_secs(10)));
    assert_eq!(config.stream, ws_stream::Config::default());
    assert_eq!(config.limits, Limits::default());
    assert_eq!(config.proxy, None);
    assert_eq!(config.max_redirects, 0);
}

#[test]
fn config_setters_add_up_and_debug_hides_header_values() {
    let config = ClientConfig::default()
        .header("Authorization", "Bearer secret-token")
        .header("Cookie", "a=1")
        .protocols(["a"])
        .protocols(["b"]);
    assert_eq!(config.protocols, ["a", "b"]);
    assert_eq!(config.headers.len(), 2);
    let debug = format!("{config:?}");
    assert!(debug.contains("Authorization"), "{debug}");
    assert!(!debug.contains("secret-token"), "{debug}");
}

#[test]
fn only_the_two_lower_layers_and_base64_are_runtime_dependencies() {
    // The client sits on ws-handshake and ws-stream (base64, for proxy credentials,
    // comes with ws-handshake anyway); ws-server is its peer and must never become a
    // dependency, nor may anything else creep in.
    let manifest = include_str!("../../Cargo.toml");
    let mut in_dependencies = false;
    let mut found = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]" || line.starts_with("[target.");
            continue;
        }
        // tokio is optional, behind the `tokio` feature (the architecture test checks).
        let optional = line.contains("optional = true");
        if in_dependencies && !line.is_empty() && !line.starts_with('#') && !optional {
            found.push(line.split(['.', ' ', '=']).next().unwrap().to_owned());
        }
    }
    assert_eq!(found, ["base64", "ws-handshake", "ws-stream"]);
    assert!(!manifest.contains("ws-server"));
}

//! The shape of the public API: error size and messages, auto traits, dependencies.

use ws_handshake::{
    AcceptResponse, Accepted, ClientRequest, Error, Headers, Misuse, PendingHandshake, Rejection,
    Request, RequestParser, Response, ResponseParser, UpgradeRequest,
};

use crate::{RFC_RESPONSE, parse_response};

#[test]
fn the_error_stays_small() {
    assert!(
        size_of::<Error>() <= 32,
        "Error is {} bytes",
        size_of::<Error>()
    );
}

#[test]
fn public_types_can_cross_threads() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Error>();
    check::<Misuse>();
    check::<Headers>();
    check::<Request>();
    check::<Response>();
    check::<RequestParser>();
    check::<ResponseParser>();
    check::<UpgradeRequest>();
    check::<AcceptResponse<'static>>();
    check::<Rejection>();
    check::<ClientRequest>();
    check::<PendingHandshake>();
    check::<Accepted>();
    check::<ws_handshake::Extension>();
    check::<ws_handshake::DeflateOffer>();
    check::<ws_handshake::DeflateParams>();
    check::<ws_handshake::DeflateServerConfig>();
    let _: &dyn std::error::Error = &Error::AcceptMismatch;
}

#[test]
fn messages_are_lowercase_fragments_without_trailing_punctuation() {
    let errors = [
        Error::HeadTooLarge { limit: 8192 },
        Error::TooManyHeaders { limit: 64 },
        Error::InvalidRequestLine,
        Error::InvalidStatusLine,
        Error::InvalidHeaderName,
        Error::MissingColon,
        Error::ObsFold,
        Error::InvalidHeaderValue,
        Error::MethodNotGet,
        Error::HttpVersionTooOld,
        Error::UnsupportedTarget,
        Error::MissingHeader("host"),
        Error::DuplicateHeader("host"),
        Error::InvalidHeader("sec-websocket-key"),
        Error::NoWebSocketUpgrade,
        Error::NoConnectionUpgrade,
        Error::UnsupportedVersion,
        Error::UnexpectedStatus(Box::new(parse_response(RFC_RESPONSE))),
        Error::AcceptMismatch,
        Error::UnexpectedProtocol,
        Error::UnexpectedExtension,
        Error::ExtensionSyntax { offset: 3 },
        Error::UnknownExtensionParam,
        Error::DuplicateExtensionParam,
        Error::InvalidExtensionParam,
        Error::WindowBitsOutOfRange,
        Error::ClientWindowBitsNotAllowed,
        Error::ServerWindowBitsNotAllowed,
        Error::ContextTakeoverNotAgreed,
        Error::UnsupportedWindowBits { bits: 8 },
        Error::Misuse(Misuse::HeaderName),
        Error::Misuse(Misuse::HeaderValue),
        Error::Misuse(Misuse::ManagedHeader("host")),
        Error::Misuse(Misuse::Host),
        Error::Misuse(Misuse::Target),
        Error::Misuse(Misuse::ProtocolName),
        Error::Misuse(Misuse::ProtocolNotOffered),
        Error::Misuse(Misuse::RejectionStatus(200)),
        Error::Misuse(Misuse::InputShrank),
        Error::Misuse(Misuse::DeflateOffer),
        Error::Misuse(Misuse::DeflateAnswer),
        Error::RandomUnavailable,
    ];
    for error in errors {
        let message = error.to_string();
        let first = message.chars().next().expect("a message");
        assert!(first.is_lowercase(), "{message:?}");
        assert!(!message.ends_with(['.', '!', '\n', ' ']), "{message:?}");
    }
    assert_eq!(
        Error::HeadTooLarge { limit: 8192 }.to_string(),
        "http head exceeds the limit of 8192 bytes"
    );
}

#[test]
fn only_the_three_declared_runtime_dependencies() {
    // The handshake layer sits under ws-server and ws-client: it may not grow a
    // dependency on another layer, nor on anything beyond these.
    let manifest = include_str!("../../Cargo.toml");
    let mut in_dependencies = false;
    let mut found = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]" || line.starts_with("[target.");
            continue;
        }
        if in_dependencies && !line.is_empty() && !line.starts_with('#') {
            found.push(
                line.split(['.', ' ', '='])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    assert_eq!(found, ["base64", "getrandom", "sha1_smol"]);
}

#[test]
fn debug_output_shows_bytes_as_escaped_text() {
    let response = parse_response(b"HTTP/1.1 101 Caf\xe9\r\nX-A: b\xff\r\n\r\n");
    let debug = format!("{response:?}");
    assert!(debug.contains(r#"reason: "Caf\xe9""#), "{debug}");
    assert!(debug.contains(r#"("X-A", "b\xff")"#), "{debug}");
}

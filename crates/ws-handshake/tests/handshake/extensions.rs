//! `Sec-WebSocket-Extensions` parsing and permessage-deflate negotiation (RFC 6455
//! section 9.1, RFC 7692 section 7.1), in both roles.

use proptest::prelude::*;
use ws_handshake::{
    AcceptResponse, ClientRequest, DeflateOffer, DeflateParams, DeflateServerConfig, Error,
    Extension, Misuse, PendingHandshake, UpgradeRequest, parse_extensions,
};

use crate::{RFC_NONCE, VALID_REQUEST, head, parse_request, parse_response, with};

fn parse(value: &str) -> Result<Vec<Extension>, Error> {
    parse_extensions([value.as_bytes()])
}

/// An extension as its name and `(param, value)` pairs, for compact assertions.
type Shape = (String, Vec<(String, Option<String>)>);

/// Each element as a [`Shape`].
fn shape(list: &[Extension]) -> Vec<Shape> {
    list.iter()
        .map(|extension| {
            let params = extension
                .params()
                .map(|p| (p.name().to_owned(), p.value().map(str::to_owned)))
                .collect();
            (extension.name().to_owned(), params)
        })
        .collect()
}

fn ext(name: &str, params: &[(&str, Option<&str>)]) -> Shape {
    let params = params
        .iter()
        .map(|(n, v)| (n.to_string(), v.map(str::to_owned)))
        .collect();
    (name.to_owned(), params)
}

/// What a server with `config` agrees to for a client sending `value`.
fn negotiate(config: DeflateServerConfig, value: &str) -> Option<String> {
    config
        .negotiate(&parse(value).unwrap())
        .map(|params| params.to_string())
}

fn server() -> DeflateServerConfig {
    DeflateServerConfig::default()
}

/// A server that asks for nothing, so an answer shows exactly what the offer forced.
fn plain_server() -> DeflateServerConfig {
    DeflateServerConfig::default()
        .server_max_window_bits(15)
        .client_max_window_bits(15)
}

#[test]
fn several_extensions_and_offers_across_repeated_fields() {
    let lines: [&[u8]; 3] = [
        b"permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate",
        b"x-webkit-deflate-frame",
        b" , ,foo;a;b=1 ,",
    ];
    let list = parse_extensions(lines).unwrap();
    assert_eq!(
        shape(&list),
        [
            ext(
                "permessage-deflate",
                &[
                    ("client_max_window_bits", None),
                    ("server_max_window_bits", Some("10"))
                ]
            ),
            ext("permessage-deflate", &[]),
            ext("x-webkit-deflate-frame", &[]),
            ext("foo", &[("a", None), ("b", Some("1"))]),
        ]
    );
    assert_eq!(parse_extensions([]).unwrap(), []);
    assert_eq!(parse("").unwrap(), []);
}

#[test]
fn whitespace_around_separators_is_allowed() {
    let list = parse("a ;\tb = 1 ; c\t=\t\"2\" ,d").unwrap();
    assert_eq!(
        shape(&list),
        [
            ext("a", &[("b", Some("1")), ("c", Some("2"))]),
            ext("d", &[])
        ]
    );
}

#[test]
fn quoted_values_are_unescaped_and_must_be_tokens() {
    let list = parse(r#"a; b="10"; c="\1\5"; d="x\-y""#).unwrap();
    assert_eq!(
        shape(&list),
        [ext(
            "a",
            &[("b", Some("10")), ("c", Some("15")), ("d", Some("x-y"))]
        )]
    );
    // A comma inside quotes does not end the element, and a non-token fails.
    assert_eq!(
        parse(r#"a; b="1,2", c"#),
        Err(Error::ExtensionSyntax { offset: 5 })
    );
    assert_eq!(
        parse(r#"a; b="x y""#),
        Err(Error::ExtensionSyntax { offset: 5 })
    );
    assert_eq!(
        parse(r#"a; b="""#),
        Err(Error::ExtensionSyntax { offset: 5 })
    );
}

#[test]
fn malformed_lists_give_the_offset_where_parsing_stopped() {
    let cases: &[(&str, usize)] = &[
        (";", 0),
        ("a;", 2),
        ("a; ", 3),
        ("a;;b", 2),
        ("a;b=", 4),
        ("a;b= ,", 5),
        ("a b", 2),
        ("a;b c", 4),
        ("a;b=c d", 6),
        ("a;b=c=d", 5),
        ("\"a\"", 0),
        ("a;\"b\"", 2),
        ("a;b=\"unterminated", 17),
        ("a;b=\"bad\\", 9),
        ("a;b=\"bad\\\x7f\"", 9),
        ("a;b=\"\x01\"", 5),
        ("a;b=\u{e9}", 4),
        ("a/b", 1),
        ("a;b=c;", 6),
        ("=", 0),
    ];
    for &(value, offset) in cases {
        assert_eq!(
            parse(value),
            Err(Error::ExtensionSyntax { offset }),
            "{value:?}"
        );
    }
    assert_eq!(
        Error::ExtensionSyntax { offset: 3 }.to_string(),
        "malformed sec-websocket-extensions at byte 3"
    );
    assert_eq!(
        Error::ExtensionSyntax { offset: 3 }.http_status(),
        Some(400)
    );
}

#[test]
fn display_writes_a_value_that_parses_back() {
    let list = parse(r#"permessage-deflate ; client_max_window_bits = "9" ; x"#).unwrap();
    assert_eq!(
        list[0].to_string(),
        "permessage-deflate; client_max_window_bits=9; x"
    );
    assert_eq!(parse(&list[0].to_string()).unwrap(), list);
}

/// RFC 7692 section 5.2's example: the client prefers a 10-bit server window and
/// falls back to any; a server that allows 10 takes the first offer.
#[test]
fn rfc_7692_example_offers() {
    let offer = "permessage-deflate; client_max_window_bits; server_max_window_bits=10, \
                 permessage-deflate; client_max_window_bits";
    assert_eq!(
        negotiate(plain_server(), offer).as_deref(),
        Some("permessage-deflate; server_max_window_bits=10")
    );
    assert_eq!(
        negotiate(server(), offer).as_deref(),
        Some("permessage-deflate; server_max_window_bits=10; client_max_window_bits=12")
    );
    // Section 7.1.3's plain offer, and the answers it lists as valid.
    assert_eq!(
        negotiate(plain_server(), "permessage-deflate").as_deref(),
        Some("permessage-deflate")
    );
    let pending = DeflateOffer::default().client_max_window_bits(None);
    for answer in [
        "permessage-deflate",
        "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10",
    ] {
        assert!(
            pending.check_answer(&parse(answer).unwrap()).is_ok(),
            "{answer}"
        );
    }
}

#[test]
fn the_server_answers_with_exactly_what_it_will_use() {
    let cases: &[(DeflateServerConfig, &str, Option<&str>)] = &[
        (
            server(),
            "permessage-deflate",
            Some("permessage-deflate; server_max_window_bits=12"),
        ),
        (
            server(),
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
        ),
        (
            server(),
            "permessage-deflate; client_max_window_bits=10; server_max_window_bits=14",
            Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=10"),
        ),
        (
            plain_server(),
            "permessage-deflate; client_max_window_bits=15",
            Some("permessage-deflate"),
        ),
        (
            plain_server(),
            "permessage-deflate; client_max_window_bits=8",
            Some("permessage-deflate; client_max_window_bits=8"),
        ),
        (
            plain_server(),
            "permessage-deflate; server_max_window_bits=9",
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        (
            plain_server(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        (
            plain_server()
                .server_no_context_takeover(true)
                .client_no_context_takeover(true),
            "permessage-deflate",
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        // A client that cannot limit its window is declined only on request.
        (
            server().require_client_max_window_bits(true),
            "permessage-deflate",
            None,
        ),
        (
            server().require_client_max_window_bits(true),
            "permessage-deflate, permessage-deflate; client_max_window_bits",
            Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
        ),
        (server(), "x-webkit-deflate-frame, foo; bar", None),
    ];
    for (config, offer, answer) in cases {
        assert_eq!(negotiate(*config, offer).as_deref(), *answer, "{offer}");
    }
}

/// The backend cannot compress with a 256-byte window, and RFC 7692 section 7.1.2.1
/// forbids using 9 bits where 8 were agreed: such an offer is declined, the next taken.
/// (python-websockets answered the first of these with HTTP 500.)
#[test]
fn an_offer_of_an_8_bit_server_window_is_declined() {
    assert_eq!(
        negotiate(server(), "permessage-deflate; server_max_window_bits=8"),
        None
    );
    assert_eq!(
        negotiate(
            server(),
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits, \
             permessage-deflate; server_max_window_bits=9"
        )
        .as_deref(),
        Some("permessage-deflate; server_max_window_bits=9")
    );
    let upgrade = upgrade_offering(&[
        "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8",
    ]);
    let agreed = upgrade.negotiate_deflate(&server());
    assert_eq!(agreed, None);
    let answer = AcceptResponse::new(&upgrade)
        .deflate(agreed)
        .to_bytes()
        .unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 101 "));
    assert!(!contains(&answer, b"Sec-WebSocket-Extensions"));
}

/// Every malformed offer is declined, never fatal, and the next offer is taken.
#[test]
fn malformed_offers_are_declined_and_the_next_taken() {
    let malformed = [
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=99999999999999999999",
        "permessage-deflate; server_max_window_bits=ten",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=-9",
        "permessage-deflate; client_max_window_bits; client_max_window_bits",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=true",
        "permessage-deflate; client_no_context_takeover=\"x\"",
        "permessage-deflate; unknown_parameter",
        "permessage-deflate; Server_Max_Window_Bits=10",
    ];
    for offer in malformed {
        assert_eq!(negotiate(server(), offer), None, "{offer}");
        let with_fallback = format!("{offer}, permessage-deflate; client_max_window_bits=11");
        assert_eq!(
            negotiate(server(), &with_fallback).as_deref(),
            Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=11"),
            "{offer}"
        );
    }
}

#[test]
fn a_request_with_a_malformed_list_is_still_an_upgrade_without_extensions() {
    let upgrade = upgrade_offering(&[
        "Sec-WebSocket-Extensions: permessage-deflate; a=\"unterminated",
        "Sec-WebSocket-Extensions: permessage-deflate",
    ]);
    assert_eq!(
        upgrade.extension_offers(),
        Err(Error::ExtensionSyntax { offset: 35 })
    );
    assert_eq!(upgrade.negotiate_deflate(&server()), None);
}

#[test]
fn the_101_carries_the_answer_and_the_offers_come_from_every_field() {
    let upgrade = upgrade_offering(&[
        "Sec-WebSocket-Extensions: x-foo",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=\"9\"",
    ]);
    assert_eq!(upgrade.extension_offers().unwrap().len(), 2);
    let agreed = upgrade.negotiate_deflate(&server()).unwrap();
    assert_eq!(
        (agreed.server_window_bits(), agreed.client_window_bits()),
        (12, 9)
    );
    let answer = AcceptResponse::new(&upgrade)
        .deflate(agreed)
        .to_bytes()
        .unwrap();
    assert!(contains(
        &answer,
        b"\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; \
          client_max_window_bits=9\r\n"
    ));
}

#[test]
fn the_101_refuses_an_answer_to_no_offer() {
    let none = upgrade_offering(&[]);
    let params = DeflateParams::default();
    assert_eq!(
        AcceptResponse::new(&none).deflate(params).to_bytes(),
        Err(Error::Misuse(Misuse::DeflateAnswer))
    );
    let plain = upgrade_offering(&["Sec-WebSocket-Extensions: permessage-deflate"]);
    let mut bad = DeflateParams::default();
    bad.client_max_window_bits = Some(10); // not offered
    assert_eq!(
        AcceptResponse::new(&plain).deflate(bad).to_bytes(),
        Err(Error::Misuse(Misuse::DeflateAnswer))
    );
    let mut eight = DeflateParams::default();
    eight.server_max_window_bits = Some(8); // we cannot compress so
    assert_eq!(
        AcceptResponse::new(&plain).deflate(eight).to_bytes(),
        Err(Error::Misuse(Misuse::DeflateAnswer))
    );
    assert!(
        AcceptResponse::new(&plain)
            .deflate(params)
            .to_bytes()
            .is_ok()
    );
}

#[test]
fn the_client_offers_what_browsers_offer_by_default() {
    let (bytes, _) = ClientRequest::new("a", "/")
        .deflate(DeflateOffer::default())
        .build_with_key(RFC_NONCE)
        .unwrap();
    assert!(contains(
        &bytes,
        b"\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    ));
    let offer = DeflateOffer::default()
        .server_no_context_takeover(true)
        .client_no_context_takeover(true)
        .server_max_window_bits(Some(10))
        .client_max_window_bits(Some(12));
    assert_eq!(
        offer.to_string(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=12"
    );
    // Our own server takes our own offer.
    let request = parse_request(
        &ClientRequest::new("a", "/")
            .deflate(offer)
            .build()
            .unwrap()
            .0,
    );
    let upgrade = UpgradeRequest::from_request(&request).unwrap();
    assert_eq!(
        upgrade.negotiate_deflate(&server()).unwrap().to_string(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=12"
    );
    let (plain, _) = ClientRequest::new("a", "/").build().unwrap();
    assert!(!contains(&plain, b"Sec-WebSocket-Extensions"));
}

#[test]
fn an_offer_the_client_cannot_keep_is_misuse() {
    for offer in [
        DeflateOffer::default().client_max_window_bits(Some(8)),
        DeflateOffer::default().client_max_window_bits(Some(16)),
        DeflateOffer::default().server_max_window_bits(Some(7)),
        DeflateOffer::default().server_max_window_bits(Some(16)),
    ] {
        assert_eq!(
            ClientRequest::new("a", "/")
                .deflate(offer)
                .build()
                .unwrap_err(),
            Error::Misuse(Misuse::DeflateOffer),
            "{offer}"
        );
    }
}

#[test]
fn the_client_accepts_valid_answers_and_learns_the_parameters() {
    let pending = pending(DeflateOffer::default());
    let accepted = pending
        .validate(response(&[
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
        ]))
        .unwrap();
    let agreed = accepted.deflate().unwrap();
    assert_eq!(
        (agreed.server_window_bits(), agreed.client_window_bits()),
        (12, 12)
    );
    assert!(!agreed.server_no_context_takeover && !agreed.client_no_context_takeover);

    let quoted = pending
        .validate(response(&[
            "Sec-WebSocket-Extensions: permessage-deflate;client_max_window_bits=\"9\";server_no_context_takeover",
        ]))
        .unwrap();
    let agreed = quoted.deflate().unwrap();
    assert_eq!(
        (
            agreed.client_window_bits(),
            agreed.server_no_context_takeover
        ),
        (9, true)
    );

    // Declined: no header, or an empty one.
    assert_eq!(pending.validate(response(&[])).unwrap().deflate(), None);
    assert_eq!(
        pending
            .validate(response(&["Sec-WebSocket-Extensions: "]))
            .unwrap()
            .deflate(),
        None
    );
}

/// Every malformed or disallowed answer listed by the issue fails with its own error.
#[test]
fn each_bad_answer_has_its_error() {
    let offer = DeflateOffer::default();
    let limited = DeflateOffer::default()
        .client_max_window_bits(Some(10))
        .server_max_window_bits(Some(11))
        .server_no_context_takeover(true);
    let no_client_bits = DeflateOffer::default().client_max_window_bits(None);
    let cases: &[(DeflateOffer, &[&str], Error)] = &[
        (
            offer,
            &["x-webkit-deflate-frame"],
            Error::UnexpectedExtension,
        ),
        (
            offer,
            &["permessage-deflate, x-foo"],
            Error::UnexpectedExtension,
        ),
        (
            offer,
            &["permessage-deflate", "permessage-deflate"],
            Error::UnexpectedExtension,
        ),
        (
            offer,
            &["permessage-deflate; foo"],
            Error::UnknownExtensionParam,
        ),
        (
            offer,
            &["permessage-deflate; server_no_context_takeover; server_no_context_takeover"],
            Error::DuplicateExtensionParam,
        ),
        (
            offer,
            &["permessage-deflate; client_max_window_bits=10; client_max_window_bits=10"],
            Error::DuplicateExtensionParam,
        ),
        (
            offer,
            &["permessage-deflate; server_max_window_bits=7"],
            Error::WindowBitsOutOfRange,
        ),
        (
            offer,
            &["permessage-deflate; server_max_window_bits=16"],
            Error::WindowBitsOutOfRange,
        ),
        (
            offer,
            &["permessage-deflate; client_max_window_bits=255"],
            Error::WindowBitsOutOfRange,
        ),
        (
            offer,
            &["permessage-deflate; client_max_window_bits=1x"],
            Error::InvalidExtensionParam,
        ),
        (
            offer,
            &["permessage-deflate; client_max_window_bits"],
            Error::InvalidExtensionParam,
        ),
        (
            offer,
            &["permessage-deflate; server_max_window_bits"],
            Error::InvalidExtensionParam,
        ),
        (
            offer,
            &["permessage-deflate; client_no_context_takeover=1"],
            Error::InvalidExtensionParam,
        ),
        (
            no_client_bits,
            &["permessage-deflate; client_max_window_bits=15"],
            Error::ClientWindowBitsNotAllowed,
        ),
        (
            limited,
            &[
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=11; client_max_window_bits=11",
            ],
            Error::ClientWindowBitsNotAllowed,
        ),
        (
            limited,
            &["permessage-deflate; server_no_context_takeover; server_max_window_bits=12"],
            Error::ServerWindowBitsNotAllowed,
        ),
        (
            limited,
            &["permessage-deflate; server_no_context_takeover"],
            Error::ServerWindowBitsNotAllowed,
        ),
        (
            limited,
            &["permessage-deflate; server_max_window_bits=11"],
            Error::ContextTakeoverNotAgreed,
        ),
        (
            offer,
            &["permessage-deflate; client_max_window_bits=8"],
            Error::UnsupportedWindowBits { bits: 8 },
        ),
        (
            offer,
            &["permessage-deflate; a=\"b"],
            Error::ExtensionSyntax { offset: 24 },
        ),
    ];
    for (offer, lines, error) in cases {
        let lines: Vec<String> = lines
            .iter()
            .map(|line| format!("Sec-WebSocket-Extensions: {line}"))
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(
            pending(*offer).validate(response(&lines)).unwrap_err(),
            *error,
            "{lines:?}"
        );
    }
    // An answer within the limited offer passes.
    let fine = [
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=9",
    ];
    assert!(pending(limited).validate(response(&fine)).is_ok());
}

#[test]
fn a_client_that_offered_nothing_refuses_any_extension() {
    let (_, pending) = ClientRequest::new("a", "/")
        .build_with_key(RFC_NONCE)
        .unwrap();
    assert_eq!(
        pending
            .validate(response(&["Sec-WebSocket-Extensions: permessage-deflate"]))
            .unwrap_err(),
        Error::UnexpectedExtension
    );
}

proptest! {
    /// Any bytes, as one or two fields, parse or fail with a syntax error; whatever
    /// parses survives negotiation in both roles, and prints back to the same list.
    #[test]
    fn any_bytes_never_panic(
        first in proptest::collection::vec(any::<u8>(), 0..64),
        second in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        check_any(&[&first, &second])?;
    }

    /// The same over the grammar's own alphabet, where most inputs parse.
    #[test]
    fn near_valid_lists_never_panic(
        value in "(permessage-deflate|x|[a-z_]{1,24})([ ]?;[ ]?(server_no_context_takeover|client_no_context_takeover|server_max_window_bits|client_max_window_bits|[a-z]{1,3})(=(\"?[0-9]{1,3}\"?|[a-z]{1,2}))?){0,5}(, ?(permessage-deflate|y)(;client_max_window_bits(=[0-9]{1,2})?)?){0,3}",
    ) {
        check_any(&[value.as_bytes()])?;
    }
}

fn check_any(fields: &[&[u8]]) -> Result<(), TestCaseError> {
    match parse_extensions(fields.iter().copied()) {
        Ok(list) => {
            let printed: Vec<String> = list.iter().map(ToString::to_string).collect();
            let reparsed = parse_extensions(printed.iter().map(|s| s.as_bytes()));
            prop_assert_eq!(reparsed.as_ref(), Ok(&list));
            if let Some(params) = server().negotiate(&list) {
                prop_assert!(params.server_window_bits() >= 9);
                let answer = parse(&params.to_string()).unwrap();
                prop_assert_eq!(DeflateParams::from_extension(&answer[0]), Ok(params));
            }
            for offer in [
                DeflateOffer::default(),
                DeflateOffer::default().client_max_window_bits(None),
            ] {
                if let Ok(Some(params)) = offer.check_answer(&list) {
                    prop_assert!((9..=15).contains(&params.client_window_bits()));
                }
            }
        }
        Err(error) => {
            let syntax = matches!(error, Error::ExtensionSyntax { .. });
            prop_assert!(syntax, "{:?}", error);
        }
    }
    Ok(())
}

fn upgrade_offering(extra: &[&str]) -> UpgradeRequest {
    UpgradeRequest::from_request(&parse_request(&head(&with(&VALID_REQUEST, extra)))).unwrap()
}

fn pending(offer: DeflateOffer) -> PendingHandshake {
    ClientRequest::new("a", "/")
        .deflate(offer)
        .build_with_key(RFC_NONCE)
        .unwrap()
        .1
}

/// A valid 101 for [`RFC_NONCE`] with `extra` header lines.
fn response(extra: &[&str]) -> ws_handshake::Response {
    let lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    ];
    parse_response(&head(&with(&lines, extra)))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// python-websockets 17.4's server, with its defaults (12-bit windows both ways),
/// answered these offers so; ours answers the same, parameter for parameter.
#[test]
fn answers_as_python_websockets_does() {
    let cases = [
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
        ),
        (
            "permessage-deflate",
            "permessage-deflate; server_max_window_bits=12",
        ),
        (
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9; \
             server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
             client_max_window_bits=9",
        ),
    ];
    for (offer, python) in cases {
        assert_eq!(
            negotiate(server(), offer).as_deref(),
            Some(python),
            "{offer}"
        );
    }
}

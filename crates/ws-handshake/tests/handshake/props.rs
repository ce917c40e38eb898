//! Properties over generated input: no panic on any bytes, and the way input is split
//! never changes the result.

use proptest::prelude::*;
use ws_handshake::{
    ClientRequest, Error, Handshake, Limits, Parsed, RequestParser, ResponseParser, UpgradeRequest,
};

use crate::rfc_pending;

/// Small limits, so generated input reaches them often.
fn limits() -> Limits {
    Limits::default().max_head_len(300).max_headers(6)
}

/// Bytes that look like a head often enough to reach every check.
fn head_like() -> impl Strategy<Value = Vec<u8>> {
    const FRAGMENTS: &[&[u8]] = &[
        b"GET / HTTP/1.1",
        b"HTTP/1.1 101 Switching Protocols",
        b"\r\n",
        b"\n",
        b"\r",
        b":",
        b" ",
        b"\t",
        b",",
        b"Host: a",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        b"Sec-WebSocket-Version: 13",
        b"Sec-WebSocket-Protocol: chat",
        b"\xff\x00\x7f",
    ];
    let fragment = prop::sample::select(FRAGMENTS).prop_map(<[u8]>::to_vec);
    let byte = any::<u8>().prop_map(|byte| vec![byte]);
    prop::collection::vec(prop_oneof![3 => fragment, 1 => byte], 0..48)
        .prop_map(|parts| parts.concat())
}

/// Feeds `bytes` in chunks of `chunk` until the parser answers something other than
/// `Partial`, as a network read loop would.
fn feed<T: PartialEq>(
    mut parse: impl FnMut(&[u8]) -> Result<Parsed<T>, Error>,
    bytes: &[u8],
    chunk: usize,
) -> Result<Parsed<T>, Error> {
    let mut end = 0;
    loop {
        end = (end + chunk).min(bytes.len());
        let result = parse(&bytes[..end]);
        if result != Ok(Parsed::Partial) || end == bytes.len() {
            return result;
        }
    }
}

/// Everything a caller might do with an error; none of it may panic.
fn use_error(err: &Error) {
    let _ = err.to_string();
    let _ = err.http_status();
    if let Some(rejection) = err.rejection() {
        assert!(rejection.to_bytes().is_ok());
    }
}

fn check_request_input(bytes: &[u8], chunk: usize) -> Result<(), TestCaseError> {
    let whole = RequestParser::new(limits()).parse(bytes);
    let mut parser = RequestParser::new(limits());
    let pieces = feed(|buf| parser.parse(buf), bytes, chunk);
    prop_assert_eq!(&pieces, &whole);
    match whole {
        Ok(Parsed::Complete(request, used)) => {
            prop_assert!(used <= bytes.len() && used <= limits().max_head_len);
            match UpgradeRequest::from_request(&request) {
                Ok(upgrade) => {
                    let _ = (
                        upgrade.path(),
                        upgrade.query(),
                        upgrade.extensions().count(),
                    );
                }
                Err(err) => use_error(&err),
            }
        }
        Ok(Parsed::Partial) => prop_assert!(bytes.len() < limits().max_head_len),
        Err(err) => use_error(&err),
    }
    Ok(())
}

fn check_response_input(bytes: &[u8], chunk: usize) -> Result<(), TestCaseError> {
    let whole = ResponseParser::new(limits()).parse(bytes);
    let mut parser = ResponseParser::new(limits());
    let pieces = feed(|buf| parser.parse(buf), bytes, chunk);
    prop_assert_eq!(&pieces, &whole);
    if let Ok(Parsed::Complete(response, _)) = whole
        && let Err(err) = rfc_pending().validate(response)
    {
        use_error(&err);
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_bytes_parse_without_panic_whatever_the_split(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        chunk in 1usize..20,
    ) {
        check_request_input(&bytes, chunk)?;
        check_response_input(&bytes, chunk)?;
    }

    #[test]
    fn head_like_bytes_parse_without_panic_whatever_the_split(
        bytes in head_like(),
        chunk in 1usize..20,
    ) {
        check_request_input(&bytes, chunk)?;
        check_response_input(&bytes, chunk)?;
    }

    #[test]
    fn a_valid_head_gives_the_same_result_split_at_any_point(
        fields in prop::collection::vec(
            ("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}", prop::collection::vec(field_byte(), 0..24)),
            0..8,
        ),
        lf_only in prop::collection::vec(any::<bool>(), 10),
        trailing in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let ending = |index: usize| if lf_only[index % lf_only.len()] { &b"\n"[..] } else { b"\r\n" };
        let mut bytes = b"GET /chat?x=1 HTTP/1.1".to_vec();
        bytes.extend_from_slice(ending(0));
        for (index, (name, value)) in fields.iter().enumerate() {
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(b':');
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(ending(index + 1));
        }
        bytes.extend_from_slice(ending(fields.len() + 1));
        let head_len = bytes.len();
        bytes.extend_from_slice(&trailing);

        let whole = RequestParser::default().parse(&bytes);
        let Ok(Parsed::Complete(request, used)) = &whole else {
            return Err(TestCaseError::fail(format!("{whole:?}")));
        };
        prop_assert_eq!(*used, head_len);
        prop_assert_eq!(request.headers().len(), fields.len());
        for ((name, value), (parsed_name, parsed_value)) in fields.iter().zip(request.headers().iter()) {
            prop_assert_eq!(name.as_str(), parsed_name);
            prop_assert_eq!(trim(value), parsed_value);
        }
        for split in 0..head_len {
            let mut parser = RequestParser::default();
            prop_assert_eq!(parser.parse(&bytes[..split]), Ok(Parsed::Partial));
            prop_assert_eq!(&parser.parse(&bytes), &whole);
        }
    }

    #[test]
    fn builder_input_never_injects_a_header(
        name in prop_oneof!["[A-Za-z-]{1,10}", "[A-Za-z]{1,4}[\r\n: ]{1,2}[A-Za-z]{0,4}", ".{0,12}"],
        value in prop::collection::vec(prop_oneof![3 => field_byte(), 1 => any::<u8>()], 0..16),
    ) {
        let built = ClientRequest::new("example.com", "/").header(name.clone(), value.clone()).build();
        match built {
            Err(err) => prop_assert!(err.is_misuse(), "{err:?}"),
            Ok((bytes, _)) => {
                let Ok(Parsed::Complete(request, used)) = RequestParser::default().parse(&bytes) else {
                    return Err(TestCaseError::fail("our own request does not parse"));
                };
                prop_assert_eq!(used, bytes.len());
                prop_assert_eq!(request.headers().len(), 6);
                prop_assert_eq!(request.headers().get(&name), Some(trim(&value)));
                prop_assert!(UpgradeRequest::from_request(&request).is_ok());
            }
        }
    }

    #[test]
    fn seed_api_never_panics(key in ".{0,40}", version in ".{0,4}") {
        let headers = [
            ("upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("sec-websocket-key", key.as_str()),
            ("sec-websocket-version", version.as_str()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
        if let Ok(returned) = Handshake::parse_upgrade_request(&headers) {
            prop_assert!(Handshake::generate_accept_key(&returned).is_ok());
        }
        let _ = Handshake::generate_accept_key(&key);
    }
}

/// A byte allowed inside a header value.
fn field_byte() -> impl Strategy<Value = u8> {
    prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff]
}

fn trim(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

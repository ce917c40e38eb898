//! The incremental head parsers: line rules, limits, partial input, pipelining.

use ws_handshake::{Error, Limits, Misuse, Parsed, RequestParser, ResponseParser};

use crate::{RFC_REQUEST, RFC_RESPONSE, VALID_REQUEST, head, parse_request, parse_response};

fn request_error(bytes: &[u8]) -> Error {
    RequestParser::default()
        .parse(bytes)
        .expect_err("the head is invalid")
}

fn response_error(bytes: &[u8]) -> Error {
    ResponseParser::default()
        .parse(bytes)
        .expect_err("the head is invalid")
}

#[test]
fn every_prefix_is_partial_and_the_result_does_not_depend_on_the_split() {
    let whole = RequestParser::default().parse(RFC_REQUEST).unwrap();
    for split in 0..RFC_REQUEST.len() {
        let mut parser = RequestParser::default();
        assert_eq!(
            parser.parse(&RFC_REQUEST[..split]),
            Ok(Parsed::Partial),
            "split {split}"
        );
        assert_eq!(
            parser.parse(RFC_REQUEST).as_ref(),
            Ok(&whole),
            "split {split}"
        );
    }
    let whole = ResponseParser::default().parse(RFC_RESPONSE).unwrap();
    for split in 0..RFC_RESPONSE.len() {
        let mut parser = ResponseParser::default();
        assert_eq!(
            parser.parse(&RFC_RESPONSE[..split]),
            Ok(Parsed::Partial),
            "split {split}"
        );
        assert_eq!(
            parser.parse(RFC_RESPONSE).as_ref(),
            Ok(&whole),
            "split {split}"
        );
    }
}

#[test]
fn bytes_after_the_head_are_left_for_the_next_layer() {
    let mut input = RFC_REQUEST.to_vec();
    // A masked text frame "Hi" pipelined right behind the handshake.
    input.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2]);
    let Ok(Parsed::Complete(request, used)) = RequestParser::default().parse(&input) else {
        panic!("complete")
    };
    assert_eq!(used, RFC_REQUEST.len());
    assert_eq!(
        &input[used..],
        &[0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2]
    );
    assert_eq!(request, parse_request(RFC_REQUEST));

    let mut input = RFC_RESPONSE.to_vec();
    input.extend_from_slice(&[0x81, 0x00]);
    let Ok(Parsed::Complete(_, used)) = ResponseParser::default().parse(&input) else {
        panic!("complete")
    };
    assert_eq!(&input[used..], &[0x81, 0x00]);
}

#[test]
fn bare_lf_line_endings_parse_like_crlf() {
    let crlf = parse_request(RFC_REQUEST);
    let lf: Vec<u8> = String::from_utf8_lossy(RFC_REQUEST)
        .replace("\r\n", "\n")
        .into_bytes();
    assert_eq!(parse_request(&lf), crlf);
    // Mixed, including an LF-only final line after CRLF lines.
    let mixed = b"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\n";
    let request = parse_request(mixed);
    assert_eq!(request.headers().get("x"), Some(&b"y"[..]));
    let response = parse_response(b"HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n");
    assert_eq!(response.headers().get("upgrade"), Some(&b"websocket"[..]));
}

#[test]
fn a_carriage_return_not_ending_a_line_is_an_error() {
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"),
        Error::InvalidHeaderValue
    );
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"),
        Error::InvalidHeaderValue
    );
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\r\n\r\n"),
        Error::InvalidRequestLine
    );
    assert_eq!(
        request_error(b"GET /\r HTTP/1.1\r\n\r\n"),
        Error::InvalidRequestLine
    );
    assert_eq!(
        response_error(b"HTTP/1.1 101 OK\r\r\n\r\n"),
        Error::InvalidStatusLine
    );
    // A lone CR is not a line end: the head below has no end yet.
    assert_eq!(
        RequestParser::default().parse(b"GET / HTTP/1.1\r\r"),
        Ok(Parsed::Partial)
    );
}

#[test]
fn obsolete_line_folding_is_refused() {
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"),
        Error::ObsFold
    );
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"),
        Error::ObsFold
    );
    // Whitespace before the first field is refused the same way.
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
        Error::ObsFold
    );
    assert_eq!(
        response_error(b"HTTP/1.1 101 OK\r\nX: a\r\n b\r\n\r\n"),
        Error::ObsFold
    );
}

#[test]
fn header_names_must_be_tokens() {
    for line in [
        "Bad Name: x",
        "Host : a",
        ": x",
        "(x): y",
        "X\x00: y",
        "Ü: y",
        "X\x7f: y",
    ] {
        let bytes = head(&["GET / HTTP/1.1", line]);
        assert_eq!(request_error(&bytes), Error::InvalidHeaderName, "{line:?}");
    }
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\nX\xff: y\r\n\r\n"),
        Error::InvalidHeaderName
    );
}

#[test]
fn header_lines_need_a_colon() {
    assert_eq!(
        request_error(&head(&["GET / HTTP/1.1", "Host example.com"])),
        Error::MissingColon
    );
    assert_eq!(
        response_error(b"HTTP/1.1 101 OK\r\nUpgrade\r\n\r\n"),
        Error::MissingColon
    );
}

#[test]
fn header_values_refuse_control_bytes_but_keep_any_other_byte() {
    for value in [&b"a\x00b"[..], b"a\x01", b"\x7f", b"a\x1bb"] {
        let mut bytes = b"GET / HTTP/1.1\r\nX: ".to_vec();
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            request_error(&bytes),
            Error::InvalidHeaderValue,
            "{value:?}"
        );
    }
    // Not UTF-8, but legal HTTP (obs-text): kept as bytes.
    let request = parse_request(b"GET / HTTP/1.1\r\nX-Name: caf\xe9 \xff\xfe\r\n\r\n");
    assert_eq!(
        request.headers().get("x-name"),
        Some(&b"caf\xe9 \xff\xfe"[..])
    );
}

#[test]
fn values_lose_surrounding_whitespace_only() {
    let request =
        parse_request(b"GET / HTTP/1.1\r\nX: \t a \t b\t \r\nEmpty:\r\nSpaces:   \r\n\r\n");
    assert_eq!(request.headers().get("x"), Some(&b"a \t b"[..]));
    assert_eq!(request.headers().get("empty"), Some(&b""[..]));
    assert_eq!(request.headers().get("spaces"), Some(&b""[..]));
}

#[test]
fn request_lines_are_checked() {
    for line in [
        &b""[..],
        b"GET",
        b"GET /",
        b"GET  / HTTP/1.1",
        b"GET / HTTP/1.1 ",
        b"GET / HTTP/1.1 extra",
        b" GET / HTTP/1.1",
        b"GET / HTTP/11",
        b"GET / HTTP/1.10",
        b"GET / http/1.1",
        b"GET / HTTP/x.1",
        b"GE(T / HTTP/1.1",
        b"GET /caf\xc3\xa9 HTTP/1.1",
        b"GET\t/ HTTP/1.1",
    ] {
        let mut bytes = line.to_vec();
        bytes.extend_from_slice(b"\r\nHost: a\r\n\r\n");
        assert_eq!(
            request_error(&bytes),
            Error::InvalidRequestLine,
            "{}",
            line.escape_ascii()
        );
    }
    let request = parse_request(b"get /a?b=c HTTP/2.0\r\n\r\n");
    assert_eq!(
        (request.method(), request.target(), request.version()),
        ("get", "/a?b=c", (2, 0))
    );
    assert!(request.headers().is_empty());
}

#[test]
fn status_lines_are_checked() {
    let response = parse_response(b"HTTP/1.1 101\r\n\r\n");
    assert_eq!((response.status(), response.reason()), (101, &b""[..]));
    let response = parse_response(b"HTTP/1.0 404 \r\n\r\n");
    assert_eq!(
        (response.version(), response.status(), response.reason()),
        ((1, 0), 404, &b""[..])
    );
    let response = parse_response(b"HTTP/1.1 200 Tr\xe8s  bien\t!\r\n\r\n");
    assert_eq!(response.reason(), b"Tr\xe8s  bien\t!");
    for line in [
        &b""[..],
        b"HTTP/1.1",
        b"HTTP/1.1 ",
        b"HTTP/1.1 99 Low",
        b"HTTP/1.1 1010 Long",
        b"HTTP/1.1 099 Zero",
        b"HTTP/1.1 10a Letter",
        b"HTTP/1.1  101 Two spaces",
        b"HTTP/1.1 101 Bad\x01Reason",
        b"HTTP/1.1 101 Bad\x7f",
        b"ICY 200 OK",
        b"HTTP/1.1\t101 Tab",
    ] {
        let mut bytes = line.to_vec();
        bytes.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            response_error(&bytes),
            Error::InvalidStatusLine,
            "{}",
            line.escape_ascii()
        );
    }
}

#[test]
fn default_limits_are_documented_values() {
    let limits = Limits::default();
    assert_eq!((limits.max_head_len, limits.max_headers), (8 * 1024, 64));
    let limits = limits.max_head_len(100).max_headers(3);
    assert_eq!((limits.max_head_len, limits.max_headers), (100, 3));
}

/// A request head of exactly `len` bytes: the request line, then padding in one field.
fn head_of_len(len: usize) -> Vec<u8> {
    let frame = b"GET / HTTP/1.1\r\nX: \r\n\r\n";
    let mut bytes = b"GET / HTTP/1.1\r\nX: ".to_vec();
    bytes.resize(len - (frame.len() - bytes.len()), b'a');
    bytes.extend_from_slice(b"\r\n\r\n");
    assert_eq!(bytes.len(), len);
    bytes
}

#[test]
fn a_head_may_fill_the_size_limit_but_not_exceed_it() {
    let limits = Limits::default().max_head_len(200);
    let exact = head_of_len(200);
    let result = RequestParser::new(limits).parse(&exact).unwrap();
    assert!(matches!(result, Parsed::Complete(_, 200)));
    // Bytes after a head that fits do not count against it.
    let mut followed = exact.clone();
    followed.extend_from_slice(&[0x81; 100]);
    assert!(matches!(
        RequestParser::new(limits).parse(&followed),
        Ok(Parsed::Complete(_, 200))
    ));

    let over = head_of_len(201);
    assert_eq!(
        RequestParser::new(limits).parse(&over),
        Err(Error::HeadTooLarge { limit: 200 })
    );
    assert_eq!(Error::HeadTooLarge { limit: 200 }.http_status(), Some(431));
}

#[test]
fn the_size_limit_is_enforced_as_bytes_arrive_without_a_line_end() {
    let limits = Limits::default().max_head_len(64);
    let mut parser = RequestParser::new(limits);
    let endless = [b'A'; 100];
    for len in 0..64 {
        assert_eq!(
            parser.parse(&endless[..len]),
            Ok(Parsed::Partial),
            "len {len}"
        );
    }
    assert_eq!(
        parser.parse(&endless[..64]),
        Err(Error::HeadTooLarge { limit: 64 })
    );
    assert_eq!(
        ResponseParser::default().parse(&[b'H'; 8 * 1024]),
        Err(Error::HeadTooLarge { limit: 8 * 1024 })
    );
}

#[test]
fn the_header_count_limit_is_enforced() {
    let fields: Vec<String> = (0..65).map(|i| format!("X-{i}: {i}")).collect();
    let mut lines = vec!["GET / HTTP/1.1"];
    lines.extend(fields.iter().take(64).map(String::as_str));
    assert_eq!(parse_request(&head(&lines)).headers().len(), 64);
    lines.push(&fields[64]);
    assert_eq!(
        request_error(&head(&lines)),
        Error::TooManyHeaders { limit: 64 }
    );

    let limits = Limits::default().max_headers(2);
    let three = b"HTTP/1.1 101 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert_eq!(
        ResponseParser::new(limits).parse(three),
        Err(Error::TooManyHeaders { limit: 2 })
    );
    assert_eq!(Error::TooManyHeaders { limit: 2 }.http_status(), Some(431));
}

#[test]
fn byte_at_a_time_resumes_where_the_last_call_stopped() {
    // CVE-2023-43669: a parser that rescans from the start does O(n²) work here.
    let mut bytes = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
    bytes.resize(8 * 1024 - 4, b'a');
    bytes.extend_from_slice(b"\r\n\r\n");
    let mut parser = RequestParser::default();
    for end in 0..bytes.len() {
        assert_eq!(parser.parse(&bytes[..end]), Ok(Parsed::Partial));
        assert_eq!(
            parser.scanned(),
            end,
            "the next search starts after the bytes seen"
        );
    }
    assert!(matches!(parser.parse(&bytes), Ok(Parsed::Complete(_, len)) if len == 8 * 1024));
    assert_eq!(parser.scanned(), 0, "a complete head restarts the parser");
}

#[test]
fn giving_less_input_than_before_is_misuse() {
    let mut parser = RequestParser::default();
    assert_eq!(parser.parse(&RFC_REQUEST[..30]), Ok(Parsed::Partial));
    let err = parser.parse(&RFC_REQUEST[..10]).unwrap_err();
    assert_eq!(err, Error::Misuse(Misuse::InputShrank));
    assert!(err.is_misuse());
    assert_eq!(err.http_status(), None);
}

#[test]
fn the_parser_starts_over_after_a_head_or_an_error() {
    let mut parser = RequestParser::default();
    let first = parser.parse(RFC_REQUEST).unwrap();
    assert_eq!(parser.parse(RFC_REQUEST).unwrap(), first);
    assert_eq!(
        parser.parse(b"GET / HTTP/1.1\r\nBad\r\n"),
        Err(Error::MissingColon)
    );
    assert_eq!(parser.parse(RFC_REQUEST).unwrap(), first);
}

#[test]
fn repeated_headers_stay_separate_and_combine_in_lists() {
    let request = parse_request(&head(&[
        "GET / HTTP/1.1",
        "Connection: keep-alive",
        "X-Other: 1",
        "connection: , Upgrade ,",
        "CONNECTION: close",
    ]));
    let headers = request.headers();
    assert_eq!(headers.len(), 4);
    assert_eq!(headers.get("Connection"), Some(&b"keep-alive"[..]));
    assert_eq!(
        headers.get_all("connection").collect::<Vec<_>>(),
        [&b"keep-alive"[..], b", Upgrade ,", b"close"]
    );
    assert_eq!(
        headers.tokens("connection").collect::<Vec<_>>(),
        [&b"keep-alive"[..], b"Upgrade", b"close"]
    );
    assert!(headers.contains_token("CONNECTION", "upgrade"));
    assert!(!headers.contains_token("connection", "upgrad"));
    assert!(!headers.contains_token("x-missing", "upgrade"));
    assert_eq!(headers.get("x-missing"), None);
    // Names keep their case and order.
    let names: Vec<&str> = headers.iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["Connection", "X-Other", "connection", "CONNECTION"]);
}

#[test]
fn the_valid_request_fixture_parses() {
    assert_eq!(parse_request(&head(&VALID_REQUEST)).headers().len(), 5);
}

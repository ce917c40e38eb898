//! The URL parser: what it accepts and how it splits it, and what it refuses and why.

use ws_client::{Url, UrlError};

#[test]
fn valid_urls_split_into_host_port_and_target() {
    // (input, secure, host, port, target, Host header, Display)
    let cases = [
        (
            "ws://example.com",
            false,
            "example.com",
            80,
            "/",
            "example.com",
            "ws://example.com/",
        ),
        (
            "wss://example.com",
            true,
            "example.com",
            443,
            "/",
            "example.com",
            "wss://example.com/",
        ),
        (
            "ws://example.com/",
            false,
            "example.com",
            80,
            "/",
            "example.com",
            "ws://example.com/",
        ),
        (
            "WS://Example.COM/Chat",
            false,
            "Example.COM",
            80,
            "/Chat",
            "Example.COM",
            "ws://Example.COM/Chat",
        ),
        ("WsS://h/", true, "h", 443, "/", "h", "wss://h/"),
        (
            "ws://h:8080/chat",
            false,
            "h",
            8080,
            "/chat",
            "h:8080",
            "ws://h:8080/chat",
        ),
        ("ws://h:80/", false, "h", 80, "/", "h", "ws://h/"),
        ("ws://h:443/", false, "h", 443, "/", "h:443", "ws://h:443/"),
        ("wss://h:443/", true, "h", 443, "/", "h", "wss://h/"),
        ("wss://h:80/", true, "h", 80, "/", "h:80", "wss://h:80/"),
        (
            "ws://h:65535",
            false,
            "h",
            65535,
            "/",
            "h:65535",
            "ws://h:65535/",
        ),
        ("ws://h:1/", false, "h", 1, "/", "h:1", "ws://h:1/"),
        (
            "ws://h:08080/",
            false,
            "h",
            8080,
            "/",
            "h:8080",
            "ws://h:8080/",
        ),
        ("ws://h:/", false, "h", 80, "/", "h", "ws://h/"),
        ("ws://h?x=1", false, "h", 80, "/?x=1", "h", "ws://h/?x=1"),
        (
            "ws://h:9001?x=1&y=/z",
            false,
            "h",
            9001,
            "/?x=1&y=/z",
            "h:9001",
            "ws://h:9001/?x=1&y=/z",
        ),
        (
            "ws://h/a/b?c=d%20e",
            false,
            "h",
            80,
            "/a/b?c=d%20e",
            "h",
            "ws://h/a/b?c=d%20e",
        ),
        (
            "ws://127.0.0.1:9001/",
            false,
            "127.0.0.1",
            9001,
            "/",
            "127.0.0.1:9001",
            "ws://127.0.0.1:9001/",
        ),
        (
            "ws://[::1]:/",
            false,
            "::1",
            80,
            "/",
            "[::1]",
            "ws://[::1]/",
        ),
        (
            "ws://[::1]:9001/",
            false,
            "::1",
            9001,
            "/",
            "[::1]:9001",
            "ws://[::1]:9001/",
        ),
        (
            "wss://[2001:db8::7]/x",
            true,
            "2001:db8::7",
            443,
            "/x",
            "[2001:db8::7]",
            "wss://[2001:db8::7]/x",
        ),
        (
            "ws://[::ffff:1.2.3.4]",
            false,
            "::ffff:1.2.3.4",
            80,
            "/",
            "[::ffff:1.2.3.4]",
            "ws://[::ffff:1.2.3.4]/",
        ),
        (
            "ws://my_host-1.local./",
            false,
            "my_host-1.local.",
            80,
            "/",
            "my_host-1.local.",
            "ws://my_host-1.local./",
        ),
    ];
    for (input, secure, host, port, target, host_header, display) in cases {
        let url = Url::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(url.is_secure(), secure, "{input}");
        assert_eq!(url.scheme(), if secure { "wss" } else { "ws" }, "{input}");
        assert_eq!(url.host(), host, "{input}");
        assert_eq!(url.port(), port, "{input}");
        assert_eq!(url.target(), target, "{input}");
        assert_eq!(url.host_header(), host_header, "{input}");
        assert_eq!(url.to_string(), display, "{input}");
        // Display is a normal form: it parses back to the same URL.
        assert_eq!(Url::parse(display).as_ref(), Ok(&url), "{input}");
        assert_eq!(input.parse::<Url>(), Ok(url), "{input}");
    }
}

#[test]
fn invalid_urls_name_the_part_at_fault() {
    let cases = [
        ("", UrlError::MissingScheme),
        ("example.com/chat", UrlError::MissingScheme),
        ("localhost:9001", UrlError::MissingScheme),
        ("ws:/h/", UrlError::MissingScheme),
        ("ws:h", UrlError::MissingScheme),
        ("://h/", UrlError::MissingScheme),
        ("1ws://h/", UrlError::MissingScheme),
        ("http://h/", UrlError::UnsupportedScheme("http".into())),
        ("HTTPS://h/", UrlError::UnsupportedScheme("HTTPS".into())),
        ("ftp://h/", UrlError::UnsupportedScheme("ftp".into())),
        (
            "wss+unix://h/",
            UrlError::UnsupportedScheme("wss+unix".into()),
        ),
        ("ws://h/a b", UrlError::InvalidCharacter),
        (" ws://h/", UrlError::InvalidCharacter),
        ("ws://h/\n", UrlError::InvalidCharacter),
        ("ws://h/\t", UrlError::InvalidCharacter),
        ("ws://h/\u{7f}", UrlError::InvalidCharacter),
        ("ws://h/café", UrlError::InvalidCharacter),
        ("ws://bücher.de/", UrlError::InvalidCharacter),
        ("ws://h/#top", UrlError::Fragment),
        ("ws://h/chat?x=1#top", UrlError::Fragment),
        ("ws://h#", UrlError::Fragment),
        ("ws://user@h/", UrlError::UserInfo),
        ("ws://user:secret@h:9001/", UrlError::UserInfo),
        ("ws://@h/", UrlError::UserInfo),
        ("ws:///chat", UrlError::EmptyHost),
        ("ws://", UrlError::EmptyHost),
        ("ws://:9001/", UrlError::EmptyHost),
        ("ws://?x=1", UrlError::EmptyHost),
        ("ws://h%41/", UrlError::InvalidHost),
        ("ws://h!/", UrlError::InvalidHost),
        ("ws://::1/", UrlError::InvalidHost),
        ("ws://::1:9001/", UrlError::InvalidHost),
        ("ws://[::1/", UrlError::InvalidHost),
        ("ws://[::1]x/", UrlError::InvalidHost),
        ("ws://[::1]9001/", UrlError::InvalidHost),
        ("ws://[]/", UrlError::InvalidHost),
        ("ws://[1.2.3.4]/", UrlError::InvalidHost),
        ("ws://[fe80::1%25eth0]/", UrlError::InvalidHost),
        ("ws://[::g]/", UrlError::InvalidHost),
        ("ws://h:0/", UrlError::InvalidPort),
        ("ws://h:65536/", UrlError::InvalidPort),
        ("ws://h:99999999999999999999/", UrlError::InvalidPort),
        ("ws://h:+80/", UrlError::InvalidPort),
        ("ws://h:-1/", UrlError::InvalidPort),
        ("ws://h:http/", UrlError::InvalidPort),
        ("ws://h:80:81/", UrlError::InvalidHost),
        ("ws://[::1]:0/", UrlError::InvalidPort),
    ];
    for (input, expected) in cases {
        assert_eq!(Url::parse(input), Err(expected), "{input:?}");
    }
}

#[test]
fn an_unsupported_scheme_is_named_in_the_message() {
    let error = Url::parse("https://example.com/").unwrap_err();
    assert_eq!(error.to_string(), r#"url scheme "https" is not ws or wss"#);
}

#[test]
fn join_resolves_references_as_rfc_3986_section_5_4_does() {
    // Section 5.4's examples with `ws` for `http`; the fragment is dropped, since a
    // WebSocket URL cannot carry one.
    let base = Url::parse("ws://a/b/c/d;p?q").unwrap();
    let cases = [
        // 5.4.1, normal examples.
        ("g", "ws://a/b/c/g"),
        ("./g", "ws://a/b/c/g"),
        ("g/", "ws://a/b/c/g/"),
        ("/g", "ws://a/g"),
        ("//g", "ws://g/"),
        ("?y", "ws://a/b/c/d;p?y"),
        ("g?y", "ws://a/b/c/g?y"),
        ("#s", "ws://a/b/c/d;p?q"),
        ("g#s", "ws://a/b/c/g"),
        ("g?y#s", "ws://a/b/c/g?y"),
        (";x", "ws://a/b/c/;x"),
        ("g;x", "ws://a/b/c/g;x"),
        ("g;x?y#s", "ws://a/b/c/g;x?y"),
        ("", "ws://a/b/c/d;p?q"),
        (".", "ws://a/b/c/"),
        ("./", "ws://a/b/c/"),
        ("..", "ws://a/b/"),
        ("../", "ws://a/b/"),
        ("../g", "ws://a/b/g"),
        ("../..", "ws://a/"),
        ("../../", "ws://a/"),
        ("../../g", "ws://a/g"),
        // 5.4.2, abnormal examples.
        ("../../../g", "ws://a/g"),
        ("../../../../g", "ws://a/g"),
        ("/./g", "ws://a/g"),
        ("/../g", "ws://a/g"),
        ("g.", "ws://a/b/c/g."),
        (".g", "ws://a/b/c/.g"),
        ("g..", "ws://a/b/c/g.."),
        ("..g", "ws://a/b/c/..g"),
        ("./../g", "ws://a/b/g"),
        ("./g/.", "ws://a/b/c/g/"),
        ("g/./h", "ws://a/b/c/g/h"),
        ("g/../h", "ws://a/b/c/h"),
        ("g;x=1/./y", "ws://a/b/c/g;x=1/y"),
        ("g;x=1/../y", "ws://a/b/c/y"),
        ("g?y/./x", "ws://a/b/c/g?y/./x"),
        ("g?y/../x", "ws://a/b/c/g?y/../x"),
    ];
    for (reference, expected) in cases {
        let joined = base.join(reference).unwrap();
        assert_eq!(joined.to_string(), expected, "{reference:?}");
    }
}

#[test]
fn join_maps_web_schemes_and_keeps_the_base_scheme_and_port() {
    let base = Url::parse("wss://example.com:8443/v1/chat").unwrap();
    let cases = [
        ("https://example.net/x", "wss://example.net/x"),
        ("HTTP://example.net/x", "ws://example.net/x"),
        ("WS://example.net:9001", "ws://example.net:9001/"),
        ("//example.net/x", "wss://example.net/x"),
        ("/v2/chat", "wss://example.com:8443/v2/chat"),
        ("stream?since=5", "wss://example.com:8443/v1/stream?since=5"),
    ];
    for (reference, expected) in cases {
        assert_eq!(
            base.join(reference).unwrap().to_string(),
            expected,
            "{reference:?}"
        );
    }
}

#[test]
fn join_refuses_what_is_no_websocket_url() {
    let base = Url::parse("ws://example.com/").unwrap();
    let cases = [
        (
            "ftp://example.com/",
            UrlError::UnsupportedScheme("ftp".into()),
        ),
        ("g:h", UrlError::UnsupportedScheme("g".into())),
        ("http:/path", UrlError::MissingScheme),
        ("/a b", UrlError::InvalidCharacter),
        ("//user@example.net/", UrlError::UserInfo),
        ("//[::1/", UrlError::InvalidHost),
    ];
    for (reference, expected) in cases {
        assert_eq!(base.join(reference), Err(expected), "{reference:?}");
    }
}

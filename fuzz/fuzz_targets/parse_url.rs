//! Any text given to the URL parser gives a URL or an error, never a panic; a URL
//! written back from its parts (scheme, `Host` header, target) parses to the same URL,
//! and resolving the input against it as a reference does not panic either.
//!
//! ```text
//! cargo +nightly fuzz run parse_url
//! ```
#![no_main]

use ws_client::Url;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(url) = Url::parse(text) {
        let written = format!("{}://{}{}", url.scheme(), url.host_header(), url.target());
        assert_eq!(Url::parse(&written).as_ref(), Ok(&url), "{written}");
        let _ = url.join(text);
    }
});

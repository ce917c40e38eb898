//! Any bytes given to the request parser, whole or split in two, give a head, a request
//! for more, or an error, and the same one either way: never a panic.
//!
//! ```text
//! cargo +nightly fuzz run parse_request
//! ```
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let whole = ws_handshake::RequestParser::default().parse(data);
    let mut parser = ws_handshake::RequestParser::default();
    let _ = parser.parse(&data[..data.len() / 2]);
    assert_eq!(whole, parser.parse(data));
    if let Ok(ws_handshake::Parsed::Complete(request, _)) = whole {
        let _ = ws_handshake::UpgradeRequest::from_request(&request);
    }
});

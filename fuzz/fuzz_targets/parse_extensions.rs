//! Any bytes given as a `Sec-WebSocket-Extensions` value parse or fail with a typed
//! error, and whatever parses survives negotiation in both roles: never a panic.
//!
//! ```text
//! cargo +nightly fuzz run parse_extensions
//! ```
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(offers) = ws_handshake::parse_extensions([data]) {
        let _ = ws_handshake::DeflateServerConfig::default().negotiate(&offers);
        let _ = ws_handshake::DeflateOffer::default().check_answer(&offers);
    }
});

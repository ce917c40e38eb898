//! Any bytes given to the response parser, whole or split in two, give a head, a request
//! for more, or an error, and the same one either way; a complete head then validates
//! or fails against a pending handshake: never a panic.
//!
//! ```text
//! cargo +nightly fuzz run parse_response
//! ```
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let whole = ws_handshake::ResponseParser::default().parse(data);
    let mut parser = ws_handshake::ResponseParser::default();
    let _ = parser.parse(&data[..data.len() / 2]);
    assert_eq!(whole, parser.parse(data));
    if let Ok(ws_handshake::Parsed::Complete(response, _)) = whole {
        let request = ws_handshake::ClientRequest::new("localhost", "/").protocols(["chat"]);
        if let Ok((_, pending)) = request.build_with_key([7; 16]) {
            let _ = pending.validate(response);
        }
    }
});

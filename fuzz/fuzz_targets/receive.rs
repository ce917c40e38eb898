//! Any bytes a peer sends to a server connection give events or one error, with the
//! close code to answer: never a panic, a hang, or memory past the configured limits.
//!
//! ```text
//! cargo +nightly fuzz run receive
//! ```
#![no_main]

use ws_stream::proto::Receiver;
use ws_stream::{Config, Role};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let config = Config::default().max_message_size(1 << 16).max_frame_size(1 << 16);
    let mut receiver = Receiver::new(Role::Server, &config);
    for piece in data.chunks(97) {
        receiver.receive(piece);
        while let Ok(Some(_)) = receiver.poll() {}
        receiver.take_reply();
        if receiver.is_closed() {
            return;
        }
    }
});

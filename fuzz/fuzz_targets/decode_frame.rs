//! Any bytes given to the frame decoder give a frame, a request for more, or an error:
//! never a panic, a hang or an allocation the configured limit does not allow.
//!
//! Run from the repository root (needs nightly and `cargo install cargo-fuzz`):
//!
//! ```text
//! cargo +nightly fuzz run decode_frame
//! ```
//!
//! A crash found here becomes a regression test in `crates/ws-frame/tests/frame/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ws_frame::Decoder::default().decode(data);
});

//! Integration tests for the ws-frame codec, in one binary: RFC 6455 vectors, decode
//! errors, close frames, round trips, input split at any point and masking.

mod close;
mod decode_errors;
mod mask;
mod rfc_vectors;
mod roundtrip;
mod split;
mod support;

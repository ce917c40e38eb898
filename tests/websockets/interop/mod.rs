//! Interoperability with real peers: Python `websockets`, Node `ws`, headless Chromium
//! and tungstenite, each as client against our server and (but for the browser) as
//! server for our client.
//!
//! Every pairing plays the same [`scenario`]: text, binary, 1 MiB messages, fragmented
//! messages both ways, pings both ways, and close codes both ways. The peers are
//! installed by `tests/peers/install.sh`; a missing peer fails its tests with a message
//! saying so.

mod browser;
mod node;
mod peer;
mod python;
mod scenario;
mod tungstenite_peer;

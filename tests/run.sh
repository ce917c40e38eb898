#!/usr/bin/env bash
# Runs every check and test of the workspace, as CI does: installs the real peers the
# interoperability tests need (tests/peers/install.sh), then formatting, lints, docs,
# a check for dead links in the rendered docs, builds of ws-tls with one feature each,
# `cargo test` for every crate, the Autobahn conformance suite in both roles
# (tests/autobahn.sh) and a short run of every fuzz target (tests/fuzz-smoke.sh).
# Fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

tests/peers/install.sh
# The hostile-peer tests hold 2,000 connections at once.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --workspace --all-targets --all-features -- -D warnings
# The facade's dev-dependencies turn the layers' `tokio` features on in workspace
# builds; the layers alone are checked without them.
cargo clippy -p ws-stream -p ws-client -p ws-server --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features
tests/doc-links.sh
cargo clippy -p ws-tls --no-default-features --features client -- -D warnings
cargo clippy -p ws-tls --no-default-features --features server -- -D warnings
cargo clippy -p ws-tls --no-default-features --features tokio -- -D warnings
cargo clippy -p ws-tls --no-default-features --features client,tokio -- -D warnings
cargo clippy -p ws-tls --no-default-features --features server,tokio -- -D warnings
# The facade's dev-dependencies turn the layers' `tokio` features on here too, so this
# runs the async drivers' tests as well.
cargo test --workspace
tests/autobahn.sh
tests/fuzz-smoke.sh

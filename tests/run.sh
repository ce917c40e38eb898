#!/usr/bin/env bash
# Runs every check and test of the workspace, as CI does: installs the real peers the
# interoperability tests need (tests/peers/install.sh), then formatting, lints, docs,
# a check for dead links in the rendered docs, builds of ws-tls with one feature each,
# and `cargo test` for every crate. Fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

tests/peers/install.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
tests/doc-links.sh
cargo clippy -p ws-tls --no-default-features --features client -- -D warnings
cargo clippy -p ws-tls --no-default-features --features server -- -D warnings
cargo test --workspace

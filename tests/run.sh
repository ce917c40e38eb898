#!/usr/bin/env bash
# Runs every check and test of the workspace, as CI does: installs the real peers the
# interoperability tests need (tests/peers/install.sh), then formatting, lints, docs,
# and `cargo test` for every crate. Fails on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

tests/peers/install.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
cargo test --workspace

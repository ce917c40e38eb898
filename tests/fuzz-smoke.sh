#!/usr/bin/env bash
# A short run of every fuzz target in fuzz/fuzz_targets/ (FUZZ_SECONDS each, default 60),
# on the nightly toolchain with cargo-fuzz, installed from crates.io when missing.
# Fails loudly, never silently, when nightly or cargo-fuzz cannot run here, or when a
# target is not declared in fuzz/Cargo.toml, and of course on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${FUZZ_SECONDS:-60}"
fail() {
  echo "fuzz-smoke: FAILED: $*" >&2
  exit 1
}

cargo +nightly --version >/dev/null 2>&1 ||
  fail "no nightly toolchain (install it with: rustup toolchain install nightly)"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: cargo-fuzz is missing; installing it from crates.io"
  cargo install --locked cargo-fuzz || fail "could not install cargo-fuzz"
fi

targets=()
for file in fuzz/fuzz_targets/*.rs; do
  targets+=("$(basename "$file" .rs)")
done
[ ${#targets[@]} -gt 0 ] || fail "no targets in fuzz/fuzz_targets/"
declared=$(cargo +nightly fuzz list) || fail "cargo fuzz list does not run"
for target in "${targets[@]}"; do
  grep -qx "$target" <<<"$declared" || fail "$target is not a [[bin]] in fuzz/Cargo.toml"
done

cargo +nightly fuzz build || fail "the fuzz targets do not build"
echo "fuzz-smoke: ${#targets[@]} targets, ${SECONDS_EACH} s each: ${targets[*]}"
mkdir -p target/fuzz-smoke
for target in "${targets[@]}"; do
  log="target/fuzz-smoke/$target.log"
  if ! cargo +nightly fuzz run "$target" -- -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    fail "$target crashed (log: $log; input: fuzz/artifacts/$target/)"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
  echo "fuzz-smoke: $target: ${runs:-?} executions, peak RSS ${rss:-?} MB"
done
echo "fuzz-smoke: all ${#targets[@]} targets ran ${SECONDS_EACH} s without a crash"

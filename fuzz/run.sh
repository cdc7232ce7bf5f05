#!/usr/bin/env bash
# Builds and runs one libFuzzer target on the stable toolchain:
#   fuzz/run.sh TARGET SECONDS [extra libFuzzer flags…]
# SanitizerCoverage is enabled with -C flags instead of cargo-fuzz's nightly-only sanitizer; --target keeps
# build scripts and proc macros uninstrumented. No address sanitizer: the workspace forbids `unsafe`.
# The corpus lives in fuzz/corpus/TARGET (seeded from fixtures/ and policies/), crashes in
# fuzz/artifacts/TARGET; copy a crash into fixtures/fuzz/TARGET/ to make it a regression test.
set -euo pipefail
cd "$(dirname "$0")"
target_name="${1:?usage: fuzz/run.sh TARGET SECONDS}"
seconds="${2:?usage: fuzz/run.sh TARGET SECONDS}"
shift 2
triple="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo build --release --target "$triple" --bin "$target_name"
corpus="corpus/$target_name"
mkdir -p "$corpus" "artifacts/$target_name"
# Seeds: the repository's own inputs for this target, and every saved regression input.
seed() { [ -d "$1" ] && find "$1" -type f -size -16k -exec cp -n {} "$corpus/" \; || true; }
case "$target_name" in
  parse|policy) seed ../fixtures/golden; seed ../fixtures/aws-managed; seed ../policies ;;
  avp) seed ../policies/photo-app-avp ;;
  token) seed ../policies/cognito-groups-dynamodb/tokens; seed ../policies/photo-app-avp/tokens; seed ../policies/apigw-petstore/tokens ;;
esac
seed "../fixtures/fuzz/$target_name"
"target/$triple/release/$target_name" "$corpus" \
  -artifact_prefix="artifacts/$target_name/" -max_total_time="$seconds" -print_final_stats=1 \
  -max_len=16384 -timeout=10 -rss_limit_mb=4096 "$@"

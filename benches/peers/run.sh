#!/usr/bin/env bash
# The runner benchmarks of issue #26, paired with their peers in one farm-bench call each:
#   policy-check test  vs  iam-simulate (npm @cloud-copilot/iam-simulate, driven by iam-simulate-suites.mjs)
#   policy-check test --policies  vs  the cedar CLI's run-tests (crates.io cedar-policy-cli, same Cedar version)
# Peers are installed on demand into $PEERS (default ~/.cache/policy-check/peers), never into the repository.
# Needs: cargo (release build), node/npm, python3, farm-bench. Not part of CI (minutes of wall time).
set -euo pipefail
cd "$(dirname "$0")/../.."
PEERS=${PEERS:-$HOME/.cache/policy-check/peers}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$PEERS"
cargo build -q --release -p policy-check
PC=$PWD/target/release/policy-check

# iam-simulate, pinned.
if [ ! -d "$PEERS/node_modules/@cloud-copilot/iam-simulate" ]; then
  (cd "$PEERS" && npm init -y >/dev/null && npm install --no-audit --no-fund @cloud-copilot/iam-simulate@0.1.173 >/dev/null)
fi
# The cedar CLI at the Cedar version the project builds with.
CEDAR_VERSION=$(grep -A1 'name = "cedar-policy"$' Cargo.lock | tail -1 | cut -d'"' -f2)
if [ ! -x "$PEERS/bin/cedar" ] || ! "$PEERS/bin/cedar" --version | grep -q "$CEDAR_VERSION"; then
  cargo install -q cedar-policy-cli --version "$CEDAR_VERSION" --root "$PEERS"
fi

# 30,000 IAM cases in 12,600 suites; the expected answers are policy-check's, so its run passes; the
# harness prints how many of them iam-simulate answers differently (see README.md here).
python3 benches/peers/gen_iam_suites.py "$WORK/iam"
"$PC" test "$WORK/iam" --format json > "$WORK/iam-answers.json" || true
python3 benches/peers/gen_iam_suites.py "$WORK/iam" --answers "$WORK/iam-answers.json"
PEER_DIR=$PEERS node benches/peers/iam-simulate-suites.mjs "$WORK/iam" || true
farm-bench -n 7 --timeout 900 \
  --vs "env PEER_DIR=$PEERS node benches/peers/iam-simulate-suites.mjs $WORK/iam" \
  -- "$PC" test "$WORK/iam"

# 10,000 Cedar cases in one file, and in 1,000 files (the CLI then runs once per file).
python3 benches/peers/gen_cedar_tests.py "$WORK/cedar1" --files 1
python3 benches/peers/gen_cedar_tests.py "$WORK/cedar"
P=fixtures/cedar-run-tests/policies.cedar
farm-bench -n 7 --timeout 600 \
  --vs "$PEERS/bin/cedar run-tests --policies $P --tests $WORK/cedar1/c00000.tests.json" \
  -- "$PC" test "$WORK/cedar1/c00000.tests.json" --policies "$P"
farm-bench -n 3 --timeout 600 \
  --vs "sh -c 'for f in $WORK/cedar/*.json; do $PEERS/bin/cedar run-tests --policies $P --tests \$f >/dev/null || exit 2; done'" \
  -- sh -c "exec $PC test $WORK/cedar/*.json --policies $P"

#!/usr/bin/env bash
# Every check Berth has: formatting, lints, unit, crate and end-to-end tests, the AWS CLI script.
set -euo pipefail
cd "$(dirname "$0")/.."
# Incremental state would double the target directory; a test run builds each crate once anyway.
export CARGO_INCREMENTAL=0
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo build --quiet -p berth
cargo test --workspace --quiet 2>&1
bash tests/cli/ecs.sh target/debug/berth
bash tests/cli/iam.sh target/debug/berth
bash tests/cli/roles.sh target/debug/berth
bash tests/cli/tls.sh target/debug/berth
bash tests/cli/registry.sh target/debug/berth
bash tests/cli/hardening.sh target/debug/berth
bash tests/cli/services.sh target/debug/berth
bash tests/cli/settings.sh target/debug/berth
bash tests/cli/logs.sh target/debug/berth
bash tests/cli/secrets.sh target/debug/berth
bash tests/cli/ec2.sh target/debug/berth
bash tests/cli/awsvpc.sh target/debug/berth
bash tests/cli/quickstart.sh target/debug/berth

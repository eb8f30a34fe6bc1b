#!/usr/bin/env bash
# The README's quickstart as written there: its scripting recipe (`berth up --env-file` in the
# background, wait for the file, source it) and then its ECS commands, both read from the README
# itself, so the two never drift apart. Only the environment differs: `berth` is found on PATH,
# the data directory and a free port come from BERTH_DATA_DIR and BERTH_LISTEN, and nginx is the
# local busybox test image serving HTTP. Run with the berth binary as $1.
set -euo pipefail
berth=${1:?usage: quickstart.sh path/to/berth}
berth=$(realpath "$berth")
readme=$(realpath "$(dirname "$0")/../../README.md")
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"

# The n-th ```sh block of the README's quickstart section.
quickstart_block() {
  awk -v n="$1" '
    /^## / { section = ($0 == "## Quickstart with the AWS CLI") }
    section && /^```/ { if (code) code = 0; else if ($0 == "```sh") { code = 1; block++ }; next }
    section && code && block == n { print }
  ' "$readme"
}
recipe=$(quickstart_block 1)
commands=$(quickstart_block 2)
[[ "$recipe" == *"--env-file"* ]] || fail "the README's first quickstart block is not the recipe: $recipe"
[[ "$commands" == *'"image":"nginx"'* ]] || fail "the README's commands run no nginx: $commands"

ensure_base_image
printf 'FROM %s\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n' "$base" |
  docker build -q -t berth-nginx:e2e - >/dev/null
commands=${commands//'"image":"nginx"'/'"image":"berth-nginx:e2e"'}

cleanup() {
  kill "${watchdog:-}" "${berth_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "${task:-}" ]; then
    ids=$(docker ps -aq --filter "label=com.amazonaws.ecs.task-arn=$task")
    [ -n "$ids" ] && docker rm -f $ids >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' TERM
export PATH="$(dirname "$berth"):$PATH" BERTH_DATA_DIR="$work/data" BERTH_LISTEN=127.0.0.1:0
# Stopped tasks' containers are removed at once, so the run leaves none behind.
export BERTH_TASK_CLEANUP_WAIT=0s
cd "$work"

# The recipe must return; the old one (`source <(berth up | grep ^export)`) never did.
( sleep 60; echo "FAIL: the README's recipe did not return within 60 s"; kill $$ ) &
watchdog=$!
eval "$recipe" > berth.out 2> berth.err
berth_pid=$!
kill "$watchdog"
[[ "$AWS_ENDPOINT_URL" == http://127.0.0.1:* ]] || fail "the recipe exported AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
[[ $(stat -c %a berth.env) == 600 ]] || fail "berth.env is mode $(stat -c %a berth.env)"
echo "recipe: returned once Berth was ready, and exported its endpoint"

eval "$commands" > commands.out
[[ $(aws ecs describe-tasks --tasks "$task" --query 'tasks[0].lastStatus' --output text) == STOPPED ]] ||
  fail "the quickstart's task did not stop"
grep -q '"containerPort": 80' commands.out || { cat commands.out; fail "no network binding printed"; }
echo "commands: task registered, run, its port bound, stopped"

# Berth's own log, redirected to a file: the task's state changes, and no colour codes.
grep -q 'task state change.*status="RUNNING"' berth.err || { cat berth.err; fail "no RUNNING line logged"; }
grep -q 'task state change.*status="STOPPED"' berth.err || { cat berth.err; fail "no STOPPED line logged"; }
! grep -q $'\e' berth.err || fail "colour codes in a log that is not a terminal"
echo "log: task state changes, without colour"
echo "PASS quickstart"

#!/usr/bin/env bash
# TLS end to end: `berth server` listening off loopback serves HTTPS with a certificate from the
# CA it generated; the unmodified AWS CLI trusts it through AWS_CA_BUNDLE and refuses it without;
# an agent joins over TLS and runs a task; plain HTTP off loopback only when asked for. Run with
# the berth binary as $1.
set -euo pipefail
berth=${1:?usage: tls.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"
cluster="tls-$$"

cleanup() {
  for p in ${agent:-} ${pid:-} ${plain:-}; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  ids=$(docker ps -aq --filter "label=com.amazonaws.ecs.cluster=$cluster")
  [ -n "$ids" ] && docker rm -f $ids >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
started() { # file: waits for the exports a berth command prints
  for _ in $(seq 100); do grep -q AWS_DEFAULT_REGION "$1" && break; sleep 0.1; done
  grep -q AWS_DEFAULT_REGION "$1" || { cat "$1"; fail "berth did not start"; }
}

ensure_base_image

# Every address, so not loopback: HTTPS by default.
"$berth" server --data-dir "$work/data" --listen 0.0.0.0:0 > "$work/server.out" 2> "$work/server.err" &
pid=$!
started "$work/server.out"
# shellcheck disable=SC1090
source <(grep '^export ' "$work/server.out")
[[ $AWS_ENDPOINT_URL == https://* ]] || fail "off loopback the endpoint is HTTPS: $AWS_ENDPOINT_URL"
[[ -f $AWS_CA_BUNDLE ]] || fail "the CA bundle it printed exists: ${AWS_CA_BUNDLE:-unset}"
grep -q -- "--ca-bundle $AWS_CA_BUNDLE" "$work/server.out" || fail "the join hint names the CA bundle"

aws ecs create-cluster --cluster-name "$cluster" >/dev/null
[[ $(aws ecs list-clusters --query 'length(clusterArns)' --output text) == 1 ]] || fail "list-clusters over TLS"
if env -u AWS_CA_BUNDLE aws ecs list-clusters >/dev/null 2>"$work/untrusted.err"; then
  fail "a client that does not trust Berth's CA was let through"
fi
grep -qi "certificate" "$work/untrusted.err" || { cat "$work/untrusted.err"; fail "not a certificate error"; }
plain_url=${AWS_ENDPOINT_URL/https:/http:}
if AWS_ENDPOINT_URL=$plain_url aws ecs list-clusters --cli-read-timeout 5 >/dev/null 2>&1; then
  fail "plain HTTP answered on a TLS listener"
fi
echo "aws cli over TLS: ok (trusted with AWS_CA_BUNDLE, refused without)"

# aws:SecureTransport is true over TLS.
aws iam create-user --user-name tls-only >/dev/null
aws iam put-user-policy --user-name tls-only --policy-name p --policy-document \
  '{"Statement":{"Effect":"Allow","Action":"ecs:ListClusters","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}'
read -r key secret < <(aws iam create-access-key --user-name tls-only --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret aws ecs list-clusters >/dev/null \
  || fail "a policy conditioned on aws:SecureTransport allows calls over TLS"

# HTTP/2, as ALPN advertises it.
version=$(curl -s -o /dev/null -w '%{http_version}' --http2 --cacert "$AWS_CA_BUNDLE" -X POST "$AWS_ENDPOINT_URL/")
[[ $version == 2 ]] || fail "HTTP/2 is served over TLS: got HTTP/$version"

# An agent joins over TLS, trusting the CA it was given.
BERTH_JOIN_TOKEN=$("$berth" join-token rotate --cluster "$cluster" | sed -n 1p) \
  "$berth" agent --endpoint "$AWS_ENDPOINT_URL" --ca-bundle "$AWS_CA_BUNDLE" \
  --cluster "$cluster" --state-dir "$work/agent" > "$work/agent.out" 2> "$work/agent.err" &
agent=$!
for _ in $(seq 100); do
  [[ $(aws ecs list-container-instances --cluster "$cluster" --query 'length(containerInstanceArns)' --output text) == 1 ]] && break
  sleep 0.2
done
aws ecs register-task-definition --family tls-demo --container-definitions \
  "[{\"name\":\"app\",\"image\":\"$base\",\"command\":[\"sleep\",\"600\"],\"memory\":32,\"stopTimeout\":2}]" >/dev/null
task=$(aws ecs run-task --cluster "$cluster" --task-definition tls-demo --query 'tasks[0].taskArn' --output text)
[[ $task == arn:* ]] || { cat "$work/agent.err"; fail "run-task placed nothing: $task"; }
aws ecs wait tasks-running --cluster "$cluster" --tasks "$task"
aws ecs stop-task --cluster "$cluster" --task "$task" >/dev/null
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
echo "agent over TLS: ok (joined, ran and stopped a task)"

# Plain HTTP off loopback only when asked for.
"$berth" server --data-dir "$work/plain" --listen 0.0.0.0:0 --insecure-http > "$work/plain.out" 2> "$work/plain.err" &
plain=$!
started "$work/plain.out"
grep -q '^export AWS_ENDPOINT_URL=http://' "$work/plain.out" || fail "--insecure-http serves HTTP"
if grep -q AWS_CA_BUNDLE "$work/plain.out"; then fail "no CA bundle for plain HTTP"; fi
echo "tls: 3 passed, 0 failed"

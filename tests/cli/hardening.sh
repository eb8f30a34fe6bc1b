#!/usr/bin/env bash
# The audit's findings, closed, as a user with the real clients sees it: the data directory is
# private and the state holds no secret in the clear; join tokens are per cluster, rotatable,
# and agent keys listable and revocable; condition keys deny privileged task definitions per
# user; batch reads authorise each item; a task's image is pulled with the caller's rights; a
# repository policy naming the account grants nobody alone; HTTP/2 is served; pushes are
# audited and `berth audit` prints attacker-controlled text escaped. Run with the berth binary
# as $1.
set -euo pipefail
berth=${1:?usage: hardening.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"
cluster="hard-$$"
export AWS_PAGER=""

cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "${image:-}" ] && docker rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

ensure_base_image

"$berth" server --data-dir "$work/data" --listen 127.0.0.1:0 > "$work/server.out" 2> "$work/server.err" &
pid=$!
for _ in $(seq 100); do grep -q BERTH_REGISTRY "$work/server.out" && break; sleep 0.1; done
# shellcheck disable=SC1090
source <(grep '^export ' "$work/server.out")
grep -q '^# Join a host: BERTH_JOIN_TOKEN=bjt-' "$work/server.out" \
  || fail "the join command passes the token in the environment, not on the command line"

# A user with the given inline policy; prints "key secret".
user_with() {
  aws iam create-user --user-name "$1" >/dev/null
  aws iam put-user-policy --user-name "$1" --policy-name p --policy-document "$2"
  aws iam create-access-key --user-name "$1" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text
}
# Runs the rest of the line as the user whose "key secret" is $1.
as() {
  local creds=$1; shift
  AWS_ACCESS_KEY_ID=${creds%%$'\t'*} AWS_SECRET_ACCESS_KEY=${creds##*$'\t'} "$@"
}
# Expects the command to fail with the error code $1 in its output.
refused() {
  local code=$1; shift
  local out
  if out=$("$@" 2>&1); then fail "expected $code from: $*"; fi
  grep -q "$code" <<<"$out" || fail "expected $code from: $*; got: $out"
}

# Secrets at rest: private files, sealed records.
[[ $(stat -c %a "$work/data") == 700 ]] || fail "the data directory is 0700"
[[ $(stat -c %a "$work/data/state.redb") == 600 ]] || fail "state.redb is 0600"
dev=$(user_with dev '{"Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"},{"Effect":"Deny","Action":["ecs:RegisterTaskDefinition","ecs:RunTask"],"Resource":"*","Condition":{"Bool":{"berth:Privileged":"true"}}}]}')
token=$("$berth" join-token rotate --cluster "$cluster" | sed -n 1p)
[[ $token == bjt-* ]] || fail "berth join-token rotate prints the new token: $token"
! grep -qaF "${dev##*$'\t'}" "$work/data/state.redb" || fail "a user's secret key is not in state.redb in the clear"
! grep -qaF "$token" "$work/data/state.redb" || fail "a join token is not in state.redb in the clear"

# Join tokens per cluster; agent keys listed and revoked.
join() {
  curl -s -X POST "$AWS_ENDPOINT_URL/" -H 'x-amz-target: BerthAgent.Join' \
    -d "{\"joinToken\":\"$1\",\"cluster\":\"$2\"}"
}
join "$token" "other-$$" | grep -q UnrecognizedClientException || fail "a cluster's token joins no other cluster"
agent_key=$(join "$token" "$cluster" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessKeyId"])')
"$berth" agent-keys list --cluster "$cluster" | grep -q "$agent_key" || fail "berth agent-keys list shows the new key"
"$berth" join-token rotate --cluster "$cluster" >/dev/null
join "$token" "$cluster" | grep -q UnrecognizedClientException || fail "a rotated token joins nothing"
"$berth" agent-keys revoke "$agent_key" | grep -q revoked || fail "berth agent-keys revoke answers"
! "$berth" agent-keys list | grep -q "$agent_key" || fail "a revoked key is gone"

# Condition keys: dev may not define or run privileged tasks, and may run the rest.
priv='[{"name":"c","image":"'$base'","memory":32,"privileged":true}]'
plain='[{"name":"c","image":"'$base'","memory":32}]'
refused AccessDeniedException as "$dev" aws ecs register-task-definition --family priv --container-definitions "$priv"
as "$dev" aws ecs register-task-definition --family plain --container-definitions "$plain" >/dev/null
aws ecs register-task-definition --family priv --container-definitions "$priv" >/dev/null
aws ecs create-cluster --cluster-name "$cluster" >/dev/null
refused AccessDeniedException as "$dev" aws ecs run-task --cluster "$cluster" --task-definition priv
as "$dev" aws ecs run-task --cluster "$cluster" --task-definition plain >/dev/null

# Batch reads: each item authorised, the refused ones in failures[].
for s in svc-ok svc-secret; do
  aws ecs create-service --cluster "$cluster" --service-name "$s" --task-definition plain --desired-count 0 >/dev/null
done
reader=$(user_with reader '{"Statement":{"Effect":"Allow","Action":"ecs:DescribeServices","Resource":"arn:aws:ecs:us-east-1:000000000000:service/'"$cluster"'/svc-ok"}}')
described=$(as "$reader" aws ecs describe-services --cluster "$cluster" --services svc-ok svc-secret \
  --query '[length(services), failures[0].reason, failures[0].arn]' --output text)
[[ $described == $'1\tACCESS_DENIED\tsvc-secret' ]] || fail "one service described, the other refused in failures[]: $described"
refused AccessDeniedException as "$reader" aws ecs describe-services --cluster "$cluster" --services svc-secret

# A task's image is pulled with the caller's rights, not the agent's.
aws ecr create-repository --repository-name "private/app-$$" >/dev/null
image="$BERTH_REGISTRY/private/app-$$:v1"
aws ecr get-login-password | docker login --username AWS --password-stdin "$BERTH_REGISTRY" >/dev/null 2>&1
docker tag "$base" "$image"
docker push -q "$image" >/dev/null
"$berth" audit --action ecr:PutImage | grep -qE "ecr:PutImage +arn:aws:ecr:us-east-1:000000000000:repository/private/app-$$ +Success" \
  || fail "a docker push is audited as ecr:PutImage"
runner=$(user_with runner '{"Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"},{"Effect":"Deny","Action":"ecr:*","Resource":"*"}]}')
aws ecs register-task-definition --family private --container-definitions \
  '[{"name":"c","image":"'"$image"'","memory":32}]' >/dev/null
refused AccessDeniedException as "$runner" aws ecs run-task --cluster "$cluster" --task-definition private
aws ecs run-task --cluster "$cluster" --task-definition private >/dev/null

# A repository policy naming the account delegates to identity policies: it grants nobody.
aws ecr set-repository-policy --repository-name "private/app-$$" --policy-text \
  '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"ecr:*"}]}' >/dev/null
nobody=$(user_with nobody '{"Statement":{"Effect":"Allow","Action":"ecs:ListClusters","Resource":"*"}}')
refused AccessDeniedException as "$nobody" aws ecr batch-get-image --repository-name "private/app-$$" --image-ids imageTag=v1

# HTTP/2 is spoken (prior knowledge on plain HTTP; tls.sh checks ALPN over TLS).
version=$(curl -s -o /dev/null -w '%{http_version}' --http2-prior-knowledge -X POST "$AWS_ENDPOINT_URL/")
[[ $version == 2 ]] || fail "HTTP/2 is served: got HTTP/$version"

# Text a caller chose is printed escaped: no forged line, no escape sequence.
aws ecs describe-task-definition --task-definition $'x\nFORGED  line' >/dev/null 2>&1 || true
aws ecs run-task --cluster "$cluster" --task-definition $'x\nFORGED\e[31m' >/dev/null 2>&1 || true
"$berth" audit --max 500 > "$work/audit.txt"
! grep -q '^FORGED' "$work/audit.txt" || fail "berth audit prints no forged line"
! grep -qP '\e' "$work/audit.txt" || fail "berth audit prints no escape sequence"
grep -qF 'x\nFORGED\u{1b}[31m' "$work/audit.txt" || fail "berth audit shows the text escaped"

! grep -q panicked "$work/server.err" || fail "the server never panicked: $(grep -m3 panicked "$work/server.err")"
echo "hardening.sh: all checks passed"

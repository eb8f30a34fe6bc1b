#!/usr/bin/env bash
# The unmodified AWS CLI against `berth up`: `aws sts` and `aws iam` manage users, keys and inline
# policies, and the policies decide what each user's ECS calls may do. Run with the berth
# binary as $1.
set -euo pipefail
berth=${1:?usage: iam.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"
cluster="iam-$$"

cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$berth" up --data-dir "$work/data" --listen 127.0.0.1:0 --cluster "$cluster" > "$work/up.out" 2> "$work/up.err" &
pid=$!
for _ in $(seq 100); do grep -q AWS_DEFAULT_REGION "$work/up.out" && break; sleep 0.1; done
# shellcheck disable=SC1090
source <(grep '^export ' "$work/up.out")
root_key=$AWS_ACCESS_KEY_ID
root_secret=$AWS_SECRET_ACCESS_KEY

expect_denied() { # command... ; the call must be refused with AccessDeniedException
  if "$@" >/dev/null 2>"$work/err"; then fail "allowed: $*"; fi
  grep -q AccessDenied "$work/err" || { cat "$work/err"; fail "not AccessDenied: $*"; }
}
as_user() { # key secret command...
  local key=$1 secret=$2; shift 2
  AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret "$@"
}
new_user() { # name policy-json → prints "key secret"
  aws iam create-user --user-name "$1" >/dev/null
  aws iam put-user-policy --user-name "$1" --policy-name p --policy-document "$2"
  aws iam create-access-key --user-name "$1" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text
}

[[ $(aws sts get-caller-identity --query Arn --output text) == arn:aws:iam::000000000000:root ]] || fail "root identity"
aws ecs create-cluster --cluster-name other >/dev/null

read -r rkey rsecret < <(new_user reader '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"}]}')
sleep 0.2
[[ $(as_user "$rkey" "$rsecret" aws sts get-caller-identity --query Arn --output text) == arn:aws:iam::000000000000:user/reader ]] || fail "reader identity"
as_user "$rkey" "$rsecret" aws ecs list-clusters >/dev/null
as_user "$rkey" "$rsecret" aws ecs list-services --cluster "$cluster" >/dev/null
expect_denied as_user "$rkey" "$rsecret" aws ecs run-task --cluster "$cluster" --task-definition nothing
expect_denied as_user "$rkey" "$rsecret" aws iam list-users
echo "reader: describe and list allowed, run-task and iam denied"

read -r ukey usecret < <(new_user runner "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ecs:RunTask\",\"Resource\":\"*\",\"Condition\":{\"ArnEquals\":{\"ecs:cluster\":\"arn:aws:ecs:us-east-1:000000000000:cluster/$cluster\"}}}]}")
sleep 0.2
expect_denied as_user "$ukey" "$usecret" aws ecs run-task --cluster other --task-definition nothing
if as_user "$ukey" "$usecret" aws ecs run-task --cluster "$cluster" --task-definition nothing >/dev/null 2>"$work/err"; then :; fi
grep -q AccessDenied "$work/err" && fail "runner denied on its own cluster"
echo "runner: run-task allowed on $cluster only"

read -r dkey dsecret < <(new_user admin '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"},{"Effect":"Deny","Action":"ecs:DeleteCluster","Resource":"*"}]}')
sleep 0.2
as_user "$dkey" "$dsecret" aws ecs create-cluster --cluster-name admin-made >/dev/null
expect_denied as_user "$dkey" "$dsecret" aws ecs delete-cluster --cluster admin-made
echo "admin: an explicit deny beats the allow"

[[ $(aws iam list-users --query 'length(Users)' --output text) == 3 ]] || fail "list-users"
[[ $(aws iam list-user-policies --user-name reader --query 'PolicyNames[0]' --output text) == p ]] || fail "list-user-policies"
[[ $(aws iam get-user-policy --user-name reader --policy-name p --query 'PolicyDocument.Statement[0].Effect' --output text) == Allow ]] || fail "get-user-policy"
[[ $(aws iam list-access-keys --user-name reader --query 'AccessKeyMetadata[0].Status' --output text) == Active ]] || fail "list-access-keys"
aws iam update-access-key --user-name reader --access-key-id "$rkey" --status Inactive
if as_user "$rkey" "$rsecret" aws ecs list-clusters >/dev/null 2>"$work/err"; then fail "an inactive key still works"; fi
grep -q UnrecognizedClient "$work/err" || { cat "$work/err"; fail "inactive key error"; }
if aws iam delete-user --user-name reader 2>"$work/err"; then fail "deleted a user with keys"; fi
grep -q DeleteConflict "$work/err" || { cat "$work/err"; fail "delete-user conflict"; }
aws iam delete-access-key --user-name reader --access-key-id "$rkey"
aws iam delete-user-policy --user-name reader --policy-name p
aws iam delete-user --user-name reader
if aws iam get-user --user-name reader 2>"$work/err"; then fail "the user is still there"; fi
grep -q NoSuchEntity "$work/err" || { cat "$work/err"; fail "get-user of a deleted user"; }
echo "iam: keys deactivate, users delete only when empty"
AWS_ACCESS_KEY_ID=$root_key AWS_SECRET_ACCESS_KEY=$root_secret aws sts get-caller-identity >/dev/null

"$berth" audit --max 500 > "$work/audit.txt"
grep -qE "arn:aws:iam::000000000000:root +iam:CreateUser +arn:aws:iam::000000000000:user/reader +Success" "$work/audit.txt" \
  || { cat "$work/audit.txt"; fail "audit of CreateUser"; }
grep -qE "user/reader +ecs:RunTask +.* +AccessDeniedException" "$work/audit.txt" \
  || { cat "$work/audit.txt"; fail "audit of the denied RunTask"; }
grep -qE "user/admin +ecs:DeleteCluster +arn:aws:ecs:us-east-1:000000000000:cluster/admin-made +AccessDeniedException" "$work/audit.txt" \
  || { cat "$work/audit.txt"; fail "audit of the denied DeleteCluster"; }
if grep -q "ListClusters" "$work/audit.txt"; then fail "reads are not audited"; fi
echo "audit: mutating calls recorded with principal, action, resource and outcome"
echo "cli iam: 5 passed, 0 failed"

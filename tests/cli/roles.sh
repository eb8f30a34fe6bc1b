#!/usr/bin/env bash
# The unmodified AWS CLI against `berth server`: IAM roles (a trust policy for ECS tasks and
# the account, inline and AWS managed policies), customer managed policies attached to users,
# `aws sts assume-role` by a user and calls signed with the temporary credentials
# (AWS_SESSION_TOKEN), which act as the role and outlive a restart; iam:PassRole guarding the
# roles a task definition names. Run with the berth binary as $1.
set -euo pipefail
berth=${1:?usage: roles.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"
start_berth server
root_key=$AWS_ACCESS_KEY_ID
root_secret=$AWS_SECRET_ACCESS_KEY
account=000000000000
passed=0

expect_error() { # code command... ; the call must fail with that error code
  local code=$1; shift
  if "$@" >/dev/null 2>"$work/err"; then fail "allowed: $*"; fi
  grep -q "$code" "$work/err" || { cat "$work/err"; fail "not $code: $*"; }
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

role_arn="arn:aws:iam::$account:role/app/app-task"
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}'
expect_error MalformedPolicyDocument aws iam create-role --role-name bad \
  --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}'
grep -q "Principal" "$work/err" || { cat "$work/err"; fail "the malformed trust policy's message"; }
[[ $(aws iam create-role --role-name app-task --path /app/ --assume-role-policy-document "$trust" --query Role.Arn --output text) == "$role_arn" ]] || fail "create-role"
expect_error EntityAlreadyExists aws iam create-role --role-name app-task --assume-role-policy-document "$trust"
aws iam put-role-policy --role-name app-task --policy-name read-ecs \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:List*","ecs:Describe*"],"Resource":"*"}]}'
aws iam attach-role-policy --role-name app-task --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
expect_error NoSuchEntity aws iam attach-role-policy --role-name app-task --policy-arn arn:aws:iam::aws:policy/NoSuchPolicy
[[ $(aws iam get-role --role-name app-task --query 'Role.RoleId' --output text) == AROA* ]] || fail "get-role"
[[ $(aws iam get-role --role-name app-task --query 'Role.AssumeRolePolicyDocument.Statement[0].Principal.Service' --output text) == ecs-tasks.amazonaws.com ]] || fail "the trust policy read back"
[[ $(aws iam list-roles --query 'Roles[0].RoleName' --output text) == app-task ]] || fail "list-roles"
[[ $(aws iam list-role-policies --role-name app-task --query 'PolicyNames[0]' --output text) == read-ecs ]] || fail "list-role-policies"
[[ $(aws iam list-attached-role-policies --role-name app-task --query 'AttachedPolicies[0].PolicyName' --output text) == AmazonECSTaskExecutionRolePolicy ]] || fail "list-attached-role-policies"
[[ $(aws iam get-policy-version --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy --version-id v1 --query 'PolicyVersion.Document.Statement[0].Action[0]' --output text) == ecr:GetAuthorizationToken ]] || fail "get-policy-version"
expect_error DeleteConflict aws iam delete-role --role-name app-task
passed=$((passed + 1)); echo "roles: created with a trust policy, policies put and attached, listed, not deleted while they have policies"

read -r akey asecret < <(new_user alice "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"$role_arn\"}]}")
read -r bkey bsecret < <(new_user bob '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:ListClusters","Resource":"*"}]}')
sleep 0.2
expect_error AccessDenied as_user "$bkey" "$bsecret" aws sts assume-role --role-arn "$role_arn" --role-session-name bob
expect_error ValidationError as_user "$akey" "$asecret" aws sts assume-role --role-arn "$role_arn" --role-session-name alice --duration-seconds 7200
as_user "$akey" "$asecret" aws sts assume-role --role-arn "$role_arn" --role-session-name alice-1 \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text > "$work/creds"
read -r skey ssecret stoken < "$work/creds"
[[ $skey == ASIA* ]] || fail "temporary key id $skey"
as_session() { AWS_ACCESS_KEY_ID=$skey AWS_SECRET_ACCESS_KEY=$ssecret AWS_SESSION_TOKEN=$stoken "$@"; }
[[ $(as_session aws sts get-caller-identity --query Arn --output text) == "arn:aws:sts::$account:assumed-role/app-task/alice-1" ]] || fail "assumed-role identity"
[[ $(as_session aws sts get-caller-identity --query UserId --output text) == AROA*:alice-1 ]] || fail "assumed-role user id"
as_session aws ecs list-clusters >/dev/null
expect_error AccessDenied as_session aws ecs create-cluster --cluster-name by-role
grep -q "assumed-role/app-task/alice-1 is not authorized to perform: ecs:CreateCluster" "$work/err" || { cat "$work/err"; fail "the denial names the session"; }
expect_error AccessDenied as_session aws iam list-users
expect_error ValidationError as_session aws sts assume-role --role-arn "$role_arn" --role-session-name chained --duration-seconds 7200
expect_error AccessDenied as_session aws sts assume-role --role-arn "$role_arn" --role-session-name chained # the role may not assume roles
as_session aws ecr get-authorization-token >/dev/null # the AWS managed execution role policy allows it
expect_error AccessDenied as_session aws logs describe-log-groups
expect_error UnrecognizedClient env AWS_ACCESS_KEY_ID="$skey" AWS_SECRET_ACCESS_KEY="$ssecret" AWS_SESSION_TOKEN=wrong aws ecs list-clusters
grep -q "The security token included in the request is invalid" "$work/err" || { cat "$work/err"; fail "the wrong token's message"; }
expect_error InvalidClientTokenId env AWS_ACCESS_KEY_ID="$skey" AWS_SECRET_ACCESS_KEY="$ssecret" AWS_SESSION_TOKEN=wrong aws sts get-caller-identity
expect_error UnrecognizedClient env -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID="$skey" AWS_SECRET_ACCESS_KEY="$ssecret" aws ecs list-clusters
passed=$((passed + 1)); echo "sts: a user allowed sts:AssumeRole assumes the role; the session acts as the role in ECS, ECR, Logs and IAM; a wrong or missing token is refused"

aws iam create-policy --policy-name run-ecs --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]}' > /dev/null
policy_arn="arn:aws:iam::$account:policy/run-ecs"
aws iam attach-user-policy --user-name bob --policy-arn "$policy_arn"
[[ $(aws iam list-attached-user-policies --user-name bob --query 'AttachedPolicies[0].PolicyArn' --output text) == "$policy_arn" ]] || fail "list-attached-user-policies"
[[ $(aws iam get-policy --policy-arn "$policy_arn" --query 'Policy.AttachmentCount' --output text) == 1 ]] || fail "get-policy"
expect_error DeleteConflict aws iam delete-policy --policy-arn "$policy_arn"
sleep 0.2
definition='[{"name":"app","image":"busybox","memory":64}]'
expect_error AccessDenied as_user "$bkey" "$bsecret" aws ecs register-task-definition --family with-role \
  --task-role-arn "$role_arn" --container-definitions "$definition"
grep -q "iam:PassRole on resource: $role_arn" "$work/err" || { cat "$work/err"; fail "the PassRole denial"; }
as_user "$bkey" "$bsecret" aws ecs register-task-definition --family without-role --container-definitions "$definition" >/dev/null
aws iam put-user-policy --user-name bob --policy-name pass \
  --policy-document "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:PassRole\",\"Resource\":\"$role_arn\",\"Condition\":{\"StringEquals\":{\"iam:PassedToService\":\"ecs-tasks.amazonaws.com\"}}}]}"
sleep 0.2
as_user "$bkey" "$bsecret" aws ecs register-task-definition --family with-role \
  --task-role-arn "$role_arn" --container-definitions "$definition" >/dev/null
passed=$((passed + 1)); echo "managed policies: attached to a user they count; iam:PassRole guards the roles a task definition names"

kill "$pid"; wait "$pid" 2>/dev/null || true
rm "$work/berth.out" # start_berth waits for it to be written again
start_berth server
[[ $(as_session aws sts get-caller-identity --query Arn --output text) == "arn:aws:sts::$account:assumed-role/app-task/alice-1" ]] || fail "the session after a restart"
AWS_ACCESS_KEY_ID=$root_key AWS_SECRET_ACCESS_KEY=$root_secret aws sts get-caller-identity >/dev/null
passed=$((passed + 1)); echo "restart: the session's credentials still work"

aws iam detach-role-policy --role-name app-task --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
aws iam delete-role-policy --role-name app-task --policy-name read-ecs
aws iam delete-role --role-name app-task
expect_error NoSuchEntity aws iam get-role --role-name app-task
expect_error UnrecognizedClient as_session aws ecs list-clusters
aws iam detach-user-policy --user-name bob --policy-arn "$policy_arn"
aws iam delete-policy --policy-arn "$policy_arn"
passed=$((passed + 1)); echo "cleanup: a deleted role's sessions end with it; a detached policy deletes"
echo "cli roles: $passed passed, 0 failed"

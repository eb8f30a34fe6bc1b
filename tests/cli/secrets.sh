#!/usr/bin/env bash
# The unmodified AWS CLI against `berth server`: SSM Parameter Store (put-parameter String,
# SecureString and overwrite, get-parameter with and without --with-decryption,
# get-parameters-by-path --recursive, history, tags, delete) and Secrets Manager (create,
# get-secret-value, put-secret-value and AWSPREVIOUS, describe, list, delete with a recovery
# window and restore, force delete); a user without rights is refused; the values are in
# neither the audit log, the server's output nor the state file. Run with the berth binary
# as $1.
set -euo pipefail
berth=${1:?usage: secrets.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"

start_berth server

expect_error() { # code command... ; the call must be refused with that error code
  local code=$1; shift
  if "$@" >/dev/null 2>"$work/err"; then fail "answered: $*"; fi
  grep -q "($code)" "$work/err" || { cat "$work/err"; fail "not $code: $*"; }
}

# Parameter Store.
[[ $(aws ssm put-parameter --name /app/db/url --type String --value db.internal:5432 --query Version) == 1 ]] || fail "first version"
expect_error ParameterAlreadyExists aws ssm put-parameter --name /app/db/url --type String --value other
[[ $(aws ssm put-parameter --name /app/db/url --value db2.internal:5432 --overwrite --query Version) == 2 ]] || fail "overwrite"
aws ssm put-parameter --name /app/db/password --type SecureString --value 'pw-hunter2' \
  --tags Key=team,Value=core >/dev/null
aws ssm put-parameter --name /app/hosts --type StringList --value a,b,c >/dev/null
aws ssm put-parameter --name /app/feature/deep/flag --type String --value on >/dev/null
sealed=$(aws ssm get-parameter --name /app/db/password --query Parameter.Value --output text)
[[ "$sealed" != *hunter2* && -n "$sealed" ]] || fail "a SecureString read without decryption: $sealed"
[[ $(aws ssm get-parameter --name /app/db/password --with-decryption --query Parameter.Value --output text) == pw-hunter2 ]] || fail "with decryption"
[[ $(aws ssm get-parameter --name /app/db/url:1 --query Parameter.Value --output text) == db.internal:5432 ]] || fail "version selector"
arn=$(aws ssm get-parameter --name /app/db/url --query Parameter.ARN --output text)
[[ "$arn" == arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url ]] || fail "ARN: $arn"
expect_error ParameterNotFound aws ssm get-parameter --name /app/missing
invalid=$(aws ssm get-parameters --names /app/db/url /app/missing --query 'InvalidParameters[0]' --output text)
[[ "$invalid" == /app/missing ]] || fail "get-parameters invalid: $invalid"
one_level=$(aws ssm get-parameters-by-path --path /app --query 'Parameters[].Name' --output text)
[[ "$one_level" == $'/app/hosts' ]] || fail "one level: $one_level"
all=$(aws ssm get-parameters-by-path --path /app --recursive --with-decryption --query 'length(Parameters)')
[[ "$all" == 4 ]] || fail "recursive: $all"
paged=$(aws ssm get-parameters-by-path --path /app --recursive --page-size 2 --query 'length(Parameters)')
[[ "$paged" == 4 ]] || fail "paged: $paged"
history=$(aws ssm get-parameter-history --name /app/db/url --query 'Parameters[].[Version,Value]' --output text)
[[ "$history" == $'1\tdb.internal:5432\n2\tdb2.internal:5432' ]] || fail "history: $history"
described=$(aws ssm describe-parameters --parameter-filters Key=Type,Values=SecureString --query 'Parameters[].Name' --output text)
[[ "$described" == /app/db/password ]] || fail "describe-parameters: $described"
[[ $(aws ssm list-tags-for-resource --resource-type Parameter --resource-id /app/db/password --query 'TagList[0].Value' --output text) == core ]] || fail "tags"
aws ssm add-tags-to-resource --resource-type Parameter --resource-id /app/db/url --tags Key=env,Value=prod
aws ssm remove-tags-from-resource --resource-type Parameter --resource-id /app/db/url --tag-keys env
[[ $(aws ssm list-tags-for-resource --resource-type Parameter --resource-id /app/db/url --query 'length(TagList)') == 0 ]] || fail "untag"
expect_error ValidationException aws ssm put-parameter --name aws-reserved --type String --value x
aws ssm delete-parameter --name /app/feature/deep/flag
expect_error ParameterNotFound aws ssm delete-parameter --name /app/feature/deep/flag
deleted=$(aws ssm delete-parameters --names /app/hosts /app/gone --query '[DeletedParameters[0],InvalidParameters[0]]' --output text)
[[ "$deleted" == $'/app/hosts\t/app/gone' ]] || fail "delete-parameters: $deleted"
echo "ssm: versions, overwrite, SecureString, paths, history, filters, tags, deletes"

# Secrets Manager.
created=$(aws secretsmanager create-secret --name prod/db --secret-string '{"user":"ana","password":"sm-hunter3"}' \
  --tags Key=team,Value=core --query ARN --output text)
[[ "$created" =~ ^arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-[A-Za-z0-9]{6}$ ]] || fail "secret ARN: $created"
expect_error ResourceExistsException aws secretsmanager create-secret --name prod/db --secret-string x
[[ $(aws secretsmanager get-secret-value --secret-id prod/db --query SecretString --output text) == '{"user":"ana","password":"sm-hunter3"}' ]] || fail "get by name"
[[ $(aws secretsmanager get-secret-value --secret-id "$created" --query 'VersionStages[0]' --output text) == AWSCURRENT ]] || fail "get by ARN"
partial=${created%-*}
aws secretsmanager get-secret-value --secret-id "$partial" >/dev/null || fail "get by partial ARN"
first=$(aws secretsmanager describe-secret --secret-id prod/db --query 'keys(VersionIdsToStages)[0]' --output text)
aws secretsmanager put-secret-value --secret-id prod/db --secret-string '{"user":"ana","password":"sm-hunter4"}' >/dev/null
[[ $(aws secretsmanager get-secret-value --secret-id prod/db --version-stage AWSPREVIOUS --query VersionId --output text) == "$first" ]] || fail "AWSPREVIOUS"
[[ $(aws secretsmanager get-secret-value --secret-id prod/db --query SecretString --output text) == *sm-hunter4* ]] || fail "AWSCURRENT moved"
aws secretsmanager update-secret --secret-id prod/db --description "the database" >/dev/null
[[ $(aws secretsmanager describe-secret --secret-id prod/db --query Description --output text) == "the database" ]] || fail "update-secret"
aws secretsmanager create-secret --name prod/api --secret-string token-hunter5 >/dev/null
[[ $(aws secretsmanager list-secrets --query 'length(SecretList)') == 2 ]] || fail "list-secrets"
[[ $(aws secretsmanager list-secrets --page-size 1 --query 'length(SecretList)') == 2 ]] || fail "list-secrets paged"
expect_error ResourceNotFoundException aws secretsmanager get-secret-value --secret-id prod/none
expect_error InvalidParameterException aws secretsmanager delete-secret --secret-id prod/db --recovery-window-in-days 3
expect_error InvalidParameterException aws secretsmanager delete-secret --secret-id prod/db --recovery-window-in-days 7 --force-delete-without-recovery
aws secretsmanager delete-secret --secret-id prod/db --recovery-window-in-days 7 >/dev/null
expect_error InvalidRequestException aws secretsmanager get-secret-value --secret-id prod/db
[[ $(aws secretsmanager describe-secret --secret-id prod/db --query 'DeletedDate!=null') == true ]] || fail "DeletedDate"
[[ $(aws secretsmanager list-secrets --query 'length(SecretList)') == 1 ]] || fail "a deleted secret is not listed"
[[ $(aws secretsmanager list-secrets --include-planned-deletion --query 'length(SecretList)') == 2 ]] || fail "include-planned-deletion"
aws secretsmanager restore-secret --secret-id prod/db >/dev/null
aws secretsmanager get-secret-value --secret-id prod/db >/dev/null || fail "restored"
aws secretsmanager delete-secret --secret-id prod/api --force-delete-without-recovery >/dev/null
expect_error ResourceNotFoundException aws secretsmanager describe-secret --secret-id prod/api
aws secretsmanager create-secret --name prod/api --secret-string again >/dev/null || fail "a force-deleted name is free"
echo "secretsmanager: create, get, put and AWSPREVIOUS, update, list, delete, restore, force delete"

# Rights.
aws iam create-user --user-name app >/dev/null
aws iam put-user-policy --user-name app --policy-name p --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter*","Resource":"arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url"}]}'
read -r key secret < <(aws iam create-access-key --user-name app --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
sleep 0.2
as_app() { AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret "$@"; }
as_app aws ssm get-parameter --name /app/db/url >/dev/null || fail "app may read /app/db/url"
expect_error AccessDeniedException as_app aws ssm get-parameter --name /app/db/password --with-decryption
expect_error AccessDeniedException as_app aws ssm get-parameters --names /app/db/url /app/db/password
expect_error AccessDeniedException as_app aws ssm put-parameter --name /app/db/url --value x --overwrite
expect_error AccessDeniedException as_app aws secretsmanager get-secret-value --secret-id prod/db
expect_error AccessDeniedException as_app aws secretsmanager create-secret --name mine --secret-string x
echo "rights: a user reads only what its policy names"

# The values stay secret.
"$berth" audit --max 500 > "$work/audit.txt"
grep -q "ssm:PutParameter" "$work/audit.txt" || fail "put-parameter not audited"
grep -q "secretsmanager:PutSecretValue" "$work/audit.txt" || fail "put-secret-value not audited"
if grep -q hunter "$work/audit.txt" "$work/berth.out" "$work/berth.err"; then fail "a secret value was logged"; fi
if grep -aq hunter "$work/data/state.redb"; then fail "a secret value is stored in clear"; fi
echo "values: in neither the audit log, the server's output nor the state file"

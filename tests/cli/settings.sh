#!/usr/bin/env bash
# The unmodified AWS CLI against `berth server`: account settings round trip (put, list with and
# without --effective-settings, delete), a new cluster's containerInsights following the
# account's default, update-cluster-settings, and tagResourceAuthorization deciding whether
# tags on create-cluster need ecs:TagResource. Run with the berth binary as $1.
set -euo pipefail
berth=${1:?usage: settings.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"

start_berth server
root=arn:aws:iam::000000000000:root

# What infrastructure tools ask before tagging a task.
effective=$(aws ecs list-account-settings --name taskLongArnFormat --effective-settings \
  --query 'settings[0].[value,type]' --output text)
[[ "$effective" == $'enabled\taws_managed' ]] || fail "taskLongArnFormat: $effective"

# Round trip: the account's default, the root's own, the listing of each, the delete.
aws ecs put-account-setting-default --name containerInsights --value enabled >/dev/null
put=$(aws ecs put-account-setting --name awsvpcTrunking --value enabled --query 'setting.[principalArn,value]' --output text)
[[ "$put" == "$root"$'\tenabled' ]] || fail "put-account-setting: $put"
own=$(aws ecs list-account-settings --query 'settings[].name' --output text)
[[ "$own" == $'awsvpcTrunking\tcontainerInsights' ]] || fail "own settings: $own"
all=$(aws ecs list-account-settings --effective-settings --query 'length(settings)' --output json)
[[ "$all" == 11 ]] || fail "effective settings (the CLI pages through them): $all"
insights=$(aws ecs create-cluster --cluster-name insightful \
  --query "cluster.settings[?name=='containerInsights'].value" --output text)
[[ "$insights" == enabled ]] || fail "a new cluster follows the account: $insights"
deleted=$(aws ecs delete-account-setting --name awsvpcTrunking --query 'setting.value' --output text)
[[ "$deleted" == enabled ]] || fail "delete-account-setting: $deleted"
trunking=$(aws ecs list-account-settings --name awsvpcTrunking --effective-settings --query 'settings[0].value' --output text)
[[ "$trunking" == disabled ]] || fail "after the delete: $trunking"
if aws ecs put-account-setting --name containerInsights --value sometimes >/dev/null 2>"$work/err"; then
  fail "an invalid value was accepted"
fi
grep -q InvalidParameterException "$work/err" || { cat "$work/err"; fail "not InvalidParameterException"; }
echo "account settings: put, list, effective, delete"

# update-cluster-settings
updated=$(aws ecs update-cluster-settings --cluster insightful --settings name=containerInsights,value=disabled \
  --query "cluster.settings[?name=='containerInsights'].value" --output text)
[[ "$updated" == disabled ]] || fail "update-cluster-settings: $updated"
described=$(aws ecs describe-clusters --clusters insightful \
  --query "clusters[0].settings[?name=='containerInsights'].value" --output text)
[[ "$described" == disabled ]] || fail "describe-clusters after the update: $described"
if aws ecs update-cluster-settings --cluster absent --settings name=containerInsights,value=enabled >/dev/null 2>"$work/err"; then
  fail "an absent cluster was updated"
fi
grep -q ClusterNotFoundException "$work/err" || { cat "$work/err"; fail "not ClusterNotFoundException"; }
echo "update-cluster-settings: stored and described"

# tagResourceAuthorization: on (the default), tags on create need ecs:TagResource too.
aws iam create-user --user-name creator >/dev/null
aws iam put-user-policy --user-name creator --policy-name p --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:CreateCluster","Resource":"*"}]}'
read -r key secret < <(aws iam create-access-key --user-name creator \
  --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
sleep 0.2
as_creator() { AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret "$@"; }
as_creator aws ecs create-cluster --cluster-name untagged >/dev/null
if as_creator aws ecs create-cluster --cluster-name tagged --tags key=team,value=web >/dev/null 2>"$work/err"; then
  fail "tags were allowed without ecs:TagResource"
fi
grep -q 'AccessDenied.*ecs:TagResource' "$work/err" || { cat "$work/err"; fail "not refused for ecs:TagResource"; }
aws ecs put-account-setting-default --name tagResourceAuthorization --value off >/dev/null
as_creator aws ecs create-cluster --cluster-name tagged --tags key=team,value=web >/dev/null
echo "tagResourceAuthorization: on asks ecs:TagResource, off does not"
echo "settings: 3 passed, 0 failed"

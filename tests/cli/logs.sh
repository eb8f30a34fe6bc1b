#!/usr/bin/env bash
# The README's logs walkthrough with the unmodified AWS CLI against `berth up`: a task
# definition with `awslogs` (create-group), its output read with describe-log-groups,
# describe-log-streams, get-log-events and filter-log-events (a term and a JSON pattern) after
# the task stopped, `berth logs`, retention, an operation Berth does not answer, and a task whose
# execution role may not write logs.
# Run with the berth binary as $1.
set -euo pipefail
berth=${1:?usage: logs.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"
cluster="cli-logs-$$"
group="/ecs/cli-logs-$$"

ensure_base_image
start_berth up --cluster "$cluster"

cat > "$work/td.json" <<JSON
{
  "family": "cli-logs",
  "containerDefinitions": [{
    "name": "app", "image": "$base", "memory": 16,
    "command": ["sh", "-c", "echo hello; echo '{\"level\": \"error\", \"msg\": \"boom\"}'; echo bye"],
    "logConfiguration": {"logDriver": "awslogs", "options": {
      "awslogs-group": "$group", "awslogs-region": "us-east-1",
      "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}}
  }]
}
JSON
aws ecs register-task-definition --cli-input-json "file://$work/td.json" >/dev/null
task=$(aws ecs run-task --cluster "$cluster" --task-definition cli-logs --query 'tasks[0].taskArn' --output text)
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
id=${task##*/}

groups=$(aws logs describe-log-groups --log-group-name-prefix "$group" --query 'logGroups[].logGroupName' --output text)
[[ "$groups" == "$group" ]] || fail "describe-log-groups: $groups"
streams=$(aws logs describe-log-streams --log-group-name "$group" --query 'logStreams[].logStreamName' --output text)
[[ "$streams" == "ecs/app/$id" ]] || fail "describe-log-streams: $streams"
lines=$(aws logs get-log-events --log-group-name "$group" --log-stream-name "ecs/app/$id" \
  --start-from-head --query 'events[].message' --output text)
[[ "$lines" == $'hello\t{"level": "error", "msg": "boom"}\tbye' ]] || fail "get-log-events: $lines"
errors=$(aws logs filter-log-events --log-group-name "$group" --filter-pattern '{ $.level = "error" }' \
  --query 'events[].message' --output text)
[[ "$errors" == '{"level": "error", "msg": "boom"}' ]] || fail "filter-log-events JSON: $errors"
byes=$(aws logs filter-log-events --log-group-name "$group" --filter-pattern 'bye' --query 'length(events)')
[[ "$byes" == 1 ]] || fail "filter-log-events term: $byes"
echo "awslogs: groups, streams, events and filters read back after the task stopped"

printed=$("$berth" logs --cluster "$cluster" "$id")
[[ "$printed" == $'hello\n{"level": "error", "msg": "boom"}\nbye' ]] || fail "berth logs: $printed"
echo "berth logs: the task's output"

aws logs put-retention-policy --log-group-name "$group" --retention-in-days 7
days=$(aws logs describe-log-groups --log-group-name-prefix "$group" --query 'logGroups[0].retentionInDays')
[[ "$days" == 7 ]] || fail "retention: $days"
if aws logs put-retention-policy --log-group-name "$group" --retention-in-days 8 2>"$work/err"; then
  fail "8 days accepted"
fi
grep -q InvalidParameterException "$work/err" || { cat "$work/err"; fail "not InvalidParameterException"; }
if aws logs start-query --log-group-name "$group" --start-time 0 --end-time 1 --query-string 'fields @message' 2>"$work/err"; then
  fail "start-query answered"
fi
grep -q UnsupportedFeatureException "$work/err" || { cat "$work/err"; fail "not UnsupportedFeatureException"; }
aws logs delete-log-group --log-group-name "$group"
echo "retention, refusals, delete-log-group"

# With an execution role, the stream is created as that role: one that may not stops the task.
aws iam create-role --role-name "nologs-$$" --assume-role-policy-document \
  '{"Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}}' >/dev/null
sed -e 's/"family": "cli-logs"/"family": "cli-logs-role", "executionRoleArn": "nologs-'$$'"/' "$work/td.json" > "$work/td-role.json"
aws ecs register-task-definition --cli-input-json "file://$work/td-role.json" >/dev/null
task=$(aws ecs run-task --cluster "$cluster" --task-definition cli-logs-role --query 'tasks[0].taskArn' --output text)
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
reason=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].containers[0].reason' --output text)
[[ $reason == CannotStartContainerError*"assumed-role/nologs-$$/${task##*/}"*logs:CreateLogStream* ]] \
  || fail "a role that may not write logs stops the task: $reason"
echo "execution role without logs rights: task stopped ($reason)"

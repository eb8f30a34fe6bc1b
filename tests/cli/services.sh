#!/usr/bin/env bash
# The unmodified AWS CLI on what deploy tools use around services: tags on every taggable
# resource (tag, list, untag), a service's tags propagated to its tasks with ECS's managed tags,
# and task protection steering and blocking a scale-in. Run with the berth binary as $1.
set -euo pipefail
berth=${1:?usage: services.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"
cluster="cli-svc-$$"

ensure_base_image
start_berth up --cluster "$cluster"

cat > "$work/td.json" <<JSON
{
  "family": "cli-tagged",
  "containerDefinitions": [
    {"name": "app", "image": "$base", "command": ["sleep", "600"], "memory": 16, "stopTimeout": 1}
  ],
  "tags": [{"key": "owner", "value": "definitions"}]
}
JSON
td=$(aws ecs register-task-definition --cli-input-json "file://$work/td.json" \
  --query 'taskDefinition.taskDefinitionArn' --output text)

# A service whose tasks carry its tags and ECS's managed tags.
service=$(aws ecs create-service --cluster "$cluster" --service-name tagged --task-definition cli-tagged \
  --desired-count 2 --tags key=team,value=web --propagate-tags SERVICE --enable-ecs-managed-tags \
  --query 'service.serviceArn' --output text)
aws ecs wait services-stable --cluster "$cluster" --services tagged
mapfile -t tasks < <(aws ecs list-tasks --cluster "$cluster" --service-name tagged --query 'taskArns[]' --output text | tr '\t' '\n')
[ "${#tasks[@]}" -eq 2 ] || fail "expected 2 tasks, got ${tasks[*]}"
for t in "${tasks[@]}"; do
  tags=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$t" --include TAGS \
    --query 'tasks[0].tags[].[key,value]' --output text | sort | tr '\t\n' '=,')
  echo "task tags: $tags"
  [ "$tags" = "aws:ecs:clusterName=$cluster,aws:ecs:serviceName=tagged,team=web," ] || fail "task $t has tags $tags"
done

# Tag, list and untag each kind of resource.
cluster_arn=$(aws ecs describe-clusters --clusters "$cluster" --query 'clusters[0].clusterArn' --output text)
instance=$(aws ecs list-container-instances --cluster "$cluster" --query 'containerInstanceArns[0]' --output text)
for arn in "$cluster_arn" "$service" "${tasks[0]}" "$instance" "$td"; do
  aws ecs tag-resource --resource-arn "$arn" --tags key=probe,value=yes
  got=$(aws ecs list-tags-for-resource --resource-arn "$arn" --query "tags[?key=='probe'].value" --output text)
  [ "$got" = "yes" ] || fail "tag on $arn: listed '$got'"
  aws ecs untag-resource --resource-arn "$arn" --tag-keys probe
  got=$(aws ecs list-tags-for-resource --resource-arn "$arn" --query "tags[?key=='probe'].value" --output text)
  [ -z "$got" ] || fail "untag on $arn: still listed '$got'"
  echo "tagged and untagged: ${arn%%/*}/..."
done
got=$(aws ecs list-tags-for-resource --resource-arn "$service" --query "tags[?key=='team'].value" --output text)
[ "$got" = "web" ] || fail "the service's own tag is gone: '$got'"

# Task protection: scaling in stops the unprotected task, then waits for the protected one.
protected=${tasks[0]}
enabled=$(aws ecs update-task-protection --cluster "$cluster" --tasks "$protected" --protection-enabled \
  --expires-in-minutes 30 --query 'protectedTasks[0].protectionEnabled' --output text)
[ "$enabled" = "True" ] || fail "update-task-protection answered $enabled"
enabled=$(aws ecs get-task-protection --cluster "$cluster" --tasks "$protected" \
  --query 'protectedTasks[0].protectionEnabled' --output text)
[ "$enabled" = "True" ] || fail "get-task-protection answered $enabled"
aws ecs update-service --cluster "$cluster" --service tagged --desired-count 1 >/dev/null
aws ecs wait services-stable --cluster "$cluster" --services tagged
left=$(aws ecs list-tasks --cluster "$cluster" --service-name tagged --query 'taskArns[]' --output text)
[ "$left" = "$protected" ] || fail "scale-in stopped the protected task: left $left"
aws ecs update-service --cluster "$cluster" --service tagged --desired-count 0 >/dev/null
sleep 3
status=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$protected" --query 'tasks[0].desiredStatus' --output text)
[ "$status" = "RUNNING" ] || fail "the protected task was stopped by scaling in: $status"
echo "protected task kept through a scale-in to 0"
aws ecs update-task-protection --cluster "$cluster" --tasks "$protected" --no-protection-enabled >/dev/null
aws ecs wait services-stable --cluster "$cluster" --services tagged
running=$(aws ecs describe-services --cluster "$cluster" --services tagged --query 'services[0].runningCount' --output text)
[ "$running" = "0" ] || fail "after protection ended the service still runs $running tasks"
aws ecs delete-service --cluster "$cluster" --service tagged >/dev/null
echo "services.sh: ok"

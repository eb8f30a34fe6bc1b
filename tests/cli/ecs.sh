#!/usr/bin/env bash
# The unmodified AWS CLI against `berth up`: register a task definition from JSON, run it, wait
# for RUNNING, stop it, wait for STOPPED; then a service of 2 through the services-stable and
# services-inactive waiters. Run with the berth binary as $1.
set -euo pipefail
berth=${1:?usage: ecs.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"
cluster="cli-$$"

cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ids=$(docker ps -aq --filter "label=com.amazonaws.ecs.cluster=$cluster")
  [ -n "$ids" ] && docker rm -f $ids >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ensure_base_image

"$berth" up --data-dir "$work/data" --listen 127.0.0.1:0 --cluster "$cluster" > "$work/up.out" 2> "$work/up.err" &
pid=$!
for _ in $(seq 100); do grep -q AWS_DEFAULT_REGION "$work/up.out" && break; sleep 0.1; done
# shellcheck disable=SC1090
source <(grep '^export ' "$work/up.out")

cat > "$work/td.json" <<JSON
{
  "family": "cli-demo",
  "containerDefinitions": [
    {"name": "app", "image": "$base", "command": ["sleep", "600"], "memory": 32, "essential": true, "stopTimeout": 2}
  ],
  "cpu": "0.25 vCPU",
  "memory": "0.5 GB"
}
JSON
registered=$(aws ecs register-task-definition --cli-input-json "file://$work/td.json" \
  --query 'taskDefinition.[taskDefinitionArn,cpu,memory]' --output text)
echo "registered: $registered"
[[ "$registered" == *"task-definition/cli-demo:1"*"256"*"512" ]] || { echo "unexpected registration: $registered"; exit 1; }

task=$(aws ecs run-task --cluster "$cluster" --task-definition cli-demo --query 'tasks[0].taskArn' --output text)
echo "task: $task"
aws ecs wait tasks-running --cluster "$cluster" --tasks "$task"
echo "running: $(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].lastStatus' --output text)"
aws ecs stop-task --cluster "$cluster" --task "$task" --reason "cli test" >/dev/null
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
result=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].[lastStatus,stopCode,stoppedReason]' --output text)
echo "stopped: $result"
[[ "$result" == $'STOPPED\tUserInitiated\tcli test' ]] || { echo "unexpected stop: $result"; exit 1; }

aws ecs create-service --cluster "$cluster" --service-name cli-svc --task-definition cli-demo \
  --desired-count 2 --deployment-configuration 'minimumHealthyPercent=50,maximumPercent=200' >/dev/null
aws ecs wait services-stable --cluster "$cluster" --services cli-svc
result=$(aws ecs describe-services --cluster "$cluster" --services cli-svc \
  --query 'services[0].[status,runningCount,length(deployments)]' --output text)
echo "service: $result"
[[ "$result" == $'ACTIVE\t2\t1' ]] || { echo "unexpected service: $result"; exit 1; }
# The rollout completes once its tasks have been RUNNING for the stability window.
for _ in $(seq 30); do
  rollout=$(aws ecs describe-services --cluster "$cluster" --services cli-svc \
    --query 'services[0].deployments[0].rolloutState' --output text)
  [[ "$rollout" == COMPLETED ]] && break
  sleep 1
done
echo "rollout: $rollout"
[[ "$rollout" == COMPLETED ]] || { echo "the rollout did not complete"; exit 1; }
listed=$(aws ecs list-tasks --cluster "$cluster" --service-name cli-svc --query 'length(taskArns)' --output text)
[[ "$listed" == 2 ]] || { echo "list-tasks --service-name found $listed tasks"; exit 1; }
if aws ecs delete-service --cluster "$cluster" --service cli-svc >/dev/null 2>"$work/delete.err"; then
  echo "delete-service of a service scaled above 0 should be refused"; exit 1
fi
grep -q InvalidParameterException "$work/delete.err" || { cat "$work/delete.err"; exit 1; }
aws ecs update-service --cluster "$cluster" --service cli-svc --desired-count 0 >/dev/null
aws ecs delete-service --cluster "$cluster" --service cli-svc >/dev/null
aws ecs wait services-inactive --cluster "$cluster" --services cli-svc
echo "service deleted: $(aws ecs describe-services --cluster "$cluster" --services cli-svc --query 'services[0].status' --output text)"
echo "cli: 2 passed, 0 failed"

#!/usr/bin/env bash
# The unmodified AWS CLI against `berth up`: an awsvpc task as on AWS. aws ec2 describe-subnets
# finds the default subnet, run-task --network-configuration runs a busybox httpd in it, the
# task answers with curl at its own private address on port 80, describe-tasks shows its
# interface, describe-network-interfaces lists it, and it is gone once the task stopped. Run
# with the berth binary as $1.
set -euo pipefail
berth=${1:?usage: awsvpc.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"

ensure_base_image
cluster=awsvpc-$$
# Stopped tasks' containers (the pause among them) go at once, and with them the VPC's network.
BERTH_TASK_CLEANUP_WAIT=0s start_berth up --cluster "$cluster"

for _ in $(seq 50); do
  subnet=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true --query 'Subnets[0].SubnetId' --output text)
  [[ "$subnet" == subnet-* ]] && break
  sleep 0.2
done
[[ "$subnet" == subnet-* ]] || fail "no default subnet: $subnet"
group=$(aws ec2 describe-security-groups --filters Name=group-name,Values=default --query 'SecurityGroups[0].GroupId' --output text)

aws ecs register-task-definition --family web --network-mode awsvpc --container-definitions \
  "[{\"name\":\"web\",\"image\":\"$base\",\"memory\":32,\"portMappings\":[{\"containerPort\":80}],
     \"command\":[\"sh\",\"-c\",\"echo hello from \$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www\"]}]" >/dev/null
expect_refused() { # text command... ; the call must be refused with a message containing text
  local text=$1; shift
  if "$@" >/dev/null 2>"$work/err"; then fail "answered: $*"; fi
  grep -q "$text" "$work/err" || { cat "$work/err"; fail "not '$text': $*"; }
}
expect_refused "Network Configuration must be provided" aws ecs run-task --cluster "$cluster" --task-definition web
task=$(aws ecs run-task --cluster "$cluster" --task-definition web \
  --network-configuration "awsvpcConfiguration={subnets=[$subnet],securityGroups=[$group]}" \
  --query 'tasks[0].taskArn' --output text)
aws ecs wait tasks-running --cluster "$cluster" --tasks "$task"
read -r type status <<<"$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
  --query 'tasks[0].attachments[0].[type,status]' --output text)"
[[ "$type" == ElasticNetworkInterface && "$status" == ATTACHED ]] || fail "attachment: $type $status"
address=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
  --query "tasks[0].attachments[0].details[?name=='privateIPv4Address'].value | [0]" --output text)
[[ "$address" == 172.31.0.* ]] || fail "address: $address"
page=""
for _ in $(seq 50); do
  page=$(curl -s --max-time 2 "http://$address/" || true)
  [[ -n "$page" ]] && break
  sleep 0.2
done
[[ "$page" == "hello from ip-${address//./-}.ec2.internal" ]] || fail "curl http://$address/: $page"
[[ $(aws ec2 describe-network-interfaces --filters "Name=private-ip-address,Values=$address" \
  --query 'NetworkInterfaces[0].[Status,SubnetId]' --output text) == $'in-use\t'"$subnet" ]] || fail "describe-network-interfaces"
echo "awsvpc: run-task in the default subnet, curl http://$address/ answered from the task's own address"

aws ecs stop-task --cluster "$cluster" --task "$task" >/dev/null
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
[[ $(aws ec2 describe-network-interfaces --query 'length(NetworkInterfaces)') == 0 ]] || fail "the interface outlived its task"
vpc=$(aws ec2 describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId' --output text)
for _ in $(seq 50); do
  docker network inspect "berth-$vpc" >/dev/null 2>&1 || break
  sleep 0.2
done
if docker network inspect "berth-$vpc" >/dev/null 2>&1; then fail "the VPC's network outlived its last task"; fi
echo "stopped: the interface, the pause and the VPC's network are gone, the address free"

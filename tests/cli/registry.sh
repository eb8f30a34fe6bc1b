#!/usr/bin/env bash
# The registry with the real clients: `aws ecr` creates a repository and hands out the login
# password, `docker login/push/pull` move a multi-layer image, an ECS task runs from it (the
# agent pulls with credentials of its own, or as the task's execution role), `skopeo` copies, inspects and deletes. Run with the
# berth binary as $1.
set -euo pipefail
berth=${1:?usage: registry.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"
cluster="reg-$$"

cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "${pid2:-}" ] && kill "$pid2" 2>/dev/null && wait "$pid2" 2>/dev/null || true
  for c in "$cluster" "$cluster-own"; do
    ids=$(docker ps -aq --filter "label=com.amazonaws.ecs.cluster=$c")
    [ -n "$ids" ] && docker rm -f $ids >/dev/null || true
  done
  [ -n "${own:-}" ] && docker rmi -f "$own" >/dev/null 2>&1 || true
  [ -n "${uri:-}" ] && docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$uri:" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

ensure_base_image

"$berth" up --data-dir "$work/data" --listen 127.0.0.1:0 --cluster "$cluster" > "$work/up.out" 2> "$work/up.err" &
pid=$!
for _ in $(seq 100); do grep -q BERTH_REGISTRY "$work/up.out" && break; sleep 0.1; done
# shellcheck disable=SC1090
source <(grep '^export ' "$work/up.out")
[[ -n ${BERTH_REGISTRY:-} ]] || fail "berth up prints BERTH_REGISTRY"

uri=$(aws ecr create-repository --repository-name "team/app-$$" --query repository.repositoryUri --output text)
[[ $uri == "$BERTH_REGISTRY/team/app-$$" ]] || fail "repositoryUri is host:port/name: $uri"
aws ecr get-login-password | docker login --username AWS --password-stdin "$BERTH_REGISTRY" >/dev/null

# Two more layers on top of the base's.
mkdir -p "$work/img"
head -c 300000 /dev/urandom > "$work/img/data.bin"
printf 'FROM %s\nCOPY data.bin /data.bin\nRUN ["/bin/sh", "-c", "echo layered > /hello.txt"]\n' "$base" > "$work/img/Dockerfile"
image="$uri:v1"
docker build -q -t "$image" "$work/img" >/dev/null
docker push -q "$image" >/dev/null
layers=$(docker image inspect "$image" --format '{{len .RootFS.Layers}}')
docker rmi "$image" >/dev/null
docker pull -q "$image" >/dev/null
[[ $(docker image inspect "$image" --format '{{len .RootFS.Layers}}') == "$layers" ]] || fail "pulled image lost layers"
[[ $(aws ecr describe-images --repository-name "team/app-$$" --query 'imageDetails[0].imageTags[0]' --output text) == v1 ]] \
  || fail "describe-images shows the pushed tag"
# A push of the same layers to another repository mounts them from the first.
aws ecr create-repository --repository-name "team/copy-$$" >/dev/null
docker tag "$image" "$BERTH_REGISTRY/team/copy-$$:v1"
docker push "$BERTH_REGISTRY/team/copy-$$:v1" > "$work/push.out"
grep -q "Mounted from team/app-$$" "$work/push.out" || { cat "$work/push.out"; fail "docker mounts layers across repositories"; }
docker rmi "$BERTH_REGISTRY/team/copy-$$:v1" >/dev/null
aws ecr delete-repository --repository-name "team/copy-$$" --force >/dev/null
# A push to a repository that does not exist is refused, saying how to create it.
docker tag "$image" "$BERTH_REGISTRY/team/absent-$$:v1"
if docker push "$BERTH_REGISTRY/team/absent-$$:v1" > "$work/absent.out" 2>&1; then
  fail "a push to an absent repository is refused"
fi
docker rmi "$BERTH_REGISTRY/team/absent-$$:v1" >/dev/null
grep -qF "create it with aws ecr create-repository --repository-name team/absent-$$" "$work/absent.out" \
  || { cat "$work/absent.out"; fail "a push to an absent repository says how to create it"; }
echo "docker: ok (login, push of $layers layers, rmi, pull, cross-repository mount, absent repository)"

# An ECS task from the registry: the agent pulls it itself.
docker rmi "$image" >/dev/null
aws ecs register-task-definition --family "reg-$$" --container-definitions \
  "[{\"name\":\"app\",\"image\":\"$image\",\"command\":[\"sh\",\"-c\",\"cat /hello.txt; sleep 600\"],\"memory\":32,\"stopTimeout\":2}]" >/dev/null
task=$(aws ecs run-task --cluster "$cluster" --task-definition "reg-$$" --query 'tasks[0].taskArn' --output text)
aws ecs wait tasks-running --cluster "$cluster" --tasks "$task" \
  || fail "the task did not run: $(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].stoppedReason' --output text)"
pushed=$(aws ecr describe-images --repository-name "team/app-$$" --image-ids imageTag=v1 --query 'imageDetails[0].imageDigest' --output text)
ran=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].containers[0].imageDigest' --output text)
[[ $ran == "$pushed" ]] || fail "the container's imageDigest ($ran) is the pushed manifest's ($pushed)"
aws ecs stop-task --cluster "$cluster" --task "$task" >/dev/null
echo "ecs task from the registry: ok (imageDigest $ran)"

# With an execution role, the agent pulls as that role, and only as far as its policy allows.
trust='{"Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}}'
manifest=$(aws ecr batch-get-image --repository-name "team/app-$$" --image-ids imageTag=v1 --query 'images[0].imageManifest' --output text)
aws iam create-role --role-name "tokenonly-$$" --assume-role-policy-document "$trust" >/dev/null
aws iam put-role-policy --role-name "tokenonly-$$" --policy-name token --policy-document \
  '{"Statement":{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}}'
aws iam create-role --role-name "puller-$$" --assume-role-policy-document "$trust" >/dev/null
aws iam attach-role-policy --role-name "puller-$$" \
  --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
run_as() { # role, tag (a tag of v1's manifest, never pulled here before) → the task's ARN
  aws ecr put-image --repository-name "team/app-$$" --image-tag "$2" --image-manifest "$manifest" >/dev/null
  aws ecs register-task-definition --family "reg-$2-$$" --execution-role-arn "$1" --container-definitions \
    "[{\"name\":\"app\",\"image\":\"$uri:$2\",\"command\":[\"sleep\",\"600\"],\"memory\":32,\"stopTimeout\":2}]" >/dev/null
  aws ecs run-task --cluster "$cluster" --task-definition "reg-$2-$$" --query 'tasks[0].taskArn' --output text
}
task=$(run_as "tokenonly-$$" denied)
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
reason=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].containers[0].reason' --output text)
[[ $reason == CannotPullContainerError*"assumed-role/tokenonly-$$/${task##*/}"*ecr:BatchGetImage* ]] \
  || fail "a role that may not pull stops the task: $reason"
task=$(run_as "puller-$$" allowed)
aws ecs wait tasks-running --cluster "$cluster" --tasks "$task" \
  || fail "the execution role's pull: $(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].stoppedReason' --output text)"
aws ecs stop-task --cluster "$cluster" --task "$task" >/dev/null
aws ecr batch-delete-image --repository-name "team/app-$$" --image-ids imageTag=denied imageTag=allowed >/dev/null
echo "pulls as the execution role: ok (refused: $reason)"

# A pull the registry refuses stops the task with its reason.
task=$(aws ecs run-task --cluster "$cluster" --task-definition "$(aws ecs register-task-definition --family "reg-missing-$$" \
  --container-definitions "[{\"name\":\"app\",\"image\":\"$uri:absent\",\"memory\":32}]" --query taskDefinition.taskDefinitionArn --output text)" \
  --query 'tasks[0].taskArn' --output text)
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
reason=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].containers[0].reason' --output text)
[[ $reason == CannotPullContainerError* ]] || fail "a refused pull says CannotPullContainerError: $reason"
echo "refused pull: ok ($reason)"

# A repository policy lets a user with no ECR rights of its own pull, and nothing more.
aws iam create-user --user-name puller >/dev/null
aws iam put-user-policy --user-name puller --policy-name token --policy-document \
  '{"Statement":{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}}'
read -r pkey psecret < <(aws iam create-access-key --user-name puller --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
pcreds="AWS:$(AWS_ACCESS_KEY_ID=$pkey AWS_SECRET_ACCESS_KEY=$psecret aws ecr get-login-password)"
if skopeo inspect --tls-verify=false --creds "$pcreds" "docker://$image" >/dev/null 2>"$work/err"; then
  fail "a user without rights pulled"
fi
aws ecr set-repository-policy --repository-name "team/app-$$" --policy-text \
  '{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/puller"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}' >/dev/null
skopeo inspect --tls-verify=false --creds "$pcreds" "docker://$image" >/dev/null || fail "the repository policy lets puller pull"
if skopeo delete --tls-verify=false --creds "$pcreds" "docker://$image" 2>"$work/err"; then fail "puller deleted an image"; fi
grep -qi "denied" "$work/err" || { cat "$work/err"; fail "the refusal is DENIED"; }
aws ecr get-repository-policy --repository-name "team/app-$$" --query policyText --output text | grep -q puller || fail "get-repository-policy"
aws ecr delete-repository-policy --repository-name "team/app-$$" >/dev/null
if aws ecr get-repository-policy --repository-name "team/app-$$" 2>"$work/err"; then fail "the policy was not deleted"; fi
grep -q RepositoryPolicyNotFoundException "$work/err" || { cat "$work/err"; fail "not RepositoryPolicyNotFoundException"; }
echo "repository policy: ok (pull allowed, delete denied)"

# skopeo: inspect, copy within the registry, delete.
creds="AWS:$(aws ecr get-login-password)"
skopeo inspect --tls-verify=false --creds "$creds" "docker://$image" > "$work/inspect.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["Layers"]) == int(sys.argv[2]), d' "$work/inspect.json" "$layers" \
  || fail "skopeo inspect sees the layers"
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --src-creds "$creds" --dest-creds "$creds" \
  "docker://$image" "docker://$uri:copied"
[[ $(aws ecr list-images --repository-name "team/app-$$" --query 'length(imageIds)' --output text) == 2 ]] \
  || fail "the copy is a second tag of the same image"
skopeo delete --tls-verify=false --creds "$creds" "docker://$uri:copied"
[[ $(aws ecr list-images --repository-name "team/app-$$" --query 'length(imageIds)' --output text) == 0 ]] \
  || fail "skopeo delete removes the image (and so both tags)"
echo "skopeo: ok (inspect, copy, delete)"

# Immutable tags, and a lifecycle policy keeping the newest two images.
aws ecr put-image-tag-mutability --repository-name "team/app-$$" --image-tag-mutability IMMUTABLE >/dev/null
for i in 1 2 3 4; do
  printf 'FROM %s\nRUN ["/bin/sh", "-c", "echo %s > /n"]\n' "$base" "$i" > "$work/img/Dockerfile"
  docker build -q -t "$uri:n$i" "$work/img" >/dev/null
  docker push -q "$uri:n$i" >/dev/null
  docker rmi "$uri:n$i" >/dev/null
done
printf 'FROM %s\nRUN ["/bin/sh", "-c", "echo other > /n"]\n' "$base" > "$work/img/Dockerfile"
docker build -q -t "$uri:n1" "$work/img" >/dev/null
if docker push "$uri:n1" > "$work/push.out" 2>&1; then fail "an immutable tag was overwritten"; fi
grep -q "immutable" "$work/push.out" || { cat "$work/push.out"; fail "the refusal says the tag is immutable"; }
docker rmi "$uri:n1" >/dev/null
echo "immutable tags: ok"
policy='{"rules":[{"rulePriority":1,"description":"keep two","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}'
aws ecr put-lifecycle-policy --repository-name "team/app-$$" --lifecycle-policy-text "$policy" >/dev/null
aws ecr start-lifecycle-policy-preview --repository-name "team/app-$$" >/dev/null
aws ecr wait lifecycle-policy-preview-complete --repository-name "team/app-$$"
expiring=$(aws ecr get-lifecycle-policy-preview --repository-name "team/app-$$" --query 'summary.expiringImageTotalCount' --output text)
[[ $expiring == 2 ]] || fail "the preview expires all but the newest two of four: $expiring"
if aws ecr put-lifecycle-policy --repository-name "team/app-$$" --lifecycle-policy-text \
  '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}' 2>"$work/err"; then
  fail "a tagged rule without tagPrefixList was accepted"
fi
grep -q InvalidParameterException "$work/err" || { cat "$work/err"; fail "not InvalidParameterException"; }
echo "lifecycle preview: ok ($expiring of 4 would expire)"

# Repository tags: on create, then tag-resource / untag-resource / list-tags-for-resource.
arn=$(aws ecr create-repository --repository-name "tagged-$$" --tags Key=team,Value=web --query repository.repositoryArn --output text)
aws ecr tag-resource --resource-arn "$arn" --tags Key=env,Value=prod Key=team,Value=api
[[ $(aws ecr list-tags-for-resource --resource-arn "$arn" --query "tags[?Key=='team'].Value" --output text) == api ]] \
  || fail "tag-resource replaces a value by key"
aws ecr untag-resource --resource-arn "$arn" --tag-keys env
[[ $(aws ecr list-tags-for-resource --resource-arn "$arn" --query 'length(tags)' --output text) == 1 ]] || fail "untag-resource"
if aws ecr tag-resource --resource-arn "$arn" --tags Key=aws:owner,Value=me 2>"$work/err"; then fail "an aws: key was accepted"; fi
grep -q InvalidTagParameterException "$work/err" || { cat "$work/err"; fail "not InvalidTagParameterException"; }
# shellcheck disable=SC2046
if aws ecr tag-resource --resource-arn "$arn" --tags $(printf 'Key=k%s,Value=v ' $(seq 50)) 2>"$work/err"; then
  fail "a 51st tag was accepted"
fi
grep -q TooManyTagsException "$work/err" || { cat "$work/err"; fail "not TooManyTagsException"; }
[[ $(aws ecr list-tags-for-resource --resource-arn "$arn" --query 'length(tags)' --output text) == 1 ]] || fail "a refused tag-resource changed tags"
aws ecr delete-repository --repository-name "tagged-$$" >/dev/null
echo "repository tags: ok"

if aws ecr delete-repository --repository-name nope-$$ 2>"$work/err"; then fail "deleting an absent repository"; fi
grep -q RepositoryNotFoundException "$work/err" || { cat "$work/err"; fail "not RepositoryNotFoundException"; }
aws ecr delete-repository --repository-name "team/app-$$" --force >/dev/null

# A registry on a listener of its own (--registry-listen): login, push and a task pulling from it.
"$berth" up --data-dir "$work/data2" --listen 127.0.0.1:0 --registry-listen 127.0.0.1:0 --cluster "$cluster-own" \
  > "$work/up2.out" 2> "$work/up2.err" &
pid2=$!
for _ in $(seq 100); do grep -q BERTH_REGISTRY "$work/up2.out" && break; sleep 0.1; done
# shellcheck disable=SC1090
source <(grep '^export ' "$work/up2.out")
[[ $BERTH_REGISTRY != "${AWS_ENDPOINT_URL#http://}" ]] || fail "--registry-listen moves the registry off the API's address"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$AWS_ENDPOINT_URL/v2/") == 404 ]] || fail "the API listener no longer serves /v2/"
aws ecr create-repository --repository-name "own-$$" >/dev/null
[[ $(aws ecr get-authorization-token --query 'authorizationData[0].proxyEndpoint' --output text) == "http://$BERTH_REGISTRY" ]] \
  || fail "proxyEndpoint names the registry listener"
aws ecr get-login-password | docker login --username AWS --password-stdin "$BERTH_REGISTRY" >/dev/null
own="$BERTH_REGISTRY/own-$$:v1"
docker tag "$base" "$own"
docker push -q "$own" >/dev/null
docker rmi "$own" >/dev/null
aws ecs register-task-definition --family "own-$$" --container-definitions \
  "[{\"name\":\"app\",\"image\":\"$own\",\"command\":[\"sleep\",\"600\"],\"memory\":32,\"stopTimeout\":2}]" >/dev/null
task=$(aws ecs run-task --cluster "$cluster-own" --task-definition "own-$$" --query 'tasks[0].taskArn' --output text)
aws ecs wait tasks-running --cluster "$cluster-own" --tasks "$task" \
  || fail "the task did not run: $(aws ecs describe-tasks --cluster "$cluster-own" --tasks "$task" --query 'tasks[0].stoppedReason' --output text)"
echo "separate registry listener: ok (push to $BERTH_REGISTRY, task pulled from it)"
echo "registry: 9 passed, 0 failed"

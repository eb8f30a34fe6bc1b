#!/usr/bin/env bash
# The unmodified AWS CLI against `berth up`: EC2 networking. The defaults of a new account (the
# default VPC, its default security group, a default subnet in the host's zone), create-vpc,
# create-subnet, create-security-group with tags, authorize/revoke ingress and egress with
# --ip-permissions, describe-* with --filters and --query, tags, availability zones, every
# NotFound / Duplicate / DependencyViolation / CannotDelete refusal, --dry-run, and a user
# without ec2 rights refused. Run with the berth binary as $1.
set -euo pipefail
berth=${1:?usage: ec2.sh path/to/berth}
work=$(mktemp -d)
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"

start_berth up

expect_error() { # code command... ; the call must be refused with that error code
  local code=$1; shift
  if "$@" >/dev/null 2>"$work/err"; then fail "answered: $*"; fi
  grep -q "($code)" "$work/err" || { cat "$work/err"; fail "not $code: $*"; }
}

# The defaults of a new account.
for _ in $(seq 50); do
  [[ $(aws ec2 describe-subnets --query 'length(Subnets)') == 1 ]] && break
  sleep 0.2
done
read -r vpc cidr default <<<"$(aws ec2 describe-vpcs --filters Name=is-default,Values=true \
  --query 'Vpcs[0].[VpcId,CidrBlock,IsDefault]' --output text)"
[[ "$cidr" == 172.31.0.0/16 && "$default" == True ]] || fail "default VPC: $vpc $cidr $default"
read -r subnet block zone <<<"$(aws ec2 describe-subnets --filters "Name=vpc-id,Values=$vpc" \
  Name=default-for-az,Values=true --query 'Subnets[0].[SubnetId,CidrBlock,AvailabilityZone]' --output text)"
[[ "$block" == 172.31.0.0/20 && "$zone" == local-a ]] || fail "default subnet: $subnet $block $zone"
[[ $(aws ec2 describe-subnets --subnet-ids "$subnet" --query 'Subnets[0].AvailableIpAddressCount') == 4091 ]] || fail "free addresses"
default_sg=$(aws ec2 describe-security-groups --filters "Name=vpc-id,Values=$vpc" Name=group-name,Values=default \
  --query 'SecurityGroups[0].GroupId' --output text)
self=$(aws ec2 describe-security-groups --group-ids "$default_sg" \
  --query 'SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[0].GroupId' --output text)
[[ "$self" == "$default_sg" ]] || fail "the default group lets its members in: $self"
[[ $(aws ec2 describe-availability-zones --query 'AvailabilityZones[0].[ZoneName,State]' --output text) == $'local-a\tavailable' ]] || fail "zones"
echo "defaults: VPC 172.31.0.0/16, a default subnet in local-a, the default group"

# A VPC of one's own, its subnet and groups.
mine=$(aws ec2 create-vpc --cidr-block 10.20.0.0/16 \
  --tag-specifications 'ResourceType=vpc,Tags=[{Key=Name,Value=mine}]' --query Vpc.VpcId --output text)
[[ $(aws ec2 describe-vpcs --filters Name=tag:Name,Values=mine --query 'Vpcs[0].VpcId' --output text) == "$mine" ]] || fail "tag filter"
expect_error InvalidVpc.Range aws ec2 create-vpc --cidr-block 10.20.128.0/20
expect_error InvalidVpc.Range aws ec2 create-vpc --cidr-block 10.0.0.0/8
sub=$(aws ec2 create-subnet --vpc-id "$mine" --cidr-block 10.20.1.0/24 --query Subnet.SubnetId --output text)
expect_error InvalidSubnet.Conflict aws ec2 create-subnet --vpc-id "$mine" --cidr-block 10.20.1.0/25
expect_error InvalidSubnet.Range aws ec2 create-subnet --vpc-id "$mine" --cidr-block 10.21.0.0/24
expect_error InvalidVpcID.NotFound aws ec2 create-subnet --vpc-id vpc-0123456789abcdef0 --cidr-block 10.20.2.0/24
web=$(aws ec2 create-security-group --group-name web --description "web tier" --vpc-id "$mine" --query GroupId --output text)
app=$(aws ec2 create-security-group --group-name app --description "app tier" --vpc-id "$mine" \
  --tag-specifications 'ResourceType=security-group,Tags=[{Key=team,Value=blue}]' --query GroupId --output text)
expect_error InvalidGroup.Duplicate aws ec2 create-security-group --group-name web --description again --vpc-id "$mine"
aws ec2 authorize-security-group-ingress --group-id "$app" --ip-permissions \
  "IpProtocol=tcp,FromPort=8080,ToPort=8080,UserIdGroupPairs=[{GroupId=$web}]" \
  'IpProtocol=tcp,FromPort=8080,ToPort=8080,IpRanges=[{CidrIp=10.20.0.0/16,Description=vpc}]' >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$app" --protocol tcp --port 22 --cidr 192.0.2.0/24 >/dev/null
expect_error InvalidPermission.Duplicate aws ec2 authorize-security-group-ingress --group-id "$app" --protocol tcp --port 22 --cidr 192.0.2.0/24
perms=$(aws ec2 describe-security-groups --group-ids "$app" \
  --query 'SecurityGroups[0].IpPermissions[].[IpProtocol,FromPort,length(UserIdGroupPairs),length(IpRanges)]' --output text)
[[ "$perms" == $'tcp\t8080\t1\t1\ntcp\t22\t0\t1' ]] || fail "permissions grouped by ports: $perms"
found=$(aws ec2 describe-security-groups --filters "Name=ip-permission.group-id,Values=$web" --query 'SecurityGroups[].GroupId' --output text)
[[ "$found" == "$app" ]] || fail "ip-permission.group-id filter: $found"
aws ec2 authorize-security-group-egress --group-id "$web" --ip-permissions \
  "IpProtocol=tcp,FromPort=8080,ToPort=8080,UserIdGroupPairs=[{GroupId=$app}]" >/dev/null
aws ec2 revoke-security-group-egress --group-id "$web" --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]' >/dev/null
[[ $(aws ec2 describe-security-groups --group-ids "$web" --query 'length(SecurityGroups[0].IpPermissionsEgress)') == 1 ]] || fail "egress"
expect_error InvalidPermission.NotFound aws ec2 revoke-security-group-egress --group-id "$web" --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]'
expect_error InvalidParameterValue aws ec2 authorize-security-group-ingress --group-id "$app" --ip-permissions 'IpProtocol=tcp,FromPort=1,ToPort=2,Ipv6Ranges=[{CidrIpv6=::/0}]'
echo "vpc, subnet, groups: created, tagged, rules authorized and revoked, duplicates refused"

# Tags.
aws ec2 create-tags --resources "$mine" "$sub" --tags Key=env,Value=test
[[ $(aws ec2 describe-tags --filters Name=key,Values=env --query 'length(Tags)') == 2 ]] || fail "describe-tags"
aws ec2 delete-tags --resources "$sub" --tags Key=env
[[ $(aws ec2 describe-tags --filters "Name=resource-id,Values=$sub" --query 'length(Tags)') == 0 ]] || fail "delete-tags"
expect_error InvalidID aws ec2 create-tags --resources i-1234567890abcdef0 --tags Key=a,Value=b
echo "tags: on VPCs and subnets, described by filter, deleted"

# What may not be deleted, and dry runs.
expect_error DependencyViolation aws ec2 delete-vpc --vpc-id "$mine"
expect_error DependencyViolation aws ec2 delete-security-group --group-id "$web"
expect_error CannotDelete aws ec2 delete-security-group --group-id "$default_sg"
expect_error DryRunOperation aws ec2 create-vpc --cidr-block 10.30.0.0/16 --dry-run
[[ $(aws ec2 describe-vpcs --query 'length(Vpcs)') == 2 ]] || fail "a dry run created a VPC"
aws ec2 revoke-security-group-ingress --group-id "$app" --ip-permissions \
  "IpProtocol=tcp,FromPort=8080,ToPort=8080,UserIdGroupPairs=[{GroupId=$web}]" >/dev/null
aws ec2 authorize-security-group-egress --group-id "$web" --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]' >/dev/null
aws ec2 revoke-security-group-egress --group-id "$web" --ip-permissions \
  "IpProtocol=tcp,FromPort=8080,ToPort=8080,UserIdGroupPairs=[{GroupId=$app}]" >/dev/null
aws ec2 delete-security-group --group-id "$web" >/dev/null
aws ec2 delete-security-group --group-id "$app" >/dev/null
aws ec2 delete-subnet --subnet-id "$sub"
aws ec2 delete-vpc --vpc-id "$mine"
expect_error InvalidVpcID.NotFound aws ec2 describe-vpcs --vpc-ids "$mine"
expect_error InvalidSubnetID.NotFound aws ec2 delete-subnet --subnet-id "$sub"
expect_error InvalidGroup.NotFound aws ec2 delete-security-group --group-id "$web"
echo "deletes: dependencies and the default group refused, then all removed in order"

# Rights.
aws iam create-user --user-name viewer >/dev/null
aws iam put-user-policy --user-name viewer --policy-name p --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}'
read -r key secret < <(aws iam create-access-key --user-name viewer --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
sleep 0.2
as_viewer() { AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret "$@"; }
as_viewer aws ec2 describe-vpcs >/dev/null || fail "viewer may describe"
expect_error UnauthorizedOperation as_viewer aws ec2 create-vpc --cidr-block 10.40.0.0/16
echo "rights: ec2:Describe* lets a user read and nothing more"

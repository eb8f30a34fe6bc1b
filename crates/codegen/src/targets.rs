//! The service models Berth generates types from, and for each the operations it answers
//! (only they and the shapes they reach are generated).

/// One service model and the file its generated module is written to.
pub struct Target {
    /// Model file, relative to the `types` crate.
    pub model: &'static str,
    /// Generated module, relative to the `types` crate.
    pub output: &'static str,
    /// The operations generated, with the shapes they reach; None for every operation.
    pub operations: Option<&'static [&'static str]>,
}

/// The IAM operations Berth answers: users, their access keys and inline policies. Naming an
/// operation here generates its input, its output and every shape they reach.
pub const IAM_OPERATIONS: &[&str] = &[
    "CreateUser",
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "PutUserPolicy",
    "GetUserPolicy",
    "ListUserPolicies",
    "DeleteUserPolicy",
    "CreateRole",
    "GetRole",
    "ListRoles",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "PutRolePolicy",
    "GetRolePolicy",
    "ListRolePolicies",
    "DeleteRolePolicy",
    "CreatePolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "DeletePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
];

/// The STS operations Berth answers.
pub const STS_OPERATIONS: &[&str] = &["GetCallerIdentity", "AssumeRole"];

/// The CloudWatch Logs operations Berth answers: log groups, streams, events, retention, tags.
pub const LOGS_OPERATIONS: &[&str] = &[
    "CreateLogGroup",
    "DeleteLogGroup",
    "DescribeLogGroups",
    "CreateLogStream",
    "DeleteLogStream",
    "DescribeLogStreams",
    "PutLogEvents",
    "GetLogEvents",
    "FilterLogEvents",
    "PutRetentionPolicy",
    "DeleteRetentionPolicy",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// The SSM operations Berth answers: Parameter Store (parameters, their history and tags).
pub const SSM_OPERATIONS: &[&str] = &[
    "PutParameter",
    "GetParameter",
    "GetParameters",
    "GetParametersByPath",
    "GetParameterHistory",
    "DeleteParameter",
    "DeleteParameters",
    "DescribeParameters",
    "AddTagsToResource",
    "ListTagsForResource",
    "RemoveTagsFromResource",
];

/// The Secrets Manager operations Berth answers: secrets, their versions and stages, tags.
pub const SECRETSMANAGER_OPERATIONS: &[&str] = &[
    "CreateSecret",
    "GetSecretValue",
    "PutSecretValue",
    "UpdateSecret",
    "DescribeSecret",
    "ListSecrets",
    "DeleteSecret",
    "RestoreSecret",
    "TagResource",
    "UntagResource",
];

/// The EC2 operations whose requests and answers Berth reads and writes: VPCs, subnets,
/// security groups and their rules, network interfaces, availability zones, tags.
pub const EC2_OPERATIONS: &[&str] = &[
    "DescribeVpcs",
    "CreateVpc",
    "DeleteVpc",
    "DescribeSubnets",
    "CreateSubnet",
    "DeleteSubnet",
    "DescribeSecurityGroups",
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "DescribeNetworkInterfaces",
    "DescribeAvailabilityZones",
    "CreateTags",
    "DeleteTags",
    "DescribeTags",
];

/// The models Berth generates code for.
pub const TARGETS: &[Target] = &[
    Target {
        model: "spec/ecs-service-2.json",
        output: "src/generated/ecs.rs",
        operations: None,
    },
    Target {
        model: "spec/ecr-service-2.json",
        output: "src/generated/ecr.rs",
        operations: None,
    },
    Target {
        model: "spec/iam-service-2.json",
        output: "src/generated/iam.rs",
        operations: Some(IAM_OPERATIONS),
    },
    Target {
        model: "spec/sts-service-2.json",
        output: "src/generated/sts.rs",
        operations: Some(STS_OPERATIONS),
    },
    Target {
        model: "spec/logs-service-2.json",
        output: "src/generated/logs.rs",
        operations: Some(LOGS_OPERATIONS),
    },
    Target {
        model: "spec/ssm-service-2.json",
        output: "src/generated/ssm.rs",
        operations: Some(SSM_OPERATIONS),
    },
    Target {
        model: "spec/secretsmanager-service-2.json",
        output: "src/generated/secretsmanager.rs",
        operations: Some(SECRETSMANAGER_OPERATIONS),
    },
    Target {
        model: "spec/ec2-service-2.json",
        output: "src/generated/ec2.rs",
        operations: Some(EC2_OPERATIONS),
    },
];

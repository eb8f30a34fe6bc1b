//! The AWS managed policies Berth knows, attachable by their ARNs
//! (`arn:aws:iam::aws:policy/...`) with their real statements, limited to the services Berth
//! serves (ECS, ECR, CloudWatch Logs, IAM, STS).

use super::records::ManagedPolicy;

/// The account AWS managed policies belong to in their ARNs.
const AWS_ACCOUNT: &str = "aws";

/// (path, name, id, document) of each AWS managed policy.
const BUILT_IN: &[(&str, &str, &str, &str)] = &[
    (
        "/service-role/",
        "AmazonECSTaskExecutionRolePolicy",
        "ANPAJG4T4G4PV56DE72PY",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "AmazonEC2ContainerRegistryReadOnly",
        "ANPAIFYZPA37OOHVIH7KQ",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage","ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview","ecr:ListTagsForResource","ecr:DescribeImageScanFindings"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "ReadOnlyAccess",
        "ANPAILL3HVNFSB6DCOWYQ",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*","ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:Describe*","ecr:Get*","ecr:List*","logs:Describe*","logs:FilterLogEvents","logs:Get*","logs:ListTagsForResource","iam:Get*","iam:List*","sts:GetCallerIdentity"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "AdministratorAccess",
        "ANPAIWMBCKSKIEE64ZLYK",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
];

/// The AWS managed policy of that ARN, if Berth knows it.
pub(crate) fn find(arn: &str) -> Option<ManagedPolicy> {
    all().into_iter().find(|p| p.arn == arn)
}

/// Every AWS managed policy Berth knows.
pub(crate) fn all() -> Vec<ManagedPolicy> {
    BUILT_IN
        .iter()
        .map(|(path, name, id, document)| ManagedPolicy {
            arn: format!("arn:aws:iam::{AWS_ACCOUNT}:policy{path}{name}"),
            name: name.to_string(),
            id: id.to_string(),
            path: path.to_string(),
            document: document.to_string(),
            description: None,
            created: 0.0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn built_in_policies_are_valid_and_found_by_arn() {
        for p in super::all() {
            assert_eq!(crate::policy::check(&p.document), Ok(()), "{}", p.name);
            assert_eq!(super::find(&p.arn).as_ref(), Some(&p));
        }
        assert!(
            super::find("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
                .is_some()
        );
    }
}

//! The operation catalogue: every ECS and ECR operation, and the IAM, STS, CloudWatch Logs,
//! SSM Parameter Store, Secrets Manager and EC2 operations Berth answers, as the typed enums generated from the models, with what each one is — mutating
//! (audited) or a read, agent-facing or not, the throttle bucket it draws from — and its request
//! decoded once into the operation's typed input (awsJson1.1 for ECS, ECR and Logs, the
//! Query protocol's form for IAM and STS, its EC2 dialect for EC2). That one decoded value then
//! drives authorisation, audit, throttling and dispatch; nothing reads the body again.

use crate::query::codec::{Ec2Query, Query};
use crate::throttle::Class;
use crate::wire::Json;
use berth_types::request::Members;
use berth_types::{ApiError, ErrorCode, ec2, ecr, ecs, iam, logs, secretsmanager, ssm, sts};

/// An operation of ECS, ECR, IAM, STS, CloudWatch Logs, SSM, Secrets Manager or EC2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `AmazonEC2ContainerServiceV20141113.<Operation>`.
    Ecs(ecs::Operation),
    /// `AmazonEC2ContainerRegistry_V20150921.<Operation>`.
    Ecr(ecr::Operation),
    /// `Action=<Operation>` signed for `iam`.
    Iam(iam::Operation),
    /// `Action=<Operation>` signed for `sts`.
    Sts(sts::Operation),
    /// `Logs_20140328.<Operation>`.
    Logs(logs::Operation),
    /// `AmazonSSM.<Operation>` (Parameter Store).
    Ssm(ssm::Operation),
    /// `secretsmanager.<Operation>`.
    SecretsManager(secretsmanager::Operation),
    /// `Action=<Operation>` signed for `ec2`.
    Ec2(ec2::Operation),
}

/// How the names of the operations that only read begin (in every service).
const READS: &[&str] = &[
    "Describe",
    "List",
    "Get",
    "BatchGet",
    "BatchCheck",
    "Discover",
    "Filter",
];

impl Operation {
    /// The operation an `X-Amz-Target` names, if it is one of ECS's or ECR's.
    pub fn from_target(target: &str) -> Option<Self> {
        let (prefix, name) = target.rsplit_once('.')?;
        match prefix {
            ecs::TARGET_PREFIX => ecs::Operation::from_name(name).map(Self::Ecs),
            ecr::TARGET_PREFIX => ecr::Operation::from_name(name).map(Self::Ecr),
            logs::TARGET_PREFIX => logs::Operation::from_name(name).map(Self::Logs),
            ssm::TARGET_PREFIX => ssm::Operation::from_name(name).map(Self::Ssm),
            secretsmanager::TARGET_PREFIX => {
                secretsmanager::Operation::from_name(name).map(Self::SecretsManager)
            }
            _ => None,
        }
    }

    /// Its name, as in `X-Amz-Target` or the `Action` parameter.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ecs(op) => op.name(),
            Self::Ecr(op) => op.name(),
            Self::Iam(op) => op.name(),
            Self::Sts(op) => op.name(),
            Self::Logs(op) => op.name(),
            Self::Ssm(op) => op.name(),
            Self::SecretsManager(op) => op.name(),
            Self::Ec2(op) => op.name(),
        }
    }

    /// The IAM action it is authorised as: `ecs:RunTask`, `ecr:PutImage`, `iam:CreateUser`, ...
    pub fn action(self) -> String {
        let service = match self {
            Self::Ecs(_) => "ecs",
            Self::Ecr(_) => "ecr",
            Self::Iam(_) => "iam",
            Self::Sts(_) => "sts",
            Self::Logs(_) => "logs",
            Self::Ssm(_) => "ssm",
            Self::SecretsManager(_) => "secretsmanager",
            Self::Ec2(_) => "ec2",
        };
        format!("{service}:{}", self.name())
    }

    /// On the Query protocol, the element of the answer that holds the output's members
    /// (`CreateUserResult`); None for the operations without output, the JSON ones and EC2's
    /// (whose answers have no wrapper).
    pub fn result_wrapper(self) -> Option<&'static str> {
        match self {
            Self::Ecs(_)
            | Self::Ecr(_)
            | Self::Logs(_)
            | Self::Ssm(_)
            | Self::SecretsManager(_)
            | Self::Ec2(_) => None,
            Self::Iam(op) => op.result_wrapper(),
            Self::Sts(op) => op.result_wrapper(),
        }
    }

    /// Whether it has an output shape. EC2's operations without one answer
    /// `<return>true</return>`; every JSON and awsQuery operation is taken to have one (their
    /// answers do not depend on it).
    pub fn has_output(self) -> bool {
        match self {
            Self::Ec2(op) => op.has_output(),
            _ => true,
        }
    }

    /// Whether it may change something, and so is audited.
    pub fn is_mutating(self) -> bool {
        !READS.iter().any(|read| self.name().starts_with(read))
    }

    /// Whether agents call it: what an agent's key may do (beside holding its stream).
    pub fn is_agent_facing(self) -> bool {
        use ecr::Operation as R;
        use ecs::Operation as S;
        use logs::Operation as L;
        matches!(
            self,
            Self::Ecs(
                S::RegisterContainerInstance
                    | S::DiscoverPollEndpoint
                    | S::SubmitTaskStateChange
                    | S::SubmitContainerStateChange
                    | S::CreateCluster
            ) | Self::Ecr(
                // Pulling task images, as the ECS agent does with its task execution role.
                R::GetAuthorizationToken
                    | R::BatchGetImage
                    | R::GetDownloadUrlForLayer
                    | R::BatchCheckLayerAvailability
            ) | Self::Logs(
                // Shipping containers' output; DescribeLogStreams gives back where a stream's
                // shipping stopped (its uploadSequenceToken).
                L::CreateLogGroup | L::CreateLogStream | L::PutLogEvents | L::DescribeLogStreams
            )
        )
    }

    /// The bucket its calls draw from: agents' reports and registrations have their own.
    pub fn throttle(self) -> Class {
        use ecs::Operation as S;
        use logs::Operation as L;
        match self {
            Self::Logs(L::PutLogEvents | L::CreateLogStream | L::DescribeLogStreams) => {
                Class::Agent
            }
            Self::Ecs(
                S::SubmitTaskStateChange
                | S::SubmitContainerStateChange
                | S::SubmitAttachmentStateChanges
                | S::RegisterContainerInstance
                | S::DiscoverPollEndpoint,
            ) => Class::Agent,
            _ => Class::Api,
        }
    }

    /// Decodes `body` as this operation's input: the one time a request body is decoded.
    pub fn decode(self, body: &[u8]) -> Result<Call, ApiError> {
        match self {
            Self::Ecs(op) => ecs::Request::decode(op, body, &Json).map(Call::Ecs),
            Self::Ecr(op) => ecr::Request::decode(op, body, &Json).map(Call::Ecr),
            Self::Iam(op) => iam::Request::decode(op, body, &Query).map(Call::Iam),
            Self::Sts(op) => sts::Request::decode(op, body, &Query).map(Call::Sts),
            Self::Logs(op) => logs::Request::decode(op, body, &Json).map(Call::Logs),
            // SSM names a value out of the model's limits ValidationException.
            Self::Ssm(op) => ssm::Request::decode(op, body, &Json)
                .map(Call::Ssm)
                .map_err(|e| match e.code {
                    ErrorCode::InvalidParameterException => {
                        ApiError::new(ErrorCode::ValidationException, e.message)
                    }
                    _ => e,
                }),
            Self::SecretsManager(op) => {
                secretsmanager::Request::decode(op, body, &Json).map(Call::SecretsManager)
            }
            Self::Ec2(op) => ec2::Request::decode(op, body, &Ec2Query).map(Call::Ec2),
        }
    }
}

/// A decoded call of ECS, ECR, IAM, STS, CloudWatch Logs, SSM, Secrets Manager or EC2.
// A call lives for one request and is moved, not copied, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// An ECS request.
    Ecs(ecs::Request),
    /// An ECR request.
    Ecr(ecr::Request),
    /// An IAM request.
    Iam(iam::Request),
    /// An STS request.
    Sts(sts::Request),
    /// A CloudWatch Logs request.
    Logs(logs::Request),
    /// An SSM (Parameter Store) request.
    Ssm(ssm::Request),
    /// A Secrets Manager request.
    SecretsManager(secretsmanager::Request),
    /// An EC2 request.
    Ec2(ec2::Request),
}

impl Call {
    /// The input's string members, read by name.
    pub fn members(&self) -> &dyn Members {
        match self {
            Call::Ecs(request) => request.members(),
            Call::Ecr(request) => request.members(),
            Call::Iam(request) => request.members(),
            Call::Sts(request) => request.members(),
            Call::Logs(request) => request.members(),
            Call::Ssm(request) => request.members(),
            Call::SecretsManager(request) => request.members(),
            Call::Ec2(request) => request.members(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_what_their_names_say() {
        let op = |t: &str| Operation::from_target(t).expect("an operation");
        let run = op("AmazonEC2ContainerServiceV20141113.RunTask");
        assert!(run.is_mutating() && !run.is_agent_facing());
        assert_eq!(run.action(), "ecs:RunTask");
        let pull = op("AmazonEC2ContainerRegistry_V20150921.BatchGetImage");
        assert!(!pull.is_mutating(), "BatchGetImage reads");
        assert!(pull.is_agent_facing());
        assert_eq!(
            op("AmazonEC2ContainerServiceV20141113.SubmitTaskStateChange").throttle(),
            Class::Agent
        );
        assert_eq!(
            Operation::from_target("AmazonEC2ContainerServiceV20141113.Nope"),
            None
        );
        assert_eq!(Operation::from_target("Other.RunTask"), None);
        let create = Operation::Iam(iam::Operation::CreateUser);
        assert!(create.is_mutating() && !create.is_agent_facing());
        assert_eq!(create.action(), "iam:CreateUser");
        assert_eq!(create.result_wrapper(), Some("CreateUserResult"));
        assert!(!Operation::Iam(iam::Operation::ListAccessKeys).is_mutating());
        assert_eq!(
            Operation::Iam(iam::Operation::DeleteUser).result_wrapper(),
            None
        );
        let whoami = Operation::Sts(sts::Operation::GetCallerIdentity);
        assert!(!whoami.is_mutating());
        assert_eq!(whoami.throttle(), Class::Api);
        let put = op("Logs_20140328.PutLogEvents");
        assert!(put.is_mutating() && put.is_agent_facing());
        assert_eq!(put.action(), "logs:PutLogEvents");
        assert_eq!(put.throttle(), Class::Agent);
        let filter = op("Logs_20140328.FilterLogEvents");
        assert!(!filter.is_mutating() && !filter.is_agent_facing());
        let put = op("AmazonSSM.PutParameter");
        assert!(put.is_mutating() && !put.is_agent_facing());
        assert_eq!(put.action(), "ssm:PutParameter");
        assert!(!op("AmazonSSM.GetParametersByPath").is_mutating());
        let create = op("secretsmanager.CreateSecret");
        assert!(create.is_mutating() && !create.is_agent_facing());
        assert_eq!(create.action(), "secretsmanager:CreateSecret");
        assert_eq!(create.throttle(), Class::Api);
        assert!(!op("secretsmanager.GetSecretValue").is_mutating());
        let describe = Operation::Ec2(ec2::Operation::DescribeVpcs);
        assert!(!describe.is_mutating() && !describe.is_agent_facing());
        assert_eq!(describe.action(), "ec2:DescribeVpcs");
        assert_eq!(describe.throttle(), Class::Api);
        assert!(describe.has_output() && describe.result_wrapper().is_none());
        let delete = Operation::Ec2(ec2::Operation::DeleteVpc);
        assert!(delete.is_mutating() && !delete.has_output());
        assert!(Operation::Ec2(ec2::Operation::AuthorizeSecurityGroupIngress).is_mutating());
        let too_many =
            op("AmazonSSM.GetParametersByPath").decode(br#"{"Path":"/a","MaxResults":11}"#);
        assert_eq!(too_many.unwrap_err().code, ErrorCode::ValidationException);
    }
}

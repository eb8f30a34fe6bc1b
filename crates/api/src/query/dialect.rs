//! The two dialects of the Query protocol family, which the form and XML codecs and the answers
//! follow: a leaf module, so that they may all name it.

use berth_types::ErrorCode;

/// How a service of the Query family frames its forms and answers: awsQuery (IAM, STS), or
/// EC2's dialect, which flattens lists (`Name.N`, items written `<item>`), answers without a
/// result wrapper and refuses with error codes and XML of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// awsQuery.
    Query,
    /// EC2's.
    Ec2,
}

impl Dialect {
    /// The dialect of `service` (a signing name).
    pub fn of(service: &str) -> Self {
        match service {
            berth_types::ec2::SIGNING_NAME => Self::Ec2,
            _ => Self::Query,
        }
    }

    /// The code of a parameter that does not fit.
    pub(crate) fn invalid(self) -> ErrorCode {
        match self {
            Self::Query => ErrorCode::ValidationError,
            Self::Ec2 => ErrorCode::InvalidParameterValue,
        }
    }
}

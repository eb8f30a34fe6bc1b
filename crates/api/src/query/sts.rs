//! The STS operations: GetCallerIdentity, which tells any caller who it is.

use super::xml::encode;
use crate::auth::Principal;
use crate::policy::Ask;
use berth_types::ApiError;
use berth_types::arn::Partition;
use berth_types::sts::{GetCallerIdentityResponse, Request};

/// Answers one STS request of `principal`: the members of its output.
pub(crate) fn call(
    partition: &Partition,
    principal: &Principal,
    request: Request,
) -> Result<Vec<u8>, ApiError> {
    match request {
        Request::GetCallerIdentity(_) => {
            let (id, arn) = match principal {
                Principal::Root { arn } => (partition.account.clone(), arn.clone()),
                Principal::User(u) => (u.id.clone(), u.arn.clone()),
                Principal::Agent { arn, key } => (key.id.clone(), arn.clone()),
            };
            encode(&GetCallerIdentityResponse {
                user_id: Some(id),
                account: Some(partition.account.clone()),
                arn: Some(arn),
            })
        }
    }
}

/// What an STS call would ask of the caller's policies; GetCallerIdentity needs no permission,
/// as in AWS, so it is never authorised, and as a read it is not audited.
pub(crate) fn ask(request: &Request) -> Ask {
    Ask {
        action: crate::catalogue::Operation::Sts(request.operation()).action(),
        resource: "*".into(),
        ..Ask::default()
    }
}

//! The Secrets Manager API (awsJson1.1, `secretsmanager.<Op>`, signing name `secretsmanager`):
//! each typed request mapped to the control-plane method that answers it, and what each call
//! asks of the caller's policies (`secretsmanager:<Operation>` on the secret's ARN).

use crate::control_errors;
use crate::policy::Ask;
use crate::wire::encode;
use berth_control::ControlPlane;
use berth_control::error::ControlError;
use berth_types::paginate::PageError;
use berth_types::secretsmanager::Request;
use berth_types::{ApiError, ErrorCode};

/// What an operation without output answers: an empty JSON object.
const EMPTY: &[u8] = b"{}";

/// The Secrets Manager error for a control-plane refusal: paging and storage failures in its
/// own codes.
fn refused(e: ControlError) -> ApiError {
    match &e {
        ControlError::Page(PageError::Token(_)) => {
            ApiError::new(ErrorCode::InvalidNextTokenException, e.to_string())
        }
        ControlError::Commit(_) | ControlError::Load(_) => {
            ApiError::new(ErrorCode::InternalServiceError, e.to_string())
        }
        _ => control_errors::refused(e),
    }
}

/// An answer encoded, or its refusal.
fn answer<T: serde::Serialize>(result: Result<T, ControlError>) -> Result<Vec<u8>, ApiError> {
    result.map_err(refused).and_then(|out| encode(&out))
}

/// Answers one Secrets Manager request.
pub(crate) fn call(control: &ControlPlane, request: Request) -> Result<Vec<u8>, ApiError> {
    match request {
        Request::CreateSecret(input) => answer(control.create_secret(input)),
        Request::GetSecretValue(input) => answer(control.get_secret_value(input)),
        Request::PutSecretValue(input) => answer(control.put_secret_value(input)),
        Request::UpdateSecret(input) => answer(control.update_secret(input)),
        Request::DescribeSecret(input) => answer(control.describe_secret(input)),
        Request::ListSecrets(input) => answer(control.list_secrets(input)),
        Request::DeleteSecret(input) => answer(control.delete_secret(input)),
        Request::RestoreSecret(input) => answer(control.restore_secret(input)),
        Request::TagResource(input) => control
            .tag_secret(input)
            .map_err(refused)
            .map(|()| EMPTY.to_vec()),
        Request::UntagResource(input) => control
            .untag_secret(input)
            .map_err(refused)
            .map(|()| EMPTY.to_vec()),
    }
}

/// What a Secrets Manager call asks of the caller's policies: `secretsmanager:<Operation>` on
/// the secret's ARN (CreateSecret: the name's, without the suffix not drawn yet), or `*`
/// (ListSecrets).
pub(crate) fn ask(control: &ControlPlane, request: &Request) -> Ask {
    let members = request.members();
    let resource = members
        .text("SecretId")
        .or_else(|| members.text("Name"))
        .map_or_else(|| "*".to_string(), |id| control.secret_resource(id));
    Ask {
        action: crate::catalogue::Operation::SecretsManager(request.operation()).action(),
        resource,
        ..Ask::default()
    }
}

//! The SSM Parameter Store API (awsJson1.1, `AmazonSSM.<Op>`, signing name `ssm`): each typed
//! request mapped to the control-plane method that answers it, and what each call asks of the
//! caller's policies (`ssm:<Operation>` on the parameter's ARN; one ask per name for the
//! calls that name several).

use crate::control_errors;
use crate::policy::Ask;
use crate::wire::encode;
use berth_control::ControlPlane;
use berth_control::error::ControlError;
use berth_control::parameters::parameter_arn_of;
use berth_types::arn::Partition;
use berth_types::paginate::PageError;
use berth_types::ssm::Request;
use berth_types::{ApiError, ErrorCode};

/// The SSM error for a control-plane refusal: paging and storage failures in SSM's own codes.
fn refused(e: ControlError) -> ApiError {
    match &e {
        ControlError::Page(PageError::Token(_)) => {
            ApiError::new(ErrorCode::InvalidNextToken, e.to_string())
        }
        ControlError::Page(_) => ApiError::new(ErrorCode::ValidationException, e.to_string()),
        ControlError::Commit(_) | ControlError::Load(_) => {
            ApiError::new(ErrorCode::InternalServerError, e.to_string())
        }
        _ => control_errors::refused(e),
    }
}

/// An answer encoded, or its refusal.
fn answer<T: serde::Serialize>(result: Result<T, ControlError>) -> Result<Vec<u8>, ApiError> {
    result.map_err(refused).and_then(|out| encode(&out))
}

/// Answers one SSM request as `caller` (whose ARN each new version records).
pub(crate) fn call(
    control: &ControlPlane,
    caller: &str,
    request: Request,
) -> Result<Vec<u8>, ApiError> {
    match request {
        Request::PutParameter(input) => answer(control.put_parameter(input, caller)),
        Request::GetParameter(input) => answer(control.get_parameter(input)),
        Request::GetParameters(input) => answer(control.get_parameters(input)),
        Request::GetParametersByPath(input) => answer(control.get_parameters_by_path(input)),
        Request::GetParameterHistory(input) => answer(control.get_parameter_history(input)),
        Request::DeleteParameter(input) => answer(control.delete_parameter(input)),
        Request::DeleteParameters(input) => answer(control.delete_parameters(input)),
        Request::DescribeParameters(input) => answer(control.describe_parameters(input)),
        Request::AddTagsToResource(input) => answer(control.add_tags_to_parameter(input)),
        Request::ListTagsForResource(input) => answer(control.list_tags_of_parameter(input)),
        Request::RemoveTagsFromResource(input) => answer(control.remove_tags_from_parameter(input)),
    }
}

/// What an SSM call asks of the caller's policies: `ssm:<Operation>` on each parameter it
/// names (GetParameters and DeleteParameters name several: one ask each, all of which must be
/// allowed, as in AWS), on the path's ARN for GetParametersByPath, else on `*`
/// (DescribeParameters).
pub(crate) fn asks(partition: &Partition, request: &Request) -> Vec<Ask> {
    let members = request.members();
    let resources: Vec<String> = match request {
        Request::GetParameters(input) => input
            .names
            .iter()
            .map(|n| parameter_arn_of(partition, n))
            .collect(),
        Request::DeleteParameters(input) => input
            .names
            .iter()
            .map(|n| parameter_arn_of(partition, n))
            .collect(),
        _ => match members
            .text("Name")
            .or_else(|| members.text("Path"))
            .or_else(|| members.text("ResourceId"))
        {
            Some(name) => vec![parameter_arn_of(partition, name)],
            None => vec!["*".into()],
        },
    };
    let action = crate::catalogue::Operation::Ssm(request.operation()).action();
    resources
        .into_iter()
        .map(|resource| Ask {
            action: action.clone(),
            resource,
            ..Ask::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ssm::GetParametersRequest;

    #[test]
    fn get_parameters_asks_once_per_name() {
        let partition = Partition {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let request = Request::GetParameters(GetParametersRequest {
            names: vec!["/a/b".into(), "c:2".into()],
            with_decryption: None,
        });
        let asks = asks(&partition, &request);
        let resources: Vec<&str> = asks.iter().map(|a| a.resource.as_str()).collect();
        assert_eq!(
            resources,
            [
                "arn:aws:ssm:us-east-1:000000000000:parameter/a/b",
                "arn:aws:ssm:us-east-1:000000000000:parameter/c"
            ]
        );
        assert!(asks.iter().all(|a| a.action == "ssm:GetParameters"));
    }
}

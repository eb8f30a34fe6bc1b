//! The EC2 operations: VPCs, subnets, security groups, network interfaces, availability zones
//! and tags. Their requests are decoded and their answers written in EC2's dialect of the Query
//! protocol; what they do is not answered yet, so every one is refused.

use crate::auth::Principal;
use berth_control::ControlPlane;
use berth_types::ec2::Request;
use berth_types::{ApiError, ErrorCode};

/// Answers one EC2 request of `principal`: the members of its output (written with
/// [`super::xml::encode_ec2`]; empty for an operation without output).
pub(crate) fn call(
    _control: &ControlPlane,
    _principal: &Principal,
    request: Request,
) -> Result<Vec<u8>, ApiError> {
    Err(ApiError::new(
        ErrorCode::UnsupportedFeatureException,
        format!("EC2 {} is not answered yet", request.operation().name()),
    ))
}

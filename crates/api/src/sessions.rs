//! What is particular to requests signed with the temporary credentials of an assumed role:
//! their session token (`X-Amz-Security-Token`), checked against the session and its expiry
//! and refused as the services refuse it, and how resource policies name a session (by its own
//! ARN or its role's).

use crate::policy::{self, Ask, Decision};
use crate::sigv4;
use berth_control::roles::RoleSession;
use berth_types::{ApiError, ErrorCode};

/// The session token a request carries: the `X-Amz-Security-Token` header, or the query
/// parameter of a presigned request.
fn session_token(request: &sigv4::Request) -> Option<String> {
    let header = request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-security-token"));
    if let Some((_, value)) = header {
        return Some(value.clone());
    }
    request.query.split('&').find_map(|p| {
        let value = p.strip_prefix("X-Amz-Security-Token=")?;
        Some(String::from_utf8_lossy(&sigv4::percent_decode(value)).into_owned())
    })
}

/// Checks the session token of a request signed by a session's key (`session`) or a long-term
/// key (`None`): temporary credentials need their session's token, unexpired; long-term keys
/// take none. The faults are answered as the service would: IAM and STS (the Query protocol)
/// say InvalidClientTokenId and ExpiredToken, the JSON APIs UnrecognizedClientException and
/// ExpiredTokenException.
pub(crate) fn check_token(
    request: &sigv4::Request,
    service: &str,
    session: Option<&RoleSession>,
    now: i64,
) -> Result<(), ApiError> {
    let query = matches!(service, "iam" | "sts");
    let valid = match (session, session_token(request)) {
        (Some(session), Some(token)) => {
            berth_control::identity::same(session.token.as_bytes(), token.as_bytes())
        }
        (Some(_), None) | (None, Some(_)) => false,
        (None, None) => true,
    };
    if !valid {
        let code = if query {
            ErrorCode::InvalidClientTokenId
        } else {
            ErrorCode::UnrecognizedClientException
        };
        return Err(ApiError::new(
            code,
            "The security token included in the request is invalid.",
        ));
    }
    if session.is_some_and(|s| s.expires <= now as f64) {
        let code = if query {
            ErrorCode::ExpiredToken
        } else {
            ErrorCode::ExpiredTokenException
        };
        return Err(ApiError::new(
            code,
            "The security token included in the request is expired",
        ));
    }
    Ok(())
}

/// What a resource policy says of a principal that goes by `names` (a session: its own ARN
/// and its role's): a deny naming any wins, then an allow naming any.
pub(crate) fn resource_decision(document: &str, names: &[&str], ask: &Ask) -> Decision {
    let decisions: Vec<Decision> = names
        .iter()
        .map(|arn| policy::evaluate_resource(document, arn, ask))
        .collect();
    if decisions.contains(&Decision::ExplicitDeny) {
        Decision::ExplicitDeny
    } else if decisions.contains(&Decision::Allow) {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires: f64) -> RoleSession {
        RoleSession {
            id: "ASIAEXAMPLE".into(),
            secret: "secret".into(),
            token: "BerthSession/token".into(),
            role: "app".into(),
            role_id: "AROAEXAMPLE".into(),
            role_arn: "arn:aws:iam::000000000000:role/app".into(),
            name: "s1".into(),
            created: 0.0,
            expires,
            source: "arn:aws:iam::000000000000:user/alice".into(),
            tags: vec![],
        }
    }

    fn checked(
        session: Option<&RoleSession>,
        header: Option<&str>,
        query: &str,
        service: &str,
    ) -> Result<(), ErrorCode> {
        let headers: Vec<(String, String)> = header
            .map(|t| ("x-amz-security-token".to_string(), t.to_string()))
            .into_iter()
            .collect();
        let request = sigv4::Request {
            method: "POST",
            path: "/",
            query,
            headers: &headers,
            body: b"",
        };
        check_token(&request, service, session, 1000).map_err(|e| e.code)
    }

    #[test]
    fn session_tokens_are_checked_as_the_services_answer() {
        let live = session(2000.0);
        let live = Some(&live);
        assert_eq!(checked(live, Some("BerthSession/token"), "", "ecs"), Ok(()));
        let presigned = "X-Amz-Security-Token=BerthSession%2Ftoken&X-Amz-Date=x";
        assert_eq!(checked(live, None, presigned, "ecs"), Ok(()));
        for (token, service, code) in [
            (
                Some("BerthSession/other"),
                "ecs",
                ErrorCode::UnrecognizedClientException,
            ),
            (None, "ecs", ErrorCode::UnrecognizedClientException),
            (
                Some("BerthSession/other"),
                "sts",
                ErrorCode::InvalidClientTokenId,
            ),
            (None, "iam", ErrorCode::InvalidClientTokenId),
        ] {
            assert_eq!(
                checked(live, token, "", service),
                Err(code),
                "{token:?} {service}"
            );
        }
        let expired = session(1000.0);
        let token = Some("BerthSession/token");
        assert_eq!(
            checked(Some(&expired), token, "", "logs"),
            Err(ErrorCode::ExpiredTokenException)
        );
        assert_eq!(
            checked(Some(&expired), token, "", "sts"),
            Err(ErrorCode::ExpiredToken)
        );
        // Long-term keys take no token.
        assert_eq!(checked(None, None, "", "ecs"), Ok(()));
        assert_eq!(
            checked(None, token, "", "ecs"),
            Err(ErrorCode::UnrecognizedClientException)
        );
    }

    #[test]
    fn resource_policies_name_a_session_by_its_role() {
        let ask = Ask {
            action: "ecr:BatchGetImage".into(),
            resource: "arn:aws:ecr:us-east-1:000000000000:repository/app".into(),
            ..Ask::default()
        };
        let names = [
            "arn:aws:sts::000000000000:assumed-role/app/s1",
            "arn:aws:iam::000000000000:role/app",
        ];
        let by_role = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/app"},"Action":"ecr:*"}]}"#;
        assert_eq!(resource_decision(by_role, &names, &ask), Decision::Allow);
        let deny = by_role.replace("Allow", "Deny");
        assert_eq!(
            resource_decision(&deny, &names, &ask),
            Decision::ExplicitDeny
        );
        let other = by_role.replace("role/app", "role/other");
        assert_eq!(
            resource_decision(&other, &names, &ask),
            Decision::ImplicitDeny
        );
    }
}

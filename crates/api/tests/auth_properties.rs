//! Whatever bytes arrive in the Authorization header, the target, the body or the query string,
//! verification, the policy request and the Query-protocol parsing never panic, and a request
//! that is not properly signed gets one of the AWS-shaped faults.

use berth_api::sigv4::{self, Fault, Request};
use berth_api::{catalogue, ecs};
use berth_types::arn::Partition;
use proptest::prelude::*;

fn partition() -> Partition {
    Partition {
        region: "us-east-1".into(),
        account: "000000000000".into(),
    }
}

proptest! {
    #[test]
    fn arbitrary_requests_get_a_fault_not_a_panic(
        authorization in proptest::option::of(any::<String>()),
        amz_date in any::<String>(),
        path in any::<String>(),
        query in any::<String>(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut headers = vec![("host".to_string(), "127.0.0.1".to_string()), ("x-amz-date".to_string(), amz_date)];
        if let Some(a) = authorization {
            headers.push(("authorization".to_string(), a));
        }
        let request = Request { method: "POST", path: &path, query: &query, headers: &headers, body: &body };
        let verdict = sigv4::verify(&request, |_| Some("secret".into()), 1_800_000_000, true);
        prop_assert!(verdict.is_err(), "nothing verifies without a real signature");
        let known = matches!(
            verdict,
            Err(Fault::Missing | Fault::Incomplete(_) | Fault::UnknownKey(_) | Fault::Mismatch | Fault::Expired(_) | Fault::BodyHash)
        );
        prop_assert!(known);
    }

    #[test]
    fn well_shaped_headers_with_arbitrary_parts_never_panic(
        key in "[A-Z0-9]{0,20}",
        scope in any::<String>(),
        signed in any::<String>(),
        signature in any::<String>(),
    ) {
        let authorization = format!("AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed}, Signature={signature}");
        let headers = vec![
            ("host".to_string(), "h".to_string()),
            ("x-amz-date".to_string(), "20270115T080000Z".to_string()),
            ("authorization".to_string(), authorization),
        ];
        let request = Request { method: "POST", path: "/", query: "", headers: &headers, body: b"{}" };
        prop_assert!(sigv4::verify(&request, |_| None, 1_800_000_000, true).is_err());
    }

    #[test]
    fn any_target_and_body_decode_or_refuse_and_make_a_policy_request(
        target in any::<String>(),
        operation in proptest::sample::select(berth_types::ecs::Operation::ALL),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        prop_assert!(catalogue::Operation::from_target(&target).is_none() || target.contains('.'));
        let Ok(catalogue::Call::Ecs(request)) = catalogue::Operation::Ecs(operation).decode(&body) else {
            // Refused with an AWS exception: nothing to authorise.
            return Ok(());
        };
        let ask = ecs::ask(&partition(), &request);
        prop_assert!(ask.action.starts_with("ecs:"));
        prop_assert!(!ask.resource.is_empty());
    }

    #[test]
    fn every_operation_decodes_an_empty_object_or_refuses_it(
        operation in proptest::sample::select(berth_types::ecs::Operation::ALL),
    ) {
        match catalogue::Operation::Ecs(operation).decode(b"{}") {
            Ok(catalogue::Call::Ecs(request)) => {
                prop_assert_eq!(request.operation(), operation);
                let ask = ecs::ask(&partition(), &request);
                prop_assert_eq!(ask.action, format!("ecs:{}", operation.name()));
            }
            Ok(other) => prop_assert!(false, "an ECS operation decodes to an ECS call: {other:?}"),
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }
}

//! A container's `secrets[].valueFrom`: parsed into what it names and what reading it needs,
//! resolved to its value, and the ECS wording of every way that fails.

use berth_control::ControlPlane;
use berth_control::secret_refs::{SecretRef, SecretRefError};
use berth_types::secretsmanager::{
    CreateSecretRequest, DeleteSecretRequest, PutSecretValueRequest,
};
use berth_types::ssm::{ParameterType, PutParameterRequest};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "000000000000";
const PREFIX: &str = "ResourceInitializationError: unable to pull secrets or registry auth: ";

fn parse(value_from: &str) -> Result<SecretRef, SecretRefError> {
    SecretRef::parse(value_from, REGION, ACCOUNT)
}

fn parameter(cp: &ControlPlane, name: &str, value: &str, kind: ParameterType) {
    cp.put_parameter(
        PutParameterRequest {
            name: name.into(),
            value: value.into(),
            r#type: Some(kind),
            overwrite: Some(true),
            ..PutParameterRequest::default()
        },
        "arn:aws:iam::000000000000:root",
    )
    .expect("put");
}

/// A secret of that value; returns its ARN.
fn secret(cp: &ControlPlane, name: &str, value: &str) -> String {
    cp.create_secret(CreateSecretRequest {
        name: name.into(),
        secret_string: Some(value.into()),
        ..CreateSecretRequest::default()
    })
    .expect("created")
    .arn
    .expect("an ARN")
}

fn resolve(cp: &ControlPlane, value_from: &str) -> Result<String, SecretRefError> {
    cp.resolve_secret(&parse(value_from)?)
}

#[test]
fn parameter_names_and_arns_parse_to_the_parameter_arn() {
    for (value_from, arn) in [
        (
            "/app/db/url",
            "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url",
        ),
        (
            "plain",
            "arn:aws:ssm:us-east-1:000000000000:parameter/plain",
        ),
        (
            "/app/db/url:2",
            "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url",
        ),
        (
            "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url",
            "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/url",
        ),
    ] {
        let parsed = parse(value_from).expect(value_from);
        assert_eq!(parsed.action(), "ssm:GetParameters");
        assert_eq!(parsed.resource(), arn, "{value_from}");
        assert_eq!(
            parsed,
            SecretRef::Parameter {
                name: value_from.into(),
                arn: arn.into()
            }
        );
    }
}

#[test]
fn secret_arns_parse_with_their_optional_parts() {
    let arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-AbC123";
    let secret = |key: Option<&str>, stage: Option<&str>, id: Option<&str>| SecretRef::Secret {
        arn: arn.into(),
        json_key: key.map(str::to_string),
        version_stage: stage.map(str::to_string),
        version_id: id.map(str::to_string),
    };
    assert_eq!(parse(arn).unwrap(), secret(None, None, None));
    assert_eq!(
        parse(&format!("{arn}:password::")).unwrap(),
        secret(Some("password"), None, None)
    );
    assert_eq!(
        parse(&format!("{arn}::AWSPREVIOUS:")).unwrap(),
        secret(None, Some("AWSPREVIOUS"), None)
    );
    assert_eq!(
        parse(&format!("{arn}:password:AWSCURRENT:v-1")).unwrap(),
        secret(Some("password"), Some("AWSCURRENT"), Some("v-1"))
    );
    assert_eq!(
        parse(&format!("{arn}:::v-1")).unwrap(),
        secret(None, None, Some("v-1"))
    );
    let parsed = parse(arn).unwrap();
    assert_eq!(parsed.action(), "secretsmanager:GetSecretValue");
    assert_eq!(parsed.resource(), arn);
}

#[test]
fn what_names_nothing_here_is_refused_at_parse() {
    for bad in [
        "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbC123:k:s:v:extra",
        "arn:aws:secretsmanager:eu-west-1:000000000000:secret:db-AbC123",
        "arn:aws:ssm:us-east-1:111111111111:parameter/x",
        "arn:aws:s3:::bucket/key",
        "arn:aws:ssm:us-east-1:000000000000:document/x",
        "a/b",
        "/aws/reserved",
        "",
    ] {
        let e = parse(bad).expect_err(bad);
        assert!(matches!(e, SecretRefError::Invalid { .. }), "{bad}: {e:?}");
    }
}

#[test]
fn parameters_resolve_to_their_values_secure_strings_decrypted() {
    let (cp, _) = berth_test_kit::control::plane();
    parameter(&cp, "/app/db/url", "one", ParameterType::String);
    parameter(&cp, "/app/db/url", "two", ParameterType::String);
    parameter(
        &cp,
        "/app/db/password",
        "hunter2",
        ParameterType::SecureString,
    );
    parameter(&cp, "plain", "p", ParameterType::StringList);
    assert_eq!(resolve(&cp, "/app/db/url").unwrap(), "two");
    assert_eq!(resolve(&cp, "/app/db/url:1").unwrap(), "one");
    assert_eq!(resolve(&cp, "/app/db/password").unwrap(), "hunter2");
    assert_eq!(
        resolve(
            &cp,
            "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/password"
        )
        .unwrap(),
        "hunter2"
    );
    assert_eq!(
        resolve(&cp, "arn:aws:ssm:us-east-1:000000000000:parameter/plain").unwrap(),
        "p"
    );
    let missing = resolve(&cp, "/app/missing").unwrap_err();
    assert_eq!(
        missing,
        SecretRefError::ParameterNotFound("/app/missing".into())
    );
    assert_eq!(
        format!("{PREFIX}{missing}"),
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: invalid ssm parameters: /app/missing"
    );
    assert_eq!(
        resolve(&cp, "/app/db/url:9").unwrap_err(),
        SecretRefError::ParameterNotFound("/app/db/url:9".into())
    );
}

#[test]
fn secrets_resolve_whole_by_key_stage_or_version() {
    let (cp, _) = berth_test_kit::control::plane();
    let arn = secret(
        &cp,
        "prod/db",
        r#"{"user":"ana","port":5432,"opts":{"ssl":true}}"#,
    );
    let previous = cp
        .put_secret_value(PutSecretValueRequest {
            secret_id: "prod/db".into(),
            secret_string: Some(r#"{"user":"bob"}"#.into()),
            ..PutSecretValueRequest::default()
        })
        .unwrap();
    let current_id = previous.version_id.unwrap();
    assert_eq!(resolve(&cp, &arn).unwrap(), r#"{"user":"bob"}"#);
    assert_eq!(resolve(&cp, &format!("{arn}:user::")).unwrap(), "bob");
    assert_eq!(
        resolve(&cp, &format!("{arn}:user:AWSPREVIOUS:")).unwrap(),
        "ana"
    );
    assert_eq!(
        resolve(&cp, &format!("{arn}:port:AWSPREVIOUS:")).unwrap(),
        "5432"
    );
    assert_eq!(
        resolve(&cp, &format!("{arn}:opts:AWSPREVIOUS:")).unwrap(),
        r#"{"ssl":true}"#
    );
    assert_eq!(
        resolve(&cp, &format!("{arn}:::{current_id}")).unwrap(),
        r#"{"user":"bob"}"#
    );
    // Without the random suffix.
    let partial = &arn[..arn.len() - 7];
    assert_eq!(resolve(&cp, &format!("{partial}:user::")).unwrap(), "bob");

    let missing_key = resolve(&cp, &format!("{arn}:password::")).unwrap_err();
    assert_eq!(
        format!("{PREFIX}{missing_key}"),
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key password"
    );
    let plain = secret(&cp, "token", "not json");
    assert_eq!(resolve(&cp, &plain).unwrap(), "not json");
    assert_eq!(
        resolve(&cp, &format!("{plain}:k::")).unwrap_err(),
        SecretRefError::NotJson("k".into())
    );
    assert!(matches!(
        resolve(&cp, &format!("{arn}::AWSPENDING:")).unwrap_err(),
        SecretRefError::SecretFetch {
            code: "ResourceNotFoundException",
            ..
        }
    ));
}

#[test]
fn missing_and_deleted_secrets_fail_in_ecs_words() {
    let (cp, _) = berth_test_kit::control::plane();
    let gone = "arn:aws:secretsmanager:us-east-1:000000000000:secret:gone-AbC123";
    let e = resolve(&cp, gone).unwrap_err();
    assert_eq!(
        format!("{PREFIX}{e}"),
        format!(
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: failed to fetch secret {gone} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret."
        )
    );
    let arn = secret(&cp, "doomed", "v");
    cp.delete_secret(DeleteSecretRequest {
        secret_id: arn.clone(),
        ..DeleteSecretRequest::default()
    })
    .unwrap();
    let e = resolve(&cp, &arn).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "execution resource retrieval failed: unable to retrieve secret from asm: failed to fetch secret {arn} from secrets manager: InvalidRequestException: You can't perform this operation on the secret because it was marked for deletion."
        )
    );
    let binary = cp
        .create_secret(CreateSecretRequest {
            name: "bin".into(),
            secret_binary: Some("AAE=".into()),
            ..CreateSecretRequest::default()
        })
        .unwrap()
        .arn
        .unwrap();
    assert_eq!(
        resolve(&cp, &binary).unwrap_err(),
        SecretRefError::Binary(binary)
    );
}

#[test]
fn a_refusal_names_the_action_and_resource_as_ecs_does() {
    let parsed = parse("/app/db/password").unwrap();
    let e = parsed.access_denied("arn:aws:iam::000000000000:user/exec");
    assert_eq!(
        e.to_string(),
        "execution resource retrieval failed: unable to retrieve secrets from ssm: AccessDeniedException: User: arn:aws:iam::000000000000:user/exec is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:us-east-1:000000000000:parameter/app/db/password"
    );
    let parsed =
        parse("arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbC123:k::").unwrap();
    assert!(
        parsed
            .access_denied("u")
            .to_string()
            .starts_with("execution resource retrieval failed: unable to retrieve secret from asm: AccessDeniedException: User: u is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbC123")
    );
}

//! Authentication and authorisation. Every request (the JSON APIs, the Query APIs and the agent
//! stream) must carry a valid SigV4 signature by an access key the server issued: the root key,
//! or an active key of an IAM user. The faults map to the exceptions AWS answers with, so the
//! SDKs and the CLI report them as they would against AWS. Users may then do what their inline
//! and attached policies allow ([`crate::policy`]). Temporary credentials of an assumed role
//! (`ASIA…` keys) sign with the session token AssumeRole gave (`X-Amz-Security-Token`), and
//! act as the role: what its inline and attached policies allow.

use crate::policy::{self, Ask, Decision};
use crate::sessions;
use crate::sigv4::{self, Fault, Signer};
use axum::http::{HeaderMap, Method, Uri};
use berth_control::ControlPlane;
use berth_control::identity::{AgentKey, User};
use berth_control::roles::RoleSession;
use berth_types::{ApiError, ErrorCode};

/// The account's root key (the one `berth up` prints).
#[derive(Debug, Clone)]
pub struct RootKey {
    /// Its access key id.
    pub id: String,
    /// Its secret.
    pub secret: String,
}

/// Who signed a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// The account root: every action is allowed.
    Root {
        /// `arn:aws:iam::<account>:root`.
        arn: String,
    },
    /// An IAM user: what its policies allow.
    User(User),
    /// An agent, with the key it bought with the join token: the agent-facing calls of its
    /// cluster and its own instance.
    Agent {
        /// `arn:aws:iam::<account>:agent/<key id>`.
        arn: String,
        /// Its key.
        key: AgentKey,
    },
    /// A session of an assumed role: what the role's policies allow.
    Session {
        /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
        arn: String,
        /// The session.
        session: RoleSession,
    },
}

impl Principal {
    /// The root of `account`.
    pub(crate) fn root(account: &str) -> Self {
        Principal::Root {
            arn: format!("arn:aws:iam::{account}:root"),
        }
    }
}

impl Principal {
    /// `aws:PrincipalArn`: the principal's ARN, or for a role session its role's, as in IAM.
    pub(crate) fn principal_arn(&self) -> &str {
        match self {
            Principal::Session { session, .. } => &session.role_arn,
            other => other.arn(),
        }
    }

    /// The principal's ARN.
    pub(crate) fn arn(&self) -> &str {
        match self {
            Principal::Root { arn } => arn,
            Principal::User(u) => &u.arn,
            Principal::Agent { arn, .. } | Principal::Session { arn, .. } => arn,
        }
    }
}

/// The secret and the principal of an access key the server issued and that is active.
fn lookup(root: &RootKey, control: &ControlPlane, id: &str) -> Option<(String, Principal)> {
    if id == root.id {
        return Some((
            root.secret.clone(),
            Principal::root(&control.partition().account),
        ));
    }
    if let Some(key) = control.access_key(id) {
        let user = control.get_user(&key.user).ok()?;
        return Some((key.secret, Principal::User(user)));
    }
    if let Some(session) = control.role_session(id) {
        let arn = session.arn();
        return Some((session.secret.clone(), Principal::Session { arn, session }));
    }
    let key = control.agent_key(id)?;
    let arn = key.arn(&control.partition().account);
    Some((key.secret.clone(), Principal::Agent { arn, key }))
}

/// Authorises an agent's call: an agent-facing action, in its cluster, and, once it has
/// registered, about its own instance and the tasks placed on it.
fn authorize_agent(control: &ControlPlane, key: &AgentKey, ask: &Ask) -> Result<(), String> {
    if !ask.agent_facing {
        return Err("agent credentials are good for the agent-facing calls only".into());
    }
    let cluster = control.partition().cluster(&key.cluster);
    if ask.keys.get("ecs:cluster").is_some_and(|c| *c != cluster) {
        return Err(format!(
            "agent credentials are good for cluster {} only",
            key.cluster
        ));
    }
    let subject = ask.subject.as_deref();
    let mine = |arn: Option<&str>| match (&key.instance, arn) {
        (Some(i), Some(a)) => i == a,
        _ => false,
    };
    match ask.action.as_str() {
        "ecs:Poll" if !mine(Some(&ask.resource)) => {
            Err("an agent may only hold the stream of the instance it registered".into())
        }
        "ecs:RegisterContainerInstance" if key.instance.is_some() && !mine(subject) => {
            Err("this agent already registered another instance".into())
        }
        // A key that has registered nothing yet may only register a new instance: naming an
        // existing one would take it over (its stream, its tasks' secrets and reports).
        "ecs:RegisterContainerInstance"
            if key.instance.is_none() && subject.is_some_and(|a| !a.is_empty()) =>
        {
            Err("a new agent key may only register a new container instance".into())
        }
        // Pulls: only the images of the tasks placed on its own instance.
        "ecr:BatchGetImage" | "ecr:GetDownloadUrlForLayer" | "ecr:BatchCheckLayerAvailability" => {
            let name = ask.resource.split_once(":repository/").map(|(_, n)| n);
            match (&key.instance, name) {
                (Some(instance), Some(name)) if control.runs_image_from(instance, name) => Ok(()),
                _ => Err(
                    "an agent may only pull the images of the tasks placed on its instance".into(),
                ),
            }
        }
        // Shipping: only to the log groups the tasks placed on its instance name.
        "logs:CreateLogGroup"
        | "logs:CreateLogStream"
        | "logs:PutLogEvents"
        | "logs:DescribeLogStreams" => match (&key.instance, subject) {
            (Some(instance), Some(group)) if control.logs_to_group(instance, group) => Ok(()),
            _ => Err(
                "an agent may only write the log groups of the tasks placed on its instance".into(),
            ),
        },
        "ecs:SubmitTaskStateChange"
        | "ecs:SubmitContainerStateChange"
        | "berth:GetTaskCredentials"
        | "berth:GetTaskExecutionCredentials"
        | "berth:GetTaskSecrets" => {
            let state = control.read();
            let task = subject.and_then(|t| {
                berth_control::tasks::find(&state, control.partition(), &key.cluster, t)
            });
            if mine(task.and_then(|t| t.container_instance_arn.as_deref())) {
                Ok(())
            } else {
                Err("an agent may only report the tasks of its own instance".into())
            }
        }
        _ => Ok(()),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn error(fault: Fault, now: i64) -> ApiError {
    match fault {
        Fault::Missing => ApiError::new(
            ErrorCode::MissingAuthenticationTokenException,
            "Missing Authentication Token: sign the request with SigV4 (export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as `berth up` prints them)",
        ),
        Fault::Incomplete(why) => ApiError::new(ErrorCode::IncompleteSignatureException, why),
        Fault::UnknownKey(key) => ApiError::new(
            ErrorCode::UnrecognizedClientException,
            format!(
                "The security token included in the request is invalid: access key {key} was not issued by this server; use the keys `berth up` printed"
            ),
        ),
        Fault::Mismatch => ApiError::new(
            ErrorCode::InvalidSignatureException,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        ),
        Fault::Expired(signed) => ApiError::new(
            ErrorCode::InvalidSignatureException,
            format!(
                "Signature expired: {signed} is now earlier than {} ({} - 15 min.); check this machine's clock",
                sigv4::amz_date(now - sigv4::SKEW_SECONDS),
                sigv4::amz_date(now)
            ),
        ),
        Fault::BodyHash => ApiError::new(
            ErrorCode::InvalidSignatureException,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
    }
}

/// Headers as the signature verifier reads them.
fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            let value = match v.to_str() {
                Ok(text) => text.to_string(),
                Err(_) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
            };
            (n.as_str().to_string(), value)
        })
        .collect()
}

/// A request as the signature verifier reads it.
fn signed_request<'a>(
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a [(String, String)],
    body: &'a [u8],
) -> sigv4::Request<'a> {
    sigv4::Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or_default(),
        headers,
        body,
    }
}

/// The region IAM and STS sign for at their global endpoint, which the SDKs may use for them
/// whatever region they are configured with.
const GLOBAL_SIGNING_REGION: &str = "us-east-1";

/// Refuses a request signed for a region this server does not serve, as an AWS endpoint does:
/// one server is one region (`--region`), whose name every ARN carries. IAM and STS, global in
/// AWS, are also accepted signed for us-east-1.
fn check_region(control: &ControlPlane, region: &str, service: &str) -> Result<(), ApiError> {
    let served = &control.partition().region;
    let global = matches!(service, "iam" | "sts") && region == GLOBAL_SIGNING_REGION;
    if region == served || global {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidSignatureException,
        format!(
            "Credential should be scoped to a valid region, not '{region}'. This Berth server serves region {served}: set AWS_DEFAULT_REGION={served} (or --region {served})"
        ),
    ))
}

/// Refuses, before its body is read, a request whose signature is missing, malformed, out of
/// time, by a key nobody issued or for another region (see [`sigv4::precheck`]).
pub fn precheck(
    root: &RootKey,
    control: &ControlPlane,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let headers = header_list(headers);
    let request = signed_request(method, uri, &headers, &[]);
    let now = now();
    sigv4::precheck(&request, |key| lookup(root, control, key).is_some(), now)
        .map_err(|f| error(f, now))?;
    match sigv4::claimed_scope(&request) {
        Some((region, service)) => check_region(control, &region, &service),
        None => Ok(()),
    }
}

/// The service a request's signature claims in its credential scope, verified or not: what a
/// refusal of a request that does not authenticate is worded for (EC2 has its own errors).
pub fn claimed_service(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let headers = header_list(headers);
    let request = signed_request(&Method::POST, uri, &headers, &[]);
    sigv4::claimed_scope(&request).map(|(_, service)| service)
}

/// Verifies a request's signature; the signer and its principal on success, the AWS exception
/// otherwise.
pub fn authenticate(
    root: &RootKey,
    control: &ControlPlane,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Signer, Principal), ApiError> {
    let headers = header_list(headers);
    let request = signed_request(method, uri, &headers, body);
    let now = now();
    let mut principal = None;
    let signer = sigv4::verify(
        &request,
        |key| {
            let (secret, p) = lookup(root, control, key)?;
            principal = Some(p);
            Some(secret)
        },
        now,
        true,
    )
    .map_err(|f| error(f, now))?;
    check_region(control, &signer.region, &signer.service)?;
    let principal =
        principal.ok_or_else(|| error(Fault::UnknownKey(signer.access_key.clone()), now))?;
    let session = match &principal {
        Principal::Session { session, .. } => Some(session),
        _ => None,
    };
    sessions::check_token(&request, &signer.service, session, now)?;
    Ok((signer, principal))
}

/// What the identity policies of `principal` say of `ask` (the root may do anything, an agent
/// its agent-facing calls): for STS AssumeRole, which weighs it with the role's trust policy.
pub(crate) fn identity_allows(
    control: &ControlPlane,
    principal: &Principal,
    ask: &Ask,
) -> Decision {
    identity_decision(control, principal, ask).0
}

/// The identity-based decision for `principal` and why it is not Allow: the root may do
/// anything, an agent its agent-facing calls, a user what its inline and attached policies
/// allow, a role session what its role's policies allow.
fn identity_decision(
    control: &ControlPlane,
    principal: &Principal,
    ask: &Ask,
) -> (Decision, String) {
    match principal {
        Principal::Root { .. } => (Decision::Allow, String::new()),
        Principal::Agent { key, .. } => match authorize_agent(control, key, ask) {
            Ok(()) => (Decision::Allow, String::new()),
            Err(why) => (Decision::ImplicitDeny, format!(": {why}")),
        },
        Principal::User(user) => explained(&control.policies_of(&user.name), ask),
        Principal::Session { session, .. } => explained(&control.role_policies(&session.role), ask),
    }
}

/// The decision of identity policies `documents` on `ask`, and why it is not Allow.
fn explained(documents: &[String], ask: &Ask) -> (Decision, String) {
    match policy::evaluate(documents, ask) {
        Decision::Allow => (Decision::Allow, String::new()),
        Decision::ExplicitDeny => (
            Decision::ExplicitDeny,
            " with an explicit deny in an identity-based policy".into(),
        ),
        Decision::ImplicitDeny => (
            Decision::ImplicitDeny,
            format!(
                " because no identity-based policy allows the {} action",
                ask.action
            ),
        ),
    }
}

/// What a resource policy says of `principal`: a role session is named by its own ARN or by
/// its role's, as in IAM.
fn resource_decision(document: &str, principal: &Principal, ask: &Ask) -> Decision {
    let mut names = vec![principal.arn()];
    if let Principal::Session { session, .. } = principal {
        names.push(&session.role_arn);
    }
    sessions::resource_decision(document, &names, ask)
}

/// Authorises `ask` for `principal` as IAM does within an account: an explicit deny in the
/// identity's policies or in the resource's policy (`resource_policy`, e.g. a repository
/// policy) refuses; otherwise an allow in either permits. The root is never refused. A refusal
/// is `code` (AccessDeniedException) naming the action and the resource.
pub fn authorize(
    control: &ControlPlane,
    principal: &Principal,
    ask: &Ask,
    code: ErrorCode,
    resource_policy: Option<&str>,
) -> Result<(), ApiError> {
    let (identity, why) = identity_decision(control, principal, ask);
    let resource = resource_policy
        .map(|doc| resource_decision(doc, principal, ask))
        .unwrap_or(Decision::ImplicitDeny);
    let root = matches!(principal, Principal::Root { .. });
    // An agent's key does what agents do and no more: a resource policy may deny it
    // something, never grant it anything.
    let resource = match (principal, resource) {
        (Principal::Agent { .. }, Decision::Allow) => Decision::ImplicitDeny,
        (_, decision) => decision,
    };
    let why = match (identity, resource) {
        _ if root => return Ok(()),
        (_, Decision::ExplicitDeny) => " with an explicit deny in a resource-based policy".into(),
        (Decision::ExplicitDeny, _) => why,
        (Decision::Allow, _) | (_, Decision::Allow) => return Ok(()),
        _ => why,
    };
    Err(ApiError::new(
        code,
        format!(
            "User: {} is not authorized to perform: {} on resource: {}{why}",
            principal.arn(),
            ask.action,
            ask.resource
        ),
    ))
}

/// How long a registry token (`GetAuthorizationToken`) is good for: 12 hours, as ECR's.
pub(crate) const REGISTRY_TOKEN_SECONDS: i64 = 12 * 3600;

fn registry_mac(secret: &str, key: &str, expires: i64) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(format!("berth-registry:{key}:{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The password `docker login` uses: the access key id and expiry, signed with the key's own
/// secret, so it dies with the key (deleted, deactivated, or its instance deregistered).
pub(crate) fn registry_token(key: &str, secret: &str, expires: i64) -> String {
    format!("{key}.{expires}.{}", registry_mac(secret, key, expires))
}

/// The principal a registry token (the password of HTTP Basic auth) stands for.
pub fn registry_principal(
    root: &RootKey,
    control: &ControlPlane,
    token: &str,
) -> Result<Principal, ApiError> {
    let refused = |why: &str| {
        ApiError::new(
            ErrorCode::UnrecognizedClientException,
            format!(
                "the registry password is not valid: {why}; get a new one with `aws ecr get-login-password`"
            ),
        )
    };
    let mut parts = token.splitn(3, '.');
    let (Some(key), Some(expires), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(refused("it is not a token GetAuthorizationToken issued"));
    };
    let expires: i64 = expires.parse().map_err(|_| refused("malformed"))?;
    if expires < now() {
        return Err(refused("it expired"));
    }
    let (secret, principal) =
        lookup(root, control, key).ok_or_else(|| refused("its key is gone"))?;
    if let Principal::Session { session, .. } = &principal
        && session.expires <= now() as f64
    {
        return Err(refused(
            "the session whose credentials asked for it expired",
        ));
    }
    let expected = registry_mac(&secret, key, expires);
    if !berth_control::identity::same(expected.as_bytes(), mac.as_bytes()) {
        return Err(refused("its signature does not match"));
    }
    Ok(principal)
}

/// The secret of the key a principal signed with (for issuing registry tokens).
pub(crate) fn secret_of(root: &RootKey, control: &ControlPlane, key: &str) -> Option<String> {
    lookup(root, control, key).map(|(secret, _)| secret)
}

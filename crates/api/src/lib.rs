//! Berth's HTTP front: one listener serves the ECS JSON API and the agent channel.
//!
//! - [`wire`]: awsJson1.1 framing: body decoding, encoding, error and request-id headers, body
//!   limits; [`dispatch`]: `POST /` from the signature check to the operation's table;
//!   [`catalogue`]: every ECS, ECR, IAM and STS operation, typed, with what it is, decoded once;
//! - [`sigv4`]: SigV4 verification, pure; [`auth`]: every request authenticated with it and
//!   authorised by [`policy`], the IAM policy language (in the control plane, which also weighs
//!   trust policies); `sessions`: the session tokens of assumed roles' temporary credentials;
//! - [`throttle`]: per-key request rate limits;
//! - [`query`]: IAM's and STS's Query protocol (form in, XML out, both over the generated
//!   shapes) and their tables of operations: users, keys, roles and policies, the caller's identity, AssumeRole;
//! - [`ecs`]: the table of ECS operations and the control-plane call each one makes;
//!   `control_errors`: the wire code of each control-plane error, one table;
//! - [`logs`]: the CloudWatch Logs API, a table of the log store's operations (`berth_logs`)
//!   and their errors' codes;
//! - `ssm` and `secretsmanager`: the Parameter Store and Secrets Manager APIs, tables of the
//!   control plane's operations and what each asks of policies;
//! - [`oci`]: the registry's OCI Distribution endpoints at `/v2/`; `ecr`: the ECR API, a table
//!   of the registry's ECR operations (`berth_registry::ecr`) and their errors' ECR codes;
//! - `task_asks`: the task definition a call defines or starts, and the condition keys on
//!   the host access it wants (`berth:Privileged`, ...);
//! - `images`: task images from Berth's registry pulled only with the caller's rights;
//! - `agent_channel`: the WebSocket that streams assignments to agents;
//! - [`tls`]: the HTTPS listener; [`serve`]: each connection served (HTTP/1.1 or HTTP/2) within
//!   limits on connections and time.

#![warn(unreachable_pub)]

mod agent_channel;
pub mod auth;
mod berth_ops;
pub mod catalogue;
mod control_errors;
pub mod dispatch;
mod ecr;
pub mod ecs;
mod images;
pub mod logs;
pub mod oci;
pub use berth_control::policy;
// `query`'s files are edited elsewhere; their pub items are narrowed when they are next touched.
#[allow(unreachable_pub)]
pub mod query;
mod secretsmanager;
pub mod serve;
mod sessions;
pub mod sigv4;
mod ssm;
mod task_asks;
mod task_identity;
pub mod throttle;
pub mod tls;
pub mod wire;

use axum::Router;
use axum::routing::{any, get, post};
use berth_control::ControlPlane;
use std::sync::Arc;
use tokio::sync::watch;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The control plane.
    pub control: Arc<ControlPlane>,
    /// The image registry.
    pub registry: Arc<berth_registry::Registry>,
    /// The log groups, streams and events of the CloudWatch Logs API.
    pub logs: Arc<berth_logs::Logs>,
    /// The account's root key.
    pub root: auth::RootKey,
    /// Request rate limits.
    pub limiter: Arc<throttle::Limiter>,
    /// Flips to true when the server shuts down, so long-lived streams end.
    pub shutdown: watch::Receiver<bool>,
    /// Whether requests arrive over TLS (the `aws:SecureTransport` condition key).
    pub secure: bool,
    /// Whether signatures are verified. Only benchmarks switch it off (to measure what
    /// verification and authorisation cost): every request then acts as the root.
    pub verify: bool,
    /// The registry's own listener, when `/v2/` is not served on the API's.
    pub registry_listener: Option<RegistryListener>,
}

/// A listener that serves only the registry (`/v2/`).
#[derive(Debug, Clone, Copy)]
pub struct RegistryListener {
    /// Its port; the host name is the one a client used to reach the API.
    pub port: u16,
    /// Whether it speaks HTTPS.
    pub secure: bool,
}

impl AppState {
    /// Records a call in the audit log: who, what, on what, and how it ended.
    pub fn record(
        &self,
        principal: &str,
        action: String,
        resource: String,
        outcome: &str,
        request_id: &str,
    ) {
        self.control.audit(berth_control::audit::AuditEvent {
            sequence: 0,
            // The control plane's clock, as every other timestamp.
            time: self.control.now(),
            principal: principal.to_string(),
            action,
            resource,
            outcome: outcome.to_string(),
            request_id: request_id.to_string(),
        });
    }

    /// Verifies a request's signature: its signer and principal, or the AWS exception.
    pub fn authenticate(
        &self,
        method: &axum::http::Method,
        uri: &axum::http::Uri,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Result<(sigv4::Signer, auth::Principal), berth_types::ApiError> {
        if !self.verify {
            let signer = sigv4::Signer {
                access_key: self.root.id.clone(),
                region: self.control.partition().region.clone(),
                service: "ecs".into(),
            };
            let root = auth::Principal::root(&self.control.partition().account);
            return Ok((signer, root));
        }
        auth::authenticate(&self.root, &self.control, method, uri, headers, body)
    }

    /// The registry's URL scheme and `host:port` for a client that reached the API at
    /// `api_host` (the Host header): the same address, or the same host name at the registry
    /// listener's port.
    pub(crate) fn registry_location(&self, api_host: &str) -> (&'static str, String) {
        let scheme = |secure| if secure { "https" } else { "http" };
        match self.registry_listener {
            Some(listener) => (scheme(listener.secure), with_port(api_host, listener.port)),
            None => (scheme(self.secure), api_host.to_string()),
        }
    }

    /// Authorises `ask` for `principal`, with the request-wide condition keys
    /// (`aws:RequestedRegion`, `aws:SecureTransport`) added to the operation's own.
    pub fn authorize(
        &self,
        principal: &auth::Principal,
        ask: policy::Ask,
        code: berth_types::ErrorCode,
    ) -> Result<(), berth_types::ApiError> {
        self.authorize_with(principal, ask, code, None)
    }

    /// [`Self::authorize`] for a resource with a policy of its own (a repository policy).
    pub(crate) fn authorize_with(
        &self,
        principal: &auth::Principal,
        mut ask: policy::Ask,
        code: berth_types::ErrorCode,
        resource_policy: Option<&str>,
    ) -> Result<(), berth_types::ApiError> {
        ask.keys.insert(
            "aws:requestedregion".into(),
            self.control.partition().region.clone(),
        );
        ask.keys
            .insert("aws:securetransport".into(), self.secure.to_string());
        ask.keys.insert(
            "aws:principalarn".into(),
            principal.principal_arn().to_string(),
        );
        auth::authorize(&self.control, principal, &ask, code, resource_policy)
    }
}

/// How a call ended, as the audit log records it: `Success` or the error's code.
pub fn outcome<T>(result: &Result<T, berth_types::ApiError>) -> &'static str {
    match result {
        Ok(_) => "Success",
        Err(e) => e.code.as_str(),
    }
}

/// `host` (`name` or `name:port`, IPv6 literals bracketed) with its port set to `port`.
pub fn with_port(host: &str, port: u16) -> String {
    let name = match host.rsplit_once(':') {
        Some((name, after)) if !after.contains(']') => name,
        _ => host,
    };
    format!("{name}:{port}")
}

/// The registry's routes, `/v2/`.
fn registry_routes() -> Router<AppState> {
    Router::new()
        .route("/v2/", get(oci::version))
        .route("/v2/{*path}", any(oci::handle))
}

/// The server's routes: `POST /` for the JSON APIs, `GET /ws` for agents, and `/v2/` for the
/// registry unless it has a listener of its own.
pub fn router(state: AppState) -> Router {
    let api = Router::new().route("/", post(dispatch::handle)).route(
        berth_types::protocol::AGENT_WS_PATH,
        get(agent_channel::handle),
    );
    let api = match state.registry_listener {
        Some(_) => api,
        None => api.merge(registry_routes()),
    };
    api.with_state(state)
}

/// Serves the routes on `listener` (plain TCP or [`tls::TlsListener`]) until `state.shutdown`
/// flips to true.
pub async fn serve<L>(listener: L, state: AppState) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    let control = Arc::clone(&state.control);
    let served = serve_routes(listener, router(state.clone()), &state).await;
    // The audit events of the last calls are written before the server goes.
    tokio::task::block_in_place(|| control.flush_audit());
    served
}

/// Serves only the registry on a listener of its own (see [`AppState::registry_listener`]).
pub async fn serve_registry<L>(listener: L, state: AppState) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    let routes = registry_routes().with_state(state.clone());
    serve_routes(listener, routes, &state).await
}

async fn serve_routes<L>(listener: L, routes: Router, state: &AppState) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    serve::serve(listener, routes, state.shutdown.clone()).await
}

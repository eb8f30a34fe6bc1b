//! OCI Distribution at `/v2/`: what `docker`, `skopeo` and the agents push and pull with.
//!
//! Every request carries HTTP Basic auth with the password `GetAuthorizationToken` issued (user
//! `AWS`), as ECR's registry endpoint does, and is authorised as the ECR action it stands for
//! (`ecr:BatchGetImage` to read a manifest, `ecr:PutImage` to push one, ...) on the repository's
//! ARN. Blob bodies stream to and from disk; nothing holds a whole layer in memory.
//!
//! This module routes a request, authenticates and authorises it, and audits pushes and
//! deletes; the handlers are `blobs`, `uploads`, `manifests` (with the referrers API) and
//! `listings` (tags and catalog), and `errors` answers refusals in the OCI error format.

mod blobs;
mod errors;
mod listings;
mod manifests;
mod uploads;

pub use errors::Refusal;

use crate::{AppState, auth, policy::Ask};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_registry::RegistryError;
use berth_registry::digest::Digest;
use berth_types::ecr;
use errors::Answer;
use std::collections::HashMap;

/// What a `/v2/<name>/...` path asks for.
pub enum Route<'a> {
    /// `<name>/blobs/<digest>`: a blob.
    Blob(&'a str),
    /// `<name>/blobs/uploads/`: a new upload.
    Uploads,
    /// `<name>/blobs/uploads/<id>`: an upload under way.
    Upload(&'a str),
    /// `<name>/manifests/<reference>`: a manifest, by tag or digest.
    Manifest(&'a str),
    /// `<name>/tags/list`: the repository's tags.
    Tags,
    /// `<name>/referrers/<digest>`: the manifests that refer to a digest.
    Referrers(&'a str),
}

/// Splits `<name>/<kind>/...` (the path after `/v2/`) into the repository name and what is
/// asked of it; names hold `/`, so the last kind marker decides. None when no marker is there.
pub fn route(path: &str) -> Option<(&str, Route<'_>)> {
    if let Some(name) = path.strip_suffix("/tags/list") {
        return Some((name, Route::Tags));
    }
    if let Some(name) = path
        .strip_suffix("/blobs/uploads/")
        .or(path.strip_suffix("/blobs/uploads"))
    {
        return Some((name, Route::Uploads));
    }
    if let Some(i) = path.rfind("/blobs/uploads/") {
        return Some((&path[..i], Route::Upload(&path[i + 15..])));
    }
    let (i, marker) = ["/blobs/", "/manifests/", "/referrers/"]
        .into_iter()
        .filter_map(|m| path.rfind(m).map(|i| (i, m)))
        .max()?;
    let rest = &path[i + marker.len()..];
    let route = match marker {
        "/blobs/" => Route::Blob(rest),
        "/manifests/" => Route::Manifest(rest),
        _ => Route::Referrers(rest),
    };
    Some((&path[..i], route))
}

/// `GET /v2/`: the version check, and the challenge `docker login` answers.
pub async fn version(State(app): State<AppState>, headers: HeaderMap) -> Response {
    match principal(&app, &headers) {
        Ok(_) => {
            let mut r = (StatusCode::OK, "{}").into_response();
            r.headers_mut().insert(
                "docker-distribution-api-version",
                HeaderValue::from_static("registry/2.0"),
            );
            r
        }
        Err(e) => e.into_response(),
    }
}

/// Every other `/v2/...` request.
pub async fn handle(
    State(app): State<AppState>,
    method: Method,
    axum::extract::Path(path): axum::extract::Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let who = match principal(&app, &headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let answer = if path == "_catalog" {
        catalog(&app, &who, &query).await
    } else {
        match route(&path) {
            Some((name, r)) => {
                let audited = audited_action(&r, &method).map(|action| (action, name.to_string()));
                let name = name.to_string();
                let answer = dispatch(&app, &who, &method, &name, r, &query, &headers, body).await;
                if let Some((action, name)) = audited {
                    audit(&app, &who, action, &name, &answer);
                }
                answer
            }
            None => Err(Refusal::Registry(RegistryError::NameInvalid(format!(
                "/v2/{path} is not a registry path"
            )))),
        }
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

/// The principal of the request's Basic credentials.
fn principal(app: &AppState, headers: &HeaderMap) -> Result<auth::Principal, Refusal> {
    use base64::Engine;
    let missing = || {
        Refusal::Unauthorized(
            "authentication required: aws ecr get-login-password | docker login --username AWS --password-stdin <registry>".into(),
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    let encoded = value.strip_prefix("Basic ").ok_or_else(missing)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(missing)?;
    let (_, password) = decoded.split_once(':').ok_or_else(missing)?;
    auth::registry_principal(&app.root, &app.control, password)
        .map_err(|e| Refusal::Unauthorized(e.message))
}

/// Authorises `action` on the repository `name` (or the registry, for `None`).
fn allow(
    app: &AppState,
    who: &auth::Principal,
    operation: ecr::Operation,
    name: Option<&str>,
) -> Result<(), Refusal> {
    let partition = app.control.partition();
    let resource = match name {
        Some(n) => format!(
            "arn:aws:ecr:{}:{}:repository/{n}",
            partition.region, partition.account
        ),
        None => "*".into(),
    };
    let catalogued = crate::catalogue::Operation::Ecr(operation);
    let ask = Ask {
        action: catalogued.action(),
        resource,
        agent_facing: catalogued.is_agent_facing(),
        ..Ask::default()
    };
    let policy = match name {
        Some(n) => app.registry.repository_policy(n)?,
        None => None,
    };
    app.authorize_with(
        who,
        ask,
        berth_types::ErrorCode::AccessDeniedException,
        policy.as_deref(),
    )
    .map_err(|e| Refusal::Denied(e.message))
}

/// The ECR action a push or a delete stands for, as the audit log records it; None for reads
/// and for the steps of an upload (its completion is recorded).
fn audited_action(route: &Route, method: &Method) -> Option<&'static str> {
    match (route, method.as_str()) {
        (Route::Manifest(_), "PUT") => Some("ecr:PutImage"),
        (Route::Manifest(_), "DELETE") => Some("ecr:BatchDeleteImage"),
        (Route::Upload(_), "PUT") => Some("ecr:CompleteLayerUpload"),
        _ => None,
    }
}

/// Records a push or a delete on repository `name` in the audit log.
fn audit(app: &AppState, who: &auth::Principal, action: &str, name: &str, answer: &Answer) {
    let partition = app.control.partition();
    let resource = format!(
        "arn:aws:ecr:{}:{}:repository/{name}",
        partition.region, partition.account
    );
    let outcome = match answer {
        Ok(r) if r.status().is_success() => "Success".to_string(),
        Ok(r) => format!("HTTP {}", r.status().as_u16()),
        Err(Refusal::Registry(e)) => e.code().to_string(),
        Err(Refusal::Unauthorized(_)) => "UNAUTHORIZED".to_string(),
        Err(Refusal::Denied(_)) => "AccessDeniedException".to_string(),
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    app.record(
        who.arn(),
        action.to_string(),
        resource,
        &outcome,
        &request_id,
    );
}

/// `GET /v2/_catalog`, authorised as DescribeRepositories on the whole registry.
async fn catalog(app: &AppState, who: &auth::Principal, query: &HashMap<String, String>) -> Answer {
    allow(app, who, ecr::Operation::DescribeRepositories, None)?;
    listings::catalog(app, query).await
}

/// Authorises a request on repository `name` as the ECR action it stands for, and hands it to
/// its handler.
#[allow(clippy::too_many_arguments)]
async fn dispatch(
    app: &AppState,
    who: &auth::Principal,
    method: &Method,
    name: &str,
    route: Route<'_>,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
) -> Answer {
    berth_registry::check_name(name)?;
    match (route, method.as_str()) {
        (Route::Blob(d), "GET" | "HEAD") => {
            let action = if method == Method::HEAD {
                ecr::Operation::BatchCheckLayerAvailability
            } else {
                ecr::Operation::GetDownloadUrlForLayer
            };
            allow(app, who, action, Some(name))?;
            blobs::get_blob(app, name, d, method == Method::HEAD, headers).await
        }
        (Route::Blob(_), "DELETE") => Err(Refusal::Registry(RegistryError::Unsupported(
            "blobs are removed by garbage collection once no image refers to them".into(),
        ))),
        (Route::Uploads, "POST") => {
            allow(app, who, ecr::Operation::InitiateLayerUpload, Some(name))?;
            // A mount needs the right to read the blob where it is; without it (or without
            // `from`) the registry falls back to an upload, as the spec asks.
            let mount = match (query.get("mount"), query.get("from")) {
                (Some(d), Some(from))
                    if allow(app, who, ecr::Operation::GetDownloadUrlForLayer, Some(from))
                        .is_ok() =>
                {
                    Digest::parse(d).ok().map(|d| (from.clone(), d))
                }
                _ => None,
            };
            uploads::start_upload(app, name, mount, query, body).await
        }
        (Route::Upload(id), "PATCH") => {
            allow(app, who, ecr::Operation::UploadLayerPart, Some(name))?;
            uploads::patch_upload(app, name, id, headers, body).await
        }
        (Route::Upload(id), "PUT") => {
            allow(app, who, ecr::Operation::CompleteLayerUpload, Some(name))?;
            uploads::put_upload(app, name, id, query, body).await
        }
        (Route::Upload(id), "GET") => {
            allow(app, who, ecr::Operation::UploadLayerPart, Some(name))?;
            uploads::upload_status(app, name, id).await
        }
        (Route::Upload(id), "DELETE") => {
            allow(app, who, ecr::Operation::UploadLayerPart, Some(name))?;
            uploads::cancel_upload(app, name, id).await
        }
        (Route::Manifest(reference), "GET" | "HEAD") => {
            allow(app, who, ecr::Operation::BatchGetImage, Some(name))?;
            manifests::get_manifest(app, name, reference, method == Method::HEAD, headers).await
        }
        (Route::Manifest(reference), "PUT") => {
            allow(app, who, ecr::Operation::PutImage, Some(name))?;
            manifests::put_manifest(app, name, reference, headers, body).await
        }
        (Route::Manifest(reference), "DELETE") => {
            allow(app, who, ecr::Operation::BatchDeleteImage, Some(name))?;
            manifests::delete_manifest(app, name, reference).await
        }
        (Route::Tags, "GET") => {
            allow(app, who, ecr::Operation::ListImages, Some(name))?;
            listings::tags(app, name, query).await
        }
        (Route::Referrers(d), "GET") => {
            allow(app, who, ecr::Operation::BatchGetImage, Some(name))?;
            manifests::referrers(app, name, d, query).await
        }
        _ => Err(Refusal::Registry(RegistryError::Unsupported(format!(
            "{method} is not supported here"
        )))),
    }
}

/// Runs registry work off the async workers: it reads, hashes and fsyncs files.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, RegistryError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(RegistryError::from(std::io::Error::other(e))))
}

/// A 200 with a JSON body.
fn json(v: &serde_json::Value) -> Response {
    let mut r = (StatusCode::OK, v.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The 201 of a stored blob or manifest: where it is and its digest.
fn created(location: String, digest: &Digest) -> Response {
    let mut r = StatusCode::CREATED.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&digest.to_string()) {
        h.insert("docker-content-digest", v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    r
}

//! OCI Distribution at `/v2/`: what `docker`, `skopeo` and the agents push and pull with.
//!
//! Every request carries HTTP Basic auth with the password `GetAuthorizationToken` issued (user
//! `AWS`), as ECR's registry endpoint does, and is authorised as the ECR action it stands for
//! (`ecr:BatchGetImage` to read a manifest, `ecr:PutImage` to push one, ...) on the repository's
//! ARN. Blob bodies stream to and from disk; nothing holds a whole layer in memory.

use crate::{AppState, auth, policy::Ask};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_registry::digest::Digest;
use berth_registry::{Image, RegistryError};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use tokio::io::AsyncWriteExt;

/// The realm `docker login` is sent to.
const REALM: &str = "Basic realm=\"Berth ECR\"";
/// Bytes read from a blob per chunk of a response.
const CHUNK: u64 = 1 << 20;

/// An OCI error response: `{"errors":[{"code","message","detail"}]}`.
fn oci_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"errors": [{"code": code, "message": message, "detail": {}}]});
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
    }
    response
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Registry(e) => oci_error(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                e.code(),
                &e.to_string(),
            ),
            Refusal::Unauthorized(why) => oci_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", &why),
            Refusal::Denied(why) => oci_error(StatusCode::FORBIDDEN, "DENIED", &why),
        }
    }
}

/// Why a registry request was refused.
pub enum Refusal {
    /// The registry said no.
    Registry(RegistryError),
    /// No or bad credentials: 401 with the Basic challenge.
    Unauthorized(String),
    /// The caller's policies do not allow it.
    Denied(String),
}

impl From<RegistryError> for Refusal {
    fn from(e: RegistryError) -> Self {
        Refusal::Registry(e)
    }
}

type Answer = Result<Response, Refusal>;

/// Runs registry work off the async workers: it reads, hashes and fsyncs files.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, RegistryError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(RegistryError::from(std::io::Error::other(e))))
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
    action: &str,
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
    let ask = Ask {
        action: format!("ecr:{action}"),
        resource,
        keys: Default::default(),
    };
    let policy = match name {
        Some(n) => app.registry.repository_policy(n)?,
        None => None,
    };
    app.authorize_with(
        who,
        ask,
        &[],
        berth_types::ErrorCode::AccessDeniedException,
        policy.as_deref(),
    )
    .map_err(|e| Refusal::Denied(e.message))
}

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
                "BatchCheckLayerAvailability"
            } else {
                "GetDownloadUrlForLayer"
            };
            allow(app, who, action, Some(name))?;
            get_blob(app, name, d, method == Method::HEAD, headers).await
        }
        (Route::Blob(_), "DELETE") => Err(Refusal::Registry(RegistryError::Unsupported(
            "blobs are removed by garbage collection once no image refers to them".into(),
        ))),
        (Route::Uploads, "POST") => {
            allow(app, who, "InitiateLayerUpload", Some(name))?;
            // A mount needs the right to read the blob where it is; without it (or without
            // `from`) the registry falls back to an upload, as the spec asks.
            let mount = match (query.get("mount"), query.get("from")) {
                (Some(d), Some(from))
                    if allow(app, who, "GetDownloadUrlForLayer", Some(from)).is_ok() =>
                {
                    Digest::parse(d).ok().map(|d| (from.clone(), d))
                }
                _ => None,
            };
            start_upload(app, name, mount, query, body).await
        }
        (Route::Upload(id), "PATCH") => {
            allow(app, who, "UploadLayerPart", Some(name))?;
            patch_upload(app, name, id, headers, body).await
        }
        (Route::Upload(id), "PUT") => {
            allow(app, who, "CompleteLayerUpload", Some(name))?;
            put_upload(app, name, id, query, body).await
        }
        (Route::Upload(id), "GET") => {
            allow(app, who, "UploadLayerPart", Some(name))?;
            let registry = app.registry.clone();
            let (n, i) = (name.to_string(), id.to_string());
            let (_, size) = blocking(move || registry.uploads().data(&n, &i)).await?;
            Ok(upload_accepted(StatusCode::NO_CONTENT, name, id, size))
        }
        (Route::Upload(id), "DELETE") => {
            allow(app, who, "UploadLayerPart", Some(name))?;
            let registry = app.registry.clone();
            let (n, i) = (name.to_string(), id.to_string());
            blocking(move || {
                registry.uploads().data(&n, &i)?;
                registry.uploads().remove(&i)
            })
            .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (Route::Manifest(reference), "GET" | "HEAD") => {
            allow(app, who, "BatchGetImage", Some(name))?;
            get_manifest(app, name, reference, method == Method::HEAD, headers).await
        }
        (Route::Manifest(reference), "PUT") => {
            allow(app, who, "PutImage", Some(name))?;
            put_manifest(app, name, reference, headers, body).await
        }
        (Route::Manifest(reference), "DELETE") => {
            allow(app, who, "BatchDeleteImage", Some(name))?;
            let registry = app.registry.clone();
            let (n, r) = (name.to_string(), reference.to_string());
            blocking(move || match Digest::parse(&r) {
                Ok(d) => registry.delete_manifest(&n, &d).map(|_| ()),
                Err(_) if !r.contains(':') => registry.untag(&n, &r).map(|_| ()),
                Err(e) => Err(e),
            })
            .await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        (Route::Tags, "GET") => {
            allow(app, who, "ListImages", Some(name))?;
            let registry = app.registry.clone();
            let n = name.to_string();
            let tags = blocking(move || registry.tags(&n)).await?;
            let (page, link) = paginate(tags, query, &format!("/v2/{name}/tags/list"));
            let mut r = json(&serde_json::json!({"name": name, "tags": page}));
            add_link(&mut r, link);
            Ok(r)
        }
        (Route::Referrers(d), "GET") => {
            allow(app, who, "BatchGetImage", Some(name))?;
            referrers(app, name, d, query).await
        }
        _ => Err(Refusal::Registry(RegistryError::Unsupported(format!(
            "{method} is not supported here"
        )))),
    }
}

fn json(v: &serde_json::Value) -> Response {
    let mut r = (StatusCode::OK, v.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A page of `items` after `last`, at most `n`, and the `Link` to the next page.
fn paginate(
    items: Vec<String>,
    query: &HashMap<String, String>,
    path: &str,
) -> (Vec<String>, Option<String>) {
    let after: Vec<String> = match query.get("last") {
        Some(last) => items.into_iter().filter(|i| i > last).collect(),
        None => items,
    };
    let Some(n) = query.get("n").and_then(|n| n.parse::<usize>().ok()) else {
        return (after, None);
    };
    let more = after.len() > n;
    let page: Vec<String> = after.into_iter().take(n).collect();
    let link = match (more, page.last()) {
        (true, Some(last)) => Some(format!("<{path}?n={n}&last={last}>; rel=\"next\"")),
        _ => None,
    };
    (page, link)
}

fn add_link(r: &mut Response, link: Option<String>) {
    if let Some(v) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        r.headers_mut().insert(header::LINK, v);
    }
}

/// `GET /v2/_catalog`.
async fn catalog(app: &AppState, who: &auth::Principal, query: &HashMap<String, String>) -> Answer {
    allow(app, who, "DescribeRepositories", None)?;
    let registry = app.registry.clone();
    let names: Vec<String> = blocking(move || {
        Ok(registry
            .repositories()?
            .into_iter()
            .map(|r| r.name)
            .collect())
    })
    .await?;
    let (page, link) = paginate(names, query, "/v2/_catalog");
    let mut r = json(&serde_json::json!({ "repositories": page }));
    add_link(&mut r, link);
    Ok(r)
}

/// `Range: bytes=start-end` of a blob of `size` bytes.
fn range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, Refusal> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let bad = || {
        Refusal::Registry(RegistryError::RangeInvalid(format!(
            "{value:?} is not a satisfiable range of a {size}-byte blob"
        )))
    };
    let spec = value.strip_prefix("bytes=").ok_or_else(bad)?;
    let (start, end) = spec.split_once('-').ok_or_else(bad)?;
    let (start, end) = match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
        (Some(s), Some(e)) => (s, e.min(size.saturating_sub(1))),
        (Some(s), None) if end.is_empty() => (s, size.saturating_sub(1)),
        (None, Some(suffix)) if start.is_empty() => (size.saturating_sub(suffix), size - 1),
        _ => return Err(bad()),
    };
    if start > end || start >= size {
        return Err(bad());
    }
    Ok(Some((start, end)))
}

/// Streams `len` bytes of `reader` from `start`: one blocking reader fills a short queue, so
/// the disk and the socket work at once.
fn stream(mut reader: Box<dyn berth_registry::blobs::BlobRead>, start: u64, len: u64) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = reader.seek(SeekFrom::Start(start)) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let mut left = len;
        while left > 0 {
            let mut buf = vec![0u8; left.min(CHUNK) as usize];
            let read = reader.read_exact(&mut buf).map(|()| Bytes::from(buf));
            let failed = read.is_err();
            left -= if failed { left } else { CHUNK.min(left) };
            // A closed queue means the client went away.
            if tx.blocking_send(read).is_err() || failed {
                return;
            }
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// Reads `len` bytes of `reader` from `start` at once (small blobs: configs, small layers).
fn read_at(
    mut reader: Box<dyn berth_registry::blobs::BlobRead>,
    start: u64,
    len: u64,
) -> Result<Vec<u8>, RegistryError> {
    let io = RegistryError::from;
    reader.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut buf = vec![0u8; len as usize];
    reader.read_exact(&mut buf).map_err(io)?;
    Ok(buf)
}

async fn get_blob(
    app: &AppState,
    name: &str,
    digest: &str,
    head: bool,
    headers: &HeaderMap,
) -> Answer {
    let digest = Digest::parse(digest)?;
    let registry = app.registry.clone();
    let (n, d) = (name.to_string(), digest.clone());
    let (size, reader) = blocking(move || {
        let size = registry.blob_size(&n, &d)?;
        let reader = match head {
            true => None,
            false => Some(
                registry
                    .blobs()
                    .open(&d)?
                    .ok_or_else(|| RegistryError::BlobUnknown(d.to_string()))?,
            ),
        };
        Ok((size, reader))
    })
    .await?;
    let range = range(headers, size)?;
    let (status, start, len) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        None => (StatusCode::OK, 0, size),
    };
    let body = match reader {
        None => Body::empty(),
        Some(reader) if len <= CHUNK => {
            Body::from(blocking(move || read_at(reader, start, len)).await?)
        }
        Some(reader) => stream(reader, start, len),
    };
    let mut r = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_RANGES, "bytes")
        .header("docker-content-digest", digest.to_string());
    if let Some((start, end)) = range {
        r = r.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
    }
    Ok(r.body(body).unwrap_or_default())
}

/// The 202 an upload session answers with: where to continue and what it holds.
fn upload_accepted(status: StatusCode, name: &str, id: &str, size: u64) -> Response {
    let mut r = status.into_response();
    let h = r.headers_mut();
    let location = format!("/v2/{name}/blobs/uploads/{id}");
    let end = size.saturating_sub(1);
    for (k, v) in [
        (header::LOCATION.as_str(), location),
        ("range", format!("0-{end}")),
        ("docker-upload-uuid", id.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    r
}

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

/// Appends a request body to an upload, sealed as it arrives: the bytes the upload now holds.
async fn append(app: &AppState, name: &str, id: &str, body: Body) -> Result<u64, RegistryError> {
    let registry = app.registry.clone();
    let (n, i) = (name.to_string(), id.to_string());
    let (path, mut size, mut sealer) = blocking(move || {
        let (path, size) = registry.uploads().data(&n, &i)?;
        Ok((path, size, registry.uploads().sealer(&n, &i)?))
    })
    .await?;
    let io = RegistryError::from;
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .await
        .map_err(io)?;
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk
            .map_err(|e| RegistryError::BlobUploadInvalid(format!("the upload broke off: {e}")))?;
        let mut sealed = chunk.to_vec();
        sealer.seal(&mut sealed);
        file.write_all(&sealed).await.map_err(io)?;
        size += sealed.len() as u64;
    }
    file.flush().await.map_err(io)?;
    Ok(size)
}

/// `POST .../blobs/uploads/`: a mount of `mount` (repository, digest) when it can be done, a
/// monolithic upload with `?digest=`, or a new upload session.
async fn start_upload(
    app: &AppState,
    name: &str,
    mount: Option<(String, Digest)>,
    query: &HashMap<String, String>,
    body: Body,
) -> Answer {
    let registry = app.registry.clone();
    let n = name.to_string();
    let started = blocking(move || {
        if let Some((from, d)) = mount
            && registry.mount_blob(&n, &from, &d)?
        {
            return Ok(Err(d));
        }
        registry.start_upload(&n).map(Ok)
    })
    .await?;
    let id = match started {
        Ok(id) => id,
        Err(mounted) => return Ok(created(format!("/v2/{name}/blobs/{mounted}"), &mounted)),
    };
    if query.contains_key("digest") {
        // Monolithic: the whole blob in this request.
        put_upload(app, name, &id, query, body).await
    } else {
        Ok(upload_accepted(StatusCode::ACCEPTED, name, &id, 0))
    }
}

async fn patch_upload(
    app: &AppState,
    name: &str,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Answer {
    let registry = app.registry.clone();
    let (n, i) = (name.to_string(), id.to_string());
    let (_, size) = blocking(move || registry.uploads().data(&n, &i)).await?;
    // A chunk must start where the upload ends, or the upload would have a hole.
    if let Some(range) = headers
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
    {
        let start = range
            .trim_start_matches("bytes ")
            .split(['-', '/'])
            .next()
            .and_then(|s| s.parse::<u64>().ok());
        if start != Some(size) {
            return Err(Refusal::Registry(RegistryError::RangeInvalid(format!(
                "the chunk starts at {range:?} but the upload holds {size} bytes: resume at {size}"
            ))));
        }
    }
    let before = size;
    let size = append(app, name, id, body).await?;
    // The chunk is acknowledged as stored: it must survive a crash. (A monolithic upload
    // needs no such step: its blob is made durable when the upload completes.)
    let registry = app.registry.clone();
    let (n, i) = (name.to_string(), id.to_string());
    blocking(move || registry.uploads().sync(&n, &i, before)).await?;
    Ok(upload_accepted(StatusCode::ACCEPTED, name, id, size))
}

async fn put_upload(
    app: &AppState,
    name: &str,
    id: &str,
    query: &HashMap<String, String>,
    body: Body,
) -> Answer {
    let digest = query.get("digest").ok_or_else(|| {
        Refusal::Registry(RegistryError::DigestInvalid(
            "finish an upload with ?digest=<algorithm:hex>".into(),
        ))
    })?;
    let digest = Digest::parse(digest)?;
    append(app, name, id, body).await?;
    let registry = app.registry.clone();
    let (n, i, d) = (name.to_string(), id.to_string(), digest.clone());
    blocking(move || registry.finish_upload(&n, &i, &d)).await?;
    Ok(created(format!("/v2/{name}/blobs/{digest}"), &digest))
}

/// Whether a client that sent `accept` can take a manifest of `media_type`.
fn acceptable(headers: &HeaderMap, media_type: &str) -> bool {
    let accepts: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.split(';').next().unwrap_or_default().trim())
        .collect();
    accepts.is_empty()
        || accepts
            .iter()
            .any(|a| *a == media_type || *a == "*/*" || *a == "application/json")
}

async fn get_manifest(
    app: &AppState,
    name: &str,
    reference: &str,
    head: bool,
    headers: &HeaderMap,
) -> Answer {
    let registry = app.registry.clone();
    let (n, r) = (name.to_string(), reference.to_string());
    let (image, bytes): (Image, Vec<u8>) = blocking(move || registry.manifest(&n, &r)).await?;
    if !acceptable(headers, &image.media_type) {
        return Err(Refusal::Registry(RegistryError::ManifestUnknown(format!(
            "{name}:{reference} is a {} and the client accepts none of that type",
            image.media_type
        ))));
    }
    if !head {
        let registry = app.registry.clone();
        let (n, i) = (name.to_string(), image.clone());
        tokio::task::spawn_blocking(move || registry.record_pull(&n, &i));
    }
    let len = bytes.len();
    let r = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, image.media_type.as_str())
        .header(header::CONTENT_LENGTH, len)
        .header("docker-content-digest", image.digest.as_str())
        .body(if head {
            Body::empty()
        } else {
            Body::from(bytes)
        });
    Ok(r.unwrap_or_default())
}

async fn put_manifest(
    app: &AppState,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Body,
) -> Answer {
    let limit = berth_registry::manifest::MAX_MANIFEST_BYTES;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        RegistryError::ManifestTooLarge(format!("the manifest exceeds {limit} bytes"))
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let registry = app.registry.clone();
    let (n, r) = (name.to_string(), reference.to_string());
    let image = blocking(move || registry.put_manifest(&n, &r, &content_type, &bytes)).await?;
    let digest = Digest::parse(&image.digest)?;
    let mut response = created(format!("/v2/{name}/manifests/{digest}"), &digest);
    if let Some(v) = image
        .subject
        .as_deref()
        .and_then(|s| HeaderValue::from_str(s).ok())
    {
        response.headers_mut().insert("oci-subject", v);
    }
    Ok(response)
}

async fn referrers(
    app: &AppState,
    name: &str,
    digest: &str,
    query: &HashMap<String, String>,
) -> Answer {
    let digest = Digest::parse(digest)?;
    let registry = app.registry.clone();
    let n = name.to_string();
    let found = blocking(move || {
        let mut out = vec![];
        for image in registry.referrers(&n, &digest)? {
            let (_, bytes) = registry.manifest(&n, &image.digest)?;
            let annotations = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("annotations").cloned());
            out.push((image, annotations));
        }
        Ok(out)
    })
    .await?;
    let wanted = query.get("artifactType");
    let manifests: Vec<serde_json::Value> = found
        .into_iter()
        .filter(|(i, _)| wanted.is_none() || i.artifact_type.as_ref() == wanted)
        .map(|(i, annotations)| {
            let mut d = serde_json::json!({
                "mediaType": i.media_type,
                "digest": i.digest,
                "size": i.manifest_size,
            });
            if let Some(t) = i.artifact_type {
                d["artifactType"] = t.into();
            }
            if let Some(a) = annotations {
                d["annotations"] = a;
            }
            d
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": berth_registry::manifest::OCI_INDEX,
        "manifests": manifests,
    });
    let mut r = json(&index);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(berth_registry::manifest::OCI_INDEX),
    );
    if wanted.is_some() {
        r.headers_mut().insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(r)
}

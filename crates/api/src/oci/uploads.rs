//! Blob uploads (`.../blobs/uploads/`): cross-repository mounts, monolithic uploads, chunked
//! sessions (a chunk must start where the upload ends), their status and their cancellation.
//! Bodies are handed as they arrive to the registry's upload writer, which seals them and
//! appends them to the session; this module never opens a file.

use super::errors::{Answer, Refusal};
use super::{blocking, created};
use crate::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_registry::RegistryError;
use berth_registry::digest::Digest;
use berth_registry::uploads::UploadWriter;
use futures_util::StreamExt;
use std::collections::HashMap;

/// `POST .../blobs/uploads/`: a mount of `mount` (repository, digest) when it can be done, a
/// monolithic upload with `?digest=`, or a new upload session.
pub(super) async fn start_upload(
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

/// `PATCH .../blobs/uploads/<id>`: a chunk, made durable before it is acknowledged.
pub(super) async fn patch_upload(
    app: &AppState,
    name: &str,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Answer {
    let writer = writer(app, name, id).await?;
    let size = writer.size();
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
    let mut writer = append(writer, body).await?;
    // The chunk is acknowledged as stored: it must survive a crash. (A monolithic upload
    // needs no such step: its blob is made durable when the upload completes.)
    let size = blocking(move || writer.commit()).await?;
    Ok(upload_accepted(StatusCode::ACCEPTED, name, id, size))
}

/// `PUT .../blobs/uploads/<id>?digest=`: the last bytes, then the blob checked and stored.
pub(super) async fn put_upload(
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
    append(writer(app, name, id).await?, body).await?;
    let registry = app.registry.clone();
    let (n, i, d) = (name.to_string(), id.to_string(), digest.clone());
    blocking(move || registry.finish_upload(&n, &i, &d)).await?;
    Ok(created(format!("/v2/{name}/blobs/{digest}"), &digest))
}

/// `GET .../blobs/uploads/<id>`: how much the upload holds, to resume it.
pub(super) async fn upload_status(app: &AppState, name: &str, id: &str) -> Answer {
    let registry = app.registry.clone();
    let (n, i) = (name.to_string(), id.to_string());
    let (_, size) = blocking(move || registry.uploads().data(&n, &i)).await?;
    Ok(upload_accepted(StatusCode::NO_CONTENT, name, id, size))
}

/// `DELETE .../blobs/uploads/<id>`: the upload cancelled.
pub(super) async fn cancel_upload(app: &AppState, name: &str, id: &str) -> Answer {
    let writer = writer(app, name, id).await?;
    blocking(move || writer.cancel()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
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

/// The writer of upload `id` of repository `name`.
async fn writer(app: &AppState, name: &str, id: &str) -> Result<UploadWriter, RegistryError> {
    let registry = app.registry.clone();
    let (n, i) = (name.to_string(), id.to_string());
    blocking(move || registry.uploads().writer(&n, &i)).await
}

/// Bytes of a body gathered before they are handed to the writer, so that a body of many
/// small chunks costs few trips to the blocking pool.
const BATCH: usize = 1 << 20;

/// Appends a request body to an upload as it arrives (sealed by the writer), in batches.
async fn append(mut writer: UploadWriter, body: Body) -> Result<UploadWriter, RegistryError> {
    let mut chunks = body.into_data_stream();
    let mut batch: Vec<u8> = Vec::new();
    loop {
        let chunk =
            chunks.next().await.transpose().map_err(|e| {
                RegistryError::BlobUploadInvalid(format!("the upload broke off: {e}"))
            })?;
        let end = chunk.is_none();
        if let Some(chunk) = chunk {
            batch.extend_from_slice(&chunk);
        }
        if batch.len() >= BATCH || (end && !batch.is_empty()) {
            let bytes = std::mem::take(&mut batch);
            writer = blocking(move || writer.append(&bytes).map(|()| writer)).await?;
        }
        if end {
            return Ok(writer);
        }
    }
}

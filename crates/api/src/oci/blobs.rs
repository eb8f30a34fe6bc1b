//! Blob reads (`GET`/`HEAD .../blobs/<digest>`): whole or a `Range`, small blobs read at once
//! and larger ones streamed, so nothing holds a whole layer in memory.

use super::blocking;
use super::errors::{Answer, Refusal};
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use berth_registry::RegistryError;
use berth_registry::blobs::BlobRead;
use berth_registry::digest::Digest;
use std::io::{Read, Seek, SeekFrom};

/// Bytes read from a blob per chunk of a response.
const CHUNK: u64 = 1 << 20;

/// A blob of repository `name`: its bytes (or, for `head`, only its headers).
pub(super) async fn get_blob(
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
fn stream(mut reader: Box<dyn BlobRead>, start: u64, len: u64) -> Body {
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
fn read_at(mut reader: Box<dyn BlobRead>, start: u64, len: u64) -> Result<Vec<u8>, RegistryError> {
    reader.seek(SeekFrom::Start(start))?;
    let mut buf = vec![0u8; len as usize];
    reader.read_exact(&mut buf)?;
    Ok(buf)
}

//! The credentials endpoint's HTTP: `GET /v2/credentials/<id>` (and the older
//! `/v1/credentials?id=<id>`), answered as the ECS agent answers.
//!
//! Requests come only from the container the listener lives in, yet are bounded all the same:
//! a request head of at most 8 KiB within 5 s, a few connections at a time, one request per
//! connection.

use super::TaskCredentials;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest request head read.
const HEAD_LIMIT: usize = 8 * 1024;
/// How long a client may take to send it.
const HEAD_TIME: Duration = Duration::from_secs(5);
/// Connections served at once.
const CONNECTIONS: usize = 8;

/// Accepts until aborted.
pub(super) async fn serve(listener: TcpListener, credentials: Arc<TaskCredentials>) {
    let permits = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let credentials = credentials.clone();
        tokio::spawn(async move {
            let _permit = permit;
            answer(stream, &credentials).await;
        });
    }
}

async fn answer(mut stream: TcpStream, credentials: &TaskCredentials) {
    let Ok(Some(path)) = tokio::time::timeout(HEAD_TIME, request_path(&mut stream)).await else {
        return;
    };
    let (status, body) = respond(&path, credentials).await;
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The path of a `GET` request, once its head is read; `None` for anything else.
async fn request_path(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > HEAD_LIMIT {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = std::str::from_utf8(&head).ok()?.lines().next()?;
    let mut parts = line.split(' ');
    let (method, path) = (parts.next()?, parts.next()?);
    (method == "GET").then(|| path.to_string())
}

/// The status and JSON body for `path`.
async fn respond(path: &str, credentials: &TaskCredentials) -> (u16, String) {
    let error = |status: u16, code: &str, message: &str| {
        let body = json!({ "code": code, "message": message, "HTTPErrorCode": status });
        (status, body.to_string())
    };
    let id = if let Some(id) = path.strip_prefix(super::PATH_PREFIX) {
        id
    } else if let Some(query) = path.strip_prefix("/v1/credentials") {
        query
            .strip_prefix('?')
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|kv| kv.strip_prefix("id="))
            .unwrap_or_default()
    } else if path == "/v2/credentials" || path == "/v2/credentials/" {
        ""
    } else {
        return error(
            404,
            "NotFound",
            "Berth serves only the task's credentials here",
        );
    };
    if id.is_empty() {
        return error(
            400,
            "NoIdInRequest",
            "CredentialsV2Request: No Credential ID in the request",
        );
    }
    if id != credentials.id {
        return error(
            400,
            "InvalidIdInRequest",
            "CredentialsV2Request: Credentials not found",
        );
    }
    match credentials.current().await {
        Ok(c) => (200, serde_json::to_string(&c).unwrap_or_default()),
        Err(why) => {
            tracing::warn!(task = %credentials.task_arn, %why, "no task role credentials");
            error(500, "InternalServerError", &why)
        }
    }
}

//! Manifests (`.../manifests/<reference>`, by tag or digest): read as long as the client
//! accepts the type, pushed, deleted (by digest the image, by tag only the tag), and the
//! referrers API (`.../referrers/<digest>`) over the manifests that name a subject.

use super::errors::{Answer, Refusal};
use super::{blocking, created, json};
use crate::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_registry::digest::Digest;
use berth_registry::manifest::{MAX_MANIFEST_BYTES, OCI_INDEX};
use berth_registry::{Image, RegistryError};
use std::collections::HashMap;

/// `GET`/`HEAD`: the manifest (or, for `head`, only its headers); a read records a pull.
pub(super) async fn get_manifest(
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

/// `PUT`: a manifest pushed under a tag or its digest.
pub(super) async fn put_manifest(
    app: &AppState,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Body,
) -> Answer {
    let bytes = axum::body::to_bytes(body, MAX_MANIFEST_BYTES)
        .await
        .map_err(|_| {
            RegistryError::ManifestTooLarge(format!(
                "the manifest exceeds {MAX_MANIFEST_BYTES} bytes"
            ))
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

/// `DELETE`: by digest the image and its tags, by tag only the tag.
pub(super) async fn delete_manifest(app: &AppState, name: &str, reference: &str) -> Answer {
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

/// `GET .../referrers/<digest>`: an index of the manifests whose subject is `digest`,
/// filtered by `?artifactType=`.
pub(super) async fn referrers(
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
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    });
    let mut r = json(&index);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX));
    if wanted.is_some() {
        r.headers_mut().insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(r)
}

//! The registry client both registries are measured with: monolithic blob pushes, image
//! pushes and pulls over the OCI Distribution API, HTTP/1.1 on loopback.

use sha2::{Digest as _, Sha256};

/// One registry under test, as the client sees it.
#[derive(Clone)]
pub(super) struct Target {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    pub(super) auth: Option<String>,
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Target {
    pub(super) fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        };
        let r = self.http.request(method, url);
        match &self.auth {
            Some(a) => r.header("authorization", a),
            None => r,
        }
    }

    /// Pushes a blob monolithically (POST for a session, PUT with the digest).
    pub(super) async fn push_blob(
        &self,
        repo: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<(String, usize)> {
        let digest = sha(&bytes);
        let len = bytes.len();
        let r = self
            .request(reqwest::Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 202, "upload start: {}", r.status());
        let location = r.headers()["location"].to_str()?.to_string();
        let sep = if location.contains('?') { '&' } else { '?' };
        let r = self
            .request(
                reqwest::Method::PUT,
                &format!("{location}{sep}digest={digest}"),
            )
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "upload end: {}", r.status());
        Ok((digest, len))
    }

    /// Pushes an image of one layer: its manifest's digest.
    pub(super) async fn push_image(
        &self,
        repo: &str,
        tag: &str,
        layer: Vec<u8>,
    ) -> anyhow::Result<()> {
        let config = format!(r#"{{"architecture":"amd64","os":"linux","tag":"{tag}"}}"#);
        let (config_digest, config_len) = self.push_blob(repo, config.into_bytes()).await?;
        let (layer_digest, layer_len) = self.push_blob(repo, layer).await?;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_len},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_len}],
        });
        let r = self
            .request(reqwest::Method::PUT, &format!("/v2/{repo}/manifests/{tag}"))
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(manifest.to_string())
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "manifest: {}", r.status());
        Ok(())
    }

    pub(super) async fn manifest(
        &self,
        repo: &str,
        tag: &str,
    ) -> anyhow::Result<serde_json::Value> {
        let r = self
            .request(reqwest::Method::GET, &format!("/v2/{repo}/manifests/{tag}"))
            .header("accept", "application/vnd.oci.image.manifest.v1+json")
            .send()
            .await?;
        anyhow::ensure!(r.status() == 200, "manifest get: {}", r.status());
        Ok(serde_json::from_slice(&r.bytes().await?)?)
    }

    /// Pulls an image (manifest, config, layers): bytes received.
    pub(super) async fn pull_image(&self, repo: &str, tag: &str) -> anyhow::Result<u64> {
        let manifest = self.manifest(repo, tag).await?;
        let mut digests = vec![manifest["config"]["digest"].clone()];
        digests.extend(
            manifest["layers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|l| l["digest"].clone()),
        );
        let mut total = 0;
        for d in digests {
            let d = d.as_str().unwrap_or_default();
            let r = self
                .request(reqwest::Method::GET, &format!("/v2/{repo}/blobs/{d}"))
                .send()
                .await?;
            anyhow::ensure!(r.status() == 200, "blob get: {}", r.status());
            let mut r = r;
            while let Some(chunk) = r.chunk().await? {
                total += chunk.len() as u64;
            }
        }
        Ok(total)
    }
}

//! Credentials for pulling task images from Berth's own registry: the agent asks
//! `GetAuthorizationToken` with its own key, as the ECS agent does with ECR, and hands the
//! token to the Docker engine. Images from any other registry are pulled as the engine is
//! configured to.

use crate::client::EcsClient;
use base64::Engine;
use bollard::auth::DockerCredentials;
use std::sync::Mutex;

/// Tokens are renewed this long before they expire.
const RENEW_BEFORE_SECONDS: f64 = 600.0;

/// The registry at the control plane's address, and the last token it gave.
pub struct RegistryAuth {
    client: EcsClient,
    host: String,
    token: Mutex<Option<(DockerCredentials, f64)>>,
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl RegistryAuth {
    /// The registry served beside `client`'s endpoint.
    pub fn new(client: EcsClient) -> Self {
        let host = client
            .endpoint()
            .split("://")
            .nth(1)
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string();
        Self {
            client,
            host,
            token: Mutex::new(None),
        }
    }

    /// Credentials for `image` when it lives in Berth's registry.
    pub async fn credentials_for(&self, image: &str) -> Result<Option<DockerCredentials>, String> {
        if self.host.is_empty() || !image.starts_with(&format!("{}/", self.host)) {
            return Ok(None);
        }
        if let Some((creds, expires)) = self.cached()
            && expires - now() > RENEW_BEFORE_SECONDS
        {
            return Ok(Some(creds));
        }
        let answer: serde_json::Value = self
            .client
            .call_target(
                berth_types::ecr::TARGET_PREFIX,
                "GetAuthorizationToken",
                &serde_json::json!({}),
            )
            .await
            .map_err(|e| format!("CannotPullContainerError: GetAuthorizationToken: {e}"))?;
        let data = &answer["authorizationData"][0];
        let decoded = data["authorizationToken"]
            .as_str()
            .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or("CannotPullContainerError: the registry gave no usable token")?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or("CannotPullContainerError: the registry token is not user:password")?;
        let creds = DockerCredentials {
            username: Some(username.to_string()),
            password: Some(password.to_string()),
            serveraddress: Some(self.host.clone()),
            ..DockerCredentials::default()
        };
        let expires = data["expiresAt"].as_f64().unwrap_or_else(now);
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some((creds.clone(), expires));
        Ok(Some(creds))
    }

    fn cached(&self) -> Option<(DockerCredentials, f64)> {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

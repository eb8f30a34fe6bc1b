//! Credentials for pulling task images from Berth's own registry: the agent asks
//! `GetAuthorizationToken` and hands the token to the Docker engine, as the ECS agent does with
//! ECR. For a task with an execution role it asks as that role (a session the control plane
//! gives it for the task), so the pull is allowed by the role's policy and nothing else; for a
//! task without one it asks with its own key, as the ECS agent uses the instance's role.
//! Images from any other registry are pulled as the engine is configured to.

use crate::client::EcsClient;
use base64::Engine;
use bollard::auth::DockerCredentials;
use std::sync::Mutex;

/// Tokens are renewed this long before they expire.
const RENEW_BEFORE_SECONDS: f64 = 600.0;

/// Berth's registry, found through the control plane, and the last token it gave.
pub(crate) struct RegistryAuth {
    client: EcsClient,
    /// The endpoint's `host:port`, where the registry is unless the token says otherwise.
    endpoint_host: String,
    token: Mutex<Option<Token>>,
}

/// A token, the registry's `host:port` (`proxyEndpoint` without the scheme) and its expiry.
#[derive(Clone)]
struct Token {
    credentials: DockerCredentials,
    host: String,
    expires: f64,
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// `host:port` of a URL.
fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_string()
}

fn lives_in(image: &str, host: &str) -> bool {
    !host.is_empty() && image.starts_with(&format!("{host}/"))
}

impl RegistryAuth {
    /// The registry of `client`'s control plane.
    pub(crate) fn new(client: EcsClient) -> Self {
        let endpoint_host = host_of(client.endpoint());
        Self {
            client,
            endpoint_host,
            token: Mutex::new(None),
        }
    }

    /// The client the agent asks with.
    pub(crate) fn client(&self) -> &EcsClient {
        &self.client
    }

    /// Credentials for `image` when it lives in Berth's registry: at the endpoint's address,
    /// or at the `proxyEndpoint` GetAuthorizationToken names (a separate registry listener).
    pub(crate) async fn credentials_for(
        &self,
        image: &str,
    ) -> Result<Option<DockerCredentials>, String> {
        let token = match self.own_token().await {
            Ok(t) => t,
            // Only an image of Berth's own needs the token; others pull without it.
            Err(e) if lives_in(image, &self.endpoint_host) => return Err(e),
            Err(_) => return Ok(None),
        };
        Ok(lives_in(image, &token.host).then_some(token.credentials))
    }

    /// Whether `image` lives in Berth's registry: at the endpoint's address, or at the
    /// `proxyEndpoint` the agent's own token names.
    pub(crate) async fn holds(&self, image: &str) -> bool {
        lives_in(image, &self.endpoint_host)
            || self
                .own_token()
                .await
                .is_ok_and(|t| lives_in(image, &t.host))
    }

    /// A login asked for as the role session `role` signs with: the registry then lets the
    /// pull through only as far as the role's policy allows.
    pub(crate) async fn credentials_as(
        &self,
        role: &EcsClient,
    ) -> Result<DockerCredentials, String> {
        Ok(self.fetch(role).await?.credentials)
    }

    /// The agent's own token, asked for again when it nears its expiry.
    async fn own_token(&self) -> Result<Token, String> {
        if let Some(t) = self.cached()
            && t.expires - now() > RENEW_BEFORE_SECONDS
        {
            return Ok(t);
        }
        let token = self.fetch(&self.client).await?;
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
        Ok(token)
    }

    /// A token, asked for with `client`'s credentials.
    async fn fetch(&self, client: &EcsClient) -> Result<Token, String> {
        let answer: serde_json::Value = client
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
        let host = data["proxyEndpoint"]
            .as_str()
            .map(host_of)
            .unwrap_or_else(|| self.endpoint_host.clone());
        let token = Token {
            credentials: DockerCredentials {
                username: Some(username.to_string()),
                password: Some(password.to_string()),
                serveraddress: Some(host.clone()),
                ..DockerCredentials::default()
            },
            host,
            expires: data["expiresAt"].as_f64().unwrap_or_else(now),
        };
        Ok(token)
    }

    fn cached(&self) -> Option<Token> {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

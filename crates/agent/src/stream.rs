//! The assignment stream: a WebSocket to the control plane, kept open, re-opened with backoff.
//! What arrives on it goes to a [`Host`]: the Docker-backed [`crate::manager::Manager`], or a
//! simulated host of [`crate::simulator`].

use crate::client::EcsClient;
use crate::health::HealthBoard;
use berth_types::protocol::{
    AGENT_WS_PATH, AgentMessage, AssignedTask, ManifestEntry, ServerMessage,
};
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The first and the longest pause between reconnects.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(10));
/// Silence after which the stream counts as dead (the server sends a heartbeat every 20 s).
const SILENCE: Duration = Duration::from_secs(90);

/// What runs the tasks the stream assigns.
pub(crate) trait Host: Send + Sync + 'static {
    /// New tasks, or new desired statuses of known ones.
    fn apply(self: &Arc<Self>, tasks: Vec<AssignedTask>);
    /// The control plane's full list of this host's tasks: anything else is to go.
    fn reconcile(self: &Arc<Self>, manifest: &[ManifestEntry]) -> impl Future<Output = ()> + Send;
    /// Container health, published whenever it changes.
    fn health(&self) -> &HealthBoard;
}

/// Why the stream stopped for good.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The agent is shutting down.
    Shutdown,
    /// The control plane refuses this instance (deregistered or unknown).
    Refused(String),
}

fn stream_url(endpoint: &str, instance_arn: &str) -> String {
    let ws = endpoint
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    // The ARN's `:` and `/` are escaped, so the signed query and the sent one agree.
    let arn = instance_arn.replace(':', "%3A").replace('/', "%2F");
    format!("{ws}{AGENT_WS_PATH}?containerInstanceArn={arn}")
}

/// Holds the stream until shutdown or until the control plane refuses the instance.
pub(crate) async fn run<H: Host>(
    client: &EcsClient,
    instance_arn: &str,
    manager: &Arc<H>,
    mut shutdown: watch::Receiver<bool>,
) -> Ended {
    let mut pause = BACKOFF.0;
    loop {
        if *shutdown.borrow() {
            return Ended::Shutdown;
        }
        match session(client, instance_arn, manager, &mut shutdown).await {
            Ok(ended) => return ended,
            Err(SessionError::Refused(why)) => return Ended::Refused(why),
            Err(SessionError::Broken { opened, why }) => {
                if opened {
                    pause = BACKOFF.0;
                }
                tracing::warn!(reason = %why, retry_in = ?pause, "assignment stream lost");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => return Ended::Shutdown,
        }
        pause = (pause * 2).min(BACKOFF.1);
    }
}

enum SessionError {
    Refused(String),
    Broken { opened: bool, why: String },
}

async fn session<H: Host>(
    client: &EcsClient,
    instance_arn: &str,
    manager: &Arc<H>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Ended, SessionError> {
    let broken = |opened: bool| move |e: String| SessionError::Broken { opened, why: e };
    let url = stream_url(client.endpoint(), instance_arn);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| broken(false)(e.to_string()))?;
    // Signed as the GET it starts as; the server checks it before upgrading.
    let http_url = url.replacen("ws", "http", 1);
    for (name, value) in client
        .sign("GET", &http_url, &[], &[])
        .map_err(|e| broken(false)(e.to_string()))?
    {
        if let (Ok(n), Ok(v)) = (
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()),
            value.parse(),
        ) {
            request.headers_mut().insert(n, v);
        }
    }
    let connector = Some(client.trust().websocket());
    let (mut ws, _) =
        match tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector)
            .await
        {
            Ok(ok) => ok,
            Err(tokio_tungstenite::tungstenite::Error::Http(response))
                if response.status().is_client_error() =>
            {
                let body = response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                return Err(SessionError::Refused(body));
            }
            Err(e) => return Err(broken(false)(e.to_string())),
        };
    tracing::info!(instance = %instance_arn, "assignment stream open");
    let mut health = manager.health().subscribe();
    // A new connection publishes all health: reports sent on a broken one may be lost.
    health.mark_changed();
    loop {
        let next = tokio::select! {
            _ = shutdown.changed() => {
                let _ = ws.close(None).await;
                return Ok(Ended::Shutdown);
            }
            Ok(()) = health.changed() => {
                let containers = manager.health().snapshot();
                if containers.is_empty() {
                    continue;
                }
                let text = serde_json::to_string(&AgentMessage::PublishHealthRequest { containers })
                    .map_err(|e| broken(true)(e.to_string()))?;
                ws.send(Message::Text(text.into()))
                    .await
                    .map_err(|e| broken(true)(e.to_string()))?;
                continue;
            }
            next = tokio::time::timeout(SILENCE, ws.next()) => next,
        };
        let message = match next {
            Err(_) => return Err(broken(true)("no message for 90 s".into())),
            Ok(None) => return Err(broken(true)("closed by the server".into())),
            Ok(Some(Err(e))) => return Err(broken(true)(e.to_string())),
            Ok(Some(Ok(m))) => m,
        };
        let Message::Text(text) = message else {
            continue;
        };
        let reply = match serde_json::from_str::<ServerMessage>(&text) {
            Ok(ServerMessage::PayloadMessage {
                message_id, tasks, ..
            }) => {
                manager.apply(tasks);
                AgentMessage::AckRequest { message_id }
            }
            Ok(ServerMessage::TaskManifestMessage { message_id, tasks }) => {
                manager.reconcile(&tasks).await;
                AgentMessage::AckRequest { message_id }
            }
            Ok(ServerMessage::HeartbeatMessage { message_id }) => {
                AgentMessage::HeartbeatAckRequest { message_id }
            }
            Err(e) => {
                tracing::warn!(error = %e, "unreadable message from the control plane");
                continue;
            }
        };
        let reply = serde_json::to_string(&reply).map_err(|e| broken(true)(e.to_string()))?;
        ws.send(Message::Text(reply.into()))
            .await
            .map_err(|e| broken(true)(e.to_string()))?;
    }
}

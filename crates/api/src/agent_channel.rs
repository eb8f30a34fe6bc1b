//! `GET /ws?containerInstanceArn=...`: the stream that tells one agent what to run.
//!
//! On connect the agent receives every task it should have (a payload with full specs, then the
//! manifest), then a payload whenever one of its tasks changes, a heartbeat every
//! [`HEARTBEAT`], and the manifest again every [`MANIFEST`]. The instance counts as
//! `agentConnected` while the stream is open.

use crate::AppState;
use crate::control_errors::refused;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use berth_control::assignments::Sent;
use berth_types::protocol::{AgentMessage, ServerMessage};
use serde::Deserialize;
use std::time::Duration;

/// The read buffer of an agent's stream, in bytes.
const AGENT_READ_BUFFER: usize = 8 * 1024;

/// Time between heartbeats.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(20);
/// Time between manifests.
pub(crate) const MANIFEST: Duration = Duration::from_secs(60);

/// The query of the upgrade request.
#[derive(Deserialize)]
pub(crate) struct StreamQuery {
    /// The instance the agent registered.
    #[serde(rename = "containerInstanceArn")]
    pub container_instance_arn: String,
}

/// Upgrades to the agent stream once the instance is known to be registered.
pub(crate) async fn handle(
    State(app): State<AppState>,
    Query(query): Query<StreamQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let arn = query.container_instance_arn;
    let allowed = app
        .authenticate(&method, &uri, &headers, &[])
        .and_then(|(_, principal)| {
            let agent_key = match &principal {
                crate::auth::Principal::Agent { key, .. } => Some(key.id.clone()),
                _ => None,
            };
            let ask = crate::policy::Ask {
                action: "ecs:Poll".into(),
                resource: arn.clone(),
                agent_facing: true,
                ..Default::default()
            };
            app.authorize(
                &principal,
                ask,
                berth_types::ErrorCode::AccessDeniedException,
            )
            .map(|()| agent_key)
        });
    let agent_key = match allowed {
        Ok(key) => key,
        Err(e) => return (StatusCode::FORBIDDEN, e.body()).into_response(),
    };
    let wake = match app.control.subscribe_agent(&arn) {
        Ok(rx) => rx,
        Err(e) => return (StatusCode::BAD_REQUEST, refused(e).body()).into_response(),
    };
    // The engine's default read buffer (128 KiB, allocated as the stream opens) would cost
    // 1.3 GB at 10,000 agents; their frames (acknowledgements, health) are small, and a
    // larger one grows it (docs/design/scale.md).
    ws.read_buffer_size(AGENT_READ_BUFFER)
        .on_upgrade(move |socket| async move {
            app.control.set_agent_connected(&arn, true);
            tracing::info!(instance = %arn, "agent connected");
            if let Err(e) = stream(&app, &arn, agent_key.as_deref(), socket, wake).await {
                tracing::info!(instance = %arn, reason = %e, "agent stream ended");
            }
            app.control.set_agent_connected(&arn, false);
            tracing::info!(instance = %arn, "agent disconnected");
        })
}

struct Stream {
    socket: WebSocket,
    seq: u64,
    sent: Sent,
}

impl Stream {
    async fn send(&mut self, message: &ServerMessage) -> Result<(), String> {
        let text = serde_json::to_string(message).map_err(|e| e.to_string())?;
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| format!("send failed: {e}"))
    }

    async fn send_assignments(&mut self, app: &AppState, arn: &str) -> Result<(), String> {
        let tasks = app.control.pending_assignments(arn, &mut self.sent);
        if tasks.is_empty() {
            return Ok(());
        }
        self.seq += 1;
        let message = ServerMessage::PayloadMessage {
            message_id: uuid::Uuid::new_v4().to_string(),
            seq_num: self.seq,
            tasks,
        };
        self.send(&message).await
    }

    async fn send_manifest(&mut self, app: &AppState, arn: &str) -> Result<(), String> {
        let message = ServerMessage::TaskManifestMessage {
            message_id: uuid::Uuid::new_v4().to_string(),
            tasks: app.control.manifest(arn),
        };
        self.send(&message).await
    }
}

/// Whether the stream may go on: its instance is registered and the agent's key (if it signed
/// with one) has not been revoked.
fn still_allowed(app: &AppState, arn: &str, agent_key: Option<&str>) -> Result<(), String> {
    app.control
        .check_agent_instance(arn)
        .map_err(|e| e.to_string())?;
    match agent_key {
        Some(id) if app.control.agent_key(id).is_none() => {
            Err(format!("agent key {id} was revoked"))
        }
        _ => Ok(()),
    }
}

async fn stream(
    app: &AppState,
    arn: &str,
    agent_key: Option<&str>,
    socket: WebSocket,
    mut wake: tokio::sync::watch::Receiver<u64>,
) -> Result<(), String> {
    let mut s = Stream {
        socket,
        seq: 0,
        sent: Sent::new(),
    };
    let mut shutdown = app.shutdown.clone();
    s.send_assignments(app, arn).await?;
    s.send_manifest(app, arn).await?;
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut manifest = tokio::time::interval(MANIFEST);
    heartbeat.tick().await;
    manifest.tick().await;
    loop {
        tokio::select! {
            changed = wake.changed() => {
                changed.map_err(|_| "control plane closed".to_string())?;
                if let Err(e) = still_allowed(app, arn, agent_key) {
                    let _ = s.socket.send(Message::Close(None)).await;
                    return Err(e);
                }
                s.send_assignments(app, arn).await?;
            }
            _ = heartbeat.tick() => {
                if let Err(e) = still_allowed(app, arn, agent_key) {
                    let _ = s.socket.send(Message::Close(None)).await;
                    return Err(e);
                }
                let message = ServerMessage::HeartbeatMessage {
                    message_id: uuid::Uuid::new_v4().to_string(),
                };
                s.send(&message).await?;
            }
            _ = manifest.tick() => s.send_manifest(app, arn).await?,
            _ = shutdown.changed() => {
                let _ = s.socket.send(Message::Close(None)).await;
                return Err("server shutting down".into());
            }
            incoming = s.socket.recv() => match incoming {
                None | Some(Ok(Message::Close(_))) => return Err("agent closed the stream".into()),
                Some(Err(e)) => return Err(format!("receive failed: {e}")),
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<AgentMessage>(&text) {
                    Ok(AgentMessage::PublishHealthRequest { containers }) => {
                        let published = tokio::task::block_in_place(|| {
                            app.control.publish_health(arn, &containers)
                        });
                        if let Err(e) = published {
                            tracing::warn!(instance = %arn, error = %e, "health report not stored");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(instance = %arn, error = %e, "unreadable agent message"),
                },
                Some(Ok(_)) => {}
            },
        }
    }
}

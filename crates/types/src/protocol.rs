//! The agent channel: the messages the control plane and an agent exchange over the WebSocket at
//! [`AGENT_WS_PATH`].
//!
//! Shaped after the real ECS agent's ACS channel: frames are JSON `{"type": ..., "message": ...}`,
//! assignments carry full task specs with a desired status and a sequence number, the agent
//! acknowledges each, heartbeats keep the stream alive, and a manifest lists every task the host
//! should have so both sides reconcile after a reconnect. State goes back over the public
//! `SubmitTaskStateChange` call, not over this channel.

use crate::generated::ecs::{HealthStatus, Task, TaskDefinition};
use serde::{Deserialize, Serialize};

/// Path of the agent WebSocket; query `containerInstanceArn` names the instance.
pub const AGENT_WS_PATH: &str = "/ws";

/// One task as the agent needs it: the task (arn, desiredStatus, overrides) and its definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignedTask {
    /// The task, as DescribeTasks shows it.
    pub task: Task,
    /// The task's definition.
    #[serde(rename = "taskDefinition")]
    pub task_definition: TaskDefinition,
}

/// A manifest entry: a task the host should have, and what should become of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The task ARN.
    #[serde(rename = "taskArn")]
    pub task_arn: String,
    /// `RUNNING` or `STOPPED`.
    #[serde(rename = "desiredStatus")]
    pub desired_status: String,
}

/// Control plane → agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "message")]
pub enum ServerMessage {
    /// Tasks to run or stop (full specs).
    PayloadMessage {
        /// Acknowledge with this id.
        #[serde(rename = "messageId")]
        message_id: String,
        /// Increases with every payload of one stream.
        #[serde(rename = "seqNum")]
        seq_num: u64,
        /// The tasks.
        tasks: Vec<AssignedTask>,
    },
    /// Every task the host should have; anything else the agent finds is stopped.
    TaskManifestMessage {
        /// Acknowledge with this id.
        #[serde(rename = "messageId")]
        message_id: String,
        /// The tasks.
        tasks: Vec<ManifestEntry>,
    },
    /// Keep-alive.
    HeartbeatMessage {
        /// Acknowledge with this id.
        #[serde(rename = "messageId")]
        message_id: String,
    },
}

/// The health of one container, as its health check last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerHealth {
    /// The task ARN.
    #[serde(rename = "taskArn")]
    pub task_arn: String,
    /// The container's name in the task definition.
    #[serde(rename = "containerName")]
    pub container_name: String,
    /// HEALTHY, UNHEALTHY or UNKNOWN (still starting).
    #[serde(rename = "healthStatus")]
    pub health_status: HealthStatus,
}

/// Agent → control plane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "message")]
pub enum AgentMessage {
    /// A payload or manifest was received and applied.
    AckRequest {
        /// The acknowledged message.
        #[serde(rename = "messageId")]
        message_id: String,
    },
    /// Container health, as the ECS agent sends it over its telemetry channel.
    PublishHealthRequest {
        /// Every container with a health check on the host.
        containers: Vec<ContainerHealth>,
    },
    /// A heartbeat was received.
    HeartbeatAckRequest {
        /// The acknowledged heartbeat.
        #[serde(rename = "messageId")]
        message_id: String,
    },
}

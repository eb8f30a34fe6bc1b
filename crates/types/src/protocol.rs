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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssignedTask {
    /// The task, as DescribeTasks shows it.
    pub task: Task,
    /// The task's definition.
    #[serde(rename = "taskDefinition")]
    pub task_definition: TaskDefinition,
    /// Its `efsVolumeConfiguration` volumes, resolved by the control plane against the file
    /// systems the operator declared, so that any host can mount them.
    #[serde(
        rename = "sharedVolumes",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub shared_volumes: Vec<SharedVolume>,
    /// An awsvpc task's network interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<TaskNetwork>,
}

/// An awsvpc task's network interface, as the control plane allocated it: the agent gives the
/// task's network namespace (its pause container) this address on the VPC's network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskNetwork {
    /// `eni-…`.
    pub interface_id: String,
    /// The VPC (`vpc-…`): one Docker network per VPC on each host.
    pub vpc_id: String,
    /// The VPC's IPv4 block, e.g. `10.0.0.0/16`: the Docker network's subnet.
    pub vpc_cidr: String,
    /// A number unique to the VPC in the account: its segment of the overlay between hosts
    /// (a later slice; one host needs none).
    pub vni: u32,
    /// The subnet (`subnet-…`).
    pub subnet_id: String,
    /// The task's address, e.g. `10.0.1.4`.
    pub ipv4_address: String,
    /// The interface's MAC address (`02:42:` and the address's bytes).
    pub mac_address: String,
    /// The task's host name, e.g. `ip-10-0-1-4.ec2.internal`.
    pub private_dns_name: String,
    /// The security groups (`sg-…`), for the firewall of a later slice.
    pub security_groups: Vec<String>,
}

/// A task definition volume on a shared file system: where to mount it from, or why it cannot
/// be mounted (the task then stops with that reason before any container is created).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedVolume {
    /// The volume's name in the task definition.
    pub name: String,
    /// The file system id the task definition names.
    #[serde(rename = "fileSystemId")]
    pub file_system_id: String,
    /// Where the data is, when the volume can be mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SharedSource>,
    /// Mounted read-only whatever the mount points say (IAM authorization without
    /// `elasticfilesystem:ClientWrite`).
    #[serde(
        rename = "readOnly",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub read_only: bool,
    /// Why the volume cannot be mounted (the task's stop reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The directory of a shared file system a volume mounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "engine", rename_all = "lowercase")]
pub enum SharedSource {
    /// A GlusterFS volume, mounted with its FUSE client.
    Glusterfs {
        /// The servers to fetch the volume file from (the first, then the others).
        servers: Vec<String>,
        /// glusterd's port, when it is not 24007.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        port: Option<u16>,
        /// The GlusterFS volume.
        volume: String,
        /// The directory in it (`/` for the whole volume).
        path: String,
    },
    /// An NFS export, mounted by the kernel as a Docker `local` volume.
    Nfs {
        /// The NFS server.
        server: String,
        /// The directory on it (the export joined with the volume's root directory).
        path: String,
        /// Mount options (`nfsvers=4.1,hard,...`).
        options: String,
    },
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

/// The agent-facing call that fetches a task's role credentials: `BerthAgent.<this>`.
pub const TASK_CREDENTIALS_OPERATION: &str = "GetTaskCredentials";

/// The agent-facing call that fetches credentials of a task's execution role, which the agent
/// acts as for the task (its pulls from Berth's registry, its log streams):
/// `BerthAgent.<this>`. They never reach the task's containers.
pub const TASK_EXECUTION_CREDENTIALS_OPERATION: &str = "GetTaskExecutionCredentials";

/// `BerthAgent.GetTaskCredentials`, `GetTaskExecutionCredentials` and `GetTaskSecrets`: what
/// they are asked about, a task placed
/// on the caller's container instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRequest {
    /// The task.
    #[serde(rename = "taskArn")]
    pub task_arn: String,
}

/// Temporary credentials of a role session, in the form the ECS credentials endpoint serves
/// them to a task's containers (and the SDKs read): `{"RoleArn", "AccessKeyId",
/// "SecretAccessKey", "Token", "Expiration"}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleCredentials {
    /// The role the session is of.
    pub role_arn: String,
    /// `ASIA...`.
    pub access_key_id: String,
    /// The session's secret.
    pub secret_access_key: String,
    /// The session token (`X-Amz-Security-Token`).
    pub token: String,
    /// When it stops working: `2026-12-01T08:03:31Z`.
    pub expiration: String,
}

/// Never the secret or the token: credentials end up in debug logs otherwise.
impl std::fmt::Debug for RoleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleCredentials")
            .field("role_arn", &self.role_arn)
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// The agent-facing call that fetches a task's secrets: `BerthAgent.<this>`.
pub const TASK_SECRETS_OPERATION: &str = "GetTaskSecrets";

/// The answer to `BerthAgent.GetTaskSecrets` (asked with a [`TaskRequest`]): the values of the
/// `secrets` and `repositoryCredentials` of a task, read with its execution role.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSecrets {
    /// Container name → environment variable → value.
    #[serde(default)]
    pub environment: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// Container name → the registry credentials its `repositoryCredentials` name.
    #[serde(default, rename = "repositoryCredentials")]
    pub repository_credentials: std::collections::BTreeMap<String, RegistryCredentials>,
    /// Container name → log option → value, from its `logConfiguration.secretOptions`.
    #[serde(default, rename = "logOptions")]
    pub log_options: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

/// A private registry's user name and password, from a Secrets Manager secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryCredentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// Names only: secret values end up in debug logs otherwise.
impl std::fmt::Debug for TaskSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.environment.values().flat_map(|e| e.keys()).collect();
        let options: Vec<_> = self.log_options.values().flat_map(|e| e.keys()).collect();
        f.debug_struct("TaskSecrets")
            .field("environment", &names)
            .field("log_options", &options)
            .field(
                "repository_credentials",
                &self.repository_credentials.keys(),
            )
            .finish()
    }
}

/// The user name only.
impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

//! Shared file systems: what an `efsVolumeConfiguration` names, mapped onto file systems the
//! operator runs (GlusterFS volumes, NFS exports) and declares in a JSON file
//! (`berth server --file-systems`). The control plane resolves each such volume of a task when
//! it hands the task to an agent, so the task can land on any host and find its data there.
//! Everything a definition asks that the declaration cannot give (an undeclared file system,
//! transit encryption over a plain transport, a task role without `ClientMount`) becomes the
//! reason the task stops; nothing is dropped.

use crate::ControlPlane;
use crate::policy::{self, Ask, Decision};
use berth_types::ecs::{
    EFSAuthorizationConfigIAM, EFSTransitEncryption, EFSVolumeConfiguration, TaskDefinition,
};
use berth_types::protocol::{SharedSource, SharedVolume};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The file systems and access points an operator declared.
#[derive(Debug, Clone, Default)]
pub struct FileSystems {
    file_systems: BTreeMap<String, FileSystem>,
    access_points: BTreeMap<String, AccessPoint>,
}

/// The declaration file, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Declarations {
    #[serde(default)]
    file_systems: Vec<FileSystem>,
    #[serde(default)]
    access_points: Vec<AccessPoint>,
}

/// One declared file system.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileSystem {
    file_system_id: String,
    /// `glusterfs` or `nfs`.
    engine: String,
    /// glusterfs: the servers the volume file comes from.
    #[serde(default)]
    servers: Vec<String>,
    /// glusterfs: glusterd's port when not 24007.
    port: Option<u16>,
    /// glusterfs: the volume.
    volume: Option<String>,
    /// nfs: the server.
    server: Option<String>,
    /// nfs: the exported directory.
    export: Option<String>,
    /// nfs: mount options.
    options: Option<String>,
    /// Whether the transport is encrypted (gluster `client.ssl`/`server.ssl`; NFS `xprtsec`):
    /// what `transitEncryption: ENABLED` needs.
    #[serde(default)]
    tls: bool,
}

/// One declared access point: a directory of a file system.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AccessPoint {
    access_point_id: String,
    file_system_id: String,
    /// The directory the access point exposes as its root.
    path: String,
}

impl FileSystems {
    /// Reads and checks the declaration file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the file systems file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Checks declarations given as JSON (the file's contents).
    pub fn parse(text: &str) -> Result<Self, String> {
        let declared: Declarations = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut out = Self::default();
        for fs in declared.file_systems {
            check_id(&fs.file_system_id, "fs-", "fileSystemId")?;
            check_engine(&fs)?;
            let id = fs.file_system_id.clone();
            if out.file_systems.insert(id.clone(), fs).is_some() {
                return Err(format!("file system {id} is declared twice"));
            }
        }
        for ap in declared.access_points {
            check_id(&ap.access_point_id, "fsap-", "accessPointId")?;
            let id = ap.access_point_id.clone();
            if !out.file_systems.contains_key(&ap.file_system_id) {
                return Err(format!(
                    "access point {id} names file system {}, which is not declared",
                    ap.file_system_id
                ));
            }
            directory(&ap.path).map_err(|e| format!("access point {id}: path {e}"))?;
            if out.access_points.insert(id.clone(), ap).is_some() {
                return Err(format!("access point {id} is declared twice"));
            }
        }
        Ok(out)
    }

    /// How many file systems are declared.
    pub fn len(&self) -> usize {
        self.file_systems.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.file_systems.is_empty()
    }
}

/// `fs-` or `fsap-` and 8 to 40 lower-case hex digits, as EFS ids are.
fn check_id(id: &str, prefix: &str, field: &str) -> Result<(), String> {
    let hex = id.strip_prefix(prefix).unwrap_or_default();
    let ok = (8..=40).contains(&hex.len())
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field} {id:?} must be {prefix} and 8 to 40 lower-case hex digits, as EFS ids are"
        ))
    }
}

fn check_engine(fs: &FileSystem) -> Result<(), String> {
    let id = &fs.file_system_id;
    match fs.engine.as_str() {
        "glusterfs" => {
            if fs.servers.is_empty() || fs.volume.as_deref().unwrap_or_default().is_empty() {
                return Err(format!(
                    "file system {id}: a glusterfs file system needs \"servers\" and \"volume\""
                ));
            }
            if fs.server.is_some() || fs.export.is_some() || fs.options.is_some() {
                return Err(format!(
                    "file system {id}: \"server\", \"export\" and \"options\" are for nfs; glusterfs takes \"servers\", \"port\" and \"volume\""
                ));
            }
        }
        "nfs" => {
            if fs.server.as_deref().unwrap_or_default().is_empty() || fs.export.is_none() {
                return Err(format!(
                    "file system {id}: an nfs file system needs \"server\" and \"export\""
                ));
            }
            if !fs.servers.is_empty() || fs.port.is_some() || fs.volume.is_some() {
                return Err(format!(
                    "file system {id}: \"servers\", \"port\" and \"volume\" are for glusterfs; nfs takes \"server\", \"export\" and \"options\""
                ));
            }
            let options = fs.options.as_deref().unwrap_or_default();
            if fs.tls && !options.contains("xprtsec=") {
                return Err(format!(
                    "file system {id}: \"tls\": true needs xprtsec=tls or xprtsec=mtls in \"options\""
                ));
            }
            directory(fs.export.as_deref().unwrap_or_default())
                .map_err(|e| format!("file system {id}: export {e}"))?;
        }
        other => {
            return Err(format!(
                "file system {id}: engine {other:?} is not one Berth mounts: use glusterfs or nfs"
            ));
        }
    }
    Ok(())
}

/// The longest directory a volume may name.
const MAX_DIRECTORY: usize = 1024;

/// A directory as an absolute path without `.`/`..` or doubled slashes (`/` for the root). Its
/// names are of letters, digits and `._-+@=,` only: the path reaches the mount helper's command
/// line as root, where a space or a glob would split it into options of the helper's own.
fn directory(path: &str) -> Result<String, String> {
    if path.len() > MAX_DIRECTORY {
        return Err(format!("is longer than {MAX_DIRECTORY} characters"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-+@=,".contains(c);
    let mut parts = vec![];
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return Err(format!("{path:?} may not contain '..'"));
        }
        if !part.chars().all(allowed) {
            return Err(format!(
                "{path:?} may only have names of letters, digits and . _ - + @ = ,"
            ));
        }
        parts.push(part);
    }
    Ok(format!("/{}", parts.join("/")))
}

/// Joins directory `sub` under `base` (both from [`directory`]).
fn join(base: &str, sub: &str) -> String {
    match (base, sub) {
        ("/", sub) => sub.to_string(),
        (base, "/") => base.to_string(),
        (base, sub) => format!("{base}{sub}"),
    }
}

impl ControlPlane {
    /// Uses these file system declarations from now on.
    pub fn with_file_systems(mut self, file_systems: FileSystems) -> Self {
        self.file_systems = file_systems;
        self
    }

    /// The `efsVolumeConfiguration` volumes of a task, resolved for its agent. `task_role` is
    /// the role the task's containers act as, for volumes with IAM authorization.
    pub fn shared_volumes(
        &self,
        td: &TaskDefinition,
        task_role: Option<&str>,
    ) -> Vec<SharedVolume> {
        let mut out = vec![];
        for volume in td.volumes.iter().flatten() {
            let Some(config) = &volume.efs_volume_configuration else {
                continue;
            };
            let name = volume.name.clone().unwrap_or_default();
            let resolved = self.resolve(&name, config, task_role);
            let (source, read_only, error) = match resolved {
                Ok((source, read_only)) => (Some(source), read_only, None),
                Err(e) => (None, false, Some(e)),
            };
            out.push(SharedVolume {
                name,
                file_system_id: config.file_system_id.clone(),
                source,
                read_only,
                error,
            });
        }
        out
    }

    /// Where volume `name` comes from and whether it is read-only, or why it cannot be mounted.
    fn resolve(
        &self,
        name: &str,
        config: &EFSVolumeConfiguration,
        task_role: Option<&str>,
    ) -> Result<(SharedSource, bool), String> {
        let id = &config.file_system_id;
        let failed = |why: String| {
            format!(
                "ResourceInitializationError: failed to mount shared volume '{name}' ({id}): {why}"
            )
        };
        let field = |field: &str, why: &str| {
            format!("efsVolumeConfiguration.{field} (volume '{name}'): {why}")
        };
        let fs = self.file_systems.file_systems.get(id).ok_or_else(|| {
            failed(format!(
                "file system {id} is not declared on this Berth server (declare it in the file given to berth server --file-systems)"
            ))
        })?;
        let auth = config.authorization_config.as_ref();
        let iam = auth.and_then(|a| a.iam) == Some(EFSAuthorizationConfigIAM::Enabled);
        let access_point = auth.and_then(|a| a.access_point_id.as_deref());
        let encrypted = config.transit_encryption == Some(EFSTransitEncryption::Enabled);
        if (iam || access_point.is_some()) && !encrypted {
            return Err(field(
                "transitEncryption",
                "must be ENABLED when an access point or IAM authorization is used",
            ));
        }
        if encrypted && !fs.tls {
            return Err(field(
                "transitEncryption",
                &format!(
                    "is ENABLED but file system {id} is declared without an encrypted transport (\"tls\": true); Berth never mounts it unencrypted instead"
                ),
            ));
        }
        if config.transit_encryption_port.is_some() {
            return Err(field(
                "transitEncryptionPort",
                "is not used by Berth, which mounts over the file system's declared transport: remove it",
            ));
        }
        let root = config.root_directory.as_deref().unwrap_or("/");
        let mut path = directory(root).map_err(|e| field("rootDirectory", &e))?;
        if let Some(ap_id) = access_point {
            if path != "/" {
                return Err(field(
                    "rootDirectory",
                    "must be omitted or '/' when an access point is used: the access point's path is the root",
                ));
            }
            let ap = self
                .file_systems
                .access_points
                .get(ap_id)
                .filter(|ap| ap.file_system_id == *id)
                .ok_or_else(|| {
                    failed(format!(
                        "access point {ap_id} of {id} is not declared on this Berth server"
                    ))
                })?;
            path = directory(&ap.path).unwrap_or_default();
        }
        let read_only = if iam {
            self.iam_read_only(id, task_role)
                .map_err(|e| field("authorizationConfig.iam", &e))?
        } else {
            false
        };
        let source = match fs.engine.as_str() {
            "nfs" => SharedSource::Nfs {
                server: fs.server.clone().unwrap_or_default(),
                path: join(
                    &directory(fs.export.as_deref().unwrap_or_default()).unwrap_or_default(),
                    &path,
                ),
                options: fs.options.clone().unwrap_or_default(),
            },
            _ => SharedSource::Glusterfs {
                servers: fs.servers.clone(),
                port: fs.port,
                volume: fs.volume.clone().unwrap_or_default(),
                path,
            },
        };
        Ok((source, read_only))
    }

    /// With IAM authorization, what the task role may do on the file system, as EFS checks it
    /// when the file system is mounted: `ClientMount` to mount at all, `ClientWrite` to write
    /// (otherwise the volume is read-only).
    fn iam_read_only(&self, id: &str, task_role: Option<&str>) -> Result<bool, String> {
        let role = task_role.ok_or("is ENABLED but the task has no taskRoleArn")?;
        let name = role.rsplit('/').next().unwrap_or(role);
        let documents = self.role_policies(name);
        let partition = &self.partition;
        let resource = format!(
            "arn:aws:elasticfilesystem:{}:{}:file-system/{id}",
            partition.region, partition.account
        );
        let allowed = |action: &str| {
            let ask = Ask {
                action: format!("elasticfilesystem:{action}"),
                resource: resource.clone(),
                ..Ask::default()
            };
            policy::evaluate(&documents, &ask) == Decision::Allow
        };
        if !allowed("ClientMount") {
            return Err(format!(
                "the task role {role} is not allowed elasticfilesystem:ClientMount on {resource}"
            ));
        }
        Ok(!allowed("ClientWrite"))
    }
}

//! Task-level `cpu` and `memory` as the ECS agent enforces them on Linux: the task's containers
//! run under a cgroup of the task's own (`/berth/<task id>`, Docker's `CgroupParent`) whose
//! limits are the task size, so together they can never use more than the task was given,
//! whatever each container may. CPU is a CFS quota of `cpu / 1024` CPUs per 100 ms period (at
//! least 1 ms, as the ECS agent sets it); memory a hard limit of `memory` MiB.
//!
//! Only with Docker's `cgroupfs` driver, on cgroup v1 or v2: under the `systemd` driver a parent
//! must be a systemd slice, whose limits only systemd may set, so such a host does not
//! advertise `com.amazonaws.ecs.capability.task-cpu-mem-limit` and task sizes are reservations
//! for placement only there.

use berth_types::ecs::TaskDefinition;
use std::path::{Path, PathBuf};

/// The CFS period, in microseconds (100 ms, as the ECS agent uses).
const PERIOD_US: u64 = 100_000;
/// The smallest quota the ECS agent sets, in microseconds.
const MIN_QUOTA_US: u64 = 1_000;
/// The cgroup under which every task's cgroup is made.
const PARENT: &str = "berth";

/// A task's size, as its definition gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// CPU units (1024 a CPU).
    pub cpu: Option<u64>,
    /// MiB.
    pub memory: Option<u64>,
}

impl Limits {
    /// The task-level limits of `td`, if it has any.
    pub(crate) fn of(td: &TaskDefinition) -> Option<Self> {
        let number = |s: &Option<String>| s.as_deref().and_then(|v| v.trim().parse::<u64>().ok());
        let limits = Self {
            cpu: number(&td.cpu).filter(|c| *c > 0),
            memory: number(&td.memory).filter(|m| *m > 0),
        };
        (limits.cpu.is_some() || limits.memory.is_some()).then_some(limits)
    }

    fn quota_us(cpu: u64) -> u64 {
        (cpu * PERIOD_US / 1024).max(MIN_QUOTA_US)
    }
}

/// Where task cgroups are made on this host.
#[derive(Debug, Clone)]
pub(crate) struct TaskCgroups {
    /// The cgroup file system (`/sys/fs/cgroup`).
    root: PathBuf,
    /// The unified hierarchy (cgroup v2) rather than one per controller (v1).
    unified: bool,
}

impl TaskCgroups {
    /// Task cgroups on this host, when Docker's cgroup driver is `driver` and it can have them.
    pub(crate) fn detect(driver: Option<&str>) -> Option<Self> {
        if driver != Some("cgroupfs") {
            return None;
        }
        Some(Self::at(Path::new("/sys/fs/cgroup")))
    }

    /// Task cgroups under the cgroup file system mounted at `root`.
    fn at(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            unified: root.join("cgroup.controllers").exists(),
        }
    }

    /// Makes task `task_id`'s cgroup with `limits`; returns the parent to give its containers.
    pub(crate) fn create(&self, task_id: &str, limits: Limits) -> Result<String, String> {
        let made = if self.unified {
            self.create_unified(task_id, limits)
        } else {
            self.create_per_controller(task_id, limits)
        };
        made.map_err(|e| {
            format!("ResourceInitializationError: cannot create the task's cgroup for its cpu and memory: {e}")
        })?;
        Ok(format!("/{PARENT}/{task_id}"))
    }

    fn create_per_controller(&self, task_id: &str, limits: Limits) -> std::io::Result<()> {
        let cpu = self.root.join("cpu").join(PARENT).join(task_id);
        let memory = self.root.join("memory").join(PARENT).join(task_id);
        std::fs::create_dir_all(&cpu)?;
        std::fs::create_dir_all(&memory)?;
        if let Some(units) = limits.cpu {
            write(&cpu.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
            write(
                &cpu.join("cpu.cfs_quota_us"),
                &Limits::quota_us(units).to_string(),
            )?;
        }
        if let Some(mib) = limits.memory {
            write(
                &memory.join("memory.limit_in_bytes"),
                &(mib << 20).to_string(),
            )?;
        }
        Ok(())
    }

    fn create_unified(&self, task_id: &str, limits: Limits) -> std::io::Result<()> {
        let parent = self.root.join(PARENT);
        let task = parent.join(task_id);
        // Each level hands cpu and memory down, so the task's level can limit them and its
        // containers' levels below can too.
        write(&self.root.join("cgroup.subtree_control"), "+cpu +memory")?;
        std::fs::create_dir_all(&task)?;
        write(&parent.join("cgroup.subtree_control"), "+cpu +memory")?;
        if let Some(units) = limits.cpu {
            let max = format!("{} {PERIOD_US}", Limits::quota_us(units));
            write(&task.join("cpu.max"), &max)?;
        }
        if let Some(mib) = limits.memory {
            write(&task.join("memory.max"), &(mib << 20).to_string())?;
        }
        write(&task.join("cgroup.subtree_control"), "+cpu +memory")
    }

    /// Removes task `task_id`'s cgroup, once its containers have stopped (the engine removed
    /// theirs below it). Only empty cgroups can be removed, so nothing running is touched.
    pub(crate) fn remove(&self, task_id: &str) {
        let dirs: Vec<PathBuf> = if self.unified {
            vec![self.root.join(PARENT).join(task_id)]
        } else {
            // The engine makes the container's cgroup in every controller's hierarchy.
            let controllers = std::fs::read_dir(&self.root)
                .into_iter()
                .flatten()
                .flatten();
            controllers
                .map(|c| c.path().join(PARENT).join(task_id))
                .filter(|d| d.is_dir())
                .collect()
        };
        for dir in dirs {
            if let Err(e) = std::fs::remove_dir(&dir) {
                tracing::warn!(cgroup = %dir.display(), error = %e, "cannot remove a task's cgroup");
            }
        }
    }
}

fn write(path: &Path, value: &str) -> std::io::Result<()> {
    std::fs::write(path, value)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn td(cpu: Option<&str>, memory: Option<&str>) -> TaskDefinition {
        TaskDefinition {
            cpu: cpu.map(str::to_string),
            memory: memory.map(str::to_string),
            ..TaskDefinition::default()
        }
    }

    fn read(path: PathBuf) -> String {
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_limits_are_the_task_size() {
        assert_eq!(Limits::of(&td(None, None)), None);
        let both = Limits::of(&td(Some("256"), Some("512"))).expect("limits");
        assert_eq!((both.cpu, both.memory), (Some(256), Some(512)));
        assert_eq!(Limits::quota_us(256), 25_000);
        assert_eq!(Limits::quota_us(2048), 200_000);
        assert_eq!(Limits::quota_us(2), MIN_QUOTA_US);
    }

    #[test]
    fn per_controller_hierarchies_get_a_quota_and_a_memory_limit() {
        let root = tempfile::tempdir().expect("tempdir");
        for controller in ["cpu", "memory", "pids"] {
            std::fs::create_dir(root.path().join(controller)).expect("controller");
        }
        let cgroups = TaskCgroups::at(root.path());
        let limits = Limits::of(&td(Some("512"), Some("128"))).expect("limits");
        assert_eq!(cgroups.create("t1", limits), Ok("/berth/t1".into()));
        let cpu = root.path().join("cpu/berth/t1");
        assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "50000");
        assert_eq!(read(cpu.join("cpu.cfs_period_us")), "100000");
        let memory = root.path().join("memory/berth/t1/memory.limit_in_bytes");
        assert_eq!(read(memory), (128u64 << 20).to_string());
        // A plain directory tree keeps its files, so only the check that it stays is left.
        cgroups.remove("t1");
        assert!(cpu.exists(), "a cgroup with files in it is not removed");
    }

    #[test]
    fn the_unified_hierarchy_gets_cpu_max_and_memory_max() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::write(root.path().join("cgroup.controllers"), "cpu memory").expect("v2");
        let cgroups = TaskCgroups::at(root.path());
        let limits = Limits::of(&td(Some("1024"), None)).expect("limits");
        assert_eq!(cgroups.create("t2", limits), Ok("/berth/t2".into()));
        let task = root.path().join("berth/t2");
        assert_eq!(read(task.join("cpu.max")), "100000 100000");
        assert!(!task.join("memory.max").exists());
        assert_eq!(
            read(root.path().join("berth/cgroup.subtree_control")),
            "+cpu +memory"
        );
    }

    #[test]
    fn only_the_cgroupfs_driver_has_task_cgroups() {
        assert!(TaskCgroups::detect(Some("systemd")).is_none());
        assert!(TaskCgroups::detect(None).is_none());
    }
}

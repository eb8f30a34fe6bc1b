//! What a test asks Docker directly: the containers of a task or a cluster (from the labels
//! the agent sets), one `docker inspect` value, and the removal of a cluster's containers.

use std::process::{Command, Stdio};
use std::time::Duration;

/// The ids `docker ps -q` lists with `label`; `all` includes stopped containers.
fn labelled(label: &str, all: bool) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", if all { "-aq" } else { "-q" }, "--filter"])
        .arg(format!("label={label}"))
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Docker container ids of a task, running or not.
pub fn task_containers(task_arn: &str) -> Vec<String> {
    labelled(&format!("com.amazonaws.ecs.task-arn={task_arn}"), true)
}

/// Docker container ids of a cluster that are running.
pub fn running_cluster_containers(cluster: &str) -> Vec<String> {
    labelled(&format!("com.amazonaws.ecs.cluster={cluster}"), false)
}

/// One `docker inspect --format` value.
pub fn docker_inspect(id: &str, format: &str) -> String {
    let out = Command::new("docker")
        .args(["inspect", "--format", format, id])
        .output()
        .expect("docker inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Kills containers with `docker kill`.
pub fn docker_kill(ids: &[String]) {
    for id in ids {
        Command::new("docker")
            .args(["kill", id])
            .output()
            .expect("docker kill");
    }
}

/// Removes every container of a cluster.
pub fn remove_cluster_containers(cluster: &str) {
    // A create the agent sent just before it was killed may still land after a removal: look
    // again until the cluster has stayed empty for a moment.
    let label = format!("com.amazonaws.ecs.cluster={cluster}");
    let mut quiet = 0;
    for _ in 0..20 {
        let ids = labelled(&label, true);
        if ids.is_empty() {
            quiet += 1;
            if quiet == 3 {
                return;
            }
        } else {
            quiet = 0;
            let _ = Command::new("docker")
                .args(["rm", "-f"])
                .args(&ids)
                .stdout(Stdio::null())
                .status();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `docker exec ID sh -c SCRIPT`: its standard output, or what it printed when it failed.
pub fn docker_exec(id: &str, script: &str) -> Result<String, String> {
    let out = Command::new("docker")
        .args(["exec", id, "sh", "-c", script])
        .output()
        .expect("docker exec runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

//! The ranges RegisterTaskDefinition keeps for a container's `linuxParameters`, as the ECS
//! documentation gives them. The messages follow ECS's "Invalid setting for container" form;
//! their exact wording after it is unconfirmed (not seen in an ECS answer), so each names the
//! field, the value and what is accepted.

use crate::error::ControlError;
use berth_types::ecs::ContainerDefinition;

/// Checks the container's `linuxParameters` values.
pub(super) fn check(c: &ContainerDefinition) -> Result<(), ControlError> {
    let Some(linux) = &c.linux_parameters else {
        return Ok(());
    };
    let name = c.name.as_deref().unwrap_or_default();
    let invalid = |what: String| {
        Err(ControlError::client(format!(
            "Invalid setting for container '{name}'. {what}"
        )))
    };
    if let Some(swappiness) = linux.swappiness
        && !(0..=100).contains(&swappiness)
    {
        return invalid(format!(
            "linuxParameters.swappiness is {swappiness}, but must be a whole number between 0 and 100."
        ));
    }
    if let Some(size) = linux.shared_memory_size
        && size <= 0
    {
        return invalid(format!(
            "linuxParameters.sharedMemorySize is {size}, but must be a positive number of MiB."
        ));
    }
    for tmpfs in linux.tmpfs.iter().flatten() {
        if tmpfs.size <= 0 {
            return invalid(format!(
                "linuxParameters.tmpfs size for '{}' is {}, but must be a positive number of MiB.",
                tmpfs.container_path, tmpfs.size
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_types::ecs::{LinuxParameters, Tmpfs};

    fn with(linux: LinuxParameters) -> Result<(), ControlError> {
        check(&ContainerDefinition {
            name: Some("app".into()),
            linux_parameters: Some(linux),
            ..ContainerDefinition::default()
        })
    }

    #[test]
    fn linux_parameters_stay_in_their_ranges() {
        let swappiness = |s| {
            with(LinuxParameters {
                max_swap: Some(0),
                swappiness: Some(s),
                ..LinuxParameters::default()
            })
        };
        assert!(swappiness(0).is_ok() && swappiness(100).is_ok());
        let refused = swappiness(101).expect_err("refused").to_string();
        assert!(
            refused.starts_with("Invalid setting for container 'app'. linuxParameters.swappiness"),
            "{refused}"
        );
        assert!(swappiness(-1).is_err());
        let shm = |size| {
            with(LinuxParameters {
                shared_memory_size: Some(size),
                ..LinuxParameters::default()
            })
        };
        assert!(shm(64).is_ok() && shm(0).is_err());
        let tmpfs = |size| {
            with(LinuxParameters {
                tmpfs: Some(vec![Tmpfs {
                    container_path: "/scratch".into(),
                    size,
                    mount_options: None,
                }]),
                ..LinuxParameters::default()
            })
        };
        assert!(tmpfs(1).is_ok() && tmpfs(0).is_err());
        assert!(check(&ContainerDefinition::default()).is_ok());
    }
}

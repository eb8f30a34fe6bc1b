//! Task images from Berth's own registry, pulled with the right person's rights.
//!
//! Agents pull with their own keys, so without a check anyone allowed to run a task could have
//! an agent fetch an image they may not pull themselves (a confused deputy). So: RunTask,
//! StartTask, CreateService and UpdateService check that the caller may pull every image of
//! the task definition that lives in Berth's registry ([`check_caller_may_pull`]), and an
//! agent may pull only the images of the tasks placed on its own instance
//! ([`placed_on`]).

use crate::{AppState, auth::Principal, policy::Ask};
use berth_control::State;
use berth_types::{ApiError, ErrorCode};

/// The registry host (`host[:port]`) and repository name of an image reference, when it
/// names a registry (Docker's rule: the first component has a `.` or a `:`, or is
/// `localhost`).
pub fn reference(image: &str) -> Option<(&str, &str)> {
    let (host, rest) = image.split_once('/')?;
    if !(host.contains('.') || host.contains(':') || host == "localhost") {
        return None;
    }
    let rest = rest.split_once('@').map_or(rest, |(name, _)| name);
    let name = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => rest,
    };
    Some((host, name))
}

/// The port of `host[:port]` (IPv6 literals bracketed).
fn port_of(host: &str) -> Option<&str> {
    host.rsplit_once(':')
        .map(|(_, port)| port)
        .filter(|p| !p.contains(']'))
}

/// The repositories of Berth's registry that a task definition's images name: images at the
/// registry's port whose repository exists here.
fn berth_repositories(app: &AppState, api_host: &str, images: &[String]) -> Vec<String> {
    let (_, registry) = app.registry_location(api_host);
    let port = port_of(&registry);
    images
        .iter()
        .filter_map(|image| reference(image))
        .filter(|(host, _)| port.is_some() && port_of(host) == port)
        .filter(|(_, name)| app.registry.repository(name).is_ok())
        .map(|(_, name)| name.to_string())
        .collect()
}

/// Refuses a call that would have an agent pull, from Berth's registry, an image the caller
/// may not pull itself (`ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` on its
/// repository, with the repository's policy).
pub fn check_caller_may_pull(
    app: &AppState,
    principal: &Principal,
    definition: &serde_json::Value,
    body: &[u8],
    api_host: &str,
) -> Result<(), ApiError> {
    let images = crate::task_asks::images(definition);
    for name in berth_repositories(app, api_host, &images) {
        let partition = app.control.partition();
        let resource = format!(
            "arn:aws:ecr:{}:{}:repository/{name}",
            partition.region, partition.account
        );
        let policy = app
            .registry
            .repository_policy(&name)
            .map_err(|e| ApiError::server(format!("cannot read the repository's policy: {e}")))?;
        for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] {
            let ask = Ask {
                action: action.into(),
                resource: resource.clone(),
                keys: Default::default(),
            };
            app.authorize_with(
                principal,
                ask,
                body,
                ErrorCode::AccessDeniedException,
                policy.as_deref(),
            )
            .map_err(|e| {
                ApiError::new(
                    e.code,
                    format!(
                        "{}; the task's image from repository {name} is pulled on your behalf, so you must be allowed to pull it",
                        e.message
                    ),
                )
            })?;
        }
    }
    Ok(())
}

/// Whether a task not yet stopped on `instance` has an image in repository `name`: what an
/// agent may pull.
pub fn placed_on(state: &State, instance: &str, name: &str) -> bool {
    state.tasks_on(instance).any(|task| {
        state.definition_of(task).is_some_and(|td| {
            td.container_definitions
                .iter()
                .flatten()
                .filter_map(|c| c.image.as_deref())
                .any(|image| reference(image).is_some_and(|(_, repo)| repo == name))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::reference;

    #[test]
    fn references_name_their_registry_and_repository() {
        assert_eq!(
            reference("127.0.0.1:9714/team/app:v1"),
            Some(("127.0.0.1:9714", "team/app"))
        );
        assert_eq!(
            reference("localhost/app@sha256:ab"),
            Some(("localhost", "app"))
        );
        assert_eq!(
            reference("registry.example:5000/a/b"),
            Some(("registry.example:5000", "a/b"))
        );
        assert_eq!(reference("library/nginx:1"), None);
        assert_eq!(reference("nginx"), None);
    }
}

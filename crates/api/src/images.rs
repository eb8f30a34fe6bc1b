//! Task images from Berth's own registry, pulled with the right person's rights.
//!
//! Agents pull with their own keys, so without a check anyone allowed to run a task could have
//! an agent fetch an image they may not pull themselves (a confused deputy). So: RunTask,
//! StartTask, CreateService and UpdateService check that the caller may pull every image of
//! the task definition that lives in Berth's registry ([`check_caller_may_pull`]), and an
//! agent may pull only the images of the tasks placed on its own instance (see
//! `ControlPlane::runs_image_from`).

use crate::{AppState, auth::Principal, policy::Ask};
use berth_types::image::reference;
use berth_types::{ApiError, ErrorCode};

/// The port of `host[:port]` (IPv6 literals bracketed).
fn port_of(host: &str) -> Option<&str> {
    host.rsplit_once(':')
        .map(|(_, port)| port)
        .filter(|p| !p.contains(']'))
}

/// The repositories of Berth's registry that a task definition's images name: images at the
/// registry's port whose repository exists here.
fn berth_repositories<'a>(
    app: &AppState,
    api_host: &str,
    images: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let (_, registry) = app.registry_location(api_host);
    let port = port_of(&registry);
    images
        .filter_map(reference)
        .filter(|(host, _)| port.is_some() && port_of(host) == port)
        .filter(|(_, name)| app.registry.repository(name).is_ok())
        .map(|(_, name)| name.to_string())
        .collect()
}

/// Refuses a call that would have an agent pull, from Berth's registry, an image the caller
/// may not pull itself (`ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` on its
/// repository, with the repository's policy).
pub(crate) fn check_caller_may_pull(
    app: &AppState,
    principal: &Principal,
    definition: &crate::task_asks::Definition,
    api_host: &str,
) -> Result<(), ApiError> {
    for name in berth_repositories(app, api_host, definition.images()) {
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
                ..Ask::default()
            };
            app.authorize_with(
                principal,
                ask,
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

//! TagResource, UntagResource and ListTagsForResource on clusters, services, tasks, container
//! instances and task definitions; and the tags a new task is given (its own, those propagated
//! from its service or task definition, and ECS's managed tags).

use crate::error::ControlError;
use crate::status::{ClusterStatus, ServiceStatus};
use crate::{Change, ControlPlane, State};
use berth_types::arn;
use berth_types::ecs::{
    ListTagsForResourceRequest, ListTagsForResourceResponse, PropagateTags, Service, Tag,
    TagResourceRequest, TagResourceResponse, TaskDefinition, UntagResourceRequest,
    UntagResourceResponse,
};

/// Most tags one resource may carry.
pub(crate) const MAX_TAGS: usize = 50;

/// The tags a resource has now, and how to store a new set.
type Store<'s> = Box<dyn Fn(Vec<Tag>) -> Change + 's>;

fn current<'s>(state: &'s State, resource: &str) -> Result<(Vec<Tag>, Store<'s>), ControlError> {
    let parsed = arn::parse(resource).ok_or_else(|| {
        ControlError::invalid(format!(
            "resourceArn {resource:?} is not an ECS ARN: pass the full ARN of a cluster, task, container instance or task definition"
        ))
    })?;
    let not_found = || ControlError::ResourceNotFound(resource.to_string());
    match parsed.resource_type {
        "cluster" => {
            let c = state
                .clusters
                .get(arn::cluster_name(resource))
                .filter(|c| ClusterStatus::Active.is(&c.status))
                .ok_or_else(|| ControlError::ClusterNotFound(resource.to_string()))?;
            Ok((
                c.tags.clone().unwrap_or_default(),
                Box::new(move |tags| {
                    let mut c = c.clone();
                    c.tags = Some(tags);
                    Change::Cluster(c)
                }),
            ))
        }
        "service" => {
            let s = state
                .services
                .get(resource)
                .filter(|s| !ServiceStatus::Inactive.is(&s.status))
                .ok_or_else(|| {
                    ControlError::ServiceNotFound(format!(
                        "service {resource} was not found: check the ARN with ListServices"
                    ))
                })?;
            Ok((
                s.tags.clone().unwrap_or_default(),
                Box::new(move |tags| {
                    let mut s = s.clone();
                    s.tags = Some(tags);
                    Change::Service(s)
                }),
            ))
        }
        "task" => {
            let t = state.tasks.get(resource).ok_or_else(not_found)?;
            Ok((
                t.tags.clone().unwrap_or_default(),
                Box::new(move |tags| {
                    let mut t = t.clone();
                    t.tags = Some(tags);
                    Change::Task(t)
                }),
            ))
        }
        "container-instance" => {
            let i = state.instances.get(resource).ok_or_else(not_found)?;
            Ok((
                i.tags.clone().unwrap_or_default(),
                Box::new(move |tags| {
                    let mut i = i.clone();
                    i.tags = Some(tags);
                    Change::Instance(i)
                }),
            ))
        }
        "task-definition" => {
            let r = arn::task_definition_ref(resource).ok_or_else(not_found)?;
            if !state
                .task_definitions
                .contains_key(&(r.family, r.revision.unwrap_or_default()))
            {
                return Err(not_found());
            }
            let key = resource.to_string();
            Ok((
                state.tags.get(resource).cloned().unwrap_or_default(),
                Box::new(move |tags| Change::Tags(key.clone(), tags)),
            ))
        }
        other => Err(ControlError::invalid(format!(
            "resources of type {other} cannot be tagged in Berth"
        ))),
    }
}

/// Refuses tags a user may not set: keys starting with `aws:` are ECS's own.
pub(crate) fn check_user_tags(tags: &[Tag]) -> Result<(), ControlError> {
    match tags
        .iter()
        .filter_map(|t| t.key.as_deref())
        .find(|k| k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")))
    {
        Some(key) => Err(ControlError::invalid(format!(
            "tag key {key:?} starts with aws:, which is reserved for AWS use: choose another key"
        ))),
        None => Ok(()),
    }
}

/// Where a new task's tags come from besides the ones it is given.
pub(crate) struct TagSources<'a> {
    /// `propagateTags`: copy the service's or the task definition's tags.
    pub propagate: Option<PropagateTags>,
    /// The service starting the task, if one is.
    pub service: Option<&'a Service>,
    /// `enableECSManagedTags`: add `aws:ecs:clusterName` (and `aws:ecs:serviceName`).
    pub managed: bool,
}

/// The tags of a new task of `td` in `cluster`: the propagated ones, then the ones given
/// (which win on a shared key), then ECS's managed tags. None when there are none.
pub(crate) fn for_new_task(
    state: &State,
    cluster: &str,
    td: &TaskDefinition,
    given: Option<&Vec<Tag>>,
    from: &TagSources,
) -> Option<Vec<Tag>> {
    let propagated = match (from.propagate, from.service) {
        (Some(PropagateTags::Service), Some(s)) => s.tags.clone().unwrap_or_default(),
        (Some(PropagateTags::TaskDefinition), _) => td
            .task_definition_arn
            .as_deref()
            .and_then(|arn| state.tags.get(arn))
            .cloned()
            .unwrap_or_default(),
        _ => vec![],
    };
    let mut tags: Vec<Tag> = vec![];
    for t in propagated
        .into_iter()
        .chain(given.into_iter().flatten().cloned())
    {
        tags.retain(|x| x.key != t.key);
        tags.push(t);
    }
    if from.managed {
        let managed = |key: &str, value: &str| Tag {
            key: Some(key.into()),
            value: Some(value.into()),
        };
        tags.push(managed("aws:ecs:clusterName", cluster));
        if let Some(name) = from.service.and_then(|s| s.service_name.as_deref()) {
            tags.push(managed("aws:ecs:serviceName", name));
        }
    }
    (!tags.is_empty()).then_some(tags)
}

impl ControlPlane {
    /// TagResource: adds or replaces tags by key.
    pub fn tag_resource(
        &self,
        req: TagResourceRequest,
    ) -> Result<TagResourceResponse, ControlError> {
        check_user_tags(&req.tags)?;
        self.mutate(|state, _ctx| {
            let (mut tags, store) = current(state, &req.resource_arn)?;
            for t in &req.tags {
                tags.retain(|x| x.key != t.key);
                tags.push(t.clone());
            }
            if tags.len() > MAX_TAGS {
                return Err(ControlError::invalid(format!(
                    "resource {} would have {} tags, but at most {MAX_TAGS} are allowed",
                    req.resource_arn,
                    tags.len()
                )));
            }
            Ok((vec![store(tags)], TagResourceResponse::default()))
        })
    }

    /// UntagResource: removes tags by key.
    pub fn untag_resource(
        &self,
        req: UntagResourceRequest,
    ) -> Result<UntagResourceResponse, ControlError> {
        self.mutate(|state, _ctx| {
            let (mut tags, store) = current(state, &req.resource_arn)?;
            tags.retain(|t| t.key.as_ref().is_none_or(|k| !req.tag_keys.contains(k)));
            Ok((vec![store(tags)], UntagResourceResponse::default()))
        })
    }

    /// ListTagsForResource.
    pub fn list_tags_for_resource(
        &self,
        req: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, ControlError> {
        let state = self.read();
        let (tags, _) = current(&state, &req.resource_arn)?;
        Ok(ListTagsForResourceResponse { tags: Some(tags) })
    }
}

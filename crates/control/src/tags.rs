//! TagResource, UntagResource and ListTagsForResource on clusters, tasks, container instances
//! and task definitions.

use crate::status::ClusterStatus;
use crate::{Change, ControlPlane, State};
use berth_types::ecs::{
    ListTagsForResourceRequest, ListTagsForResourceResponse, Tag, TagResourceRequest,
    TagResourceResponse, UntagResourceRequest, UntagResourceResponse,
};
use berth_types::{ApiError, ErrorCode, arn};

/// Most tags one resource may carry.
pub const MAX_TAGS: usize = 50;

/// The tags a resource has now, and how to store a new set.
type Store<'s> = Box<dyn Fn(Vec<Tag>) -> Change + 's>;

fn current<'s>(state: &'s State, resource: &str) -> Result<(Vec<Tag>, Store<'s>), ApiError> {
    let parsed = arn::parse(resource).ok_or_else(|| {
        ApiError::invalid(format!(
            "resourceArn {resource:?} is not an ECS ARN: pass the full ARN of a cluster, task, container instance or task definition"
        ))
    })?;
    let not_found = || {
        ApiError::new(
            ErrorCode::ResourceNotFoundException,
            format!("resource {resource} was not found"),
        )
    };
    match parsed.resource_type {
        "cluster" => {
            let c = state
                .clusters
                .get(arn::cluster_name(resource))
                .filter(|c| ClusterStatus::Active.is(&c.status))
                .ok_or_else(|| ApiError::cluster_not_found(resource))?;
            Ok((
                c.tags.clone().unwrap_or_default(),
                Box::new(move |tags| {
                    let mut c = c.clone();
                    c.tags = Some(tags);
                    Change::Cluster(c)
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
        other => Err(ApiError::invalid(format!(
            "resources of type {other} cannot be tagged in Berth"
        ))),
    }
}

impl ControlPlane {
    /// TagResource: adds or replaces tags by key.
    pub fn tag_resource(&self, req: TagResourceRequest) -> Result<TagResourceResponse, ApiError> {
        for t in &req.tags {
            if t.key
                .as_deref()
                .is_some_and(|k| k.to_ascii_lowercase().starts_with("aws:"))
            {
                return Err(ApiError::invalid(
                    "tag keys starting with aws: are reserved: choose another key",
                ));
            }
        }
        self.mutate(|state, _ctx| {
            let (mut tags, store) = current(state, &req.resource_arn)?;
            for t in &req.tags {
                tags.retain(|x| x.key != t.key);
                tags.push(t.clone());
            }
            if tags.len() > MAX_TAGS {
                return Err(ApiError::invalid(format!(
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
    ) -> Result<UntagResourceResponse, ApiError> {
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
    ) -> Result<ListTagsForResourceResponse, ApiError> {
        let state = self.read();
        let (tags, _) = current(&state, &req.resource_arn)?;
        Ok(ListTagsForResourceResponse { tags: Some(tags) })
    }
}

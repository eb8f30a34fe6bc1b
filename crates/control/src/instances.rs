//! Container instances: RegisterContainerInstance, DeregisterContainerInstance,
//! DescribeContainerInstances, ListContainerInstances, UpdateContainerInstancesState, the
//! attribute calls, and whether an agent is connected.

use crate::error::ControlError;
use crate::resources::{int_resource, resource_set, set_resource};
use crate::status::InstanceStatus;
use crate::{Change, ControlPlane, State, clusters, lookup, network, paginate};
use berth_types::arn;
use berth_types::ecs::{
    Attribute, ContainerInstance, ContainerInstanceStatus, DeleteAttributesRequest,
    DeleteAttributesResponse, DeregisterContainerInstanceRequest,
    DeregisterContainerInstanceResponse, DescribeContainerInstancesRequest,
    DescribeContainerInstancesResponse, ListAttributesRequest, ListAttributesResponse,
    ListContainerInstancesRequest, ListContainerInstancesResponse, PutAttributesRequest,
    PutAttributesResponse, RegisterContainerInstanceRequest, RegisterContainerInstanceResponse,
    TargetType, UpdateContainerInstancesStateRequest, UpdateContainerInstancesStateResponse,
};

/// Most custom attributes one resource may carry.
pub(crate) const MAX_ATTRIBUTES: usize = 10;

/// The instance as Describe shows it: remaining resources, task counts, agentConnected.
pub(crate) fn present(state: &State, instance: &ContainerInstance) -> ContainerInstance {
    let arn = instance.container_instance_arn.clone().unwrap_or_default();
    let usage = state.usage(&arn);
    let v = state.view_of(instance);
    let mut out = instance.clone();
    let registered = instance.registered_resources.as_deref().unwrap_or_default();
    let mut tcp: Vec<String> = resource_set(registered, "PORTS");
    tcp.extend(usage.tcp.iter().map(u16::to_string));
    let mut udp: Vec<String> = resource_set(registered, "PORTS_UDP");
    udp.extend(usage.udp.iter().map(u16::to_string));
    out.remaining_resources = Some(vec![
        int_resource("CPU", v.remaining_cpu),
        int_resource("MEMORY", v.remaining_memory),
        set_resource("PORTS", tcp),
        set_resource("PORTS_UDP", udp),
    ]);
    out.running_tasks_count = Some(usage.running);
    out.pending_tasks_count = Some(usage.pending);
    out.agent_connected = Some(v.facts.agent_connected);
    out
}

fn check_attribute(a: &Attribute) -> Result<(), ControlError> {
    let name_ok = !a.name.is_empty()
        && a.name.len() <= 128
        && a.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c));
    if !name_ok {
        return Err(ControlError::invalid(format!(
            "attribute name {:?} is not valid: use 1 to 128 letters, numbers, hyphens, underscores, slashes and periods",
            a.name
        )));
    }
    if let Some(v) = &a.value
        && (v.is_empty() || v.len() > 128 || v.trim() != v)
    {
        return Err(ControlError::invalid(format!(
            "attribute {} has value {v:?}: values are 1 to 128 characters with no leading or trailing whitespace",
            a.name
        )));
    }
    Ok(())
}

impl ControlPlane {
    /// Counts an agent stream of an instance opening or closing; the agent is connected while
    /// any stream is open. Not durable: after a restart every agent
    /// counts as disconnected until it reconnects.
    pub fn set_agent_connected(&self, instance_arn: &str, connected: bool) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        let streams = state.connected.entry(instance_arn.to_string()).or_default();
        if connected {
            *streams += 1;
        } else {
            *streams = streams.saturating_sub(1);
        }
        if *streams == 0 {
            state.connected.remove(instance_arn);
        }
        state.refresh_view(instance_arn);
    }

    /// RegisterContainerInstance: a new instance, or the same one again when the agent passes
    /// the ARN it had (its tasks stay).
    pub fn register_container_instance(
        &self,
        req: RegisterContainerInstanceRequest,
    ) -> Result<RegisterContainerInstanceResponse, ControlError> {
        for a in req.attributes.as_deref().unwrap_or_default() {
            check_attribute(a)?;
        }
        self.mutate(|state, ctx| {
            let (cluster, created) = clusters::resolve(state, ctx, req.cluster.as_deref())?;
            let previous = req
                .container_instance_arn
                .as_deref()
                .and_then(|a| lookup::instance(state, ctx.partition, &cluster, a))
                .filter(|i| !InstanceStatus::Inactive.is(&i.status));
            let mut instance = match previous {
                Some(p) => p.clone(),
                None => {
                    let id = uuid::Uuid::new_v4().simple().to_string();
                    let ec2_id = req
                        .instance_identity_document
                        .as_deref()
                        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                        .and_then(|d| d["instanceId"].as_str().map(str::to_string))
                        .unwrap_or_else(|| format!("i-{}", &id[..17]));
                    ContainerInstance {
                        container_instance_arn: Some(
                            ctx.partition.container_instance(&cluster, &id),
                        ),
                        ec2_instance_id: Some(ec2_id),
                        status: InstanceStatus::Active.into(),
                        registered_at: Some(ctx.now),
                        version: Some(0),
                        attachments: Some(vec![]),
                        ..ContainerInstance::default()
                    }
                }
            };
            instance.version = Some(instance.version.unwrap_or_default() + 1);
            instance.registered_resources = req.total_resources.clone();
            instance.version_info = req.version_info.clone();
            instance.attributes = req.attributes.clone();
            if let Some(tags) = req.tags.clone() {
                instance.tags = Some(tags);
            }
            let answer = RegisterContainerInstanceResponse {
                container_instance: Some(present(state, &instance)),
            };
            let mut changes: Vec<Change> = created.into_iter().collect();
            // A host in a new zone gives the default VPC a default subnet there, as every
            // zone of an AWS region has one.
            let zone: Vec<String> = network::zone_of(&instance).into_iter().collect();
            changes.extend(network::vpcs::default_subnets(&state.network, &zone));
            changes.push(Change::Instance(instance));
            Ok((changes, answer))
        })
    }

    /// DeregisterContainerInstance: refused while tasks run, unless `force`.
    pub fn deregister_container_instance(
        &self,
        req: DeregisterContainerInstanceRequest,
    ) -> Result<DeregisterContainerInstanceResponse, ControlError> {
        self.mutate(|state, ctx| {
            let cluster = clusters::existing(state, req.cluster.as_deref())?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let instance = lookup::instance(state, ctx.partition, &name, &req.container_instance)
                .filter(|i| !InstanceStatus::Inactive.is(&i.status))
                .ok_or_else(|| {
                    ControlError::invalid(format!(
                        "container instance {} is not registered in cluster {name}",
                        req.container_instance
                    ))
                })?;
            let usage = state.usage(instance.container_instance_arn.as_deref().unwrap_or_default());
            if usage.running + usage.pending > 0 && req.force != Some(true) {
                return Err(ControlError::invalid(format!(
                    "found {} running tasks on container instance {}: stop them first, or deregister with force (the tasks keep running, orphaned)",
                    usage.running + usage.pending,
                    req.container_instance
                )));
            }
            let mut gone = present(state, instance);
            gone.status = InstanceStatus::Inactive.into();
            gone.agent_connected = Some(false);
            let answer = DeregisterContainerInstanceResponse {
                container_instance: Some(gone.clone()),
            };
            Ok((vec![Change::Instance(gone)], answer))
        })
    }

    /// DescribeContainerInstances: unknown ones come back in `failures[]` as MISSING.
    pub fn describe_container_instances(
        &self,
        req: DescribeContainerInstancesRequest,
    ) -> Result<DescribeContainerInstancesResponse, ControlError> {
        if req.container_instances.len() > 100 {
            return Err(ControlError::invalid(format!(
                "containerInstances has {} entries, but DescribeContainerInstances takes at most 100",
                req.container_instances.len()
            )));
        }
        let state = self.read();
        let cluster = clusters::existing(&state, req.cluster.as_deref())?;
        let name = cluster.cluster_name.clone().unwrap_or_default();
        let mut found = vec![];
        let mut failures = vec![];
        for reference in &req.container_instances {
            match lookup::instance(&state, self.partition(), &name, reference) {
                Some(i) => found.push(present(&state, i)),
                None => failures.push(crate::missing(reference)),
            }
        }
        Ok(DescribeContainerInstancesResponse {
            container_instances: Some(found),
            failures: Some(failures),
        })
    }

    /// ListContainerInstances: ACTIVE and DRAINING instances unless a status is given.
    pub fn list_container_instances(
        &self,
        req: ListContainerInstancesRequest,
    ) -> Result<ListContainerInstancesResponse, ControlError> {
        let filter = match req.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            Some(f) => Some(
                berth_scheduler::query::parse(f)
                    .map_err(|e| ControlError::invalid(format!("the filter is not valid: {e}")))?,
            ),
            None => None,
        };
        let state = self.read();
        let cluster = clusters::existing(&state, req.cluster.as_deref())?;
        let name = cluster.cluster_name.clone().unwrap_or_default();
        let arns: Vec<String> = state
            .instances_in(&name)
            .filter(|i| match req.status {
                Some(s) => i.status.as_deref() == Some(s.as_str()),
                None => InstanceStatus::registered(&i.status),
            })
            .filter(|i| {
                filter
                    .as_ref()
                    .is_none_or(|f| f.matches(&state.facts_of(i)))
            })
            .filter_map(|i| i.container_instance_arn.clone())
            .collect();
        let (page, next) = paginate::ecs_page(arns, req.max_results, req.next_token.as_deref())?;
        Ok(ListContainerInstancesResponse {
            container_instance_arns: Some(page),
            next_token: next,
        })
    }

    /// UpdateContainerInstancesState: ACTIVE or DRAINING.
    pub fn update_container_instances_state(
        &self,
        req: UpdateContainerInstancesStateRequest,
    ) -> Result<UpdateContainerInstancesStateResponse, ControlError> {
        if !matches!(
            req.status,
            ContainerInstanceStatus::Active | ContainerInstanceStatus::Draining
        ) {
            return Err(ControlError::invalid(format!(
                "status {} cannot be set: use ACTIVE or DRAINING",
                req.status
            )));
        }
        if req.container_instances.len() > 10 {
            return Err(ControlError::invalid(format!(
                "containerInstances has {} entries, but UpdateContainerInstancesState takes at most 10",
                req.container_instances.len()
            )));
        }
        self.mutate(|state, ctx| {
            let cluster = clusters::existing(state, req.cluster.as_deref())?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let mut changes = vec![];
            let mut updated = vec![];
            let mut failures = vec![];
            for reference in &req.container_instances {
                match lookup::instance(state, ctx.partition, &name, reference)
                    .filter(|i| !InstanceStatus::Inactive.is(&i.status))
                {
                    None => failures.push(crate::missing(reference)),
                    Some(i) => {
                        let mut i = i.clone();
                        i.status = Some(req.status.as_str().to_string());
                        i.version = Some(i.version.unwrap_or_default() + 1);
                        updated.push(present(state, &i));
                        changes.push(Change::Instance(i));
                    }
                }
            }
            Ok((
                changes,
                UpdateContainerInstancesStateResponse {
                    container_instances: Some(updated),
                    failures: Some(failures),
                },
            ))
        })
    }

    /// PutAttributes: custom attributes on container instances.
    pub fn put_attributes(
        &self,
        req: PutAttributesRequest,
    ) -> Result<PutAttributesResponse, ControlError> {
        self.change_attributes(&req.cluster, &req.attributes, true)?;
        Ok(PutAttributesResponse {
            attributes: Some(req.attributes),
        })
    }

    /// DeleteAttributes.
    pub fn delete_attributes(
        &self,
        req: DeleteAttributesRequest,
    ) -> Result<DeleteAttributesResponse, ControlError> {
        self.change_attributes(&req.cluster, &req.attributes, false)?;
        Ok(DeleteAttributesResponse {
            attributes: Some(req.attributes),
        })
    }

    fn change_attributes(
        &self,
        cluster: &Option<String>,
        attributes: &[Attribute],
        put: bool,
    ) -> Result<(), ControlError> {
        if attributes.len() > MAX_ATTRIBUTES {
            return Err(ControlError::invalid(format!(
                "attributes has {} entries, but one call takes at most {MAX_ATTRIBUTES}",
                attributes.len()
            )));
        }
        for a in attributes {
            check_attribute(a)?;
        }
        self.mutate(|state, ctx| {
            let cluster = clusters::existing(state, cluster.as_deref())?;
            let name = cluster.cluster_name.clone().unwrap_or_default();
            let mut edited: std::collections::BTreeMap<String, ContainerInstance> = Default::default();
            for a in attributes {
                if a.target_type.is_some_and(|t| t != TargetType::ContainerInstance) {
                    return Err(ControlError::invalid("targetType must be container-instance"));
                }
                let target = a.target_id.as_deref().ok_or_else(|| {
                    ControlError::invalid(format!("attribute {} has no targetId: name the container instance", a.name))
                })?;
                let instance = lookup::instance(state, ctx.partition, &name, target).ok_or_else(|| {
                    ControlError::TargetNotFound {
                        target: target.to_string(),
                        cluster: name.clone(),
                    }
                })?;
                let key = instance.container_instance_arn.clone().unwrap_or_default();
                let entry = edited.entry(key).or_insert_with(|| instance.clone());
                let list = entry.attributes.get_or_insert_with(Vec::new);
                list.retain(|x| x.name != a.name);
                if put {
                    list.push(Attribute {
                        name: a.name.clone(),
                        value: a.value.clone(),
                        target_type: None,
                        target_id: None,
                    });
                }
                let custom = list.iter().filter(|x| !x.name.starts_with("ecs.") && !x.name.starts_with("com.amazonaws.ecs.")).count();
                if custom > MAX_ATTRIBUTES {
                    return Err(ControlError::AttributeLimitExceeded(format!("container instance {target} would have {custom} custom attributes, but at most {MAX_ATTRIBUTES} are allowed: delete some first")));
                }
            }
            Ok((edited.into_values().map(Change::Instance).collect(), ()))
        })
    }

    /// ListAttributes: the attributes of a cluster's container instances.
    pub fn list_attributes(
        &self,
        req: ListAttributesRequest,
    ) -> Result<ListAttributesResponse, ControlError> {
        let state = self.read();
        let cluster = clusters::existing(&state, req.cluster.as_deref())?;
        let name = cluster.cluster_name.clone().unwrap_or_default();
        let mut found = vec![];
        for i in state.instances.values() {
            let Some(arn) = i.container_instance_arn.as_deref() else {
                continue;
            };
            if arn::cluster_of(arn) != Some(name.as_str()) || InstanceStatus::Inactive.is(&i.status)
            {
                continue;
            }
            for a in i.attributes.as_deref().unwrap_or_default() {
                let name_ok = req.attribute_name.as_ref().is_none_or(|n| *n == a.name);
                let value_ok = req
                    .attribute_value
                    .as_ref()
                    .is_none_or(|v| a.value.as_ref() == Some(v));
                if name_ok && value_ok {
                    found.push(Attribute {
                        name: a.name.clone(),
                        value: a.value.clone(),
                        target_type: Some(TargetType::ContainerInstance),
                        target_id: Some(arn.to_string()),
                    });
                }
            }
        }
        let (page, next) = paginate::ecs_page(found, req.max_results, req.next_token.as_deref())?;
        Ok(ListAttributesResponse {
            attributes: Some(page),
            next_token: next,
        })
    }
}

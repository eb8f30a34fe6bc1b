//! ECS resource names in the long ARN format, and parsing of the names-or-ARNs that inputs accept.

/// The region and account that every ARN of one server carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// e.g. `us-east-1`.
    pub region: String,
    /// Twelve digits.
    pub account: String,
}

impl Partition {
    fn prefix(&self, service: &str) -> String {
        format!("arn:aws:{service}:{}:{}:", self.region, self.account)
    }

    /// `arn:aws:ecs:<region>:<account>:cluster/<name>`.
    pub fn cluster(&self, name: &str) -> String {
        format!("{}cluster/{name}", self.prefix("ecs"))
    }

    /// `arn:aws:ecs:<region>:<account>:task/<cluster>/<id>`.
    pub fn task(&self, cluster: &str, id: &str) -> String {
        format!("{}task/{cluster}/{id}", self.prefix("ecs"))
    }

    /// `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`.
    pub fn service(&self, cluster: &str, name: &str) -> String {
        format!("{}service/{cluster}/{name}", self.prefix("ecs"))
    }

    /// `arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>`.
    pub fn service_deployment(&self, cluster: &str, service: &str, id: &str) -> String {
        format!(
            "{}service-deployment/{cluster}/{service}/{id}",
            self.prefix("ecs")
        )
    }

    /// `arn:aws:ecs:<region>:<account>:service-revision/<cluster>/<service>/<id>`.
    pub fn service_revision(&self, cluster: &str, service: &str, id: &str) -> String {
        format!(
            "{}service-revision/{cluster}/{service}/{id}",
            self.prefix("ecs")
        )
    }

    /// `arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<id>`.
    pub fn container_instance(&self, cluster: &str, id: &str) -> String {
        format!("{}container-instance/{cluster}/{id}", self.prefix("ecs"))
    }

    /// `arn:aws:ecs:<region>:<account>:container/<cluster>/<task id>/<id>`.
    pub fn container(&self, cluster: &str, task_id: &str, id: &str) -> String {
        format!("{}container/{cluster}/{task_id}/{id}", self.prefix("ecs"))
    }

    /// `arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>`.
    pub fn task_definition(&self, family: &str, revision: i32) -> String {
        format!("{}task-definition/{family}:{revision}", self.prefix("ecs"))
    }
}

/// An ECS ARN split into its resource type and the path after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedArn<'a> {
    /// `cluster`, `task`, `container-instance`, `task-definition`, ...
    pub resource_type: &'a str,
    /// The parts after the resource type, split on `/`.
    pub path: Vec<&'a str>,
}

/// Splits `arn:aws:ecs:<region>:<account>:<type>/<path>`; `None` when `s` is not an ECS ARN.
pub fn parse(s: &str) -> Option<ParsedArn<'_>> {
    let mut parts = s.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    if parts.next()? != "ecs" {
        return None;
    }
    let _region = parts.next()?;
    let _account = parts.next()?;
    let resource = parts.next()?;
    let (resource_type, rest) = resource.split_once('/')?;
    Some(ParsedArn {
        resource_type,
        path: rest.split('/').collect(),
    })
}

/// The cluster name from a name or cluster ARN.
pub fn cluster_name(s: &str) -> &str {
    match parse(s) {
        Some(a) if a.resource_type == "cluster" => a.path.last().copied().unwrap_or(s),
        _ => s,
    }
}

/// The last path segment of an ARN (the id of a task or container instance), or `s` itself.
pub fn resource_id(s: &str) -> &str {
    match parse(s) {
        Some(a) => a.path.last().copied().unwrap_or(s),
        None => s,
    }
}

/// The cluster named inside a task or container-instance ARN, if `s` is one in the long format.
pub fn cluster_of(s: &str) -> Option<&str> {
    let a = parse(s)?;
    (a.path.len() >= 2).then(|| a.path[0])
}

/// A task definition reference: `family`, `family:revision`, or its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinitionRef {
    /// The family.
    pub family: String,
    /// The revision, or `None` for the latest ACTIVE one.
    pub revision: Option<i32>,
}

/// Parses a task definition reference; `None` when the revision is not a positive number.
pub fn task_definition_ref(s: &str) -> Option<TaskDefinitionRef> {
    let body = match parse(s) {
        Some(a) if a.resource_type == "task-definition" => a.path.join("/"),
        Some(_) => return None,
        None => s.to_string(),
    };
    match body.rsplit_once(':') {
        Some((family, rev)) => {
            let revision: i32 = rev.parse().ok().filter(|r| *r > 0)?;
            Some(TaskDefinitionRef {
                family: family.to_string(),
                revision: Some(revision),
            })
        }
        None => Some(TaskDefinitionRef {
            family: body,
            revision: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses() {
        let p = Partition {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let t = p.task("default", "abc");
        assert_eq!(t, "arn:aws:ecs:us-east-1:000000000000:task/default/abc");
        assert_eq!(resource_id(&t), "abc");
        assert_eq!(cluster_of(&t), Some("default"));
        assert_eq!(cluster_name(&p.cluster("prod")), "prod");
        assert_eq!(cluster_name("prod"), "prod");
        let td = task_definition_ref(&p.task_definition("web", 3)).expect("parses");
        assert_eq!((td.family.as_str(), td.revision), ("web", Some(3)));
        assert_eq!(task_definition_ref("web").expect("parses").revision, None);
        assert!(task_definition_ref("web:x").is_none());
    }
}

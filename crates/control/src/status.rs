//! The statuses the control plane reads and sets on its records. A leaf module.
//!
//! On the wire and in the store a status is a string (the fields generated from the ECS model
//! are `Option<String>`, and the model's own enums lack values ECS answers with, such as an
//! instance's INACTIVE); these enums name the values Berth uses, so no comparison can misspell
//! one. Values Berth never sets have no variant: RunTask places a task synchronously, so a task
//! is never PROVISIONING, and an agent registers an instance in one call, so an instance is
//! never REGISTERING.

/// Declares a status enum with its wire strings, `is` to test a status field,
/// `of` to read one, and `From` to set one (`task.last_status = TaskStatus::Running.into()`).
macro_rules! statuses {
    ($($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? })+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// The value as it is on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }

            /// Whether a status field holds this value.
            pub fn is(self, field: &Option<String>) -> bool {
                field.as_deref() == Some(self.as_str())
            }

            /// The value a status field holds, if it is one of these.
            pub fn of(field: &Option<String>) -> Option<Self> {
                match field.as_deref() {
                    $(Some($wire) => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl From<$name> for Option<String> {
            fn from(status: $name) -> Self {
                Some(status.as_str().to_string())
            }
        }
    )+};
}

statuses! {
    /// A task's `lastStatus` and `desiredStatus`, and a container's `lastStatus`.
    TaskStatus { Pending = "PENDING", Running = "RUNNING", Stopped = "STOPPED" }

    /// A container instance's `status`: DRAINING takes no new tasks, INACTIVE is deregistered.
    InstanceStatus { Active = "ACTIVE", Draining = "DRAINING", Inactive = "INACTIVE" }

    /// A service's `status`: DRAINING is deleted but still stopping its tasks.
    ServiceStatus { Active = "ACTIVE", Draining = "DRAINING", Inactive = "INACTIVE" }

    /// A cluster's `status`: INACTIVE is deleted.
    ClusterStatus { Active = "ACTIVE", Inactive = "INACTIVE" }

    /// A deployment's `status`: the PRIMARY one is what the service runs towards.
    DeploymentStatus { Primary = "PRIMARY", Active = "ACTIVE" }
}

impl InstanceStatus {
    /// ACTIVE or DRAINING: an instance that is registered, listed and counted by default.
    pub fn registered(field: &Option<String>) -> bool {
        matches!(Self::of(field), Some(Self::Active | Self::Draining))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_reads_back_as_it_was_set() {
        let field: Option<String> = TaskStatus::Running.into();
        assert_eq!(field.as_deref(), Some("RUNNING"));
        assert!(TaskStatus::Running.is(&field));
        assert_eq!(TaskStatus::of(&field), Some(TaskStatus::Running));
        // Values Berth never sets, and absent fields, are none of its statuses.
        assert_eq!(TaskStatus::of(&Some("PROVISIONING".into())), None);
        assert!(!InstanceStatus::registered(&None));
        assert!(InstanceStatus::registered(&InstanceStatus::Draining.into()));
    }
}

//! IAM roles and what goes with them: the records and their one durable change (`records`),
//! the role operations (`ops`), trust policies ([`trust`]), managed policies (`managed`, with
//! the AWS managed ones of `builtin`) and the sessions of assumed roles (`sessions`).

mod builtin;
mod managed;
mod ops;
mod records;
mod sessions;
pub mod trust;

pub use managed::{MAX_ATTACHED, MAX_MANAGED_POLICY_CHARS, NewPolicy, PolicyInfo};
pub use ops::{DEFAULT_MAX_SESSION, MAX_ROLE_POLICY_CHARS, MAX_SESSION_RANGE, NewRole};
pub use records::{ManagedPolicy, Role, RoleChange, RoleSession, RoleState};
pub use sessions::{AssumeRole, DEFAULT_SESSION_SECONDS, MAX_SESSION_SECONDS, MIN_SESSION_SECONDS};

//! IAM roles and what goes with them: the records and their one durable change (`records`),
//! the role operations (`ops`), trust policies ([`trust`]), managed policies (`managed`, with
//! the AWS managed ones of `builtin`) and the sessions of assumed roles (`sessions`).

mod builtin;
mod managed;
mod ops;
mod records;
mod sessions;
pub mod trust;

pub use managed::{NewPolicy, PolicyInfo};
pub use ops::NewRole;
pub use records::{ManagedPolicy, Role, RoleChange, RoleSession, RoleState};
pub use sessions::AssumeRole;

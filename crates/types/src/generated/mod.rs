//! Wire shapes generated from `spec/*.json` by `cargo run -p berth-codegen`.

#[rustfmt::skip]
pub mod ec2;
#[rustfmt::skip]
pub mod ecr;
#[rustfmt::skip]
pub mod ecs;
#[rustfmt::skip]
pub mod iam;
#[rustfmt::skip]
pub mod logs;
#[rustfmt::skip]
pub mod secretsmanager;
#[rustfmt::skip]
pub mod ssm;
#[rustfmt::skip]
pub mod sts;

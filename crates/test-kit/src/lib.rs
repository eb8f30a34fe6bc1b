//! What Berth's tests share, for tests only (every crate lists it under
//! `[dev-dependencies]`, never under `[dependencies]`):
//! - [`cli`]: the AWS CLI pointed at Berth, as the root or a role session;
//! - [`process`]: `berth server`, `berth agent` and `berth simulate` as processes of their
//!   own, killed when dropped, and the exports they print;
//! - [`up`]: `berth up` as a process of its own;
//! - [`image`]: the busybox test image, built once per test binary;
//! - [`docker`]: what a test asks Docker directly (a task's containers, clean-up);
//! - [`ecs`]: the official AWS SDK client pointed at Berth, and the calls and waits the
//!   end-to-end tests repeat;
//! - [`fleet`]: a server with agents of its own;
//! - [`gluster`]: a GlusterFS volume of the test's own, for shared file system volumes;
//! - [`logs`]: the official CloudWatch Logs client pointed at Berth, and a stream read whole;
//! - [`registry`]: the ECR client, registry credentials and a small client of `/v2/`;
//! - [`control`]: the control plane on the in-memory store with a hand-driven clock, and its
//!   fixtures (instances, a task definition, RunTask, agent reports).
//! - [`stack`]: a parser run on a small stack, where an unbounded recursion would abort the
//!   test binary.

pub mod cli;
pub mod control;
pub mod docker;
pub mod ecs;
pub mod fleet;
pub mod gluster;
pub mod image;
pub mod logs;
pub mod process;
pub mod registry;
pub mod stack;
pub mod up;

/// Asserts that each of `phrases` appears in one of `messages` (service events, say).
pub fn assert_mentioned(messages: &[String], phrases: &[&str]) {
    for phrase in phrases {
        assert!(
            messages.iter().any(|m| m.contains(phrase)),
            "no message mentions {phrase:?}: {messages:?}"
        );
    }
}

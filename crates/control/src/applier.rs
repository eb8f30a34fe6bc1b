//! Plans and the one applier. A plan is computed on the in-memory views without holding the
//! writer, so concurrent RunTask calls plan side by side. The applier runs under the writer: it
//! re-checks each planned placement against the instance as it is now (another call may have
//! taken the room since the plan was made), keeps what still fits, and places the rest again
//! on the current views. Holding the writer, nothing can move under that second round, so it is
//! the last one: what it cannot place, nothing in the cluster can take right now.

use crate::State;
use berth_scheduler::{Pipeline, Refusal, Request, Views, feasibility};

/// Instances (by ARN) for up to `count` tasks of `request` in `cluster`, as the state is now.
pub fn plan(
    state: &State,
    cluster: &str,
    request: &Request,
    count: usize,
    seed: u64,
) -> Vec<String> {
    let Some(cluster_views) = state.cluster_views(cluster) else {
        return vec![];
    };
    let mut overlay = cluster_views.overlay();
    Pipeline::new(seed)
        .place(&mut overlay, request, count)
        .into_iter()
        .map_while(Result::ok)
        .map(|i| cluster_views.all()[i].arn.clone())
        .collect()
}

/// What the applier made of a plan.
#[derive(Debug, Default)]
pub struct Applied {
    /// The instance of each task placed, by ARN.
    pub instances: Vec<String>,
    /// Why the rest could not be placed, when some could not.
    pub refusal: Option<Refusal>,
    /// How many planned placements no longer fitted and were placed again.
    pub replanned: usize,
}

/// Re-checks `planned` against `state` and completes it to `count` tasks. Call it holding the
/// writer, and commit what it returns before letting go.
pub fn apply(
    state: &State,
    cluster: &str,
    request: &Request,
    planned: &[String],
    count: usize,
    seed: u64,
) -> Applied {
    let Some(cluster_views) = state.cluster_views(cluster) else {
        return Applied {
            refusal: Some(Refusal::default()),
            ..Applied::default()
        };
    };
    let views = cluster_views.all();
    let mut overlay = cluster_views.overlay();
    let mut placed = Vec::with_capacity(count);
    for arn in planned.iter().take(count) {
        if let Some(i) = cluster_views.position(arn)
            && feasibility::check(overlay.get(i), request).is_ok()
        {
            overlay.reserve(i, &request.demand, &request.group);
            placed.push(i);
        }
    }
    let replanned = planned.len().min(count) - placed.len();
    let mut refusal = None;
    for p in Pipeline::new(seed).place(&mut overlay, request, count - placed.len()) {
        match p {
            Ok(i) => placed.push(i),
            Err(r) => {
                refusal = Some(r);
                break;
            }
        }
    }
    if replanned > 0 {
        tracing::debug!(
            replanned,
            "planned placements no longer fitted and were placed again"
        );
    }
    Applied {
        instances: placed.into_iter().map(|i| views[i].arn.clone()).collect(),
        refusal,
        replanned,
    }
}

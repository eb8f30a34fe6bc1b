//! From an ECS call to a placement request: the task definition's and the call's constraints
//! and strategies, checked against the model's limits; and from a refusal to `failures[]`.

use crate::demand;
use crate::error::ControlError;
use berth_scheduler::query;
use berth_scheduler::ranking::{Resource, SpreadField};
use berth_scheduler::{Constraint, Refusal, Request, Strategy};
use berth_types::ecs::{
    Failure, PlacementConstraint, PlacementConstraintType, PlacementStrategy,
    PlacementStrategyType, TaskDefinition, TaskOverride,
};

/// Most constraints per task, counting the task definition's.
pub(crate) const MAX_CONSTRAINTS: usize = 10;
/// Most strategies per call.
pub(crate) const MAX_STRATEGIES: usize = 5;

/// Parses a `memberOf` expression into a constraint.
pub(crate) fn member_of(expression: Option<&str>) -> Result<Constraint, ControlError> {
    let expression = expression.filter(|e| !e.trim().is_empty()).ok_or_else(|| {
        ControlError::invalid("a memberOf constraint needs an expression, e.g. attribute:ecs.instance-type == t2.small")
    })?;
    query::parse(expression)
        .map(Constraint::MemberOf)
        .map_err(|e| ControlError::invalid(format!("{e}, in {expression:?}")))
}

fn strategy(s: &PlacementStrategy) -> Result<Strategy, ControlError> {
    let field = s.field.as_deref().unwrap_or_default();
    match s.r#type {
        Some(PlacementStrategyType::Random) => Ok(Strategy::Random),
        Some(PlacementStrategyType::Binpack) => match field.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Strategy::Binpack(Resource::Cpu)),
            "memory" => Ok(Strategy::Binpack(Resource::Memory)),
            _ => Err(ControlError::invalid(format!(
                "binpack field {field:?} is not valid: use cpu or memory"
            ))),
        },
        Some(PlacementStrategyType::Spread) => match field {
            "instanceId" | "host" => Ok(Strategy::Spread(SpreadField::Instance)),
            f => match f.strip_prefix("attribute:") {
                Some(name) if !name.is_empty() => {
                    Ok(Strategy::Spread(SpreadField::Attribute(name.to_string())))
                }
                _ => Err(ControlError::invalid(format!(
                    "spread field {field:?} is not valid: use instanceId, host or attribute:<name>"
                ))),
            },
        },
        None => Err(ControlError::invalid(
            "a placement strategy needs a type: random, spread or binpack",
        )),
    }
}

/// The placement request of a task started from `td` by a call with these parameters.
pub(crate) fn request(
    td: &TaskDefinition,
    overrides: Option<&TaskOverride>,
    group: &str,
    constraints: Option<&[PlacementConstraint]>,
    strategies: Option<&[PlacementStrategy]>,
) -> Result<Request, ControlError> {
    let mut out = Request {
        demand: demand::of(td, overrides),
        group: group.to_string(),
        requires_attributes: td
            .requires_attributes
            .iter()
            .flatten()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect(),
        ..Request::default()
    };
    for c in td.placement_constraints.iter().flatten() {
        out.constraints.push(member_of(c.expression.as_deref())?);
    }
    for c in constraints.unwrap_or_default() {
        match c.r#type {
            Some(PlacementConstraintType::DistinctInstance) => {
                if c.expression.as_deref().is_some_and(|e| !e.is_empty()) {
                    return Err(ControlError::invalid(
                        "a distinctInstance constraint takes no expression: remove it, or use memberOf",
                    ));
                }
                out.constraints.push(Constraint::DistinctInstance);
            }
            Some(PlacementConstraintType::MemberOf) => {
                out.constraints.push(member_of(c.expression.as_deref())?)
            }
            None => {
                return Err(ControlError::invalid(
                    "a placement constraint needs a type: memberOf or distinctInstance",
                ));
            }
        }
    }
    if out.constraints.len() > MAX_CONSTRAINTS {
        return Err(ControlError::invalid(format!(
            "{} placement constraints (with the task definition's), but at most {MAX_CONSTRAINTS} are allowed",
            out.constraints.len()
        )));
    }
    let strategies = strategies.unwrap_or_default();
    if strategies.len() > MAX_STRATEGIES {
        return Err(ControlError::invalid(format!(
            "{} placement strategies, but at most {MAX_STRATEGIES} are allowed",
            strategies.len()
        )));
    }
    out.strategies = strategies.iter().map(strategy).collect::<Result<_, _>>()?;
    Ok(out)
}

/// The `failures[]` entries of a refused task: one per instance, as ECS reports them, each with
/// the counted summary in `detail`. A refusal names at most [`Refusal::LISTED`] instances, so a
/// refused RunTask on 100,000 instances answers 100 entries rather than 100,000; the count of
/// every instance ruled out stays in `detail`.
pub(crate) fn failures(refusal: &Refusal) -> Vec<Failure> {
    let mut detail = refusal.summary();
    let (listed, ruled_out) = (refusal.per_instance.len(), refusal.instances());
    if listed < ruled_out {
        detail.push_str(&format!(
            " (failures lists the first {listed} of the {ruled_out} instances)"
        ));
    }
    refusal
        .per_instance
        .iter()
        .map(|(arn, m)| Failure {
            arn: Some(arn.clone()),
            reason: Some(m.reason().into()),
            detail: Some(detail.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use berth_scheduler::{Misfit, Refusal};
    use std::collections::BTreeMap;

    fn refusal(instances: usize) -> Refusal {
        Refusal {
            per_instance: (0..instances.min(Refusal::LISTED))
                .map(|i| (format!("i-{i}"), Misfit::Memory))
                .collect(),
            ruled_out: BTreeMap::from([(Misfit::Memory, instances)]),
        }
    }

    #[test]
    fn a_refusal_on_a_large_cluster_lists_the_first_instances_and_counts_them_all() {
        let failures = super::failures(&refusal(100_000));
        assert_eq!(failures.len(), Refusal::LISTED);
        assert_eq!(failures[0].arn.as_deref(), Some("i-0"));
        assert_eq!(failures[0].reason.as_deref(), Some("RESOURCE:MEMORY"));
        assert_eq!(
            failures[99].detail.as_deref(),
            Some(
                "RESOURCE:MEMORY on 100000 instances (failures lists the first 100 of the 100000 instances)"
            )
        );
    }

    #[test]
    fn a_refusal_on_a_small_cluster_lists_every_instance() {
        let failures = super::failures(&refusal(3));
        assert_eq!(failures.len(), 3);
        assert_eq!(
            failures[2].detail.as_deref(),
            Some("RESOURCE:MEMORY on 3 instances")
        );
    }
}

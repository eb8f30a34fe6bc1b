//! ECS account settings: PutAccountSetting, PutAccountSettingDefault, DeleteAccountSetting and
//! ListAccountSettings (with `effectiveSettings`).
//!
//! A setting is set for one principal (a user, a role, or the root, whose settings are the
//! account's defaults). What applies to a principal is its own setting, else the root's, else
//! the value AWS manages (`type: aws_managed`). Berth honours `containerInsights` (the default
//! of a new cluster's setting) and `tagResourceAuthorization` (whether tags given to a create
//! call need `ecs:TagResource` too); the others are stored and answered. Long ARN formats are
//! always on: opting out of them is refused rather than stored and ignored.

use crate::error::ControlError;
use crate::{Change, ControlPlane, State, paginate};
use berth_types::arn::Partition;
use berth_types::ecs::{
    DeleteAccountSettingRequest, DeleteAccountSettingResponse, ListAccountSettingsRequest,
    ListAccountSettingsResponse, PutAccountSettingDefaultRequest, PutAccountSettingDefaultResponse,
    PutAccountSettingRequest, PutAccountSettingResponse, Setting, SettingName, SettingType,
};

/// Most settings one ListAccountSettings page holds (the model's limit and default).
const MAX_PAGE: i32 = 10;

/// The ARN of the account's root, whose settings are the account's defaults.
pub(crate) fn root_arn(partition: &Partition) -> String {
    format!("arn:aws:iam::{}:root", partition.account)
}

/// The value AWS manages for a setting nobody set.
fn aws_default(name: SettingName) -> &'static str {
    use SettingName as N;
    match name {
        N::ServiceLongArnFormat | N::TaskLongArnFormat | N::ContainerInstanceLongArnFormat => {
            "enabled"
        }
        N::AwsvpcTrunking | N::ContainerInsights | N::FargateFIPSMode | N::FargateEventWindows => {
            "disabled"
        }
        // As AWS has it for accounts today: tags on a create call need ecs:TagResource.
        N::TagResourceAuthorization => "on",
        N::FargateTaskRetirementWaitPeriod => "7",
        N::GuardDutyActivate => "off",
        N::DefaultLogDriverMode => "non-blocking",
    }
}

/// The values a setting takes.
fn allowed(name: SettingName) -> &'static [&'static str] {
    use SettingName as N;
    match name {
        N::ServiceLongArnFormat
        | N::TaskLongArnFormat
        | N::ContainerInstanceLongArnFormat
        | N::AwsvpcTrunking
        | N::FargateFIPSMode
        | N::FargateEventWindows => &["enabled", "disabled"],
        N::ContainerInsights => &["enabled", "disabled", "enhanced"],
        N::TagResourceAuthorization | N::GuardDutyActivate => &["on", "off"],
        N::FargateTaskRetirementWaitPeriod => &["0", "7", "14"],
        N::DefaultLogDriverMode => &["blocking", "non-blocking"],
    }
}

/// Checks a value to set for `principal`.
fn check_value(
    partition: &Partition,
    name: SettingName,
    value: &str,
    principal: &str,
) -> Result<(), ControlError> {
    use SettingName as N;
    let invalid = |why: String| Err(ControlError::Invalid(why));
    match name {
        N::GuardDutyActivate => {
            return invalid(
                "guardDutyActivate is read-only: Amazon GuardDuty sets it, and Berth has no GuardDuty".into(),
            );
        }
        N::ServiceLongArnFormat | N::TaskLongArnFormat | N::ContainerInstanceLongArnFormat
            if value == "disabled" =>
        {
            return invalid(format!(
                "{name} cannot be disabled: Berth always uses the long ARN format (it is what ECS uses by default); set it to enabled or leave it unset"
            ));
        }
        N::FargateTaskRetirementWaitPeriod if principal != root_arn(partition) => {
            return invalid(format!(
                "fargateTaskRetirementWaitPeriod is set for the whole account only: use PutAccountSettingDefault, or principalArn {}",
                root_arn(partition)
            ));
        }
        _ => {}
    }
    if allowed(name).contains(&value) {
        Ok(())
    } else {
        invalid(format!(
            "value {value:?} is not valid for {name}: use one of {}",
            allowed(name).join(", ")
        ))
    }
}

/// The principal a call is about: `principal_arn`, or the caller when it names none. Only the
/// root may name another principal, which must be a user, a role or the root of this account.
fn principal_of(
    partition: &Partition,
    principal_arn: Option<&str>,
    caller: &str,
) -> Result<String, ControlError> {
    let Some(wanted) = principal_arn.filter(|p| !p.is_empty()) else {
        return Ok(caller.to_string());
    };
    let prefix = format!("arn:aws:iam::{}:", partition.account);
    let of_account = wanted.strip_prefix(&prefix).is_some_and(|rest| {
        rest == "root"
            || ["user/", "role/"]
                .iter()
                .any(|kind| rest.strip_prefix(kind).is_some_and(|n| !n.is_empty()))
    });
    if !of_account {
        return Err(ControlError::invalid(format!(
            "principalArn {wanted:?} is not a user, a role or the root of account {}: give arn:aws:iam::{}:root, :user/NAME or :role/NAME",
            partition.account, partition.account
        )));
    }
    if wanted != caller && caller != root_arn(partition) {
        return Err(ControlError::AccessDenied(format!(
            "{caller} may not read or change the account settings of {wanted}: only the root user or the principal itself may; omit principalArn for your own"
        )));
    }
    Ok(wanted.to_string())
}

/// The setting that applies to `principal`: its own, else the account's default (the root's),
/// else the value AWS manages.
pub(crate) fn effective(
    state: &State,
    partition: &Partition,
    principal: &str,
    name: SettingName,
) -> Setting {
    let root = root_arn(partition);
    let set = |who: &str| {
        state
            .account_settings
            .get(&(name, who.to_string()))
            .map(|value| setting(name, value, who, SettingType::User))
    };
    set(principal)
        .or_else(|| set(&root))
        .unwrap_or_else(|| setting(name, aws_default(name), &root, SettingType::AwsManaged))
}

fn setting(name: SettingName, value: &str, principal: &str, kind: SettingType) -> Setting {
    Setting {
        name: Some(name),
        value: Some(value.to_string()),
        principal_arn: Some(principal.to_string()),
        r#type: Some(kind),
    }
}

impl ControlPlane {
    /// The value of an account setting that applies to `principal` (an IAM ARN).
    pub fn account_setting(&self, principal: &str, name: SettingName) -> String {
        effective(&self.read(), self.partition(), principal, name)
            .value
            .unwrap_or_default()
    }

    /// Sets `name` to `value` for `principal`.
    fn set_account_setting(
        &self,
        name: SettingName,
        value: &str,
        principal: String,
    ) -> Result<Setting, ControlError> {
        check_value(self.partition(), name, value, &principal)?;
        let stored = setting(name, value, &principal, SettingType::User);
        self.mutate(|_, _| Ok((vec![Change::AccountSetting(stored.clone())], stored.clone())))
    }

    /// PutAccountSetting: for `principalArn`, or for the caller.
    pub fn put_account_setting(
        &self,
        req: PutAccountSettingRequest,
        caller: &str,
    ) -> Result<PutAccountSettingResponse, ControlError> {
        let principal = principal_of(self.partition(), req.principal_arn.as_deref(), caller)?;
        let setting = self.set_account_setting(req.name, &req.value, principal)?;
        Ok(PutAccountSettingResponse {
            setting: Some(setting),
        })
    }

    /// PutAccountSettingDefault: the root's setting, which applies to every principal that has
    /// none of its own.
    pub fn put_account_setting_default(
        &self,
        req: PutAccountSettingDefaultRequest,
    ) -> Result<PutAccountSettingDefaultResponse, ControlError> {
        let root = root_arn(self.partition());
        let setting = self.set_account_setting(req.name, &req.value, root)?;
        Ok(PutAccountSettingDefaultResponse {
            setting: Some(setting),
        })
    }

    /// DeleteAccountSetting: the principal's own setting goes, and what applies then is the
    /// account's default. Deleting a setting that is not set changes nothing and answers the
    /// setting that applies.
    pub fn delete_account_setting(
        &self,
        req: DeleteAccountSettingRequest,
        caller: &str,
    ) -> Result<DeleteAccountSettingResponse, ControlError> {
        let principal = principal_of(self.partition(), req.principal_arn.as_deref(), caller)?;
        self.mutate(|state, ctx| {
            let key = (req.name, principal.clone());
            let answer = match state.account_settings.get(&key) {
                Some(value) => setting(req.name, value, &principal, SettingType::User),
                None => effective(state, ctx.partition, &principal, req.name),
            };
            let changes = match state.account_settings.contains_key(&key) {
                true => vec![Change::RemoveAccountSetting(req.name, principal.clone())],
                false => vec![],
            };
            Ok((
                changes,
                DeleteAccountSettingResponse {
                    setting: Some(answer),
                },
            ))
        })
    }

    /// ListAccountSettings: the principal's own settings, or with `effectiveSettings` what
    /// applies to it for every setting; filtered by `name` and `value`.
    pub fn list_account_settings(
        &self,
        req: ListAccountSettingsRequest,
        caller: &str,
    ) -> Result<ListAccountSettingsResponse, ControlError> {
        if req.value.is_some() && req.name.is_none() {
            return Err(ControlError::invalid(
                "value filters the settings of one name: give name too",
            ));
        }
        if let Some(n) = req.max_results
            && !(1..=MAX_PAGE).contains(&n)
        {
            return Err(ControlError::invalid(format!(
                "maxResults is {n}, but must be between 1 and {MAX_PAGE}"
            )));
        }
        let principal = principal_of(self.partition(), req.principal_arn.as_deref(), caller)?;
        let state = self.read();
        let names = SettingName::ALL
            .iter()
            .copied()
            .filter(|n| req.name.is_none_or(|wanted| wanted == *n));
        let settings: Vec<Setting> = if req.effective_settings == Some(true) {
            names
                .map(|n| effective(&state, self.partition(), &principal, n))
                .collect()
        } else {
            names
                .filter_map(|n| {
                    let value = state.account_settings.get(&(n, principal.clone()))?;
                    Some(setting(n, value, &principal, SettingType::User))
                })
                .collect()
        };
        let settings = settings
            .into_iter()
            .filter(|s| req.value.is_none() || s.value == req.value)
            .collect();
        let (page, next) = paginate::page(
            settings,
            req.max_results,
            req.next_token.as_deref(),
            paginate::Size {
                default: MAX_PAGE as usize,
                most: MAX_PAGE as usize,
            },
        )?;
        Ok(ListAccountSettingsResponse {
            settings: Some(page),
            next_token: next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemClock;
    use berth_store::MemStore;
    use std::sync::Arc;

    const ROOT: &str = "arn:aws:iam::000000000000:root";
    const ALICE: &str = "arn:aws:iam::000000000000:user/alice";

    fn control() -> ControlPlane {
        let partition = Partition {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        ControlPlane::open(
            partition,
            Arc::new(MemStore::default()),
            Arc::new(SystemClock),
        )
        .expect("opens")
    }

    fn put(
        control: &ControlPlane,
        name: SettingName,
        value: &str,
        who: Option<&str>,
        caller: &str,
    ) -> Result<Setting, ControlError> {
        let req = PutAccountSettingRequest {
            name,
            value: value.into(),
            principal_arn: who.map(str::to_string),
        };
        control
            .put_account_setting(req, caller)
            .map(|r| r.setting.expect("a setting"))
    }

    #[test]
    fn own_then_default_then_aws_managed() {
        let c = control();
        let insights = SettingName::ContainerInsights;
        assert_eq!(c.account_setting(ALICE, insights), "disabled");
        c.put_account_setting_default(PutAccountSettingDefaultRequest {
            name: insights,
            value: "enabled".into(),
        })
        .expect("default");
        assert_eq!(c.account_setting(ALICE, insights), "enabled");
        put(&c, insights, "enhanced", None, ALICE).expect("alice's own");
        assert_eq!(c.account_setting(ALICE, insights), "enhanced");
        assert_eq!(c.account_setting(ROOT, insights), "enabled");
        let deleted = c
            .delete_account_setting(
                DeleteAccountSettingRequest {
                    name: insights,
                    principal_arn: Some(ALICE.into()),
                },
                ROOT,
            )
            .expect("delete");
        assert_eq!(
            deleted.setting.and_then(|s| s.value).as_deref(),
            Some("enhanced")
        );
        assert_eq!(c.account_setting(ALICE, insights), "enabled");
    }

    #[test]
    fn listing_own_or_effective_settings() {
        let c = control();
        put(&c, SettingName::AwsvpcTrunking, "enabled", None, ALICE).expect("put");
        let list = |effective: bool, name: Option<SettingName>, value: Option<&str>| {
            c.list_account_settings(
                ListAccountSettingsRequest {
                    name,
                    value: value.map(str::to_string),
                    effective_settings: Some(effective),
                    ..Default::default()
                },
                ALICE,
            )
        };
        let own = list(false, None, None)
            .expect("own")
            .settings
            .unwrap_or_default();
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].principal_arn.as_deref(), Some(ALICE));
        let all = list(true, None, None).expect("effective");
        assert_eq!(all.settings.as_ref().map(Vec::len), Some(10));
        assert!(all.next_token.is_some(), "11 settings make two pages");
        let task_arns = list(true, Some(SettingName::TaskLongArnFormat), None)
            .expect("one name")
            .settings
            .unwrap_or_default();
        assert_eq!(task_arns[0].value.as_deref(), Some("enabled"));
        assert_eq!(task_arns[0].r#type, Some(SettingType::AwsManaged));
        let none =
            list(true, Some(SettingName::TaskLongArnFormat), Some("disabled")).expect("filtered");
        assert_eq!(none.settings.map(|s| s.len()), Some(0));
        assert!(
            list(true, None, Some("enabled")).is_err(),
            "value needs name"
        );
    }

    #[test]
    fn refusals() {
        let c = control();
        // Which refusal, as the two this module makes: a bad parameter, or a denied caller.
        #[derive(Debug, PartialEq)]
        enum Refusal {
            Invalid,
            Denied,
        }
        use Refusal::{Denied, Invalid};
        let refused = |r: Result<Setting, ControlError>| match r.expect_err("refused") {
            ControlError::Invalid(_) => Invalid,
            ControlError::AccessDenied(_) => Denied,
            other => panic!("refused with {other:?}"),
        };
        assert_eq!(
            refused(put(
                &c,
                SettingName::TaskLongArnFormat,
                "disabled",
                None,
                ROOT
            )),
            Invalid
        );
        assert_eq!(
            refused(put(&c, SettingName::ContainerInsights, "on", None, ROOT)),
            Invalid
        );
        assert_eq!(
            refused(put(&c, SettingName::GuardDutyActivate, "on", None, ROOT)),
            Invalid
        );
        assert_eq!(
            refused(put(
                &c,
                SettingName::FargateTaskRetirementWaitPeriod,
                "14",
                Some(ALICE),
                ROOT
            )),
            Invalid
        );
        assert_eq!(
            refused(put(
                &c,
                SettingName::ContainerInsights,
                "enabled",
                Some(ROOT),
                ALICE
            )),
            Denied
        );
        assert_eq!(
            refused(put(
                &c,
                SettingName::ContainerInsights,
                "enabled",
                Some("arn:aws:iam::111111111111:root"),
                ROOT
            )),
            Invalid
        );
        put(
            &c,
            SettingName::FargateTaskRetirementWaitPeriod,
            "14",
            None,
            ROOT,
        )
        .expect("the root sets it");
        put(
            &c,
            SettingName::ContainerInsights,
            "enabled",
            Some(ALICE),
            ALICE,
        )
        .expect("naming oneself");
    }
}

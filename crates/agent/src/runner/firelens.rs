//! The runner's part in FireLens ([`crate::logs::firelens`]): before the router is created its
//! configuration is written and its create body gets the binds and the published port; an
//! app's create body gets the `fluentd` driver aimed at the started router.

use super::Runner;
use crate::logs::firelens::config::{self, Endpoint, Meta};
use crate::logs::firelens::options::{App, Router};
use crate::logs::firelens::{self, engine};
use crate::runtime::ContainerRuntime;
use bollard::models::ContainerCreateBody;

impl<R: ContainerRuntime> Runner<'_, R> {
    /// Adds to container `index`'s create body what FireLens needs, writing the router's
    /// configuration first when `index` is the router.
    pub(super) fn firelens_body(
        &self,
        index: usize,
        body: &mut ContainerCreateBody,
    ) -> Result<(), String> {
        let td = &self.assigned.task_definition;
        let defs = td.container_definitions.as_deref().unwrap_or_default();
        let Some(router_def) = firelens::router(defs) else {
            return Ok(());
        };
        let def = &self.slots[index].def;
        let router = Router::of(router_def)?;
        let dir = self.ctx.firelens.task_dir(&self.task_arn);
        if def.firelens_configuration.is_some() {
            let apps = defs
                .iter()
                .filter(|d| firelens::is_app(d))
                .map(|d| App::of(d, router.kind))
                .collect::<Result<Vec<_>, _>>()?;
            let meta = Meta {
                cluster: self.ctx.cluster.clone(),
                task_arn: self.task_arn.clone(),
                task_definition: format!(
                    "{}:{}",
                    td.family.as_deref().unwrap_or_default(),
                    td.revision.unwrap_or_default()
                ),
            };
            let endpoint = Endpoint::parse(&self.ctx.firelens.endpoint);
            let conf = config::generate(&router, &apps, &meta, endpoint.as_ref());
            self.ctx.firelens.prepare(&self.task_arn, &conf)?;
            engine::router_body(body, router.kind, &dir);
        }
        if firelens::is_app(def) {
            let app = App::of(def, router.kind)?;
            let mode = body
                .host_config
                .as_ref()
                .and_then(|h| h.network_mode.clone())
                .unwrap_or_default();
            let bindings = self
                .slots
                .iter()
                .find(|s| s.def.firelens_configuration.is_some())
                .map(|s| s.bindings.as_slice())
                .unwrap_or_default();
            let address = engine::address(&mode, bindings, &dir);
            // In bridge mode the router's container address is not known here: no FLUENT_HOST.
            // An awsvpc task's containers share one namespace, as in host mode.
            let shared = mode == "host" || mode.starts_with("container:");
            let fluent_host = shared.then_some("127.0.0.1");
            engine::app_body(body, &app, &self.task_arn, &address, fluent_host);
        }
        Ok(())
    }
}

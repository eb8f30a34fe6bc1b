//! The engine's networks and image import, for awsvpc tasks: each VPC is a bridge network of
//! the engine ([`crate::network`]), and the pause image is imported from bytes the agent
//! carries, so no registry is needed.

use super::{Docker, clean};
use crate::runtime::NetworkSpec;
use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

impl Docker {
    pub(super) async fn import(
        &self,
        tag: &str,
        tar: Vec<u8>,
        changes: &[&str],
    ) -> Result<(), String> {
        if self.api.inspect_image(tag).await.is_ok() {
            return Ok(());
        }
        let (repo, version) = super::split_image(tag);
        let options = CreateImageOptions {
            from_src: Some("-".into()),
            repo: Some(repo.into()),
            tag: Some(version.into()),
            changes: changes.iter().map(|c| c.to_string()).collect(),
            ..CreateImageOptions::default()
        };
        let body = bollard::body_full(tar.into());
        let mut import = self.api.create_image(Some(options), Some(body), None);
        while let Some(step) = import.next().await {
            step.map_err(|e| format!("cannot import image {tag}: {}", clean(&e)))?;
        }
        Ok(())
    }

    pub(super) async fn networks(&self) -> Result<Vec<NetworkSpec>, String> {
        let list = self
            .api
            .list_networks(None)
            .await
            .map_err(|e| format!("cannot list the engine's networks: {}", clean(&e)))?;
        Ok(list
            .into_iter()
            .map(|n| {
                let configs = n.ipam.and_then(|i| i.config).unwrap_or_default();
                NetworkSpec {
                    name: n.name.unwrap_or_default(),
                    // IPv6 blocks cannot clash with a VPC's IPv4 block.
                    subnets: configs
                        .iter()
                        .filter_map(|c| c.subnet.clone())
                        .filter(|s| !s.contains(':'))
                        .collect(),
                    gateway: configs.iter().find_map(|c| c.gateway.clone()),
                    options: n.options.unwrap_or_default(),
                    labels: n.labels.unwrap_or_default(),
                }
            })
            .collect())
    }

    pub(super) async fn new_network(&self, spec: &NetworkSpec) -> Result<(), String> {
        let config = spec
            .subnets
            .iter()
            .map(|subnet| IpamConfig {
                subnet: Some(subnet.clone()),
                gateway: spec.gateway.clone(),
                ..IpamConfig::default()
            })
            .collect();
        let request = NetworkCreateRequest {
            name: spec.name.clone(),
            driver: Some("bridge".into()),
            ipam: Some(Ipam {
                config: Some(config),
                ..Ipam::default()
            }),
            options: Some(spec.options.clone()),
            labels: Some(spec.labels.clone()),
            ..NetworkCreateRequest::default()
        };
        self.api
            .create_network(request)
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot create network {}: {}", spec.name, clean(&e)))
    }

    pub(super) async fn drop_network(&self, name: &str) -> Result<(), String> {
        match self.api.remove_network(name).await {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(format!("cannot remove network {name}: {}", clean(&e))),
        }
    }
}

//! The baseline: Debian's `docker-registry` (the Distribution registry) on a free port, with
//! its data in a scratch directory.

use super::client::Target;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A directory removed when dropped.
pub(super) struct Scratch(pub(super) std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Distribution registry, started from Debian's package on a free port.
pub(super) struct Distribution {
    child: Child,
}

impl Distribution {
    pub(super) async fn start(base_dir: &std::path::Path) -> anyhow::Result<(Self, Target)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = base_dir.join("distribution");
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.join("data").display()
            ),
        )?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot start docker-registry ({e}): apt-get install docker-registry"
                )
            })?;
        let target = Target {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
            auth: None,
        };
        let started = Instant::now();
        while target
            .request(reqwest::Method::GET, "/v2/")
            .send()
            .await
            .is_err()
        {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(20),
                "docker-registry did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok((Self { child }, target))
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

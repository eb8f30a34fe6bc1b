//! `berth server`: the control plane and its API on one listener.

use crate::credentials::{self, Credentials};
use crate::tls::{Mode, TlsOptions};
use anyhow::Context;
use berth_api::AppState;
use berth_control::file_systems::FileSystems;
use berth_control::identity::ANY_CLUSTER;
use berth_control::{ControlPlane, SystemClock};
use berth_logs::Logs;
use berth_registry::Registry;
use berth_store::{RedbStore, Sealed};
use berth_types::arn::Partition;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The account every ARN carries unless `--account-id` says otherwise.
pub const DEFAULT_ACCOUNT: &str = "000000000000";

/// `--account-id`: twelve digits, as AWS account ids are.
fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "account id {s:?} must be 12 digits, as an AWS account id"
        ))
    }
}

/// Where and how the server runs.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerOptions {
    /// Directory for the state file and the root key.
    #[arg(long, env = "BERTH_DATA_DIR", default_value_os_t = default_data_dir())]
    pub data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "BERTH_LISTEN", default_value = "127.0.0.1:9714")]
    pub listen: String,
    /// Region in ARNs and signatures: a request signed for another region is refused, as an
    /// AWS endpoint refuses it.
    #[arg(long, env = "BERTH_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Account id in ARNs and policies (so those copied from an AWS account work unchanged).
    #[arg(long, env = "BERTH_ACCOUNT_ID", default_value = DEFAULT_ACCOUNT, value_parser = parse_account)]
    pub account_id: String,
    /// API requests a second per access key (bursts of twice that; agent reports get ten
    /// times as much); 0 for no limit.
    #[arg(long, env = "BERTH_RATE_LIMIT", default_value_t = 1000)]
    pub rate_limit: u32,
    /// Audit events kept (the oldest are forgotten, checked every 5 minutes).
    #[arg(long, env = "BERTH_AUDIT_RETENTION", default_value_t = 1_000_000)]
    pub audit_retention: usize,
    /// Serve the registry (`/v2/`) on this address of its own instead of the API's listener
    /// (port 0 picks a free one); TLS follows the same rules as the API's.
    #[arg(long, env = "BERTH_REGISTRY_LISTEN")]
    pub registry_listen: Option<String>,
    /// Create a repository on its first push instead of refusing it (NAME_UNKNOWN).
    #[arg(long, env = "BERTH_REGISTRY_CREATE_ON_PUSH")]
    pub registry_create_on_push: bool,
    /// A JSON file declaring the shared file systems (GlusterFS volumes, NFS exports) and
    /// access points that task definitions' `efsVolumeConfiguration` volumes name (see the
    /// README, "Shared volumes").
    #[arg(long, env = "BERTH_FILE_SYSTEMS")]
    pub file_systems: Option<PathBuf>,
    #[command(flatten)]
    pub tls: TlsOptions,
    /// Whether signatures are verified: always, but for the benchmark that measures their cost.
    #[arg(skip = true)]
    pub verify: bool,
}

/// `$XDG_DATA_HOME/berth`, or `~/.local/share/berth`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("berth")
}

/// A server that is listening.
pub struct Running {
    pub addr: SocketAddr,
    /// The control plane behind the API.
    pub control: Arc<ControlPlane>,
    /// The image registry served at `/v2/`.
    pub registry: Arc<Registry>,
    /// The log store behind the CloudWatch Logs API.
    pub logs: Arc<Logs>,
    /// The registry's own listener, when it has one (`--registry-listen`).
    pub registry_listener: Option<SocketAddr>,
    /// Whether the API speaks HTTPS.
    pub tls: bool,
    /// The generated CA clients trust, when the certificate is Berth's own.
    pub ca_file: Option<PathBuf>,
    pub credentials: Credentials,
    pub region: String,
    pub served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The endpoint URL clients on this machine use.
    pub fn endpoint(&self) -> String {
        let host = if self.addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            self.addr.ip().to_string()
        };
        self.url(&host)
    }

    /// A client of the API signing with the root key.
    pub fn root_client(&self) -> berth_agent::client::EcsClient {
        berth_agent::client::EcsClient::new(
            &self.endpoint(),
            &self.credentials.access_key_id,
            &self.credentials.secret_access_key,
            &self.region,
        )
    }

    /// The endpoint URL other machines use: the host name when listening on every address.
    pub fn public_endpoint(&self) -> String {
        match std::fs::read_to_string("/proc/sys/kernel/hostname") {
            Ok(name) if self.addr.ip().is_unspecified() && !name.trim().is_empty() => {
                self.url(name.trim())
            }
            _ => self.endpoint(),
        }
    }

    fn url(&self, host: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        format!("{scheme}://{host}:{}", self.addr.port())
    }

    /// The `export` lines a script sources.
    pub fn exports(&self) -> String {
        let mut lines = format!(
            "export AWS_ENDPOINT_URL={}\nexport AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\nexport AWS_DEFAULT_REGION={}",
            self.endpoint(),
            self.credentials.access_key_id,
            self.credentials.secret_access_key,
            self.region
        );
        if let Some(ca) = &self.ca_file {
            lines.push_str(&format!("\nexport AWS_CA_BUNDLE={}", ca.display()));
        }
        lines.push_str(&format!("\nexport BERTH_REGISTRY={}", self.registry_host()));
        lines
    }

    /// The registry's `host:port`, as `docker login` and image names use it.
    pub fn registry_host(&self) -> String {
        let endpoint = self.endpoint();
        let api_host = endpoint.split("://").nth(1).unwrap_or_default();
        match self.registry_listener {
            Some(addr) => berth_api::with_port(api_host, addr.port()),
            None => api_host.to_string(),
        }
    }

    /// The command that joins another host to this server.
    pub fn join_command(&self) -> String {
        // The token goes in the environment: a command line is visible to every local user.
        let mut command = format!(
            "BERTH_JOIN_TOKEN={} berth agent --endpoint {} --region {}",
            self.credentials.join_token,
            self.public_endpoint(),
            self.region
        );
        if let Some(ca) = &self.ca_file {
            // The agent's host needs a copy of the CA at the same path.
            command.push_str(&format!(" --ca-bundle {}", ca.display()));
        }
        command
    }
}

/// Blobs younger than this are kept by garbage collection: a push uploads its layers before
/// its manifest.
const GC_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Every few minutes, forgets STOPPED tasks and audit events past their retention, collects
/// the registry's unreferenced blobs and drops log events past their group's retention.
async fn prune(
    control: Arc<ControlPlane>,
    registry: Arc<Registry>,
    logs: Arc<Logs>,
    audit_retention: usize,
) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        every.tick().await;
        let pruned = tokio::task::block_in_place(|| control.prune_stopped());
        match pruned {
            Ok(0) => {}
            Ok(n) => tracing::info!(tasks = n, "forgot stopped tasks past their retention"),
            Err(e) => tracing::warn!(error = %e, "pruning stopped tasks failed"),
        }
        match tokio::task::block_in_place(|| control.prune_agent_keys()) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                keys = n,
                "forgot agent keys of deregistered or never registered agents"
            ),
            Err(e) => tracing::warn!(error = %e, "pruning agent keys failed"),
        }
        let pruned = tokio::task::block_in_place(|| control.prune_audit(audit_retention));
        match pruned {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "forgot the oldest audit events"),
            Err(e) => tracing::warn!(error = %e, "pruning the audit log failed"),
        }
        match tokio::task::block_in_place(|| registry.apply_lifecycle_policies()) {
            Ok(0) => {}
            Ok(images) => tracing::info!(images, "lifecycle policies expired images"),
            Err(e) => tracing::warn!(error = %e, "lifecycle policies could not be applied"),
        }
        match tokio::task::block_in_place(|| registry.collect_garbage(GC_GRACE)) {
            Ok((0, _)) => {}
            Ok((blobs, bytes)) => tracing::info!(blobs, bytes, "collected unreferenced blobs"),
            Err(e) => tracing::warn!(error = %e, "registry garbage collection failed"),
        }
        match tokio::task::block_in_place(|| logs.apply_retention()) {
            Ok(0) => {}
            Ok(segments) => tracing::info!(segments, "dropped log events past their retention"),
            Err(e) => tracing::warn!(error = %e, "log retention could not be applied"),
        }
    }
}

/// Opens the store, loads the state and starts serving.
pub async fn start(
    opts: &ServerOptions,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Running> {
    // Listening comes first: a start that cannot listen (the port is taken) then leaves no
    // data directory behind, where a first start would otherwise leave one half made. Every
    // file after this is written whole, so a start failing later leaves one the next accepts.
    let listener = TcpListener::bind(&opts.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (is another berth running? pick another with --listen)",
            opts.listen
        )
    })?;
    let registry_listener = match &opts.registry_listen {
        Some(address) => Some(TcpListener::bind(address).await.with_context(|| {
            format!(
                "cannot listen on {address} for the registry: pick another with --registry-listen"
            )
        })?),
        None => None,
    };
    std::fs::create_dir_all(&opts.data_dir)
        .with_context(|| format!("cannot create data directory {}", opts.data_dir.display()))?;
    // The state holds every key's secret: no other local user may read it (installations of
    // earlier versions are fixed here too).
    credentials::make_private(&opts.data_dir, true)?;
    let mut credentials = credentials::load_or_create(&opts.data_dir)?;
    let sealing_key = credentials::sealing_key(&opts.data_dir)?;
    let state_file = opts.data_dir.join("state.redb");
    let store = RedbStore::open(&state_file)?;
    credentials::make_private(&state_file, false)?;
    let store = Sealed::new(store, &sealing_key)?;
    let partition = Partition {
        region: opts.region.clone(),
        account: opts.account_id.clone(),
    };
    let file_systems = match &opts.file_systems {
        Some(path) => FileSystems::load(path).map_err(anyhow::Error::msg)?,
        None => FileSystems::default(),
    };
    let control = ControlPlane::open(partition.clone(), Arc::new(store), Arc::new(SystemClock))
        .map_err(|e| anyhow::anyhow!("cannot load the state: {e}"))?
        .with_file_systems(file_systems);
    // Stored records carry their ARNs: served as another account or region, none would match.
    if let Some(recorded) = control.recorded_partition()
        && recorded != partition
    {
        anyhow::bail!(
            "the data in {} is of account {} in region {}: start with --account-id {} --region {}, or use another --data-dir",
            opts.data_dir.display(),
            recorded.account,
            recorded.region,
            recorded.account,
            recorded.region
        );
    }
    // The join token good for every cluster: an earlier version's, or a new one.
    let seed = Some(credentials.join_token.as_str()).filter(|t| !t.is_empty());
    credentials.join_token = control
        .ensure_join_token(ANY_CLUSTER, seed)
        .map_err(|e| anyhow::anyhow!("cannot create the join token: {e}"))?;
    // A new account's default VPC, as `aws ec2 describe-vpcs` shows in a new AWS account.
    control
        .network_defaults()
        .map_err(|e| anyhow::anyhow!("cannot create the default VPC: {e}"))?;
    let addr = listener.local_addr()?;
    let control = Arc::new(control);
    let registry = Arc::new(
        Registry::open(&opts.data_dir.join("registry"))
            .map_err(|e| anyhow::anyhow!("cannot open the registry: {e}"))?
            .create_on_push(opts.registry_create_on_push),
    );
    let logs = Arc::new(
        Logs::open(
            &opts.data_dir.join("logs"),
            Arc::new(berth_logs::SystemClock),
        )
        .map_err(|e| anyhow::anyhow!("cannot open the log store: {e}"))?,
    );
    tokio::spawn(prune(
        Arc::clone(&control),
        Arc::clone(&registry),
        Arc::clone(&logs),
        opts.audit_retention,
    ));
    tokio::spawn(Arc::clone(&control).run_service_controller());
    tokio::spawn(Arc::clone(&control).run_audit_writer());
    let root = berth_api::auth::RootKey {
        id: credentials.access_key_id.clone(),
        secret: credentials.secret_access_key.clone(),
    };
    let mode = opts.tls.mode(addr, &opts.data_dir)?;
    let tls = matches!(mode, Mode::Tls { .. });
    let mut app = AppState {
        control: Arc::clone(&control),
        registry: Arc::clone(&registry),
        logs: Arc::clone(&logs),
        root,
        limiter: Arc::new(berth_api::throttle::Limiter::new(opts.rate_limit)),
        shutdown,
        secure: false,
        verify: opts.verify,
        registry_listener: None,
    };
    let registry_listener = match registry_listener {
        Some(listener) => Some(serve_registry(listener, opts, &mut app)?),
        None => None,
    };
    let (served, ca_file) = match mode {
        Mode::Plain => (tokio::spawn(berth_api::serve(listener, app)), None),
        Mode::Tls { config, ca_file } => {
            app.secure = true;
            let listener = berth_api::tls::TlsListener::new(listener, config)?;
            (tokio::spawn(berth_api::serve(listener, app)), ca_file)
        }
    };
    tracing::info!(%addr, tls = ca_file.is_some(), "serving the ECS API");
    Ok(Running {
        addr,
        control,
        registry,
        logs,
        registry_listener,
        tls,
        ca_file,
        credentials,
        region: opts.region.clone(),
        served,
    })
}

/// Serves the registry on its own listener and points `app` (the API's state) at it.
fn serve_registry(
    listener: TcpListener,
    opts: &ServerOptions,
    app: &mut AppState,
) -> anyhow::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    let mode = opts.tls.mode(addr, &opts.data_dir)?;
    let secure = matches!(mode, Mode::Tls { .. });
    app.registry_listener = Some(berth_api::RegistryListener {
        port: addr.port(),
        secure,
    });
    let mut state = app.clone();
    state.secure = secure;
    match mode {
        Mode::Plain => tokio::spawn(berth_api::serve_registry(listener, state)),
        Mode::Tls { config, .. } => {
            let listener = berth_api::tls::TlsListener::new(listener, config)?;
            tokio::spawn(berth_api::serve_registry(listener, state))
        }
    };
    tracing::info!(%addr, tls = secure, "serving the registry");
    Ok(addr)
}

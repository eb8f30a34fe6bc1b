//! `berth`: Amazon ECS that you run yourself.
//!
//! - `berth up`: the control plane and an agent for the local Docker engine, in one process;
//! - `berth server`: the control plane alone;
//! - `berth agent`: a host agent that joins a control plane.

mod credentials;
mod server;

use clap::{Parser, Subcommand};
use server::ServerOptions;
use std::path::PathBuf;
use tokio::sync::{oneshot, watch};

#[derive(Parser)]
#[command(name = "berth", version, about = "Amazon ECS that you run yourself")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane and an agent for the local Docker engine.
    Up {
        #[command(flatten)]
        server: ServerOptions,
        #[command(flatten)]
        agent: AgentOptions,
    },
    /// Run the control plane (API, store, scheduler).
    Server {
        #[command(flatten)]
        server: ServerOptions,
    },
    /// Run a host agent that joins a control plane.
    Agent {
        /// The control plane's endpoint, e.g. http://10.0.0.5:9714.
        #[arg(long, env = "BERTH_ENDPOINT")]
        endpoint: String,
        /// Access key id to sign with (as `berth server` printed it).
        #[arg(long, env = "AWS_ACCESS_KEY_ID")]
        access_key: String,
        /// Region in the signature scope.
        #[arg(long, env = "AWS_DEFAULT_REGION", default_value = "us-east-1")]
        region: String,
        /// Where the agent remembers its registration.
        #[arg(long, env = "BERTH_AGENT_STATE_DIR", default_value_os_t = server::default_data_dir().join("agent"))]
        state_dir: PathBuf,
        #[command(flatten)]
        agent: AgentOptions,
    },
}

#[derive(Debug, Clone, clap::Args)]
struct AgentOptions {
    /// Cluster to join (created on first use when it is `default`).
    #[arg(long, env = "BERTH_CLUSTER", default_value = "default")]
    cluster: String,
    /// CPU units to offer (default: 1024 per core).
    #[arg(long)]
    cpu: Option<i32>,
    /// MiB of memory to offer (default: the host's total).
    #[arg(long)]
    memory: Option<i32>,
    /// The ecs.availability-zone attribute of this host.
    #[arg(long, default_value = "local-a")]
    availability_zone: String,
    /// Custom attribute NAME=VALUE (repeatable).
    #[arg(long = "attribute", value_parser = parse_attribute)]
    attributes: Vec<(String, String)>,
}

fn parse_attribute(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("attribute {s:?} must be NAME=VALUE"))
}

impl AgentOptions {
    fn config(
        &self,
        endpoint: String,
        access_key: String,
        region: String,
        state_dir: PathBuf,
    ) -> berth_agent::AgentConfig {
        berth_agent::AgentConfig {
            endpoint,
            cluster: self.cluster.clone(),
            state_dir,
            access_key,
            region,
            cpu: self.cpu,
            memory: self.memory,
            availability_zone: self.availability_zone.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

/// A watch that flips to true on Ctrl-C or SIGTERM.
fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        eprintln!(
            "berth: shutting down (containers keep running and are adopted on the next start)"
        );
        let _ = tx.send(true);
    });
    rx
}

async fn up(server_opts: ServerOptions, agent_opts: AgentOptions) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let running = server::start(&server_opts, shutdown.clone()).await?;
    let config = agent_opts.config(
        running.endpoint(),
        running.credentials.access_key_id.clone(),
        running.region.clone(),
        server_opts.data_dir.join("agent"),
    );
    let (registered_tx, registered_rx) = oneshot::channel();
    let agent = tokio::spawn(berth_agent::run(
        config,
        shutdown.clone(),
        Some(registered_tx),
    ));
    let Ok(instance) = registered_rx.await else {
        agent.await??;
        anyhow::bail!("the agent stopped before registering");
    };
    println!(
        "Berth is up: ECS API on {} (data in {})",
        running.endpoint(),
        server_opts.data_dir.display()
    );
    println!(
        "This host joined cluster {} as {instance}",
        agent_opts.cluster
    );
    println!("{}", running.exports());
    println!(
        "# Try: aws ecs list-container-instances --cluster {}",
        agent_opts.cluster
    );
    let served = running.served.await;
    served??;
    Ok(())
}

async fn serve(opts: ServerOptions) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let running = server::start(&opts, shutdown).await?;
    println!(
        "Berth server: ECS API on {} (data in {})",
        running.endpoint(),
        opts.data_dir.display()
    );
    println!("{}", running.exports());
    println!(
        "# Join a host: berth agent --endpoint {} --access-key {}",
        running.endpoint(),
        running.credentials.access_key_id
    );
    running.served.await??;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Up { server, agent } => up(server, agent).await,
        Command::Server { server } => serve(server).await,
        Command::Agent {
            endpoint,
            access_key,
            region,
            state_dir,
            agent,
        } => {
            let config = agent.config(endpoint, access_key, region, state_dir);
            berth_agent::run(config, shutdown_signal(), None).await?;
            Ok(())
        }
    }
}

//! `berth`: Amazon ECS that you run yourself.
//!
//! - `berth up`: the control plane and an agent for the local Docker engine, in one process;
//! - `berth server`: the control plane alone;
//! - `berth agent`: a host agent that joins a control plane;
//! - `berth audit`: the newest audit events;
//! - `berth status`: what runs where, at a glance;
//! - `berth join-token`, `berth agent-keys`: the agents' credentials;
//! - `berth simulate`: container instances without Docker, for placement at scale;
//! - `berth bench`: benchmarks beside a baseline.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[macro_use]
mod output;

mod admin;
mod audit;
mod bench;
mod credentials;
mod env_file;
mod logging;
mod logs;
mod server;
mod simulate;
mod status;
mod table;
mod tls;
mod up;

use berth_agent::client::EcsClient;
use clap::{Parser, Subcommand};
use env_file::EnvFile;
use logging::LogFormat;
use server::ServerOptions;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::sync::watch;
use up::AgentOptions;

#[derive(Parser)]
#[command(name = "berth", version, about = "Amazon ECS that you run yourself")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How Berth logs on stderr: text, or JSON lines for log collectors.
    #[arg(
        long,
        global = true,
        env = "BERTH_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane and an agent for the local Docker engine.
    Up {
        #[command(flatten)]
        server: ServerOptions,
        #[command(flatten)]
        agent: AgentOptions,
        #[command(flatten)]
        env_file: EnvFile,
    },
    /// Measure Berth beside a baseline on this machine.
    Bench {
        #[command(subcommand)]
        which: bench::Which,
    },
    /// Run the control plane (API, store, scheduler).
    Server {
        #[command(flatten)]
        server: ServerOptions,
        #[command(flatten)]
        env_file: EnvFile,
    },
    /// Run a host agent that joins a control plane.
    Agent {
        #[command(flatten)]
        join: Join,
        /// A file holding the join token (or set BERTH_JOIN_TOKEN, as the join command
        /// `berth server` prints does; never on the command line, where every local user can
        /// read it): the agent trades it for credentials of its own, good for its own instance
        /// only. Without either, the agent signs with the key given.
        #[arg(long)]
        join_token_file: Option<PathBuf>,
        /// Where the agent remembers its registration.
        #[arg(long, env = "BERTH_AGENT_STATE_DIR", default_value_os_t = server::default_data_dir().join("agent"))]
        state_dir: PathBuf,
        #[command(flatten)]
        agent: AgentOptions,
    },
    /// Print a task's output, as its containers' awslogs streams hold it.
    Logs {
        #[command(flatten)]
        join: Join,
        /// The task's id or ARN.
        task: String,
        /// The task's cluster.
        #[arg(long, default_value = "default")]
        cluster: String,
        /// Only this container's output.
        #[arg(long)]
        container: Option<String>,
        /// Keep printing as the task prints, until it has stopped.
        #[arg(long, short = 'f')]
        follow: bool,
        /// Only what was printed this recently, e.g. 10m, 1h, 30s.
        #[arg(long, value_parser = berth_agent::cleanup::parse_duration)]
        since: Option<std::time::Duration>,
    },
    /// Print the newest audit events: who did what to which resource, and how it went.
    Audit {
        #[command(flatten)]
        join: Join,
        #[command(flatten)]
        options: audit::AuditOptions,
    },
    /// Show what Berth is running: clusters and their instances, services, recently stopped
    /// tasks.
    Status {
        #[command(flatten)]
        join: Join,
    },
    /// Manage the tokens hosts join with.
    JoinToken {
        #[command(subcommand)]
        action: admin::JoinTokenAction,
        #[command(flatten)]
        join: Join,
    },
    /// List or revoke the keys agents bought with a join token.
    AgentKeys {
        #[command(subcommand)]
        action: admin::AgentKeysAction,
        #[command(flatten)]
        join: Join,
    },
    /// Simulate container instances (no Docker) that acknowledge their tasks at once.
    Simulate {
        #[command(flatten)]
        join: Join,
        #[command(flatten)]
        fleet: simulate::SimulateOptions,
    },
}

/// How an agent reaches its control plane.
#[derive(clap::Args)]
struct Join {
    /// The control plane's endpoint, e.g. http://10.0.0.5:9714.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    endpoint: String,
    /// Access key id to sign with (as `berth up` printed it).
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key: Option<String>,
    /// Its secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Region in the signature scope.
    #[arg(long, env = "AWS_DEFAULT_REGION", default_value = "us-east-1")]
    region: String,
    /// A CA bundle (PEM) to trust for an https:// endpoint, e.g. the ca.pem `berth server`
    /// generated.
    #[arg(long, env = "AWS_CA_BUNDLE")]
    ca_bundle: Option<PathBuf>,
}

impl Join {
    /// The key pair, which commands that call the API need.
    fn keys(&self) -> anyhow::Result<(String, String)> {
        match (&self.access_key, &self.secret_key) {
            (Some(a), Some(s)) => Ok((a.clone(), s.clone())),
            _ => anyhow::bail!(
                "no access key: pass --access-key and --secret-key, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as `berth up` prints them"
            ),
        }
    }

    /// A signing client for the endpoint.
    fn client(&self) -> anyhow::Result<EcsClient> {
        let (access_key, secret_key) = self.keys()?;
        let trust = berth_agent::trust::Trust::new(self.ca_bundle.as_deref())
            .map_err(anyhow::Error::msg)?;
        Ok(EcsClient::with_trust(
            &self.endpoint,
            &access_key,
            &secret_key,
            &self.region,
            trust,
        ))
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
        // A log line, not a bare print, so a JSON log stays JSON throughout.
        tracing::info!("shutting down (containers keep running and are adopted on the next start)");
        let _ = tx.send(true);
    });
    rx
}

async fn serve(opts: ServerOptions, env_file: EnvFile) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let running = server::start(&opts, shutdown).await?;
    say!(
        "Berth server: ECS and ECR APIs on {}, registry at {} (data in {})",
        running.endpoint(),
        running.registry_host(),
        opts.data_dir.display()
    );
    say!("{}", running.exports());
    say!("# Join a host: {}", running.join_command());
    if let Some(ca) = &running.ca_file {
        say!(
            "# (copy {} to that host first: agents and AWS clients trust Berth's certificate through it)",
            ca.display()
        );
    }
    env_file.write(&running.exports())?;
    running.served.await??;
    Ok(())
}

/// Runs the command; a failure is printed as its chain of causes on one line (`{:#}`) and the
/// process exits 1. Returning the error from `main` instead would print it with `{:?}`, which
/// adds anyhow's stack backtrace when RUST_BACKTRACE is set: noise for what is almost always
/// the user's to fix (a wrong flag, no server at the endpoint).
#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    logging::init(cli.log_format);
    match cli.command {
        Command::Up {
            server,
            agent,
            env_file,
        } => up::run(server, agent, env_file, shutdown_signal()).await,
        Command::Bench { which } => bench::run(which).await,
        Command::Server { server, env_file } => serve(server, env_file).await,
        Command::Agent {
            join,
            join_token_file,
            state_dir,
            agent,
        } => {
            let credentials = match admin::join_token(join_token_file.as_deref())? {
                Some(token) => berth_agent::AgentCredentials::JoinToken(token),
                None => {
                    let (access_key, secret_key) = join.keys()?;
                    berth_agent::AgentCredentials::Keys {
                        access_key,
                        secret_key,
                    }
                }
            };
            let mut config = agent.config(join.endpoint, credentials, join.region, state_dir);
            config.ca_bundle = join.ca_bundle;
            berth_agent::run(config, shutdown_signal(), None).await?;
            Ok(())
        }
        Command::Logs {
            join,
            task,
            cluster,
            container,
            follow,
            since,
        } => {
            let options = logs::Options {
                cluster,
                task,
                container,
                follow,
                since,
            };
            logs::print(&join.client()?, options).await
        }
        Command::Audit { join, options } => audit::print(&join.client()?, options).await,
        Command::Status { join } => status::print(&join.client()?).await,
        Command::JoinToken { action, join } => {
            admin::join_token_command(&join.client()?, action).await
        }
        Command::AgentKeys { action, join } => {
            admin::agent_keys_command(&join.client()?, action).await
        }
        Command::Simulate { join, fleet } => {
            simulate::run(join.client()?, fleet, shutdown_signal()).await
        }
    }
}

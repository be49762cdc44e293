//! `palisade gateway`: run the inference security proxy, check its
//! configuration, hash an API key, or run the stand-in upstream.

use anyhow::{Context as _, Result};
use palisade_gateway::config::{GatewayConfig, ProcessEnv};
use palisade_gateway::server::Gateway;
use palisade_gateway::standin::{StandInConfig, StandInState};
use std::io::{IsTerminal as _, Read as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  PALISADE_DEMO_KEY=sk-demo palisade gateway --config examples/gateway/gateway.yaml
  palisade gateway check --config examples/gateway/gateway.yaml
  printf %s \"$KEY\" | palisade gateway hash-key      # the sha256 to put in apiKeys
  palisade gateway stand-in --listen 127.0.0.1:8000   # a streaming OpenAI-compatible upstream

Signals: SIGHUP reloads the configuration (open connections and streams are kept);
SIGTERM or Ctrl-C stops accepting and waits for open streams (limits.drainTimeout)."
)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// The gateway configuration (YAML).
    #[arg(long, short, env = "PALISADE_GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    /// Override the listen address.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Log format: json, or text (the default on a terminal).
    #[arg(long, value_parser = ["json", "text"])]
    log_format: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Validate a configuration and print what it defines.
    Check {
        /// The gateway configuration (YAML).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Print the SHA-256 of an API key read from standard input, for `apiKeys: [{sha256: ...}]`.
    HashKey,
    /// Run a small OpenAI-compatible upstream that streams real SSE (for demos and benchmarks).
    StandIn {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        listen: SocketAddr,
        /// Delay between streamed chunks, in milliseconds.
        #[arg(long, default_value_t = 20)]
        chunk_delay_ms: u64,
        /// Words per answer (each one token), unless max_tokens says less.
        #[arg(long, default_value_t = 16)]
        tokens: u64,
    },
}

fn init_logs(format: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PALISADE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        Some(f) => f == "json",
        None => !std::io::stderr().is_terminal(),
    };
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        let _ = b.json().flatten_event(true).try_init();
    } else {
        let _ = b.try_init();
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    match &args.command {
        Some(Sub::Check { config }) => check(config),
        Some(Sub::HashKey) => {
            let mut key = String::new();
            std::io::stdin()
                .read_to_string(&mut key)
                .context("cannot read standard input")?;
            anyhow::ensure!(!key.trim().is_empty(), "no key on standard input");
            println!("{}", hex_lower(&palisade_gateway::config::hash_key(&key)));
            Ok(crate::EXIT_OK)
        }
        Some(Sub::StandIn {
            listen,
            chunk_delay_ms,
            tokens,
        }) => {
            init_logs(args.log_format.as_deref());
            let cfg = StandInConfig {
                chunk_delay: Duration::from_millis(*chunk_delay_ms),
                answer_tokens: *tokens,
                ..StandInConfig::default()
            };
            runtime()?.block_on(async {
                let l = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                tracing::info!(listen = %listen, "stand-in upstream ready");
                palisade_gateway::standin::serve(
                    l,
                    cfg,
                    Arc::new(StandInState::default()),
                    shutdown_signal(),
                )
                .await?;
                Ok::<_, anyhow::Error>(crate::EXIT_OK)
            })
        }
        None => {
            let Some(path) = &args.config else {
                anyhow::bail!("--config FILE is required (see `palisade gateway --help`)");
            };
            init_logs(args.log_format.as_deref());
            serve(path, args.listen)
        }
    }
}

/// The content-filter hooks of the pipeline.
fn hooks() -> Result<Vec<Arc<dyn palisade_gateway::hooks::ProxyHooks>>> {
    Ok(vec![Arc::new(palisade_gateway::guard::GuardHooks::new()?)])
}

fn hex_lower(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn check(path: &Path) -> Result<u8> {
    let cfg = GatewayConfig::load(path, &ProcessEnv)?;
    palisade_gateway::Runtime::new(cfg.clone())?;
    println!("{}: valid", path.display());
    println!(
        "  listen     {}{}",
        cfg.listen,
        if cfg.tls.is_some() { " (TLS)" } else { "" }
    );
    for u in &cfg.upstreams {
        let models: Vec<&str> = u.models.iter().map(|m| m.0.as_str()).collect();
        println!(
            "  upstream   {} -> {} models [{}]",
            u.name,
            u.url,
            models.join(", ")
        );
    }
    for a in &cfg.audit_sinks {
        println!("  sink       {a} (spool {})", cfg.audit_spool.display());
    }
    for t in &cfg.tenants {
        let budgets: Vec<String> = t
            .budgets
            .iter()
            .map(|b| format!("{} tokens/{}", b.tokens, b.window.as_str()))
            .collect();
        println!(
            "  tenant     {} ({} key(s)) budgets [{}] injection {:?} output {:?}",
            t.id,
            t.key_hashes.len(),
            budgets.join(", "),
            t.guard.injection,
            t.guard.output
        );
    }
    Ok(crate::EXIT_OK)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: draining open requests");
}

fn serve(path: &Path, listen: Option<SocketAddr>) -> Result<u8> {
    let mut cfg = GatewayConfig::load(path, &ProcessEnv)?;
    if let Some(l) = listen {
        cfg.listen = l;
    }
    let addr = cfg.listen;
    palisade_gateway::tokens::warm_up(
        cfg.upstreams
            .iter()
            .flat_map(|u| u.models.iter().map(|m| m.0.as_str())),
    );
    let workers = cfg.worker_count();
    let gw = Arc::new(Gateway::new(cfg, hooks()?)?);
    let listeners = Gateway::bind_workers(addr, workers)?;
    tracing::info!(listen = %listeners.addr, workers, config = %path.display(), "gateway ready");
    let gw2 = Arc::clone(&gw);
    let p = path.to_path_buf();
    // Signals are handled on the first serving thread; the others serve.
    gw.serve_workers(listeners, move || async move {
        #[cfg(unix)]
        tokio::spawn(async move {
            let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
            while hup.recv().await.is_some() {
                match gw2.reload(&p, &ProcessEnv) {
                    Ok(()) => tracing::info!(config = %p.display(), "configuration reloaded"),
                    Err(e) => tracing::error!(error = %e, "reload failed; the running configuration stays"),
                }
            }
        });
        #[cfg(not(unix))]
        let _ = (gw2, p);
        shutdown_signal().await;
    })?;
    Ok(crate::EXIT_OK)
}

//! `palisade detect ...`: threat detection on Kubernetes audit events.

use super::sinks::SinkOptions;
use crate::{EXIT_FINDINGS, EXIT_INPUT, EXIT_OK};
use anyhow::{Context as _, Result};
use palisade_audit::detect::{AuditFinding, DetectConfig, Engine, rules};
use palisade_audit::k8s::read_events;
use palisade_core::Severity;
use palisade_core::output::{Format, RenderOptions};
use palisade_core::report::{Diagnostic, Report};
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade detect k8s-audit /var/log/kubernetes/audit/audit.log
  kubectl logs -n kube-system kube-apiserver-cp-1 | palisade detect k8s-audit -
  palisade detect k8s-audit audit.log --format jsonl --min-severity high
  palisade detect rules")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Verb,
}

#[derive(Debug, clap::Subcommand)]
enum Verb {
    /// Run the PLS-KA rules over audit events from a file or standard input.
    K8sAudit(K8sAudit),
    /// Receive the API server's audit webhook (EventList POSTs) and detect as they arrive.
    Serve(Serve),
    /// List the PLS-KA rules and the Falco k8saudit rules they cover.
    Rules,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade detect serve --listen 0.0.0.0:9765 --tls-cert tls.crt --tls-key tls.key --client-ca apiserver-ca.crt \\
      --sink syslog+tls://siem.acme.example:6514
  palisade detect serve --listen 127.0.0.1:9765      # plain HTTP, loopback only

Point the API server at it with --audit-webhook-config-file (a kubeconfig whose
cluster server is https://HOST:9765/k8s-audit). Findings are printed as JSON
lines and delivered to the sinks; GET /healthz answers ok.")]
struct Serve {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9765")]
    listen: String,
    /// TLS certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    client_ca: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address.
    #[arg(long)]
    insecure_http: bool,
    #[command(flatten)]
    rules: RuleOptions,
    #[command(flatten)]
    sinks: SinkOptions,
    /// Also deliver every raw audit event to the sinks (OCSF API Activity with format=ocsf), not only findings.
    #[arg(long)]
    sink_events: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RuleOptions {
    /// A user (exact, or with `*`) expected to read Secrets, in addition to
    /// the control plane's own identities (repeatable).
    #[arg(long, value_name = "USER")]
    allow_secret_reader: Vec<String>,
    /// A namespace (exact, or with `*`) that serves models (repeatable;
    /// replaces the defaults kserve*, *serving*, *inference*, llm*, vllm*, models, ml-serving).
    #[arg(long, value_name = "NS")]
    serving_namespace: Vec<String>,
    /// PLS-KA-021: distinct Secrets read by one user within the window.
    #[arg(long, default_value_t = 10, value_name = "N")]
    secret_burst: usize,
    /// PLS-KA-021: the window, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    secret_window: i64,
    /// Report only findings at or above this severity.
    #[arg(long, value_name = "LEVEL", value_parser = super::scan_severity)]
    min_severity: Option<Severity>,
}

impl RuleOptions {
    pub(crate) fn config(&self) -> DetectConfig {
        let mut c = DetectConfig::default();
        c.secret_readers
            .extend(self.allow_secret_reader.iter().cloned());
        if !self.serving_namespace.is_empty() {
            c.serving_namespaces.clone_from(&self.serving_namespace);
        }
        c.secret_burst = self.secret_burst;
        c.secret_window_secs = self.secret_window;
        c
    }
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade detect k8s-audit /var/log/kubernetes/audit/audit.log
  palisade detect k8s-audit - < audit.log
  palisade detect k8s-audit events.json --format sarif --output audit.sarif
  palisade detect k8s-audit audit.log --sink tlog:/var/lib/palisade/audit   # findings into the tamper-evident log
  palisade detect k8s-audit audit.log --format jsonl        # one finding per line, with the event's identity

Reads JSON lines (the API server's log backend), single Event documents and
EventList documents (what the webhook backend POSTs), audit.k8s.io/v1 and
v1beta1. A line that is not an audit event gets a diagnostic with its line
number; the rest is still read.

Exit codes: 0 no finding at or above the threshold, 1 findings, 2 input errors.")]
struct K8sAudit {
    /// Audit log file, or `-` for standard input.
    input: PathBuf,
    /// Output format: text (one line per finding, as they are found), jsonl
    /// (one JSON finding per line, with the event), or a report: json, sarif, junit.
    #[arg(short, long, default_value = "text", value_parser = ["text", "jsonl", "json", "sarif", "junit"])]
    format: String,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 only when a finding at or above this severity is reported.
    #[arg(long, value_name = "LEVEL", default_value = "info", value_parser = super::scan_severity)]
    severity_threshold: Severity,
    #[command(flatten)]
    rules: RuleOptions,
    #[command(flatten)]
    sinks: SinkOptions,
    /// Also deliver every raw audit event to the sinks (OCSF API Activity with format=ocsf), not only findings.
    #[arg(long)]
    sink_events: bool,
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    match &args.command {
        Verb::K8sAudit(a) => k8s_audit(a),
        Verb::Serve(a) => serve(a),
        Verb::Rules => list_rules(),
    }
}

fn list_rules() -> Result<u8> {
    let mut out = std::io::stdout().lock();
    for r in rules::all() {
        let i = r.info();
        writeln!(
            out,
            "{:<11} {:<8} {}",
            i.meta.id,
            i.meta.severity.as_str(),
            i.meta.title
        )?;
        if !i.falco.is_empty() {
            writeln!(out, "{:<20} Falco: {}", "", i.falco.join("; "))?;
        }
    }
    Ok(EXIT_OK)
}

/// One line of text output.
pub(crate) fn text_line(f: &AuditFinding) -> String {
    let x = &f.finding;
    format!(
        "{:<8}  {}  {}  {}:{}  {}  {}",
        x.severity.as_str().to_uppercase(),
        x.rule,
        f.event.time.as_deref().unwrap_or("-"),
        x.location.file,
        x.location.line,
        x.resource,
        x.message
    )
}

fn k8s_audit(a: &K8sAudit) -> Result<u8> {
    let file = if a.input.as_os_str() == "-" {
        "<stdin>".to_owned()
    } else {
        a.input.display().to_string()
    };
    let input: Box<dyn BufRead> = if a.input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(&a.input).with_context(|| format!("cannot read {file}"))?,
        ))
    };
    let mut engine = Engine::new(a.rules.config());
    let mut sinks = a.sinks.open(a.sink_events)?;
    let mut sink_err: Option<anyhow::Error> = None;
    let min = a.rules.min_severity.unwrap_or(Severity::Info);
    let streaming = matches!(a.format.as_str(), "text" | "jsonl");
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) if p.as_os_str() != "-" => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        _ => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut batch = Vec::new();
    let mut kept: Vec<AuditFinding> = Vec::new();
    let mut diagnostics = Vec::new();
    let mut write_err: Option<std::io::Error> = None;
    let (mut worst, mut count) = (None::<Severity>, 0usize);
    let stats = read_events(
        input,
        &mut |src, ev| {
            engine.process(&file, src, ev, &mut batch);
            if sinks.events && sink_err.is_none() {
                let r = serde_json::to_value(palisade_audit::detect::EventInfo::of(ev))
                    .map_err(anyhow::Error::from)
                    .and_then(|v| sinks.event(v));
                if let Err(e) = r {
                    sink_err = Some(e);
                }
            }
            for f in batch.drain(..) {
                if f.finding.severity < min {
                    continue;
                }
                if sink_err.is_none()
                    && let Err(e) = serde_json::to_value(&f)
                        .map_err(anyhow::Error::from)
                        .and_then(|v| sinks.finding(v))
                {
                    sink_err = Some(e);
                }
                count += 1;
                worst = worst.max(Some(f.finding.severity));
                if streaming {
                    let r = if a.format == "jsonl" {
                        serde_json::to_writer(&mut out, &f)
                            .map_err(std::io::Error::other)
                            .and_then(|()| out.write_all(b"\n"))
                    } else {
                        writeln!(out, "{}", text_line(&f))
                    };
                    if let Err(e) = r {
                        write_err.get_or_insert(e);
                    }
                } else {
                    kept.push(f);
                }
            }
        },
        &mut |d| {
            diagnostics.push(Diagnostic {
                file: file.clone(),
                line: d.line,
                column: 0,
                message: d.message,
            });
        },
    )
    .with_context(|| format!("cannot read {file}"))?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    if let Some(e) = sink_err {
        return Err(e);
    }
    sinks.finish();
    for d in &diagnostics {
        eprintln!("palisade: {d}");
    }
    if streaming {
        if a.format == "text" {
            writeln!(
                out,
                "\nSummary: {count} findings in {} events ({} lines); {} input errors",
                stats.events, stats.lines, stats.errors
            )?;
        }
    } else {
        let mut report = Report {
            findings: kept.into_iter().map(|f| f.finding).collect(),
            diagnostics,
            files: 1,
            resources: usize::try_from(stats.events).unwrap_or(usize::MAX),
            rules: rules::all().iter().map(|r| r.info().meta).collect(),
            ..Report::default()
        };
        report.sort();
        let format: Format = a.format.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
        let opts = RenderOptions {
            color: false,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        palisade_core::output::write(&report, format, &opts, &mut out)?;
    }
    out.flush()?;
    Ok(if stats.errors > 0 {
        EXIT_INPUT
    } else if worst.is_some_and(|w| w >= a.severity_threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn serve(a: &Serve) -> Result<u8> {
    let addr: std::net::SocketAddr = a
        .listen
        .parse()
        .with_context(|| format!("--listen {:?} is not HOST:PORT", a.listen))?;
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some(palisade_audit::webhook::tls::server_config(
            c,
            k,
            a.client_ca.as_deref(),
        )?),
        _ => None,
    };
    if tls.is_none() && !addr.ip().is_loopback() && !a.insecure_http {
        anyhow::bail!(
            "refusing plain HTTP on {addr}: give --tls-cert/--tls-key, or --insecure-http"
        );
    }
    let sinks = std::sync::Arc::new(std::sync::Mutex::new(a.sinks.open(a.sink_events)?));
    let min = a.rules.min_severity.unwrap_or(Severity::Info);
    let s2 = sinks.clone();
    let on_finding = Box::new(move |f: AuditFinding| {
        if f.finding.severity < min {
            return;
        }
        if let Ok(line) = serde_json::to_string(&f) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        if let Ok(v) = serde_json::to_value(&f)
            && let Ok(mut s) = s2.lock()
            && let Err(e) = s.finding(v)
        {
            eprintln!("palisade: {e}");
        }
    });
    let mut receiver =
        palisade_audit::webhook::Receiver::new(Engine::new(a.rules.config()), on_finding);
    if a.sink_events {
        let s3 = sinks.clone();
        receiver = receiver.with_raw_events(Box::new(move |text: &str| {
            if let Ok(v) = serde_json::from_str(text)
                && let Ok(mut s) = s3.lock()
                && let Err(e) = s.event(v)
            {
                eprintln!("palisade: {e}");
            }
        }));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        eprintln!("palisade: receiving audit events on {}://{}/k8s-audit", if tls.is_some() { "https" } else { "http" }, listener.local_addr()?);
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
        };
        palisade_audit::webhook::serve(listener, tls, std::sync::Arc::new(receiver), shutdown).await?;
        anyhow::Ok(())
    })?;
    // Connection tasks may still hold the receiver (and with it a handle on
    // the sinks): stop them, then drain the sinks whoever holds them, so
    // every finding spooled before SIGTERM is delivered (or stays spooled).
    drop(rt);
    let drained = sinks
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    drained.finish();
    Ok(EXIT_OK)
}

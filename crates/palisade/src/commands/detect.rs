//! `palisade detect ...`: threat detection on Kubernetes audit events.

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
    /// List the PLS-KA rules and the Falco k8saudit rules they cover.
    Rules,
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
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    match &args.command {
        Verb::K8sAudit(a) => k8s_audit(a),
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
            for f in batch.drain(..) {
                if f.finding.severity < min {
                    continue;
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

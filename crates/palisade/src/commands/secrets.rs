//! `palisade secrets ...`: the secrets lifecycle (inventory first).

use crate::{EXIT_FINDINGS, EXIT_INPUT, EXIT_OK};
use anyhow::{Result, bail};
use palisade_core::output::{Format, RenderOptions, write};
use palisade_core::{Report, Severity};
use palisade_k8s::Loader;
use palisade_secrets::{Duration, Inventory, Options, inventory, rules};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade secrets inventory examples/vulnerable-ai-cluster
  palisade secrets inventory k8s/ --max-age 30d --format json
  kubectl get secrets,deploy,rolebindings,clusterroles -A -o yaml | palisade secrets inventory -

Secret values are never printed: the inventory shows key names only.")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Verb,
}

#[derive(Debug, clap::Subcommand)]
enum Verb {
    /// Every Secret with its type, keys, age, consumers and readers, and lifecycle findings (PLS-SCR).
    Inventory(InventoryArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade secrets inventory examples/vulnerable-ai-cluster
  palisade secrets inventory k8s/ --max-age 30d --format json -o inventory.json
  palisade secrets inventory k8s/ --format sarif --fail-on high

Sources: v1 Secrets, ExternalSecret targets, SealedSecrets, SecretProviderClass
secretObjects and Vault Agent injector annotations. Consumers: env
secretKeyRef, envFrom, secret and projected volumes, imagePullSecrets (pods and
ServiceAccounts), ServiceAccount secrets, Ingress TLS, Secrets Store CSI volumes.
Readers: every RBAC subject whose effective permissions allow get, list or watch
on the Secret. Age counts from palisade.dev/rotated-at, else creationTimestamp;
a Secret's palisade.dev/rotate-every overrides --max-age.

Findings: PLS-SCR-001 stale, 002 unused, 003 consumed as env vars,
004 readable by a broad subject, 005 ExternalSecret never refreshes,
006 legacy ServiceAccount token Secret (`palisade explain` is not needed:
each finding carries its remediation).

Exit codes: 0 done, 1 findings at or above --fail-on, 2 input errors.")]
struct InventoryArgs {
    /// Files or folders of manifests (`-` for standard input).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format: table, json or sarif (sarif holds the findings only).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "sarif"])]
    format: String,
    /// Rotation policy age: a Secret last rotated longer ago is stale.
    #[arg(long, default_value = "90d", value_parser = parse_duration)]
    max_age: Duration,
    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_parser = super::scan_severity)]
    fail_on: Option<Severity>,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Follow symbolic links to folders.
    #[arg(long)]
    follow_links: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<Duration>().map_err(|e| e.to_string())
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    match &args.command {
        Verb::Inventory(a) => run_inventory(a),
    }
}

fn run_inventory(args: &InventoryArgs) -> Result<u8> {
    let loader = Loader {
        follow_links: args.follow_links,
    };
    let load = loader.load_paths(&args.paths);
    for d in &load.diagnostics {
        eprintln!("palisade: {d}");
    }
    if load.objects.is_empty() && !load.diagnostics.is_empty() {
        bail!("no Kubernetes objects could be read");
    }
    let opts = Options {
        max_age: args.max_age,
        ..Options::default()
    };
    let inv = inventory(&load.objects, &opts);
    for d in &inv.diagnostics {
        eprintln!("palisade: {d}");
    }
    let report = Report {
        findings: inv.findings.clone(),
        files: load.files,
        resources: load.objects.len(),
        rules: rules::ALL.iter().map(|m| **m).collect(),
        ..Report::default()
    };
    let ropts = RenderOptions {
        color: false,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    match args.format.as_str() {
        "json" => {
            let text = serde_json::to_string_pretty(&serde_json::json!({
                "schemaVersion": "palisade.secrets.inventory/1",
                "secrets": inv.secrets,
                "findings": inv.findings,
                "diagnostics": inv.diagnostics,
            }))?;
            super::emit(&(text + "\n"), args.output.as_deref())?;
        }
        "sarif" => super::emit_with(args.output.as_deref(), &mut |w| {
            write(&report, Format::Sarif, &ropts, w)
        })?,
        _ => {
            let table = render_table(&inv);
            super::emit_with(args.output.as_deref(), &mut |w| {
                w.write_all(table.as_bytes())?;
                write(&report, Format::Table, &ropts, w)
            })?;
        }
    }
    if !load.diagnostics.is_empty() {
        return Ok(EXIT_INPUT);
    }
    let failed = args
        .fail_on
        .is_some_and(|t| inv.findings.iter().any(|f| f.severity >= t));
    Ok(if failed { EXIT_FINDINGS } else { EXIT_OK })
}

/// The inventory as a table, then each secret's consumers and readers.
fn render_table(inv: &Inventory) -> String {
    let header = [
        "NAMESPACE",
        "NAME",
        "TYPE",
        "SOURCE",
        "KEYS",
        "AGE",
        "CONSUMERS",
        "READERS",
        "FINDINGS",
    ];
    let rows: Vec<[String; 9]> = inv
        .secrets
        .iter()
        .map(|e| {
            let broad = e.readers.iter().filter(|r| r.broad).count();
            [
                e.namespace.clone(),
                e.name.clone(),
                if e.kind.is_empty() {
                    "?".into()
                } else {
                    e.kind.clone()
                },
                serde_json::to_value(e.source)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                e.keys.join(","),
                e.age_days.map_or_else(|| "-".into(), |d| format!("{d}d")),
                e.consumers.len().to_string(),
                if broad > 0 {
                    format!("{} ({broad} broad)", e.readers.len())
                } else {
                    e.readers.len().to_string()
                },
                e.findings
                    .iter()
                    .map(|id| id.trim_start_matches("PLS-"))
                    .collect::<Vec<_>>()
                    .join(","),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut out, &header);
    for r in &rows {
        line(&mut out, &r.each_ref().map(String::as_str));
    }
    let _ = writeln!(out, "\n{} secrets\n", inv.secrets.len());
    for e in &inv.secrets {
        if e.consumers.is_empty() && e.readers.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}/{}", e.namespace, e.name);
        for c in &e.consumers {
            let detail = if c.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.detail)
            };
            let _ = writeln!(
                out,
                "  consumed by {} as {}{detail}",
                c.object,
                c.kind.as_str()
            );
        }
        for r in &e.readers {
            let broad = if r.broad { " [broad]" } else { "" };
            let _ = writeln!(out, "  readable by {}{broad} via {}", r.subject, r.binding);
        }
    }
    out.push('\n');
    out
}

//! `palisade scan`: load manifests, run the rules, write the report.

use crate::{EXIT_FINDINGS, EXIT_INPUT, EXIT_OK};
use anyhow::{Context as _, Result, bail};
use palisade_core::Severity;
use palisade_core::config::Config;
use palisade_core::output::{Format, RenderOptions, write};
use palisade_k8s::Loader;
use palisade_rules::Engine;
use palisade_rules::suppress::Baseline;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade scan examples/vulnerable-ai-cluster
  palisade scan examples/vulnerable-ai-cluster --min-severity high
  palisade scan deploy/ --format sarif --output palisade.sarif
  helm template my-chart ./chart | palisade scan -
  kustomize build overlays/prod | palisade scan - --severity-threshold high
  palisade scan k8s/ --write-baseline .palisade-baseline.json
  palisade scan k8s/ --baseline .palisade-baseline.json
  palisade scan k8s/ --only PLS-POD-001,PLS-RBAC-001
  palisade scan --cluster                                  # current kubeconfig context
  palisade scan --cluster --context prod --namespace llm --namespace ml-platform
  palisade scan --cluster --kubeconfig ~/.kube/staging.yaml --format sarif
  palisade scan k8s/ --policy policies/replica-limit.yaml   # ValidatingAdmissionPolicy, offline
  palisade scan --cluster --sink syslog+tls://siem.acme.example:6514   # also to the SIEM, at least once
  palisade scan k8s/ --sink tlog:/var/lib/palisade/audit   # into the tamper-evident log (palisade audit verify)

Exit codes: 0 nothing at or above the threshold, 1 findings at or above it,
2 usage, configuration or input errors (a file or document that could not be read).")]
#[allow(clippy::struct_excessive_bools)] // command-line switches
pub(crate) struct Args {
    /// Files or folders to scan (folders recursively: *.yaml, *.yml, *.json); `-` reads standard input.
    #[arg(
        required_unless_present = "cluster",
        conflicts_with = "cluster",
        value_name = "PATH"
    )]
    paths: Vec<PathBuf>,

    /// Scan a live cluster instead of files: kubeconfig ($KUBECONFIG,
    /// ~/.kube/config) or the in-cluster service account. Read-only; Secret
    /// values are never requested (metadata only).
    #[arg(long)]
    cluster: bool,

    /// Kubeconfig context to use with --cluster [default: the current context].
    #[arg(long, value_name = "NAME", requires = "cluster")]
    context: Option<String>,

    /// Only this namespace with --cluster (repeatable; default: all namespaces).
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        requires = "cluster"
    )]
    namespaces: Vec<String>,

    /// Evaluate the ValidatingAdmissionPolicy objects in FILE against the
    /// objects scanned (repeatable); each violation is a finding of rule
    /// VAP-<policy name>. Bindings in the file narrow the match and set the
    /// severity. Custom CEL rules go in palisade.yaml (`customRules`).
    #[arg(long = "policy", value_name = "FILE")]
    policies: Vec<PathBuf>,

    /// Kubeconfig file to use with --cluster.
    #[arg(long, value_name = "FILE", requires = "cluster")]
    kubeconfig: Option<PathBuf>,

    /// Output format.
    #[arg(short, long, default_value = "table", env = "PALISADE_FORMAT", value_parser = ["table", "json", "sarif", "junit"])]
    format: String,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Exit 1 when an unsuppressed finding at or above this severity remains
    /// [default: from palisade.yaml, else info].
    #[arg(long, value_name = "LEVEL", env = "PALISADE_SEVERITY_THRESHOLD", value_parser = super::scan_severity)]
    severity_threshold: Option<Severity>,

    /// Report only findings at or above this severity (the others are not
    /// shown and do not count towards the exit code).
    #[arg(long, value_name = "LEVEL", env = "PALISADE_MIN_SEVERITY", value_parser = super::scan_severity)]
    min_severity: Option<Severity>,

    /// Configuration file [default: ./palisade.yaml or ./.palisade.yaml when present].
    #[arg(short, long, value_name = "FILE", env = "PALISADE_CONFIG")]
    config: Option<PathBuf>,

    /// Suppress findings whose fingerprints are in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Write the fingerprints of the remaining findings to FILE (a new baseline).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,

    /// Run only these rules (comma-separated IDs; repeatable).
    #[arg(long, value_name = "RULE,...", value_delimiter = ',')]
    only: Vec<String>,

    /// Do not run these rules (comma-separated IDs; repeatable).
    #[arg(long, value_name = "RULE,...", value_delimiter = ',')]
    disable: Vec<String>,

    /// Print where the time went (loading, each phase, the slowest rules) to stderr.
    #[arg(long)]
    timings: bool,

    /// Follow symbolic links to folders.
    #[arg(long)]
    follow_links: bool,

    /// Never colour the table output.
    #[arg(long)]
    no_color: bool,
    #[command(flatten)]
    sinks: super::sinks::SinkOptions,
}

fn rule_ids() -> Vec<&'static str> {
    palisade_rules::rules::all()
        .iter()
        .map(|r| r.meta().id)
        .collect()
}

fn load_config(explicit: Option<&Path>, ids: &[&str]) -> Result<Config> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => ["palisade.yaml", ".palisade.yaml"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read configuration {}", path.display()))?;
    Config::parse(&path.display().to_string(), &text, &|id| ids.contains(&id))
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Reads the cluster; warnings (kinds skipped as forbidden) go to stderr.
fn load_cluster(args: &Args) -> Result<palisade_k8s::LoadOutcome> {
    use palisade_k8s::cluster::{ClusterOptions, load_blocking};
    let opts = ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespaces: args.namespaces.clone(),
        ..ClusterOptions::default()
    };
    let load = load_blocking(&opts).context("cannot read the cluster")?;
    for w in &load.warnings {
        eprintln!("palisade: warning: {w}");
    }
    if args.timings {
        for l in &load.listed {
            eprintln!(
                "timings:   listed {} {} objects in {} pages ({})",
                l.objects, l.kind, l.pages, l.api_version
            );
        }
    }
    Ok(load.outcome)
}

/// Compiles the configuration's custom rules and the policies given with
/// `--policy`; warnings (policies skipped) go to stderr.
fn extra_rules(args: &Args, config: &Config) -> Result<Vec<Box<dyn palisade_rules::Rule>>> {
    let mut rules =
        palisade_rules::custom::from_config(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    for p in &args.policies {
        let load = palisade_k8s::load::load_file(p);
        if let Some(d) = load.diagnostics.first() {
            bail!("cannot read policy file: {d}");
        }
        let policies = palisade_rules::custom::vap::from_objects(&load.objects)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for w in &policies.warnings {
            eprintln!("palisade: warning: {w}");
        }
        if !load
            .objects
            .iter()
            .any(|o| o.is("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"))
        {
            bail!("{}: no ValidatingAdmissionPolicy in the file", p.display());
        }
        rules.extend(policies.rules);
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &rules {
        if !seen.insert(r.meta().id) {
            bail!(
                "rule {} is defined twice (custom rules and --policy files)",
                r.meta().id
            );
        }
    }
    Ok(rules)
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let mut ids = rule_ids();
    let mut config = load_config(args.config.as_deref(), &ids)?;
    let extra = extra_rules(args, &config)?;
    ids.extend(extra.iter().map(|r| r.meta().id));
    for id in args.only.iter().chain(&args.disable) {
        if !ids.contains(&id.as_str()) {
            bail!("unknown rule {id:?} (see `palisade rules`)");
        }
    }
    config.disabled.extend(args.disable.iter().cloned());
    if !args.only.is_empty() {
        config.disabled.extend(
            ids.iter()
                .filter(|id| !args.only.iter().any(|o| o == *id))
                .map(|id| (*id).to_owned()),
        );
    }
    let threshold = args
        .severity_threshold
        .or(config.severity_threshold)
        .unwrap_or(Severity::Info);
    let baseline = match &args.baseline {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read baseline {}", p.display()))?;
            Some(Baseline::parse(&text).with_context(|| format!("{}", p.display()))?)
        }
        None => None,
    };
    if args.paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        bail!("standard input (-) can be given only once");
    }
    let loader = Loader {
        follow_links: args.follow_links,
    };
    // The secret detectors compile on a spare thread while the input is read.
    std::thread::spawn(palisade_core::secrets::prepare);
    let started = std::time::Instant::now();
    let load = if args.cluster {
        load_cluster(args)?
    } else {
        loader.load_paths(&args.paths)
    };
    let load_time = started.elapsed();
    let mut engine = Engine::new(config);
    engine.add_rules(extra);
    let (mut report, timings, objects) = engine.scan_keeping(load, baseline.as_ref(), args.timings);
    if args.timings {
        eprintln!(
            "timings: load {:.3}s ({} files, {} objects)",
            load_time.as_secs_f64(),
            report.files,
            report.resources
        );
        for (phase, d) in &timings.phases {
            eprintln!("timings: {phase} {:.3}s", d.as_secs_f64());
        }
        for (rule, d) in timings.rules.iter().take(10) {
            eprintln!("timings:   {rule} {:.3}s", d.as_secs_f64());
        }
    }
    if let Some(min) = args.min_severity {
        report.findings.retain(|f| f.severity >= min);
        report.suppressed.retain(|s| s.finding.severity >= min);
    }

    if let Some(p) = &args.write_baseline {
        std::fs::write(p, Baseline::to_json(&report))
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    let format: Format = args.format.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let to_stdout = args.output.as_ref().is_none_or(|p| p.as_os_str() == "-");
    let opts = RenderOptions {
        color: format == Format::Table && to_stdout && !args.no_color && super::stdout_color(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let rendering = std::time::Instant::now();
    super::emit_with(args.output.as_deref(), &mut |w| {
        write(&report, format, &opts, w)
    })?;
    if args.timings {
        eprintln!("timings: render {:.3}s", rendering.elapsed().as_secs_f64());
    }
    args.sinks.deliver(&report.findings)?;
    // Input errors also go to stderr, so they are seen whatever the format.
    for d in &report.diagnostics {
        eprintln!("palisade: input error: {d}");
    }
    let code = if !report.diagnostics.is_empty() {
        EXIT_INPUT
    } else if report.fails(threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    // The process exits next: the objects and the report (at 50,000 objects,
    // millions of allocations and a few tenths of a second to free) are left
    // to the operating system.
    std::mem::forget(objects);
    std::mem::forget(report);
    Ok(code)
}

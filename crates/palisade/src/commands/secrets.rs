//! `palisade secrets ...`: the secrets lifecycle: inventory, rotation,
//! rollouts and the controller.

use crate::{EXIT_FINDINGS, EXIT_INPUT, EXIT_OK};
use anyhow::{Context as _, Result, bail};
use palisade_core::output::{Format, RenderOptions, write};
use palisade_core::{Report, Severity};
use palisade_k8s::Loader;
use palisade_secrets::audit::AuditKey;
use palisade_secrets::cluster::{Actor, AuditSink, PassOptions, run_once};
use palisade_secrets::pass::{PassPlan, plan_pass};
use palisade_secrets::policy::PolicySet;
use palisade_secrets::rollout::{RolloutAction, RolloutDecision, RolloutPolicy};
use palisade_secrets::rotation::{Action, rfc3339};
use palisade_secrets::{Duration, Inventory, Options, inventory, rules};
use std::fmt::Write as _;
use std::path::PathBuf;
use time::OffsetDateTime;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade secrets inventory examples/vulnerable-ai-cluster
  palisade secrets inventory k8s/ --max-age 30d --format json
  kubectl get secrets,deploy,rolebindings,clusterroles -A -o yaml | palisade secrets inventory -
  palisade secrets inventory --cluster --namespace llm
  palisade secrets rotate examples/vulnerable-ai-cluster --dry-run
  palisade secrets rotate --cluster --once --audit-key-file key --audit-log audit.jsonl
  palisade secrets rollouts --cluster
  palisade secrets controller --audit-key-file /etc/palisade/audit-key

Secret values are never printed: the inventory shows key names only, audit
records carry keyed hashes.")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Verb,
}

#[derive(Debug, clap::Subcommand)]
enum Verb {
    /// Every Secret with its type, keys, age, consumers and readers, and lifecycle findings (PLS-SCR).
    Inventory(InventoryArgs),
    /// Rotation plan (--dry-run) or one rotation pass (--once), with the rollouts it triggers.
    Rotate(RotateArgs),
    /// Which workloads would roll (or roll them with --once) for the Secrets' current versions.
    Rollouts(RolloutsArgs),
    /// Run rotation and rollouts continuously (kube-rs runtime, Lease leader election, metrics).
    Controller(ControllerArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade secrets controller --audit-key-file /etc/palisade/audit-key
  palisade secrets controller --kubeconfig ~/.kube/config --identity dev --listen 127.0.0.1:9090

Watches Secrets as metadata only (values never cross the wire) and the
Deployments, StatefulSets, DaemonSets and CronJobs that consume them; rotates
Secrets whose policy says so and rolls their consumers (debounced,
rate-limited, opt-out with palisade.dev/rollout: \"false\"). Several
replicas are safe: only the holder of the Lease acts; it releases the Lease on
SIGTERM so a follower takes over at once. Serves /metrics (Prometheus),
/healthz and /readyz on --listen. Logs are JSON lines on stderr; no log line
carries a secret value.

RBAC it needs: secrets get/list/watch/patch; deployments, statefulsets,
daemonsets, cronjobs get/list/watch/patch; events.k8s.io events create;
coordination.k8s.io leases get/create/update in the Lease namespace.")]
struct ControllerArgs {
    /// Kubeconfig file [default: $KUBECONFIG, ~/.kube/config, else in-cluster].
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// This replica's identity in the Lease [default: $POD_NAME, else the host name].
    #[arg(long, value_name = "NAME")]
    identity: Option<String>,
    /// Namespace of the Lease [default: $POD_NAMESPACE, else palisade].
    #[arg(long, value_name = "NS")]
    lease_namespace: Option<String>,
    /// Name of the Lease.
    #[arg(long, default_value = "palisade-secrets-controller")]
    lease_name: String,
    /// leaseDurationSeconds: a leader that stops renewing is replaced after this.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    lease_duration: Duration,
    /// How often the leader renews (and followers retry).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    renew_every: Duration,
    /// Longest wait between two reconciles of a Secret.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    resync: Duration,
    /// palisade.yaml with a secrets.rotation section [default: ./palisade.yaml if present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Key of the audit records' keyed hashes (32 bytes or more).
    #[arg(long, value_name = "FILE")]
    audit_key_file: PathBuf,
    /// Append audit records (JSON lines, 0600) to FILE.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:9090")]
    listen: std::net::SocketAddr,
    #[command(flatten)]
    pacing: Pacing,
}

/// Where objects come from: files, or a live cluster.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Source {
    /// Files or folders of manifests (`-` for standard input).
    #[arg(
        value_name = "PATH",
        required_unless_present = "cluster",
        conflicts_with = "cluster"
    )]
    paths: Vec<PathBuf>,
    /// Read a live cluster instead (kubeconfig, or the in-cluster service
    /// account). Secrets are read as metadata only: values never leave the API server.
    #[arg(long)]
    cluster: bool,
    /// Kubeconfig context with --cluster [default: the current context].
    #[arg(long, value_name = "NAME", requires = "cluster")]
    context: Option<String>,
    /// Kubeconfig file with --cluster.
    #[arg(long, value_name = "FILE", requires = "cluster")]
    kubeconfig: Option<PathBuf>,
    /// Only this namespace with --cluster (repeatable).
    #[arg(
        long = "namespace",
        short = 'n',
        value_name = "NS",
        requires = "cluster"
    )]
    namespaces: Vec<String>,
    /// Follow symbolic links to folders.
    #[arg(long)]
    follow_links: bool,
}

impl Source {
    pub(crate) fn cluster_options(&self) -> palisade_k8s::cluster::ClusterOptions {
        palisade_k8s::cluster::ClusterOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespaces: self.namespaces.clone(),
            ..palisade_k8s::cluster::ClusterOptions::default()
        }
    }

    /// The objects and the number of files read; diagnostics go to stderr.
    fn load(&self) -> Result<(Vec<palisade_k8s::Object>, usize, bool)> {
        if self.cluster {
            let load = palisade_k8s::cluster::load_blocking(&self.cluster_options())
                .context("cannot read the cluster")?;
            for w in &load.warnings {
                eprintln!("palisade: warning: {w}");
            }
            return Ok((load.outcome.objects, 0, false));
        }
        let loader = Loader {
            follow_links: self.follow_links,
        };
        let load = loader.load_paths(&self.paths);
        for d in &load.diagnostics {
            eprintln!("palisade: {d}");
        }
        if load.objects.is_empty() && !load.diagnostics.is_empty() {
            bail!("no Kubernetes objects could be read");
        }
        Ok((load.objects, load.files, !load.diagnostics.is_empty()))
    }
}

/// How rollouts are paced.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Pacing {
    /// A Secret must be unchanged this long before its consumers roll.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    debounce: Duration,
    /// At least this long between two restarts of one workload.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    min_interval: Duration,
    /// At most this many rollouts per pass.
    #[arg(long, default_value_t = 20)]
    max_rollouts: usize,
}

impl Pacing {
    pub(crate) fn policy(&self) -> RolloutPolicy {
        RolloutPolicy {
            debounce: self.debounce,
            min_interval: self.min_interval,
            max_per_pass: self.max_rollouts,
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade secrets rotate examples/vulnerable-ai-cluster --dry-run
  palisade secrets rotate k8s/ --dry-run --config palisade.yaml --format json
  palisade secrets rotate --cluster --dry-run
  palisade secrets rotate --cluster --once --audit-key-file key --audit-log audit.jsonl

Policy: a Secret's annotations palisade.dev/rotate-every (30d) and
palisade.dev/generator, or the secrets.rotation rules of palisade.yaml:

  metadata:
    annotations:
      palisade.dev/rotate-every: 30d
      palisade.dev/generator: password length=40 alphabet=symbols
      palisade.dev/grace: 24h          # previous value kept as <key>.previous

Generators: password [length= alphabet=alnum|alpha|lower|digits|hex|symbols
chars= key=], bytes [length= key=], ed25519, ecdsa-p256 [private= public=],
x509 cn= [dns=a,b ip= days= issuer=SECRET key=ecdsa-p256|ed25519 ca=true].

--once (with --cluster) writes the new values, keeps the previous ones for the
grace period, records palisade.dev/rotated-at and palisade.dev/version, emits
events.k8s.io/v1 Events, appends an audit record per action (keyed
HMAC-SHA256 of each new value, never the value), and rolls the workloads that
consume rotated Secrets.

Exit codes: 0 done, 1 an action failed or a policy is invalid, 2 input errors.")]
struct RotateArgs {
    #[command(flatten)]
    source: Source,
    /// Print the plan; change nothing.
    #[arg(long, conflicts_with = "once", required_unless_present = "once")]
    dry_run: bool,
    /// Apply the plan once (needs --cluster and --audit-key-file).
    #[arg(long, requires_all = ["cluster", "audit_key_file"])]
    once: bool,
    /// palisade.yaml with a secrets.rotation section [default: ./palisade.yaml if present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    pass: PassArgs,
    /// Output format: table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

/// What `rotate` and `rollouts` share when they plan or apply a pass.
#[derive(Debug, clap::Args)]
struct PassArgs {
    /// Key of the audit records' keyed hashes (32 bytes or more).
    #[arg(long, value_name = "FILE")]
    audit_key_file: Option<PathBuf>,
    /// Append audit records (JSON lines, created 0600) to FILE.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Plan as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    now: Option<OffsetDateTime>,
    #[command(flatten)]
    pacing: Pacing,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade secrets rollouts examples/vulnerable-ai-cluster --changed llm/hf-token
  palisade secrets rollouts --cluster
  palisade secrets rollouts --cluster --once --audit-key-file key

A workload tracks the Secrets its pod template consumes (env secretKeyRef,
envFrom, secret and projected volumes) unless it sets palisade.dev/rollout:
\"false\". stakater Reloader's annotations are honoured
(reloader.stakater.com/auto, secret.reloader.stakater.com/auto,
secret.reloader.stakater.com/reload, reloader.stakater.com/search with the
Secret's reloader.stakater.com/match, and reloader.stakater.com/ignore);
palisade.dev/reload adds Secrets. A rollout patches
palisade.dev/secrets-checksum and palisade.dev/restarted-at into the pod
template; palisade.dev/observed-secrets on the workload records what was seen.")]
struct RolloutsArgs {
    #[command(flatten)]
    source: Source,
    /// With manifests: take this Secret (NAMESPACE/NAME) as changed (repeatable).
    #[arg(long, value_name = "NS/NAME")]
    changed: Vec<String>,
    /// Apply (needs --cluster and --audit-key-file); default: print the plan.
    #[arg(long, requires_all = ["cluster", "audit_key_file"])]
    once: bool,
    #[command(flatten)]
    pass: PassArgs,
    /// Output format: table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade secrets inventory examples/vulnerable-ai-cluster
  palisade secrets inventory k8s/ --max-age 30d --format json -o inventory.json
  palisade secrets inventory k8s/ --format sarif --fail-on high
  palisade secrets inventory --cluster --context prod --namespace llm

With --cluster, Secrets are listed as metadata only (key names are then
unknown and shown as -).

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
    #[command(flatten)]
    source: Source,
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
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<Duration>().map_err(|e| e.to_string())
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    match &args.command {
        Verb::Inventory(a) => run_inventory(a),
        Verb::Rotate(a) => run_rotate(a),
        Verb::Rollouts(a) => run_rollouts(a),
        Verb::Controller(a) => run_controller(a),
    }
}

/// Reads the audit key file (fails closed: no key, no writes).
pub(crate) fn audit_key(path: Option<&std::path::Path>) -> Result<AuditKey> {
    match path {
        Some(p) => {
            let bytes = std::fs::read(p)
                .with_context(|| format!("cannot read the audit key {}", p.display()))?;
            AuditKey::new(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
        }
        None => Ok(AuditKey::ephemeral()),
    }
}

/// The secrets.rotation policies of --config or ./palisade.yaml.
pub(crate) fn policies(config: Option<&std::path::Path>) -> Result<PolicySet> {
    let default = std::path::Path::new("palisade.yaml");
    let path = match config {
        Some(p) => p,
        None if default.is_file() => default,
        None => return Ok(PolicySet::default()),
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration {}", path.display()))?;
    PolicySet::parse(&path.display().to_string(), &text).map_err(|e| anyhow::anyhow!("{e}"))
}

fn run_rotate(args: &RotateArgs) -> Result<u8> {
    let policies = policies(args.config.as_deref())?;
    let now = args.pass.now.unwrap_or_else(OffsetDateTime::now_utc);
    let (plan, errors, input_errors) = if args.source.cluster {
        let key = audit_key(args.pass.audit_key_file.as_deref())?;
        let report = cluster_pass(
            &args.source,
            Some(&policies),
            &args.pass.pacing.policy(),
            key,
            args.pass.audit_log.clone(),
            now,
            !args.once,
        )?;
        (
            PassPlan {
                rotations: report.rotations,
                rollouts: report.rollouts,
            },
            report.errors,
            false,
        )
    } else {
        let (objects, _, diag) = args.source.load()?;
        (
            plan_pass(
                &objects,
                Some(&policies),
                &args.pass.pacing.policy(),
                &[],
                now,
            ),
            Vec::new(),
            diag,
        )
    };
    print_pass(&plan, &errors, &args.format, now, !args.once)?;
    let invalid = plan
        .rotations
        .iter()
        .any(|d| matches!(d.action, Action::Invalid { .. }));
    Ok(if input_errors {
        EXIT_INPUT
    } else if !errors.is_empty() || invalid {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn run_controller(args: &ControllerArgs) -> Result<u8> {
    use palisade_secrets::cluster::controller::{Clock, ControllerConfig, Metrics, app, run};
    use std::sync::Arc;
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let key = audit_key(Some(&args.audit_key_file))?;
    let policies = policies(args.config.as_deref())?;
    let identity = args
        .identity
        .clone()
        .or_else(|| std::env::var("POD_NAME").ok())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "palisade-secrets".to_owned());
    let std_dur = |d: Duration| std::time::Duration::from_millis(d.millis);
    let cfg = ControllerConfig {
        identity,
        lease_namespace: args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "palisade".to_owned()),
        lease_name: args.lease_name.clone(),
        lease_duration_secs: args.lease_duration.seconds().max(1),
        renew_every: std_dur(args.renew_every),
        policies,
        rollout: args.pacing.policy(),
        resync: std_dur(args.resync),
    };
    let opts = palisade_k8s::cluster::ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        ..palisade_k8s::cluster::ClusterOptions::default()
    };
    let audit = Arc::new(AuditSink::new(key, args.audit_log.clone()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let (client, _) = palisade_k8s::cluster::client(&opts)
            .await
            .context("cannot connect to the cluster")?;
        let metrics = Arc::new(Metrics::default());
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let router = app(metrics.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            let _ = tx.send(true);
        });
        let clock: Clock = Arc::new(OffsetDateTime::now_utc);
        run(client, cfg, audit, clock, metrics, rx)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })?;
    Ok(EXIT_OK)
}

fn run_rollouts(args: &RolloutsArgs) -> Result<u8> {
    let now = args.pass.now.unwrap_or_else(OffsetDateTime::now_utc);
    let (rollouts, errors, input_errors) = if args.source.cluster {
        let key = audit_key(args.pass.audit_key_file.as_deref())?;
        // Rollouts only: no rotation policy applies.
        let report = cluster_pass(
            &args.source,
            None,
            &args.pass.pacing.policy(),
            key,
            args.pass.audit_log.clone(),
            now,
            !args.once,
        )?;
        (report.rollouts, report.errors, false)
    } else {
        let (objects, _, diag) = args.source.load()?;
        let p = plan_pass(
            &objects,
            None,
            &args.pass.pacing.policy(),
            &args.changed,
            now,
        );
        (p.rollouts, Vec::new(), diag)
    };
    let plan = PassPlan {
        rotations: Vec::new(),
        rollouts,
    };
    print_pass(&plan, &errors, &args.format, now, !args.once)?;
    Ok(if input_errors {
        EXIT_INPUT
    } else if errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}

fn cluster_pass(
    source: &Source,
    policies: Option<&PolicySet>,
    pacing: &RolloutPolicy,
    key: AuditKey,
    audit_log: Option<PathBuf>,
    now: OffsetDateTime,
    dry_run: bool,
) -> Result<palisade_secrets::cluster::PassReport> {
    let opts = source.cluster_options();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let load = palisade_k8s::cluster::load(&opts)
            .await
            .context("cannot read the cluster")?;
        for w in &load.warnings {
            eprintln!("palisade: warning: {w}");
        }
        let (client, _) = palisade_k8s::cluster::client(&opts)
            .await
            .context("cannot connect to the cluster")?;
        let audit = AuditSink::new(key, audit_log);
        let actor = Actor {
            identity: "palisade secrets".to_owned(),
        };
        let opts = PassOptions {
            policies,
            rollout: pacing,
            now,
            dry_run,
        };
        Ok(run_once(&client, &load.outcome.objects, &opts, &audit, &actor).await)
    })
}

fn print_pass(
    plan: &PassPlan,
    errors: &[String],
    format: &str,
    now: OffsetDateTime,
    dry_run: bool,
) -> Result<()> {
    if format == "json" {
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "schemaVersion": "palisade.secrets.plan/1",
            "time": rfc3339(now),
            "dryRun": dry_run,
            "rotations": plan.rotations,
            "rollouts": plan.rollouts,
            "errors": errors,
        }))?;
        return super::emit(&(text + "\n"), None);
    }
    let mut out = String::new();
    let mode = if dry_run { "dry run" } else { "applied" };
    if !plan.rotations.is_empty() {
        let _ = writeln!(out, "Rotation plan at {} ({mode})\n", rfc3339(now));
        let rows: Vec<Vec<String>> = plan
            .rotations
            .iter()
            .map(|d| {
                let (action, detail) = match &d.action {
                    Action::Rotate {
                        reason,
                        version,
                        keep_previous,
                        ..
                    } => (
                        "rotate".to_owned(),
                        format!(
                            "v{version}: {reason}{}",
                            if keep_previous.is_empty() {
                                String::new()
                            } else {
                                format!("; keeps {}.previous", keep_previous.join(".previous, "))
                            }
                        ),
                    ),
                    Action::ExpirePrevious { keys } => {
                        ("expire-previous".to_owned(), keys.join(", "))
                    }
                    Action::Wait => (
                        "wait".to_owned(),
                        d.due
                            .map_or_else(String::new, |t| format!("due {}", rfc3339(t))),
                    ),
                    Action::Invalid { message } => ("invalid".to_owned(), message.clone()),
                };
                vec![
                    format!("{}/{}", d.namespace, d.name),
                    action,
                    d.generator.clone(),
                    d.every.clone(),
                    detail,
                ]
            })
            .collect();
        table(
            &mut out,
            &["SECRET", "ACTION", "GENERATOR", "EVERY", "DETAIL"],
            &rows,
        );
        out.push('\n');
    }
    let rolls: Vec<&RolloutDecision> = plan
        .rollouts
        .iter()
        .filter(|r| !matches!(r.action, RolloutAction::Untracked))
        .collect();
    let _ = writeln!(
        out,
        "Rollouts{} ({mode})\n",
        if plan.rotations.is_empty() {
            ""
        } else {
            " these rotations trigger"
        }
    );
    let rows: Vec<Vec<String>> = rolls
        .iter()
        .map(|r| {
            let (action, detail) = match &r.action {
                RolloutAction::Roll { changed } => {
                    ("roll".to_owned(), format!("{} changed", changed.join(", ")))
                }
                RolloutAction::Baseline => (
                    "baseline".to_owned(),
                    "first sight: versions recorded, no restart".to_owned(),
                ),
                RolloutAction::UpToDate => ("up-to-date".to_owned(), String::new()),
                RolloutAction::Deferred {
                    why,
                    until,
                    changed,
                } => (
                    "deferred".to_owned(),
                    format!(
                        "{} changed; {} until {until}",
                        changed.join(", "),
                        serde_json::to_value(why)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    ),
                ),
                RolloutAction::OptedOut => (
                    "opted-out".to_owned(),
                    "palisade.dev/rollout: \"false\"".to_owned(),
                ),
                RolloutAction::NotRollable { why } => ("not-rollable".to_owned(), why.clone()),
                RolloutAction::Untracked => ("untracked".to_owned(), String::new()),
            };
            vec![r.id(), r.secrets.join(","), action, detail]
        })
        .collect();
    table(
        &mut out,
        &["WORKLOAD", "SECRETS", "ACTION", "DETAIL"],
        &rows,
    );
    let count =
        |f: &dyn Fn(&RolloutAction) -> bool| plan.rollouts.iter().filter(|r| f(&r.action)).count();
    let _ = writeln!(
        out,
        "\n{} to rotate, {} to roll, {} deferred, {} opted out, {} workloads track no Secret",
        plan.rotations
            .iter()
            .filter(|d| matches!(d.action, Action::Rotate { .. }))
            .count(),
        count(&|a| matches!(a, RolloutAction::Roll { .. })),
        count(&|a| matches!(a, RolloutAction::Deferred { .. })),
        count(&|a| matches!(a, RolloutAction::OptedOut)),
        count(&|a| matches!(a, RolloutAction::Untracked)),
    );
    for e in errors {
        let _ = writeln!(out, "error: {e}");
    }
    super::emit(&out, None)
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut String, cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(out, header);
    for r in rows {
        line(out, &r.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

fn run_inventory(args: &InventoryArgs) -> Result<u8> {
    let (objects, files, input_errors) = args.source.load()?;
    let opts = Options {
        max_age: args.max_age,
        ..Options::default()
    };
    let inv = inventory(&objects, &opts);
    for d in &inv.diagnostics {
        eprintln!("palisade: {d}");
    }
    let report = Report {
        findings: inv.findings.clone(),
        files,
        resources: objects.len(),
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
    if input_errors {
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
                if e.keys.is_empty() {
                    "-".to_owned()
                } else {
                    e.keys.join(",")
                },
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

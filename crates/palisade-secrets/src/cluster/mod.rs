//! Applying rotations and rollouts to a cluster through kube-rs, and the
//! controller ([`controller`]) with Lease leader election ([`lease`]).
//!
//! What is read: Secrets through the metadata-only path (never their
//! values), except the issuing CA Secret of a CA-issued certificate, whose
//! `tls.crt` and `tls.key` are needed to sign. What is written: the rotated
//! Secret (a JSON Patch that copies current values to `<key>.previous`
//! server-side, then a merge patch with the new values, conditional on the
//! resourceVersion), annotations of workloads and their pod templates (merge
//! patches), `events.k8s.io/v1` Events, and the audit log (JSON lines with
//! keyed hashes, never values).

pub mod controller;
pub mod lease;

use crate::audit::{AuditKey, AuditRecord};
use crate::generate::{CaMaterial, SecretBytes, generate};
use crate::policy::PolicySet;
use crate::rollout::{RolloutAction, RolloutDecision, RolloutPolicy, SecretState, WorkloadInfo};
use crate::rotation::{
    Action, Decision, SecretMeta, Write, expire_patch, keep_previous_patch, plan, rfc3339,
    write_patch,
};
use base64::Engine as _;
use kube::Client;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use time::OffsetDateTime;

/// `Accept` for metadata-only answers (`PartialObjectMetadata`).
pub const METADATA_ACCEPT: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

/// The controller name in Events (`reportingController`).
pub const REPORTING_CONTROLLER: &str = "palisade.dev/secrets-controller";

/// Why an action failed. Messages never carry secret values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The API server refused (status code, reason, message).
    #[error("{what}: the API server answered {code} {reason}: {message}")]
    Api {
        /// What was attempted.
        what: String,
        /// HTTP status.
        code: u16,
        /// Status reason.
        reason: String,
        /// Status message (values redacted).
        message: String,
    },
    /// Transport or decoding.
    #[error("{what}: {source}")]
    Client {
        /// What was attempted.
        what: String,
        /// The error.
        #[source]
        source: kube::Error,
    },
    /// A value could not be made.
    #[error("{0}")]
    Generate(#[from] crate::generate::GenerateError),
    /// The audit log could not be written.
    #[error("audit log {path}: {source}")]
    Audit {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Reading the cluster failed.
    #[error("{0}")]
    Load(#[from] palisade_k8s::cluster::ClusterError),
}

impl ApplyError {
    /// The HTTP status, for API refusals.
    pub fn code(&self) -> Option<u16> {
        match self {
            ApplyError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// How many of the latest records an [`AuditSink`] keeps in memory: a
/// controller runs for months, the file is the record that lasts.
pub const RECENT_RECORDS: usize = 1024;

/// Where audit records go: appended to a JSON-lines file (created 0600) when
/// one is given; the latest [`RECENT_RECORDS`] are also kept in memory.
#[derive(Debug)]
pub struct AuditSink {
    /// The keyed-hash key.
    pub key: AuditKey,
    /// The file.
    pub file: Option<PathBuf>,
    recent: Mutex<std::collections::VecDeque<AuditRecord>>,
}

impl AuditSink {
    /// A sink.
    pub fn new(key: AuditKey, file: Option<PathBuf>) -> Self {
        Self {
            key,
            file,
            recent: Mutex::new(std::collections::VecDeque::new()),
        }
    }

    /// Records one.
    pub fn record(&self, r: AuditRecord) -> Result<(), ApplyError> {
        if let Some(p) = &self.file {
            let mut o = std::fs::OpenOptions::new();
            o.create(true).append(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                o.mode(0o600);
            }
            let io = |source| ApplyError::Audit {
                path: p.display().to_string(),
                source,
            };
            let mut f = o.open(p).map_err(io)?;
            let mut line = serde_json::to_vec(&r).unwrap_or_default();
            line.push(b'\n');
            f.write_all(&line).map_err(io)?;
        }
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if recent.len() == RECENT_RECORDS {
            recent.pop_front();
        }
        recent.push_back(r);
        Ok(())
    }

    /// The latest records, oldest first (at most [`RECENT_RECORDS`]).
    pub fn records(&self) -> Vec<AuditRecord> {
        self.recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }
}

fn secret_path(ns: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{ns}/secrets/{name}")
}

/// Sends one request; API refusals become [`ApplyError::Api`] with the
/// message passed through `redact`.
async fn send(
    client: &Client,
    what: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    redact: &(dyn Fn(&str) -> String + Sync),
) -> Result<Value, ApplyError> {
    // Writes to Secrets ask for metadata only, so that no value comes back.
    let accept = if path.starts_with("/api/v1/") && path.contains("/secrets/") && method != "GET" {
        METADATA_ACCEPT
    } else {
        "application/json"
    };
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::ACCEPT, accept)
        .body(body)
        .map_err(|e| ApplyError::Client {
            what: what.to_owned(),
            source: kube::Error::HttpError(e),
        })?;
    match client.request::<Value>(req).await {
        Ok(v) => Ok(v),
        Err(kube::Error::Api(s)) => Err(ApplyError::Api {
            what: what.to_owned(),
            code: s.code,
            reason: s.reason.clone(),
            message: redact(&s.message),
        }),
        Err(e) => Err(ApplyError::Client {
            what: what.to_owned(),
            source: e,
        }),
    }
}

fn no_redact(s: &str) -> String {
    s.to_owned()
}

/// `metav1.MicroTime`: RFC 3339 with microseconds.
pub fn micro_time(t: OffsetDateTime) -> String {
    palisade_core::clock::rfc3339_micros(t)
}

/// What an Event is about.
#[derive(Debug, Clone)]
pub struct Regarding {
    /// apiVersion.
    pub api_version: String,
    /// kind.
    pub kind: String,
    /// namespace.
    pub namespace: String,
    /// name.
    pub name: String,
    /// uid (may be empty).
    pub uid: String,
}

/// Creates an `events.k8s.io/v1` Event.
pub async fn emit_event(
    client: &Client,
    regarding: &Regarding,
    (reason, action, note): (&str, &str, &str),
    warning: bool,
    instance: &str,
    now: OffsetDateTime,
) -> Result<(), ApplyError> {
    let mut reg = json!({"apiVersion": regarding.api_version, "kind": regarding.kind,
        "namespace": regarding.namespace, "name": regarding.name});
    if !regarding.uid.is_empty() {
        reg["uid"] = Value::String(regarding.uid.clone());
    }
    let ev = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"generateName": format!("{}.", regarding.name), "namespace": regarding.namespace},
        "eventTime": micro_time(now),
        "reportingController": REPORTING_CONTROLLER,
        "reportingInstance": instance,
        "action": action,
        "reason": reason,
        "type": if warning { "Warning" } else { "Normal" },
        "note": note.chars().take(1024).collect::<String>(),
        "regarding": reg,
    });
    send(
        client,
        "create Event",
        "POST",
        &format!(
            "/apis/events.k8s.io/v1/namespaces/{}/events",
            regarding.namespace
        ),
        "application/json",
        serde_json::to_vec(&ev).unwrap_or_default(),
        &no_redact,
    )
    .await
    .map(|_| ())
}

/// Who acts, for Events and audit records.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `reportingInstance` and the audit `actor`.
    pub identity: String,
}

async fn fetch_ca(client: &Client, ns: &str, name: &str) -> Result<CaMaterial, ApplyError> {
    let v = send(
        client,
        &format!("read issuing CA Secret {ns}/{name}"),
        "GET",
        &secret_path(ns, name),
        "application/json",
        Vec::new(),
        &no_redact,
    )
    .await?;
    let field = |k: &str| {
        v.get("data")
            .and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map(SecretBytes::new)
    };
    match (field("tls.crt"), field("tls.key")) {
        (Some(cert_pem), Some(key_pem)) => Ok(CaMaterial { cert_pem, key_pem }),
        _ => Err(crate::generate::GenerateError::BadCa.into()),
    }
}

/// Applies one rotation decision (Rotate or ExpirePrevious); returns the
/// Secret's new resourceVersion and version. Emits an Event and records an
/// audit record either way (failures too).
pub async fn apply_rotation(
    client: &Client,
    d: &Decision,
    s: &SecretMeta,
    audit: &AuditSink,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<(), ApplyError> {
    let regarding = Regarding {
        api_version: "v1".into(),
        kind: "Secret".into(),
        namespace: s.namespace.clone(),
        name: s.name.clone(),
        uid: s.uid.clone(),
    };
    let object = format!("Secret/{}/{}", s.namespace, s.name);
    let result = rotate_inner(client, d, s, audit, now).await;
    let (event, rec) = match (&d.action, &result) {
        (Action::Rotate { version, .. }, Ok((hashes, detail))) => (
            (
                "SecretRotated",
                "Rotate",
                format!("rotated to version {version} ({}); {detail}", d.generator),
            ),
            AuditRecord {
                schema: "palisade.secrets.audit/1",
                time: rfc3339(now),
                action: "rotate".into(),
                object,
                version: *version,
                generator: d.generator.clone(),
                hashes: hashes.clone(),
                detail: detail.clone(),
                actor: actor.identity.clone(),
                outcome: "applied".into(),
            },
        ),
        (Action::ExpirePrevious { keys }, Ok(_)) => (
            (
                "PreviousValuesExpired",
                "ExpirePrevious",
                format!("removed {} after the grace period", keys.join(", ")),
            ),
            AuditRecord {
                schema: "palisade.secrets.audit/1",
                time: rfc3339(now),
                action: "expire-previous".into(),
                object,
                version: 0,
                generator: String::new(),
                hashes: BTreeMap::new(),
                detail: keys.join(", "),
                actor: actor.identity.clone(),
                outcome: "applied".into(),
            },
        ),
        (_, Err(e)) => (
            ("SecretRotationFailed", "Rotate", e.to_string()),
            AuditRecord {
                schema: "palisade.secrets.audit/1",
                time: rfc3339(now),
                action: "rotate".into(),
                object,
                version: 0,
                generator: d.generator.clone(),
                hashes: BTreeMap::new(),
                detail: String::new(),
                actor: actor.identity.clone(),
                outcome: format!("failed: {e}"),
            },
        ),
        _ => return Ok(()),
    };
    let warning = result.is_err();
    // The Event is best effort; the audit record is not.
    let _ = emit_event(
        client,
        &regarding,
        (event.0, event.1, &event.2),
        warning,
        &actor.identity,
        now,
    )
    .await;
    audit.record(rec)?;
    result.map(|_| ())
}

type Hashes = BTreeMap<String, String>;

async fn rotate_inner(
    client: &Client,
    d: &Decision,
    s: &SecretMeta,
    audit: &AuditSink,
    now: OffsetDateTime,
) -> Result<(Hashes, String), ApplyError> {
    let path = secret_path(&s.namespace, &s.name);
    let what = format!("rotate Secret {}/{}", s.namespace, s.name);
    match &d.action {
        Action::ExpirePrevious { keys } => {
            send(
                client,
                &what,
                "PATCH",
                &path,
                "application/merge-patch+json",
                serde_json::to_vec(&expire_patch(keys)).unwrap_or_default(),
                &no_redact,
            )
            .await?;
            Ok((BTreeMap::new(), String::new()))
        }
        Action::Rotate {
            version,
            keep_previous,
            ..
        } => {
            let Some(policy) = &d.policy else {
                return Ok((BTreeMap::new(), String::new()));
            };
            let ca = match &policy.generator {
                crate::policy::Generator::X509(x) => match &x.issuer {
                    Some((ns, n)) => {
                        let ns = if ns.is_empty() {
                            s.namespace.as_str()
                        } else {
                            ns
                        };
                        Some(fetch_ca(client, ns, n).await?)
                    }
                    None => None,
                },
                _ => None,
            };
            let values = generate(&policy.generator, now, ca.as_ref())?;
            // The resourceVersion the decision saw; a newer one means
            // someone else wrote the Secret meanwhile: the test fails.
            let mut rv = s.resource_version.clone();
            let mut detail = String::new();
            if !keep_previous.is_empty() {
                match send(
                    client,
                    &what,
                    "PATCH",
                    &path,
                    "application/json-patch+json",
                    serde_json::to_vec(&keep_previous_patch(&rv, keep_previous))
                        .unwrap_or_default(),
                    &no_redact,
                )
                .await
                {
                    Ok(v) => {
                        v.pointer("/metadata/resourceVersion")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .clone_into(&mut rv);
                        detail = format!(
                            "previous values kept as {} until {}",
                            keep_previous
                                .iter()
                                .map(|k| format!("{k}.previous"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            rfc3339(
                                now + time::Duration::milliseconds(
                                    i64::try_from(policy.grace.millis).unwrap_or(i64::MAX)
                                )
                            )
                        );
                    }
                    // A key to copy is absent (first rotation of a Secret
                    // read as metadata only) or the test failed; the write
                    // below is conditional on the same resourceVersion, so
                    // a concurrent change still makes it fail.
                    Err(e) if e.code() == Some(422) => {
                        detail = "no previous value kept (a key was absent)".into();
                    }
                    Err(e) => return Err(e),
                }
            }
            let kept = detail.starts_with("previous values kept");
            let merge = write_patch(&Write {
                resource_version: &rv,
                values: &values,
                version: *version,
                now,
                grace: kept.then_some(policy.grace),
            });
            let encoded: Vec<String> = values
                .values()
                .map(|v| base64::engine::general_purpose::STANDARD.encode(v.expose()))
                .collect();
            let redact = move |m: &str| {
                let mut m = m.to_owned();
                for e in &encoded {
                    if !e.is_empty() {
                        m = m.replace(e.as_str(), "<redacted>");
                    }
                }
                m
            };
            send(
                client,
                &what,
                "PATCH",
                &path,
                "application/merge-patch+json",
                serde_json::to_vec(&merge).unwrap_or_default(),
                &redact,
            )
            .await?;
            Ok((AuditRecord::hashes_of(&audit.key, &values), detail))
        }
        _ => Ok((BTreeMap::new(), String::new())),
    }
}

/// Which of `keys` a Secret has, found without reading any value: a
/// dry-run JSON Patch copying each key onto itself succeeds exactly when the
/// key exists (422 otherwise). Used for Secrets read as metadata that
/// Palisade never wrote, so that a Secret created empty for a generator is
/// filled at once.
pub async fn probe_keys(
    client: &Client,
    s: &SecretMeta,
    keys: &[String],
) -> Result<Vec<String>, ApplyError> {
    let mut present = Vec::new();
    for k in keys {
        let t = k.replace('~', "~0").replace('/', "~1");
        let patch =
            json!([{"op": "copy", "from": format!("/data/{t}"), "path": format!("/data/{t}")}]);
        match send(
            client,
            &format!("probe Secret {}/{}", s.namespace, s.name),
            "PATCH",
            &format!("{}?dryRun=All", secret_path(&s.namespace, &s.name)),
            "application/json-patch+json",
            serde_json::to_vec(&patch).unwrap_or_default(),
            &no_redact,
        )
        .await
        {
            Ok(_) => present.push(k.clone()),
            Err(e) if e.code() == Some(422) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(present)
}

/// Fills in `keys` of metadata-only Secrets that have a policy and were
/// never written by Palisade ([`probe_keys`]).
pub async fn probe_unwritten(
    client: &Client,
    metas: &mut [SecretMeta],
    policies: &PolicySet,
) -> Vec<String> {
    let mut errors = Vec::new();
    for m in metas.iter_mut() {
        if m.keys.is_some() || m.annotations.contains_key(crate::policy::VERSION) {
            continue;
        }
        let Ok(Some(p)) = policies.resolve(&m.namespace, &m.name, &m.annotations) else {
            continue;
        };
        match probe_keys(client, m, &p.generator.keys()).await {
            Ok(k) => m.keys = Some(k),
            Err(e) => errors.push(format!("Secret/{}/{}: {e}", m.namespace, m.name)),
        }
    }
    errors
}

/// The API path of a workload (plural guessed from the kind, as kube's
/// `ApiResource::from_gvk` does).
pub fn workload_path(api_version: &str, kind: &str, ns: &str, name: &str) -> String {
    let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
    let ar = kube::core::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(g, v, kind));
    let base = if g.is_empty() {
        format!("/api/{v}")
    } else {
        format!("/apis/{g}/{v}")
    };
    format!("{base}/namespaces/{ns}/{}/{name}", ar.plural)
}

/// Applies a Roll or Baseline decision (a merge patch of annotations); a
/// Roll emits an Event on the workload and an audit record.
pub async fn apply_rollout(
    client: &Client,
    d: &RolloutDecision,
    audit: &AuditSink,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<(), ApplyError> {
    let Some(patch) = &d.patch else { return Ok(()) };
    let what = format!("patch {}", d.id());
    let r = send(
        client,
        &what,
        "PATCH",
        &workload_path(&d.api_version, &d.kind, &d.namespace, &d.name),
        "application/merge-patch+json",
        serde_json::to_vec(patch).unwrap_or_default(),
        &no_redact,
    )
    .await;
    if let RolloutAction::Roll { changed } = &d.action {
        let note = format!("restarting: Secret {} changed", changed.join(", "));
        let regarding = Regarding {
            api_version: d.api_version.clone(),
            kind: d.kind.clone(),
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            uid: String::new(),
        };
        let _ = emit_event(
            client,
            &regarding,
            ("SecretChanged", "Rollout", &note),
            r.is_err(),
            &actor.identity,
            now,
        )
        .await;
        audit.record(AuditRecord {
            schema: "palisade.secrets.audit/1",
            time: rfc3339(now),
            action: "rollout".into(),
            object: d.id(),
            version: 0,
            generator: String::new(),
            hashes: BTreeMap::new(),
            detail: note,
            actor: actor.identity.clone(),
            outcome: match &r {
                Ok(_) => "applied".into(),
                Err(e) => format!("failed: {e}"),
            },
        })?;
    }
    r.map(|_| ())
}

/// The result of one pass.
#[derive(Debug, Default, Serialize)]
pub struct PassReport {
    /// The rotation decisions.
    pub rotations: Vec<Decision>,
    /// The rollout decisions.
    pub rollouts: Vec<RolloutDecision>,
    /// What failed (`object: error`).
    pub errors: Vec<String>,
}

/// What a pass does.
#[derive(Debug, Clone, Copy)]
pub struct PassOptions<'a> {
    /// Rotation policies (`None`: rollouts only).
    pub policies: Option<&'a PolicySet>,
    /// Rollout pacing.
    pub rollout: &'a RolloutPolicy,
    /// The clock.
    pub now: OffsetDateTime,
    /// Plan only.
    pub dry_run: bool,
}

/// One pass over a cluster: plan rotations, apply them (unless `dry_run`),
/// then plan and apply the rollouts they cause. Workloads seen for the
/// first time are baselined at the versions before the rotations, so the
/// ones that consume a rotated Secret roll in the same pass.
pub async fn run_once(
    client: &Client,
    objects: &[palisade_k8s::Object],
    opts: &PassOptions<'_>,
    audit: &AuditSink,
    actor: &Actor,
) -> PassReport {
    let (rollout_policy, now, dry_run) = (opts.rollout, opts.now, opts.dry_run);

    let mut metas: Vec<SecretMeta> = objects
        .iter()
        .filter(|o| o.is("", "Secret"))
        .map(SecretMeta::from_object)
        .collect();
    let before: Vec<SecretState> = metas
        .iter()
        .map(|m| SecretState::from_meta(m, None))
        .collect();
    let mut workloads = WorkloadInfo::from_objects(objects);
    let unseen: Vec<String> = workloads
        .iter()
        .filter(|w| !w.annotations.contains_key(crate::rollout::OBSERVED))
        .map(WorkloadInfo::id)
        .collect();
    crate::rollout::baseline(&mut workloads, &before);
    let mut report = PassReport::default();
    let mut decisions = Vec::new();
    if let Some(policies) = opts.policies {
        report.errors = probe_unwritten(client, &mut metas, policies).await;
        decisions = plan(&metas, policies, now);
    }

    // Certificates issued by a CA after the CA's own rotation.
    decisions.sort_by_key(|d| {
        matches!(&d.policy, Some(p) if matches!(&p.generator, crate::policy::Generator::X509(x) if x.issuer.is_some()))
    });
    for d in &decisions {
        let Some(m) = metas
            .iter_mut()
            .find(|m| m.namespace == d.namespace && m.name == d.name)
        else {
            continue;
        };
        if !matches!(
            d.action,
            Action::Rotate { .. } | Action::ExpirePrevious { .. }
        ) {
            continue;
        }
        if !dry_run && let Err(e) = apply_rotation(client, d, m, audit, actor, now).await {
            report
                .errors
                .push(format!("Secret/{}/{}: {e}", m.namespace, m.name));
            continue;
        }
        if let Action::Rotate { version, .. } = &d.action {
            m.annotations
                .insert(crate::policy::VERSION.to_owned(), version.to_string());
        }
    }
    let after: Vec<SecretState> = metas
        .iter()
        .map(|m| SecretState::from_meta(m, None))
        .collect();
    let mut rollouts = crate::rollout::plan_rollouts(&after, &workloads, rollout_policy, now);
    // Workloads baselined above and not rolled: record the baseline.
    for r in &mut rollouts {
        if r.action == RolloutAction::UpToDate && unseen.contains(&r.id()) {
            let observed = workloads
                .iter()
                .find(|w| w.id() == r.id())
                .and_then(|w| w.annotations.get(crate::rollout::OBSERVED))
                .cloned()
                .unwrap_or_default();
            r.action = RolloutAction::Baseline;
            r.patch =
                Some(json!({"metadata": {"annotations": {crate::rollout::OBSERVED: observed}}}));
        }
    }
    if !dry_run {
        for r in &rollouts {
            if matches!(
                r.action,
                RolloutAction::Roll { .. } | RolloutAction::Baseline
            ) && let Err(e) = apply_rollout(client, r, audit, actor, now).await
            {
                report.errors.push(format!("{}: {e}", r.id()));
            }
        }
    }
    report.rotations = decisions;
    report.rollouts = rollouts;
    report
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(i: usize) -> AuditRecord {
        AuditRecord {
            schema: "palisade.secrets.audit/1",
            time: "2026-12-01T12:00:00Z".into(),
            action: "rollout".into(),
            object: format!("Deployment/ns/w{i}"),
            version: 0,
            generator: String::new(),
            hashes: BTreeMap::new(),
            detail: String::new(),
            actor: "test".into(),
            outcome: "applied".into(),
        }
    }

    #[test]
    fn the_sink_keeps_only_the_latest_records_in_memory_and_all_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("audit.jsonl");
        let sink = AuditSink::new(AuditKey::ephemeral(), Some(file.clone()));
        let n = RECENT_RECORDS + 10;
        for i in 0..n {
            sink.record(record(i)).unwrap();
        }
        let recent = sink.records();
        assert_eq!(recent.len(), RECENT_RECORDS);
        assert_eq!(recent[0].object, "Deployment/ns/w10");
        assert_eq!(
            recent[RECENT_RECORDS - 1].object,
            format!("Deployment/ns/w{}", n - 1)
        );
        let lines = std::fs::read_to_string(&file).unwrap();
        assert_eq!(lines.lines().count(), n);
    }
}

//! Building the inventory: Secrets, their producers, consumers and readers,
//! and the lifecycle findings.

use crate::duration::Duration;
use crate::rules;
use crate::{ROTATE_EVERY, ROTATED_AT, VAULT_SECRET_PREFIX};
use palisade_core::finding::{FindingReferences, fingerprint};
use palisade_core::{Diagnostic, Finding, Node, Path, RuleMeta};
use palisade_k8s::Object;
use palisade_rules::{Context, Settings};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the inventory judges against.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Maximum age since the last rotation, unless the Secret sets its own
    /// with `palisade.dev/rotate-every`.
    pub max_age: Duration,
    /// The time ages are measured at.
    pub now: OffsetDateTime,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_age: Duration::days(90),
            now: OffsetDateTime::now_utc(),
        }
    }
}

/// Where an inventoried secret comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretSource {
    /// A `v1` Secret of the input.
    Secret,
    /// The target Secret of an External Secrets Operator `ExternalSecret`.
    ExternalSecret,
    /// The Secret a Bitnami `SealedSecret` unseals into.
    SealedSecret,
    /// A Secret the Secrets Store CSI driver syncs (`secretObjects`).
    SecretProviderClass,
    /// A Vault path the Vault Agent injector renders into a pod.
    VaultAgent,
    /// Referenced by a workload, but not defined by the input.
    Referenced,
}

/// How a secret is consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsumerKind {
    /// `env[].valueFrom.secretKeyRef`.
    Env,
    /// `envFrom[].secretRef`.
    EnvFrom,
    /// `volumes[].secret`.
    Volume,
    /// `volumes[].projected.sources[].secret`.
    ProjectedVolume,
    /// A pod's or ServiceAccount's `imagePullSecrets`.
    ImagePullSecret,
    /// A ServiceAccount's `secrets` list.
    ServiceAccount,
    /// An Ingress `spec.tls[].secretName`.
    IngressTls,
    /// A CSI volume of driver `secrets-store.csi.k8s.io` whose
    /// SecretProviderClass syncs the Secret.
    Csi,
    /// `vault.hashicorp.com/agent-inject-secret-<file>`.
    VaultAgent,
}

impl ConsumerKind {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerKind::Env => "env",
            ConsumerKind::EnvFrom => "env-from",
            ConsumerKind::Volume => "volume",
            ConsumerKind::ProjectedVolume => "projected-volume",
            ConsumerKind::ImagePullSecret => "image-pull-secret",
            ConsumerKind::ServiceAccount => "service-account",
            ConsumerKind::IngressTls => "ingress-tls",
            ConsumerKind::Csi => "csi",
            ConsumerKind::VaultAgent => "vault-agent",
        }
    }
}

/// One consumer of a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consumer {
    /// How.
    pub kind: ConsumerKind,
    /// The consuming object, `Kind/namespace/name`.
    pub object: String,
    /// Container, key, volume or file, e.g. `container app, key password`.
    pub detail: String,
    #[serde(skip)]
    at: (usize, Path),
}

/// One subject that can read a Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reader {
    /// `ServiceAccount:ns/name`, `Group:name`, `User:name`.
    pub subject: String,
    /// The binding that grants it.
    pub binding: String,
    /// The role rule that grants it.
    pub rule: String,
    /// A subject that stands for many (see PLS-SCR-004).
    pub broad: bool,
}

/// One inventoried secret. Key names only: values are never read into it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretEntry {
    /// Namespace.
    pub namespace: String,
    /// Name (for Vault Agent secrets, the Vault path).
    pub name: String,
    /// `type` (`Opaque` when unset; `vault` for Vault paths; empty when unknown).
    #[serde(rename = "type")]
    pub kind: String,
    /// Where it is defined.
    pub source: SecretSource,
    /// The object that produces it (ExternalSecret, SealedSecret,
    /// SecretProviderClass), `Kind/namespace/name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    /// Key names.
    pub keys: Vec<String>,
    /// `metadata.creationTimestamp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `palisade.dev/rotated-at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<String>,
    /// Whole days since the last rotation (or creation), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
    /// The rotation policy age that applies.
    pub max_age: String,
    /// What consumes it.
    pub consumers: Vec<Consumer>,
    /// Who can read it through RBAC.
    pub readers: Vec<Reader>,
    /// The IDs of the findings about it.
    pub findings: Vec<&'static str>,
    #[serde(skip)]
    anchor: Option<(usize, Path)>,
    #[serde(skip)]
    rotate_every: Option<Duration>,
}

/// The whole inventory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    /// Every secret, sorted by namespace and name.
    pub secrets: Vec<SecretEntry>,
    /// The lifecycle findings, sorted by file and line.
    pub findings: Vec<Finding>,
    /// Problems with the input (unparsable timestamps or durations).
    pub diagnostics: Vec<Diagnostic>,
}

const SERVICE_ACCOUNT_TOKEN: &str = "kubernetes.io/service-account-token";
/// Secret types that have no consumer by design.
const NO_CONSUMER_TYPES: &[&str] = &[
    SERVICE_ACCOUNT_TOKEN,
    "bootstrap.kubernetes.io/token",
    "helm.sh/release.v1",
];
const CSI_DRIVER: &str = "secrets-store.csi.k8s.io";

fn s(n: Option<&Node>) -> Option<&str> {
    n.and_then(Node::as_str).filter(|s| !s.is_empty())
}

fn keys_of(n: Option<&Node>) -> Vec<String> {
    n.map(|m| m.entries().iter().map(|e| e.key.to_string()).collect())
        .unwrap_or_default()
}

struct Builder<'a> {
    objects: &'a [Object],
    entries: Vec<SecretEntry>,
    index: HashMap<(String, String), usize>,
    diagnostics: Vec<Diagnostic>,
}

impl Builder<'_> {
    fn entry(&mut self, ns: &str, name: &str, source: SecretSource) -> &mut SecretEntry {
        let key = (ns.to_owned(), name.to_owned());
        let i = *self.index.entry(key).or_insert_with(|| {
            self.entries.push(SecretEntry {
                namespace: ns.to_owned(),
                name: name.to_owned(),
                kind: String::new(),
                source,
                producer: None,
                keys: Vec::new(),
                created: None,
                rotated_at: None,
                age_days: None,
                max_age: String::new(),
                consumers: Vec::new(),
                readers: Vec::new(),
                findings: Vec::new(),
                anchor: None,
                rotate_every: None,
            });
            self.entries.len() - 1
        });
        &mut self.entries[i]
    }

    fn diag(&mut self, obj: &Object, path: &Path, message: String) {
        let l = obj.locate(path);
        self.diagnostics.push(Diagnostic {
            file: l.file,
            line: l.line,
            column: l.column,
            message,
        });
    }

    /// A `v1` Secret.
    fn secret(&mut self, oi: usize) {
        let obj = &self.objects[oi];
        let mut keys = keys_of(obj.root.get("data"));
        keys.extend(keys_of(obj.root.get("stringData")));
        keys.sort();
        keys.dedup();
        let kind = s(obj.root.get("type")).unwrap_or("Opaque").to_owned();
        let created = s(obj.metadata().get("creationTimestamp")).map(str::to_owned);
        let rotated_at = obj.annotation(ROTATED_AT).map(str::to_owned);
        let rotate_every = obj
            .annotation(ROTATE_EVERY)
            .map(|v| (v, v.parse::<Duration>()));
        let every = match rotate_every {
            Some((_, Ok(d))) => Some(d),
            Some((v, Err(_))) => {
                let p = Path::keys("metadata.annotations").key(ROTATE_EVERY);
                self.diag(
                    obj,
                    &p,
                    format!(
                        "{ROTATE_EVERY} {v:?} is not a duration (e.g. 30d); using the policy age"
                    ),
                );
                None
            }
            None => None,
        };
        let ns = obj.effective_namespace();
        let e = self.entry(ns, &obj.name, SecretSource::Secret);
        e.source = SecretSource::Secret;
        e.kind = kind;
        e.keys = keys;
        e.created = created;
        e.rotated_at = rotated_at;
        e.rotate_every = every;
        e.anchor = Some((oi, Path::root()));
    }

    /// A Secret another object produces.
    fn produced(
        &mut self,
        oi: usize,
        name: &str,
        source: SecretSource,
        kind: Option<&str>,
        keys: Vec<String>,
    ) {
        let obj = &self.objects[oi];
        let producer = obj.resource_ref().to_string();
        let ns = obj.effective_namespace();
        let e = self.entry(ns, name, source);
        e.producer = Some(producer);
        if e.source != SecretSource::Secret {
            e.source = source;
            kind.unwrap_or("Opaque").clone_into(&mut e.kind);
            e.keys = keys;
            e.anchor = Some((oi, Path::root()));
        }
    }

    fn consume(
        &mut self,
        ns: &str,
        name: &str,
        kind: ConsumerKind,
        oi: usize,
        path: Path,
        detail: String,
    ) {
        let object = self.objects[oi].resource_ref().to_string();
        let e = self.entry(ns, name, SecretSource::Referenced);
        if e.source == SecretSource::Referenced && e.anchor.is_none() {
            e.anchor = Some((oi, path.clone()));
        }
        let c = Consumer {
            kind,
            object,
            detail,
            at: (oi, path),
        };
        if !e.consumers.contains(&c) {
            e.consumers.push(c);
        }
    }
}

/// Builds the inventory of `objects`.
pub fn inventory(objects: &[Object], opts: &Options) -> Inventory {
    let settings = Settings::default();
    let cx = Context::new(objects, &settings);
    let mut b = Builder {
        objects,
        entries: Vec::new(),
        index: HashMap::new(),
        diagnostics: Vec::new(),
    };
    // Definitions first, so consumers find them.
    for (oi, obj) in objects.iter().enumerate() {
        match (obj.group(), obj.kind.as_str()) {
            ("", "Secret") => b.secret(oi),
            ("external-secrets.io", "ExternalSecret") => {
                let spec = obj.spec();
                let name = s(spec.at(&["target", "name"])).unwrap_or(&obj.name);
                let kind = s(spec.at(&["target", "template", "type"]));
                let keys = spec
                    .list("data")
                    .iter()
                    .filter_map(|d| s(d.get("secretKey")).map(str::to_owned))
                    .collect();
                b.produced(oi, name, SecretSource::ExternalSecret, kind, keys);
            }
            ("bitnami.com", "SealedSecret") => {
                let spec = obj.spec();
                let name = s(spec.at(&["template", "metadata", "name"])).unwrap_or(&obj.name);
                let kind = s(spec.at(&["template", "type"]));
                let keys = keys_of(spec.get("encryptedData"));
                b.produced(oi, name, SecretSource::SealedSecret, kind, keys);
            }
            ("secrets-store.csi.x-k8s.io", "SecretProviderClass") => {
                for so in obj.spec().list("secretObjects") {
                    if let Some(name) = s(so.get("secretName")) {
                        let keys = so
                            .list("data")
                            .iter()
                            .filter_map(|d| s(d.get("key")).map(str::to_owned))
                            .collect();
                        b.produced(
                            oi,
                            name,
                            SecretSource::SecretProviderClass,
                            s(so.get("type")),
                            keys,
                        );
                    }
                }
            }
            _ => {}
        }
    }
    // SecretProviderClass name -> synced Secret names, per namespace.
    let mut spc: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    for obj in cx.of_kind("SecretProviderClass") {
        let names = obj
            .spec()
            .list("secretObjects")
            .iter()
            .filter_map(|so| s(so.get("secretName")))
            .collect();
        spc.insert((obj.effective_namespace(), obj.name.as_str()), names);
    }
    for (oi, obj) in objects.iter().enumerate() {
        let ns = obj.effective_namespace();
        match (obj.group(), obj.kind.as_str()) {
            ("", "ServiceAccount") => {
                for (field, kind) in [
                    ("imagePullSecrets", ConsumerKind::ImagePullSecret),
                    ("secrets", ConsumerKind::ServiceAccount),
                ] {
                    for (i, r) in obj.root.list(field).iter().enumerate() {
                        if let Some(name) = s(r.get("name")) {
                            let p = Path::keys(field).index(i);
                            b.consume(ns, name, kind, oi, p, String::new());
                        }
                    }
                }
            }
            ("networking.k8s.io" | "extensions", "Ingress") => {
                for (i, t) in obj.spec().list("tls").iter().enumerate() {
                    if let Some(name) = s(t.get("secretName")) {
                        let p = Path::keys("spec.tls").index(i).key("secretName");
                        b.consume(ns, name, ConsumerKind::IngressTls, oi, p, String::new());
                    }
                }
            }
            _ => {}
        }
        for w in &cx.workloads[oi] {
            for c in &w.containers {
                let who = format!("container {}", c.name);
                for (i, env) in c.node.list("env").iter().enumerate() {
                    let r = env.at(&["valueFrom", "secretKeyRef"]);
                    if let Some(name) = s(r.and_then(|r| r.get("name"))) {
                        let key = s(r.and_then(|r| r.get("key"))).unwrap_or("?");
                        let var = s(env.get("name")).unwrap_or("?");
                        let p = c
                            .path
                            .key("env")
                            .index(i)
                            .keys_from(&["valueFrom", "secretKeyRef"]);
                        b.consume(
                            ns,
                            name,
                            ConsumerKind::Env,
                            oi,
                            p,
                            format!("{who}, env {var} from key {key}"),
                        );
                    }
                }
                for (i, ef) in c.node.list("envFrom").iter().enumerate() {
                    if let Some(name) = s(ef.at(&["secretRef", "name"])) {
                        let p = c.path.key("envFrom").index(i).key("secretRef");
                        b.consume(ns, name, ConsumerKind::EnvFrom, oi, p, who.clone());
                    }
                }
            }
            for (v, vp) in w.volumes() {
                let vol = s(v.get("name")).unwrap_or("?");
                if let Some(name) = s(v.at(&["secret", "secretName"])) {
                    let p = vp.keys_from(&["secret", "secretName"]);
                    b.consume(
                        ns,
                        name,
                        ConsumerKind::Volume,
                        oi,
                        p,
                        format!("volume {vol}"),
                    );
                }
                for (i, src) in v
                    .at(&["projected", "sources"])
                    .map_or(&[][..], Node::items)
                    .iter()
                    .enumerate()
                {
                    if let Some(name) = s(src.at(&["secret", "name"])) {
                        let p = vp
                            .keys_from(&["projected", "sources"])
                            .index(i)
                            .key("secret");
                        b.consume(
                            ns,
                            name,
                            ConsumerKind::ProjectedVolume,
                            oi,
                            p,
                            format!("volume {vol}"),
                        );
                    }
                }
                if s(v.at(&["csi", "driver"])) == Some(CSI_DRIVER)
                    && let Some(class) =
                        s(v.at(&["csi", "volumeAttributes", "secretProviderClass"]))
                {
                    let p = vp.keys_from(&["csi", "volumeAttributes", "secretProviderClass"]);
                    for name in spc.get(&(ns, class)).map_or(&[][..], Vec::as_slice) {
                        let d = format!("volume {vol}, SecretProviderClass {class}");
                        b.consume(ns, name, ConsumerKind::Csi, oi, p.clone(), d);
                    }
                }
            }
            for (i, r) in w.spec.list("imagePullSecrets").iter().enumerate() {
                if let Some(name) = s(r.get("name")) {
                    let p = w.path("imagePullSecrets").index(i);
                    b.consume(
                        ns,
                        name,
                        ConsumerKind::ImagePullSecret,
                        oi,
                        p,
                        String::new(),
                    );
                }
            }
            if let Some(ann) = w.meta.and_then(|m| m.get("annotations")) {
                let inject = s(ann.get("vault.hashicorp.com/agent-inject")) == Some("true");
                for e in ann.entries() {
                    let Some(file) = e.key.strip_prefix(VAULT_SECRET_PREFIX) else {
                        continue;
                    };
                    let Some(vault_path) = e.value.as_str() else {
                        continue;
                    };
                    let p = w.meta_path.keys_from(&["annotations"]).key(&e.key);
                    let detail = format!(
                        "file /vault/secrets/{file}{}",
                        if inject {
                            ""
                        } else {
                            " (agent-inject is not \"true\")"
                        }
                    );
                    b.consume(ns, vault_path, ConsumerKind::VaultAgent, oi, p, detail);
                    let entry = b.entry(ns, vault_path, SecretSource::VaultAgent);
                    entry.source = SecretSource::VaultAgent;
                    "vault".clone_into(&mut entry.kind);
                    if !entry.keys.iter().any(|k| k == file) {
                        entry.keys.push(file.to_owned());
                    }
                }
            }
        }
    }
    let mut entries = b.entries;
    let mut diagnostics = b.diagnostics;
    let mut findings = Vec::new();
    for e in &mut entries {
        judge(e, &cx, opts, &mut findings, &mut diagnostics);
    }
    // The External Secrets refresh check is about the ExternalSecret itself.
    for (oi, obj) in objects.iter().enumerate() {
        if obj.is("external-secrets.io", "ExternalSecret") {
            no_refresh(objects, oi, &mut entries, &mut findings, &mut diagnostics);
        }
    }
    entries.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    findings.sort_by(|a, b| {
        (&a.location.file, a.location.line, &a.rule).cmp(&(
            &b.location.file,
            b.location.line,
            &b.rule,
        ))
    });
    diagnostics.sort();
    Inventory {
        secrets: entries,
        findings,
        diagnostics,
    }
}

fn finding(
    objects: &[Object],
    meta: &'static RuleMeta,
    at: &(usize, Path),
    message: String,
    disc: &str,
) -> Finding {
    let obj = &objects[at.0];
    let resource = obj.resource_ref();
    let location = obj.locate(&at.1);
    Finding {
        rule: meta.id.into(),
        title: meta.title.into(),
        severity: meta.severity,
        category: meta.category.into(),
        fingerprint: fingerprint(meta.id, &resource, "", disc),
        resource,
        location,
        message,
        remediation: meta.remediation.into(),
        references: FindingReferences::from(&meta.references),
    }
}

fn parse_time(v: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v.trim(), &Rfc3339).ok()
}

/// Whether a subject stands for many principals.
fn is_broad(r: &palisade_rules::access::Reader) -> bool {
    use palisade_rules::access::ReaderKind;
    match r.kind {
        ReaderKind::Group => {
            matches!(
                r.name.as_str(),
                "system:authenticated" | "system:unauthenticated" | "system:serviceaccounts"
            ) || r.name.starts_with("system:serviceaccounts:")
        }
        ReaderKind::User => r.name == "system:anonymous",
        ReaderKind::ServiceAccount => r.name == "default",
    }
}

fn judge(
    e: &mut SecretEntry,
    cx: &Context<'_>,
    opts: &Options,
    findings: &mut Vec<Finding>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let objects = cx.objects;
    e.consumers
        .sort_by(|a, b| (a.kind, &a.object, &a.detail).cmp(&(b.kind, &b.object, &b.detail)));
    let policy = e.rotate_every.unwrap_or(opts.max_age);
    e.max_age = policy.to_string();
    let id = format!("{}/{}", e.namespace, e.name);
    let Some(anchor) = e.anchor.clone() else {
        return;
    };
    if e.source == SecretSource::VaultAgent {
        e.max_age = String::new();
        return;
    }
    // Readers: every Kubernetes Secret, defined or only referenced.
    e.readers = cx
        .readers("secrets", &e.namespace, &e.name)
        .into_iter()
        .map(|r| Reader {
            subject: r.key(),
            broad: is_broad(&r),
            binding: r.binding,
            rule: r.rule,
        })
        .collect();
    // Age.
    let mut last = None;
    for (label, v) in [
        ("creationTimestamp", &e.created),
        (ROTATED_AT, &e.rotated_at),
    ] {
        if let Some(v) = v {
            if let Some(t) = parse_time(v) {
                last = Some(last.map_or(t, |l: OffsetDateTime| l.max(t)));
            } else {
                {
                    let obj = &objects[anchor.0];
                    let l = obj.locate(&Path::root());
                    diagnostics.push(Diagnostic {
                        file: l.file,
                        line: l.line,
                        column: l.column,
                        message: format!(
                            "Secret {id}: {label} {v:?} is not an RFC 3339 time; age unknown"
                        ),
                    });
                }
            }
        }
    }
    if let Some(t) = last {
        let age = opts.now - t;
        e.age_days = Some(age.whole_days());
        if age.whole_seconds() > policy.seconds() {
            e.findings.push(rules::STALE.id);
            let since = if e.rotated_at.is_some() {
                "last rotated"
            } else {
                "created, never rotated,"
            };
            findings.push(finding(
                objects,
                &rules::STALE,
                &anchor,
                format!(
                    "Secret {id} was {since} {} days ago; the policy age is {policy}",
                    age.whole_days()
                ),
                &id,
            ));
        }
    }
    // Unused.
    let defined = !matches!(e.source, SecretSource::Referenced);
    if defined && e.consumers.is_empty() && !NO_CONSUMER_TYPES.contains(&e.kind.as_str()) {
        e.findings.push(rules::UNUSED.id);
        findings.push(finding(
            objects,
            &rules::UNUSED,
            &anchor,
            format!("Secret {id} ({}) has no consumer in the input: no env, envFrom, volume, projected volume, imagePullSecrets, Ingress TLS or CSI reference", e.kind),
            &id,
        ));
    }
    // Env consumption: one finding per consuming object.
    let mut by_object: BTreeMap<&str, Vec<&Consumer>> = BTreeMap::new();
    for c in &e.consumers {
        if matches!(c.kind, ConsumerKind::Env | ConsumerKind::EnvFrom) {
            by_object.entry(c.object.as_str()).or_default().push(c);
        }
    }
    let mut env_found = false;
    for (object, cs) in &by_object {
        env_found = true;
        let how: Vec<String> = cs
            .iter()
            .map(|c| format!("{} ({})", c.detail, c.kind.as_str()))
            .collect();
        findings.push(finding(
            objects,
            &rules::ENV,
            &cs[0].at,
            format!("{object} reads Secret {id} into environment variables: {}; a rotation reaches it only after a restart", how.join("; ")),
            &id,
        ));
    }
    if env_found {
        e.findings.push(rules::ENV.id);
    }
    // Broad readers.
    let broad: Vec<String> = e
        .readers
        .iter()
        .filter(|r| r.broad)
        .map(|r| format!("{} via {}", r.subject, r.binding))
        .collect();
    if !broad.is_empty() {
        e.findings.push(rules::BROAD.id);
        findings.push(finding(
            objects,
            &rules::BROAD,
            &anchor,
            format!("Secret {id} is readable by {}", broad.join("; ")),
            &id,
        ));
    }
    // Legacy token.
    if e.source == SecretSource::Secret && e.kind == SERVICE_ACCOUNT_TOKEN {
        let sa = objects[anchor.0]
            .annotation("kubernetes.io/service-account.name")
            .unwrap_or("?");
        e.findings.push(rules::LEGACY_TOKEN.id);
        findings.push(finding(
            objects,
            &rules::LEGACY_TOKEN,
            &(anchor.0, Path::keys("type")),
            format!(
                "Secret {id} is a long-lived token of ServiceAccount {}/{sa}",
                e.namespace
            ),
            &id,
        ));
    }
}

/// PLS-SCR-005 for one ExternalSecret.
fn no_refresh(
    objects: &[Object],
    oi: usize,
    entries: &mut [SecretEntry],
    findings: &mut Vec<Finding>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let obj = &objects[oi];
    let spec = obj.spec();
    let id = format!("{}/{}", obj.effective_namespace(), obj.name);
    let policy = s(spec.get("refreshPolicy"));
    let interval = spec.get("refreshInterval").map(|n| {
        // `refreshInterval: 0` is a YAML integer.
        n.as_i64()
            .map_or_else(|| n.as_str().map(str::to_owned), |i| Some(i.to_string()))
    });
    let why = match (policy, interval) {
        (Some(p @ ("CreatedOnce" | "OnChange")), _) => Some((
            Path::keys("spec.refreshPolicy"),
            format!("refreshPolicy {p}: the provider's value is copied once"),
        )),
        (_, Some(Some(v))) => match v.parse::<Duration>() {
            Ok(d) if d.is_zero() => Some((
                Path::keys("spec.refreshInterval"),
                format!("refreshInterval {v:?} disables refreshing"),
            )),
            Ok(_) => None,
            Err(_) => {
                let l = obj.locate(&Path::keys("spec.refreshInterval"));
                diagnostics.push(Diagnostic {
                    file: l.file,
                    line: l.line,
                    column: l.column,
                    message: format!(
                        "ExternalSecret {id}: refreshInterval {v:?} is not a duration"
                    ),
                });
                None
            }
        },
        _ => None,
    };
    let Some((path, why)) = why else { return };
    let target = s(spec.at(&["target", "name"])).unwrap_or(&obj.name);
    if let Some(e) = entries
        .iter_mut()
        .find(|e| e.namespace == obj.effective_namespace() && e.name == target)
    {
        e.findings.push(rules::NO_REFRESH.id);
    }
    findings.push(finding(
        objects,
        &rules::NO_REFRESH,
        &(oi, path),
        format!("ExternalSecret {id} never refreshes Secret {target}: {why}"),
        &id,
    ));
}

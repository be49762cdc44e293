//! Detection rules over Kubernetes audit events (`PLS-KA-*`).
//!
//! Every event is parsed once, shallowly ([`crate::k8s::Event`]); a rule
//! looks at `objectRef`, `verb`, `user` first and asks for the parsed
//! request body only when it needs it (parsed once per event and shared).
//! Stateful rules keep bounded state in [`State`]. Findings are
//! [`palisade_core::Finding`]s: `resource` is the object of the request,
//! `location` is the input (file and line of the event; `path` is the JSON
//! path inside the event of what matched), the message names the user,
//! source IP and auditID, and [`AuditFinding`] adds the event's identity
//! (auditID, user, groups, source IPs, user agent, verb, URI, times) as
//! structured fields for JSON and SIEM output.

pub mod rules;

use crate::k8s::{Event, EventSource};
use palisade_core::finding::{Finding, Location, ResourceRef, RuleMeta, fingerprint};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{HashMap, HashSet, VecDeque};

/// A rule's metadata plus the Falco k8saudit rules it covers.
#[derive(Debug)]
pub struct KaRule {
    /// ID, title, severity, category, rationale, remediation, references.
    pub meta: RuleMeta,
    /// Names of the Falco `k8s_audit_rules.yaml` rules this covers (may be empty).
    pub falco: &'static [&'static str],
}

/// Link to Falco's k8saudit rules, cited by the rules that cover one.
pub const FALCO_RULES: &str = "https://github.com/falcosecurity/plugins/blob/main/plugins/k8saudit/rules/k8s_audit_rules.yaml";

/// A detection rule.
pub trait Rule: Send + Sync {
    /// The rule's metadata.
    fn info(&self) -> &'static KaRule;
    /// Looks at one event.
    fn check(&self, ev: &EventCx<'_, '_>, st: &mut State, out: &mut Vec<Hit>);
}

/// What a rule reports for one event.
#[derive(Debug, Clone)]
pub struct Hit {
    /// JSON path inside the event of what matched (`requestObject.spec.hostPID`).
    pub path: String,
    /// What happened. Never a secret value.
    pub message: String,
}

impl Hit {
    /// A hit.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Hit {
        Hit {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Tuning of the rules.
#[derive(Debug, Clone)]
pub struct DetectConfig {
    /// Users (exact or `prefix*`) expected to read Secrets (PLS-KA-010, PLS-KA-016).
    pub secret_readers: Vec<String>,
    /// Namespaces (exact or with `*`) that serve models (PLS-KA-017, PLS-KA-020).
    pub serving_namespaces: Vec<String>,
    /// PLS-KA-021: this many distinct Secrets read by one user ...
    pub secret_burst: usize,
    /// ... within this many seconds.
    pub secret_window_secs: i64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            secret_readers: vec![
                "system:kube-controller-manager".into(),
                "system:kube-scheduler".into(),
                "system:apiserver".into(),
                "system:serviceaccount:kube-system:*".into(),
                "system:node:*".into(),
            ],
            serving_namespaces: vec![
                "kserve*".into(),
                "*serving*".into(),
                "*inference*".into(),
                "llm*".into(),
                "vllm*".into(),
                "models".into(),
                "ml-serving".into(),
            ],
            secret_burst: 10,
            secret_window_secs: 60,
        }
    }
}

/// Matches `name` against `pattern`: exact, `*` anywhere (any run of characters).
pub fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// One event being checked, with its request body parsed on first use.
#[derive(Debug)]
pub struct EventCx<'e, 'a> {
    /// The event.
    pub ev: &'e Event<'a>,
    /// The configuration.
    pub config: &'e DetectConfig,
    req: OnceCell<Option<Value>>,
    resp: OnceCell<Option<Value>>,
}

impl<'e, 'a> EventCx<'e, 'a> {
    /// Wraps an event.
    pub fn new(ev: &'e Event<'a>, config: &'e DetectConfig) -> Self {
        EventCx {
            ev,
            config,
            req: OnceCell::new(),
            resp: OnceCell::new(),
        }
    }

    /// The parsed `requestObject`.
    pub fn request(&self) -> Option<&Value> {
        self.req.get_or_init(|| self.ev.request()).as_ref()
    }

    /// The parsed `responseObject`.
    pub fn response(&self) -> Option<&Value> {
        self.resp.get_or_init(|| self.ev.response()).as_ref()
    }

    /// The acting user, shown as `"alice"` or `"alice" as "bob"` when impersonating.
    pub fn who(&self) -> String {
        match &self.ev.impersonated_user {
            Some(i) if !i.username.is_empty() => {
                format!(
                    "{:?} (impersonating {:?})",
                    self.ev.user.username, i.username
                )
            }
            _ => format!("{:?}", self.ev.user.username),
        }
    }

    /// The user whose permissions applied (the impersonated one, if any).
    pub fn effective_user(&self) -> &str {
        match &self.ev.impersonated_user {
            Some(i) if !i.username.is_empty() => &i.username,
            _ => &self.ev.user.username,
        }
    }

    /// `namespace/name` of the object, or the name.
    pub fn object(&self) -> String {
        match (self.ev.namespace(), self.ev.name()) {
            ("", n) => n.to_owned(),
            (ns, n) => format!("{ns}/{n}"),
        }
    }

    /// Whether the user is one of the configured Secret readers.
    pub fn is_expected_secret_reader(&self) -> bool {
        let u = self.effective_user();
        self.config.secret_readers.iter().any(|p| glob(p, u))
    }

    /// Whether the namespace serves models.
    pub fn in_serving_namespace(&self) -> bool {
        let ns = self.ev.namespace();
        !ns.is_empty() && self.config.serving_namespaces.iter().any(|p| glob(p, ns))
    }

    /// The pod specs a create/update of this object would run: (JSON path, spec).
    pub fn pod_specs(&self) -> Vec<(String, &Value)> {
        let ev = self.ev;
        if !ev.subresource().is_empty() {
            return Vec::new();
        }
        let path: &[&str] = match ev.resource() {
            "pods" => &["spec"],
            "deployments"
            | "replicasets"
            | "statefulsets"
            | "daemonsets"
            | "jobs"
            | "replicationcontrollers" => &["spec", "template", "spec"],
            "cronjobs" => &["spec", "jobTemplate", "spec", "template", "spec"],
            _ => return Vec::new(),
        };
        let Some(mut v) = self.request() else {
            return Vec::new();
        };
        for k in path {
            match v.get(k) {
                Some(x) => v = x,
                None => return Vec::new(),
            }
        }
        vec![(format!("requestObject.{}", path.join(".")), v)]
    }
}

/// Whether a user name is a system identity (Falco's `non_system_user` negated).
pub fn is_system_user(u: &str) -> bool {
    u.starts_with("system:")
}

/// `(JSON path, container)` for containers, init and ephemeral containers of a pod spec.
pub fn containers<'v>(spec: &'v Value, base: &str) -> Vec<(String, &'v Value)> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        if let Some(cs) = spec.get(list).and_then(Value::as_array) {
            for (i, c) in cs.iter().enumerate() {
                out.push((format!("{base}.{list}[{i}]"), c));
            }
        }
    }
    out
}

/// The container's name, or "?".
pub fn name_of(c: &Value) -> &str {
    c.get("name").and_then(Value::as_str).unwrap_or("?")
}

/// State kept across events by the stateful rules, bounded.
#[derive(Debug, Default)]
pub struct State {
    /// PLS-KA-021: per user, recent (time, secret) reads.
    pub secret_reads: HashMap<String, VecDeque<(i64, String)>>,
    /// PLS-KA-021: per user, the end of the window already reported.
    pub secret_reported_until: HashMap<String, i64>,
    /// PLS-KA-018: last storageUri seen per InferenceService (`ns/name`).
    pub storage_uris: HashMap<String, String>,
    /// (rule, auditID) already reported, for rules that see several stages.
    pub seen: HashSet<(&'static str, String)>,
}

impl State {
    /// Caps the maps so a long-running `detect serve` stays bounded.
    fn trim(&mut self) {
        const MAX: usize = 100_000;
        if self.seen.len() > MAX {
            self.seen.clear();
        }
        if self.secret_reads.len() > MAX {
            self.secret_reads.clear();
            self.secret_reported_until.clear();
        }
        if self.storage_uris.len() > MAX {
            self.storage_uris.clear();
        }
    }

    /// Whether `(rule, auditID)` is new (and remembers it).
    pub fn first(&mut self, rule: &'static str, audit_id: &str) -> bool {
        if audit_id.is_empty() {
            return true;
        }
        self.seen.insert((rule, audit_id.to_owned()))
    }
}

/// The audit event a finding came from, for JSON and SIEM output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventInfo {
    /// `auditID`.
    #[serde(rename = "auditID")]
    pub audit_id: String,
    /// `stage`.
    pub stage: String,
    /// `verb`.
    pub verb: String,
    /// `requestURI`.
    #[serde(rename = "requestURI")]
    pub request_uri: String,
    /// `user.username`.
    pub user: String,
    /// `user.groups`.
    pub groups: Vec<String>,
    /// `impersonatedUser.username`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<String>,
    /// `sourceIPs`.
    #[serde(rename = "sourceIPs")]
    pub source_ips: Vec<String>,
    /// `userAgent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `responseStatus.code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_code: Option<i64>,
    /// `authorization.k8s.io/decision`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// `stageTimestamp` (or `timestamp` in v1beta1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// `objectRef`: resource, namespace, name, apiGroup, apiVersion, subresource.
    #[serde(rename = "objectRef", skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<serde_json::Map<String, Value>>,
}

impl EventInfo {
    /// From an event.
    pub fn of(ev: &Event<'_>) -> EventInfo {
        EventInfo {
            audit_id: ev.audit_id.to_string(),
            stage: ev.stage.to_string(),
            verb: ev.verb.to_string(),
            request_uri: ev.request_uri.to_string(),
            user: ev.user.username.to_string(),
            groups: ev.user.groups.iter().map(ToString::to_string).collect(),
            impersonated_user: ev
                .impersonated_user
                .as_ref()
                .map(|u| u.username.to_string()),
            source_ips: ev.source_ips.iter().map(ToString::to_string).collect(),
            user_agent: ev.user_agent.as_ref().map(ToString::to_string),
            response_code: ev.code(),
            decision: ev.decision().map(ToOwned::to_owned),
            time: ev
                .stage_timestamp
                .as_ref()
                .or(ev.timestamp.as_ref())
                .map(ToString::to_string),
            object_ref: ev.object_ref.as_ref().map(|o| {
                let mut m = serde_json::Map::new();
                m.insert("resource".into(), Value::String(o.resource.to_string()));
                for (k, v) in [
                    ("namespace", &o.namespace),
                    ("name", &o.name),
                    ("apiGroup", &o.api_group),
                    ("apiVersion", &o.api_version),
                    ("subresource", &o.subresource),
                ] {
                    if let Some(v) = v {
                        m.insert(k.into(), Value::String(v.to_string()));
                    }
                }
                m
            }),
        }
    }
}

/// A finding with the audit event it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    /// The finding in the shared schema.
    #[serde(flatten)]
    pub finding: Finding,
    /// The event.
    pub event: EventInfo,
}

/// The Kind for an audit `objectRef.resource`.
pub fn kind_of(resource: &str) -> Cow<'static, str> {
    Cow::Borrowed(match resource {
        "pods" => "Pod",
        "secrets" => "Secret",
        "configmaps" => "ConfigMap",
        "services" => "Service",
        "serviceaccounts" => "ServiceAccount",
        "roles" => "Role",
        "clusterroles" => "ClusterRole",
        "rolebindings" => "RoleBinding",
        "clusterrolebindings" => "ClusterRoleBinding",
        "deployments" => "Deployment",
        "replicasets" => "ReplicaSet",
        "statefulsets" => "StatefulSet",
        "daemonsets" => "DaemonSet",
        "jobs" => "Job",
        "cronjobs" => "CronJob",
        "ingresses" => "Ingress",
        "persistentvolumeclaims" => "PersistentVolumeClaim",
        "persistentvolumes" => "PersistentVolume",
        "namespaces" => "Namespace",
        "nodes" => "Node",
        "inferenceservices" => "InferenceService",
        "servingruntimes" => "ServingRuntime",
        "" => "",
        other => return Cow::Owned(other.to_owned()),
    })
}

/// The engine: all rules, the configuration and the state.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<&'static dyn Rule>,
    config: DetectConfig,
    state: State,
    hits: Vec<Hit>,
    /// Events seen.
    pub events: u64,
}

impl std::fmt::Debug for dyn Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.info().meta.id)
    }
}

impl Engine {
    /// An engine with every built-in rule.
    pub fn new(config: DetectConfig) -> Engine {
        Engine::with_rules(rules::all(), config)
    }

    /// An engine with the given rules.
    pub fn with_rules(rules: Vec<&'static dyn Rule>, config: DetectConfig) -> Engine {
        Engine {
            rules,
            config,
            state: State::default(),
            hits: Vec::new(),
            events: 0,
        }
    }

    /// The rules that run.
    pub fn rules(&self) -> &[&'static dyn Rule] {
        &self.rules
    }

    /// Checks one event; findings are pushed to `out`. `file` names the input.
    pub fn process(
        &mut self,
        file: &str,
        src: EventSource,
        ev: &Event<'_>,
        out: &mut Vec<AuditFinding>,
    ) {
        self.events += 1;
        if self.events.is_multiple_of(65_536) {
            self.state.trim();
        }
        let cx = EventCx::new(ev, &self.config);
        let mut info: Option<EventInfo> = None;
        for rule in &self.rules {
            rule.check(&cx, &mut self.state, &mut self.hits);
            if self.hits.is_empty() {
                continue;
            }
            let meta = &rule.info().meta;
            let api_version = match (
                ev.api_group(),
                ev.object_ref
                    .as_ref()
                    .and_then(|o| o.api_version.as_deref()),
            ) {
                ("", v) => v.unwrap_or("").to_owned(),
                (g, Some(v)) => format!("{g}/{v}"),
                (g, None) => g.to_owned(),
            };
            let resource = ResourceRef {
                api_version,
                kind: kind_of(ev.resource()).into_owned(),
                namespace: Some(ev.namespace())
                    .filter(|n| !n.is_empty())
                    .map(ToOwned::to_owned),
                name: ev.name().to_owned(),
            };
            let info = info.get_or_insert_with(|| EventInfo::of(ev));
            for hit in self.hits.drain(..) {
                let ip = if ev.source_ips.is_empty() {
                    "unknown address".to_owned()
                } else {
                    ev.source_ip().to_owned()
                };
                let message = format!(
                    "{}; by {} from {ip}, auditID {}",
                    hit.message,
                    cx.who(),
                    ev.audit_id
                );
                out.push(AuditFinding {
                    finding: Finding {
                        rule: Cow::Borrowed(meta.id),
                        title: Cow::Borrowed(meta.title),
                        severity: meta.severity,
                        category: Cow::Borrowed(meta.category),
                        fingerprint: fingerprint(meta.id, &resource, &hit.path, &ev.audit_id),
                        resource: resource.clone(),
                        location: Location {
                            file: file.to_owned(),
                            line: src.line,
                            column: 0,
                            path: hit.path,
                            rendered: None,
                        },
                        message,
                        remediation: Cow::Borrowed(meta.remediation),
                        references: (&meta.references).into(),
                    },
                    event: info.clone(),
                });
            }
        }
    }
}

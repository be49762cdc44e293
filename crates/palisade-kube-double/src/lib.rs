//! A local Kubernetes API server double for tests and benchmarks.
//!
//! It serves the real wire shapes of the Kubernetes API from objects it is
//! given, over plain HTTP on a loopback port:
//! - discovery: `/api` (`APIVersions`), `/api/v1` and `/apis/<group>/<version>`
//!   (`APIResourceList`), `/apis` (`APIGroupList` with preferred versions);
//! - lists (`<Kind>List` with `metadata.resourceVersion`), cluster-wide and per
//!   namespace, paginated with `limit` and an opaque `continue` token, with
//!   `remainingItemCount`, items in etcd key order (namespace, name); items
//!   of built-in kinds carry no `apiVersion`/`kind` (as the real server's
//!   typed lists), items of custom resources do;
//! - `get` of one object;
//! - `PartialObjectMetadataList` / `PartialObjectMetadata` when the client
//!   asks for `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`;
//! - `Status` objects for errors: 403 `Forbidden` for resources marked
//!   forbidden, 404 `NotFound`, 400 `BadRequest` for a bad `continue` token,
//!   405 `MethodNotAllowed` for verbs it does not serve;
//! - writes: `POST` (create, `generateName`, 409 `AlreadyExists`), `PUT`
//!   (replace; a stale `metadata.resourceVersion` gets 409 `Conflict`, as
//!   Leases need for leader election), `PATCH` with
//!   `application/json-patch+json`, `application/merge-patch+json` and
//!   `application/strategic-merge-patch+json` (see [`patch`]; 422 `Invalid`
//!   when a JSON Patch operation fails, 415 for server-side apply and for
//!   strategic patches of custom resources), `DELETE`;
//!   `metadata.generation` is bumped when `spec` changes;
//! - watches (`?watch=true`): newline-delimited `WatchEvent`s (`ADDED`,
//!   `MODIFIED`, `DELETED`) from `resourceVersion` on, every object as
//!   `ADDED` when it is empty or `0`, an `ERROR` event with a 410 `Expired`
//!   Status when the version is older than the history kept, ended after
//!   `timeoutSeconds`; metadata-only watches get `PartialObjectMetadata`;
//!   `fieldSelector=metadata.name=...` is honoured;
//!
//! Every request is recorded ([`Running::requests`]) so tests can assert what
//! a client asked for (for example that no full Secret was ever fetched).
//! Objects are kept in a shared store ([`Store`]) so later users (a secrets
//! controller) can add watch and patch handlers over the same data.
//!
//! Added objects get what the API server would add: `metadata.uid`,
//! `resourceVersion`, `creationTimestamp`, `managedFields`, the `default`
//! namespace for namespaced objects without one, and Secrets' `stringData`
//! merged into base64 `data`. Label selectors are not implemented.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::ops::Bound;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

pub mod patch;
mod write;

/// A resource type the double serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// API group (`""` for core).
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Plural resource name, e.g. `deployments`.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Whether it is a custom resource (list items carry apiVersion/kind).
    pub custom: bool,
}

impl Resource {
    fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
            custom: false,
        }
    }

    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// The built-in resources served by default.
pub fn builtin_resources() -> Vec<Resource> {
    let r = Resource::new;
    vec![
        r("", "v1", "Pod", "pods", true),
        r("", "v1", "Service", "services", true),
        r("", "v1", "ConfigMap", "configmaps", true),
        r("", "v1", "Secret", "secrets", true),
        r("", "v1", "ServiceAccount", "serviceaccounts", true),
        r("", "v1", "Namespace", "namespaces", false),
        r("", "v1", "Node", "nodes", false),
        r("", "v1", "Event", "events", true),
        r("events.k8s.io", "v1", "Event", "events", true),
        r("coordination.k8s.io", "v1", "Lease", "leases", true),
        r("", "v1", "LimitRange", "limitranges", true),
        r("", "v1", "ResourceQuota", "resourcequotas", true),
        r(
            "",
            "v1",
            "ReplicationController",
            "replicationcontrollers",
            true,
        ),
        r(
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
        ),
        r("", "v1", "PersistentVolume", "persistentvolumes", false),
        r("apps", "v1", "Deployment", "deployments", true),
        r("apps", "v1", "StatefulSet", "statefulsets", true),
        r("apps", "v1", "DaemonSet", "daemonsets", true),
        r("apps", "v1", "ReplicaSet", "replicasets", true),
        r("batch", "v1", "Job", "jobs", true),
        r("batch", "v1", "CronJob", "cronjobs", true),
        r("networking.k8s.io", "v1", "Ingress", "ingresses", true),
        r(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
        ),
        r(
            "networking.k8s.io",
            "v1",
            "IngressClass",
            "ingressclasses",
            false,
        ),
        r("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
            true,
        ),
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
        ),
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
        ),
        r(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
        ),
        r(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
        ),
        r(
            "autoscaling",
            "v1",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
        ),
        r(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingAdmissionPolicy",
            "validatingadmissionpolicies",
            false,
        ),
    ]
}

/// Custom resources the double registers on its own when an object of the
/// kind is added (their CRDs are "installed" by adding an object).
pub fn known_custom_resources() -> Vec<Resource> {
    let r = |g: &str, v: &str, k: &str, p: &str, ns: bool| Resource {
        custom: true,
        ..Resource::new(g, v, k, p, ns)
    };
    let mut out = vec![
        r(
            "serving.kserve.io",
            "v1beta1",
            "InferenceService",
            "inferenceservices",
            true,
        ),
        r(
            "serving.kserve.io",
            "v1alpha1",
            "ServingRuntime",
            "servingruntimes",
            true,
        ),
        r(
            "serving.kserve.io",
            "v1alpha1",
            "ClusterServingRuntime",
            "clusterservingruntimes",
            false,
        ),
        r(
            "serving.kserve.io",
            "v1alpha1",
            "InferenceGraph",
            "inferencegraphs",
            true,
        ),
        r(
            "machinelearning.seldon.io",
            "v1",
            "SeldonDeployment",
            "seldondeployments",
            true,
        ),
        r("mlops.seldon.io", "v1alpha1", "Model", "models", true),
        r("mlops.seldon.io", "v1alpha1", "Server", "servers", true),
        r("ray.io", "v1", "RayCluster", "rayclusters", true),
        r("ray.io", "v1", "RayService", "rayservices", true),
        r("ray.io", "v1", "RayJob", "rayjobs", true),
        r(
            "gateway.networking.k8s.io",
            "v1",
            "Gateway",
            "gateways",
            true,
        ),
        r(
            "gateway.networking.k8s.io",
            "v1",
            "HTTPRoute",
            "httproutes",
            true,
        ),
        r(
            "gateway.networking.k8s.io",
            "v1",
            "GRPCRoute",
            "grpcroutes",
            true,
        ),
        r("argoproj.io", "v1alpha1", "Rollout", "rollouts", true),
        r("serving.knative.dev", "v1", "Service", "services", true),
        r(
            "leaderworkerset.x-k8s.io",
            "v1",
            "LeaderWorkerSet",
            "leaderworkersets",
            true,
        ),
        r("kubeflow.org", "v1", "Notebook", "notebooks", true),
        r("kubeflow.org", "v1", "PyTorchJob", "pytorchjobs", true),
        r("kubeflow.org", "v1", "TFJob", "tfjobs", true),
        r(
            "cilium.io",
            "v2",
            "CiliumNetworkPolicy",
            "ciliumnetworkpolicies",
            true,
        ),
        r(
            "cilium.io",
            "v2",
            "CiliumClusterwideNetworkPolicy",
            "ciliumclusterwidenetworkpolicies",
            false,
        ),
    ];
    for group in ["traefik.io", "traefik.containo.us"] {
        for (k, p) in [
            ("IngressRoute", "ingressroutes"),
            ("IngressRouteTCP", "ingressroutetcps"),
            ("Middleware", "middlewares"),
            ("ServersTransport", "serverstransports"),
            ("TLSOption", "tlsoptions"),
        ] {
            out.push(r(group, "v1alpha1", k, p, true));
        }
    }
    out
}

/// Why an object could not be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// The object has no apiVersion, kind or metadata.name.
    #[error("object has no {0}")]
    Missing(&'static str),
    /// No resource is registered for the apiVersion and kind.
    #[error("no resource serves {api_version} {kind} (register it with Double::resource)")]
    UnknownKind {
        /// apiVersion.
        api_version: String,
        /// kind.
        kind: String,
    },
}

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Query string (empty when none).
    pub query: String,
    /// The `Accept` header (empty when none).
    pub accept: String,
    /// Status code answered.
    pub status: u16,
    /// `Content-Type` of the request (empty when none).
    pub content_type: String,
}

/// One change, as a watch reports it.
#[derive(Debug, Clone)]
struct Change {
    rv: u64,
    key: Key,
    namespace: String,
    name: String,
    kind: &'static str,
    object: Value,
}

/// Changes kept for watches; older resource versions get 410 Expired.
const HISTORY: usize = 50_000;

type Key = (String, String); // (group, plural)

/// The objects served, by resource, in etcd key order.
#[derive(Debug, Default)]
pub struct Store {
    resources: Vec<Resource>,
    objects: BTreeMap<Key, BTreeMap<(String, String), Value>>,
    forbidden: BTreeSet<Key>,
    resource_version: u64,
    known: Vec<Resource>,
    history: std::collections::VecDeque<Change>,
    /// Writes that answer 409 Conflict once, whatever their resourceVersion
    /// (to test a client's retry): (group, plural, name).
    conflicts: Vec<(String, String, String)>,
}

impl Store {
    /// The current resource version of the store.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// The preferred (first registered) resource for a group and plural.
    fn resource(&self, group: &str, version: &str, plural: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// An object, if stored.
    pub fn get(&self, group: &str, plural: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&(group.to_owned(), plural.to_owned()))?
            .get(&(namespace.to_owned(), name.to_owned()))
    }

    /// Every object of a resource, in etcd key order.
    pub fn list(&self, group: &str, plural: &str) -> Vec<&Value> {
        self.objects
            .get(&(group.to_owned(), plural.to_owned()))
            .map(|m| m.values().collect())
            .unwrap_or_default()
    }

    /// Makes the next write of `group`/`plural` `name` answer 409 Conflict.
    pub fn conflict_once(&mut self, group: &str, plural: &str, name: &str) {
        self.conflicts
            .push((group.to_owned(), plural.to_owned(), name.to_owned()));
    }

    fn record(
        &mut self,
        res: &Resource,
        namespace: &str,
        name: &str,
        kind: &'static str,
        object: &Value,
    ) {
        self.history.push_back(Change {
            rv: self.resource_version,
            key: (res.group.clone(), res.plural.clone()),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            kind,
            object: object.clone(),
        });
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
    }

    /// Creates or replaces an object as a client write would (new
    /// resourceVersion, a watch event); the object keeps its uid and
    /// creationTimestamp when it existed.
    pub fn upsert(&mut self, obj: Value) -> Result<(), AddError> {
        self.store_object(obj, None)
    }

    /// Deletes an object (a `DELETED` watch event). Whether it existed.
    pub fn delete(&mut self, group: &str, plural: &str, namespace: &str, name: &str) -> bool {
        let Some(res) = self
            .resources
            .iter()
            .find(|r| r.group == group && r.plural == plural)
            .cloned()
        else {
            return false;
        };
        let removed = self
            .objects
            .get_mut(&(group.to_owned(), plural.to_owned()))
            .and_then(|m| m.remove(&(namespace.to_owned(), name.to_owned())));
        match removed {
            Some(mut o) => {
                self.resource_version += 1;
                if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.insert(
                        "resourceVersion".into(),
                        Value::String(self.resource_version.to_string()),
                    );
                }
                self.record(&res, namespace, name, "DELETED", &o);
                true
            }
            None => false,
        }
    }

    fn find_resource(&self, api_version: &str, kind: &str) -> Option<Resource> {
        let (group, version) = api_version
            .split_once('/')
            .map_or(("", api_version), |(g, v)| (g, v));
        let find = |rs: &[Resource]| {
            rs.iter()
                .find(|r| r.group == group && r.version == version && r.kind == kind)
                .cloned()
        };
        find(&self.resources).or_else(|| find(&self.known))
    }

    /// Stores `obj`; `created_at` is the creationTimestamp of a new object
    /// (None: the fixed time of [`Double::add`]).
    fn store_object(&mut self, mut obj: Value, created_at: Option<String>) -> Result<(), AddError> {
        let api_version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .ok_or(AddError::Missing("apiVersion"))?
            .to_owned();
        let kind = obj
            .get("kind")
            .and_then(Value::as_str)
            .ok_or(AddError::Missing("kind"))?
            .to_owned();
        let res = self
            .find_resource(&api_version, &kind)
            .ok_or_else(|| AddError::UnknownKind {
                api_version: api_version.clone(),
                kind: kind.clone(),
            })?;
        if !self.resources.contains(&res) {
            self.resources.push(res.clone());
        }
        let meta = obj
            .as_object_mut()
            .ok_or(AddError::Missing("metadata"))?
            .entry("metadata")
            .or_insert_with(|| json!({}));
        let meta = meta.as_object_mut().ok_or(AddError::Missing("metadata"))?;
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .ok_or(AddError::Missing("metadata.name"))?
            .to_owned();
        let namespace = if res.namespaced {
            let ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("default")
                .to_owned();
            meta.insert("namespace".into(), Value::String(ns.clone()));
            ns
        } else {
            meta.remove("namespace");
            String::new()
        };
        let key = (res.group.clone(), res.plural.clone());
        let existing = self
            .objects
            .get(&key)
            .and_then(|m| m.get(&(namespace.clone(), name.clone())))
            .cloned();
        self.resource_version += 1;
        let rv = self.resource_version;
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        let event = if let Some(old) = &existing {
            for k in ["uid", "creationTimestamp"] {
                if let Some(v) = old.pointer(&format!("/metadata/{k}")) {
                    meta.insert(k.into(), v.clone());
                }
            }
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let bumped = old.get("spec") != obj.get("spec");
            if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert(
                    "generation".into(),
                    Value::from(if bumped { generation + 1 } else { generation }),
                );
            }
            "MODIFIED"
        } else {
            let at = created_at.unwrap_or_else(|| "2026-01-05T09:30:00Z".to_owned());
            meta.insert("uid".into(), Value::String(uid(rv)));
            meta.insert("creationTimestamp".into(), Value::String(at.clone()));
            meta.insert(
                "managedFields".into(),
                json!([{
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "apiVersion": api_version,
                    "time": at,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:annotations": {".": {}}}}
                }]),
            );
            if obj.get("spec").is_some()
                && let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut)
            {
                m.insert("generation".into(), Value::from(1));
            }
            "ADDED"
        };
        if res.group.is_empty() && res.kind == "Secret" {
            merge_string_data(&mut obj);
        }
        self.record(&res, &namespace, &name, event, &obj);
        self.objects
            .entry(key)
            .or_default()
            .insert((namespace, name), obj);
        Ok(())
    }
}

/// Builds and starts a double.
#[derive(Debug)]
pub struct Double {
    store: Store,
}

impl Default for Double {
    fn default() -> Self {
        Self::new()
    }
}

impl Double {
    /// A double serving the built-in resources and no objects.
    pub fn new() -> Self {
        Self {
            store: Store {
                resources: builtin_resources(),
                known: known_custom_resources(),
                ..Store::default()
            },
        }
    }

    /// Serves another resource type (a CRD).
    #[must_use]
    pub fn resource(mut self, r: Resource) -> Self {
        if !self.store.resources.contains(&r) {
            self.store.resources.push(r);
        }
        self
    }

    /// Answers 403 Forbidden to every request for `plural` in `group`.
    #[must_use]
    pub fn forbid(mut self, group: &str, plural: &str) -> Self {
        self.store.forbidden.insert((group.into(), plural.into()));
        self
    }

    /// Adds an object, as `kubectl apply` would have created it.
    pub fn add(&mut self, obj: Value) -> Result<(), AddError> {
        self.store.store_object(obj, None)
    }

    /// Starts serving on `127.0.0.1` on a free port, in a background thread
    /// with its own tokio runtime (so synchronous tests and other processes
    /// can use it). Stops when the [`Running`] is dropped.
    pub fn start(self) -> std::io::Result<Running> {
        let state = Arc::new(Shared {
            store: RwLock::new(self.store),
            log: Mutex::new(Vec::new()),
            changed: tokio::sync::Notify::new(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = app(state.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Ok(Running {
            addr,
            state,
            stop: Some(tx),
            thread: Some(thread),
        })
    }
}

fn uid(n: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        n >> 32,
        (n >> 16) & 0xffff,
        n & 0xfff,
        (n >> 12) & 0xfff,
        n
    )
}

/// `stringData` is write-only: the API server merges it into `data`, base64-encoded.
fn merge_string_data(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let Some(Value::Object(sd)) = map.remove("stringData") else {
        return;
    };
    let data = map.entry("data").or_insert_with(|| json!({}));
    if let Some(data) = data.as_object_mut() {
        for (k, v) in sd {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            data.insert(
                k,
                Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
            );
        }
    }
}

#[derive(Debug)]
struct Shared {
    store: RwLock<Store>,
    log: Mutex<Vec<RecordedRequest>>,
    changed: tokio::sync::Notify,
}

/// A running double.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    state: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `f` with the store (to inspect or change what is served).
    /// Watches see the changes made here.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let out = f(&mut self
            .state
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner));
        self.state.changed.notify_waiters();
        out
    }

    /// A kubeconfig (YAML) whose current context `context` points at the
    /// double over plain HTTP with a bearer token.
    pub fn kubeconfig(&self, context: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster:\n    server: {url}\ncontexts:\n- name: {context}\n  context:\n    cluster: double\n    user: tester\n    namespace: default\ncurrent-context: {context}\nusers:\n- name: tester\n  user:\n    token: double-token\n",
            url = self.url()
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The router: one handler that parses Kubernetes API paths.
fn app(state: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// What a route answers: a body, or a watch to stream.
enum Reply {
    Body(StatusCode, Vec<u8>),
    Watch(WatchSpec),
}

impl From<(StatusCode, Vec<u8>)> for Reply {
    fn from((s, b): (StatusCode, Vec<u8>)) -> Self {
        Reply::Body(s, b)
    }
}

async fn handle(State(state): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let text = |h: header::HeaderName| {
        parts
            .headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let accept = text(header::ACCEPT);
    let content_type = text(header::CONTENT_TYPE);
    let reply = match axum::body::to_bytes(body, 32 << 20).await {
        Ok(body) => route(&state, &method, &path, &query, &parts.headers, &body),
        Err(_) => Reply::Body(
            StatusCode::PAYLOAD_TOO_LARGE,
            status_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "the request body is too large",
                None,
            ),
        ),
    };
    let status = match &reply {
        Reply::Body(s, _) => *s,
        Reply::Watch(_) => StatusCode::OK,
    };
    state
        .log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(RecordedRequest {
            method: method.to_string(),
            path,
            query,
            accept,
            status: status.as_u16(),
            content_type,
        });
    match reply {
        Reply::Body(status, body) => (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            Body::from(body),
        )
            .into_response(),
        Reply::Watch(spec) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(watch_stream(state, spec)),
        )
            .into_response(),
    }
}

/// A watch request.
#[derive(Debug, Clone)]
struct WatchSpec {
    key: Key,
    kind: String,
    api_version: String,
    namespace: Option<String>,
    name: Option<String>,
    metadata_only: bool,
    /// Resource version to start after (None: send every object as ADDED).
    from: Option<u64>,
    deadline: tokio::time::Instant,
}

fn event_line(spec: &WatchSpec, kind: &str, object: &Value) -> Vec<u8> {
    let mut o = if spec.metadata_only {
        partial(object)
    } else {
        object.clone()
    };
    if !spec.metadata_only
        && let Some(m) = o.as_object_mut()
    {
        m.insert("apiVersion".into(), Value::String(spec.api_version.clone()));
        m.insert("kind".into(), Value::String(spec.kind.clone()));
    }
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": o})).unwrap_or_default();
    line.push(b'\n');
    line
}

fn watch_stream(
    state: Arc<Shared>,
    spec: WatchSpec,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::convert::Infallible>> {
    use std::collections::VecDeque;
    let mut pending: VecDeque<Vec<u8>> = VecDeque::new();
    let last;
    {
        let store = state.store.read().unwrap_or_else(PoisonError::into_inner);
        let in_scope = |ns: &str, name: &str| {
            spec.namespace.as_deref().is_none_or(|n| n == ns)
                && spec.name.as_deref().is_none_or(|n| n == name)
        };
        match spec.from {
            None => {
                if let Some(objs) = store.objects.get(&spec.key) {
                    for ((ns, name), o) in objs {
                        if in_scope(ns, name) {
                            pending.push_back(event_line(&spec, "ADDED", o));
                        }
                    }
                }
                last = store.resource_version;
            }
            Some(rv) => {
                let oldest = store
                    .history
                    .front()
                    .map_or(store.resource_version, |c| c.rv);
                if rv + 1 < oldest && rv < store.resource_version {
                    let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "message": format!("too old resource version: {rv} ({oldest})"),
                        "reason": "Expired", "code": 410});
                    let mut line = serde_json::to_vec(&json!({"type": "ERROR", "object": status}))
                        .unwrap_or_default();
                    line.push(b'\n');
                    pending.push_back(line);
                    last = u64::MAX;
                } else {
                    last = rv;
                }
            }
        }
    }
    futures::stream::unfold(
        (state, spec, pending, last),
        |(state, spec, mut pending, mut last)| async move {
            loop {
                if let Some(line) = pending.pop_front() {
                    return Some((Ok(line), (state, spec, pending, last)));
                }
                if last == u64::MAX || tokio::time::Instant::now() >= spec.deadline {
                    return None;
                }
                let notified = state.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let store = state.store.read().unwrap_or_else(PoisonError::into_inner);
                    let since = last;
                    for c in store.history.iter().filter(|c| c.rv > since) {
                        if c.key == spec.key
                            && spec.namespace.as_deref().is_none_or(|n| n == c.namespace)
                            && spec.name.as_deref().is_none_or(|n| n == c.name)
                        {
                            pending.push_back(event_line(&spec, c.kind, &c.object));
                        }
                    }
                    last = last.max(store.resource_version);
                }
                if pending.is_empty() {
                    tokio::select! {
                        () = &mut notified => {}
                        () = tokio::time::sleep_until(spec.deadline) => {}
                    }
                }
            }
        },
    )
}

fn status_body(code: StatusCode, reason: &str, message: &str, details: Option<Value>) -> Vec<u8> {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    if let (Some(d), Some(m)) = (details, s.as_object_mut()) {
        m.insert("details".into(), d);
    }
    serde_json::to_vec(&s).unwrap_or_default()
}

fn not_found(path: &str) -> (StatusCode, Vec<u8>) {
    (
        StatusCode::NOT_FOUND,
        status_body(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("the server could not find the requested resource ({path})"),
            Some(json!({})),
        ),
    )
}

fn to_vec(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource_list(store: &Store, group: &str, version: &str) -> Option<Value> {
    let rs: Vec<Value> = store
        .resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(|r| {
            json!({
                "name": r.plural,
                "singularName": r.kind.to_lowercase(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": VERBS,
            })
        })
        .collect();
    if rs.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": rs,
    }))
}

fn group_list(store: &Store) -> Value {
    // Groups in registration order; versions in registration order, the
    // first being preferred.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for r in store.resources.iter().filter(|r| !r.group.is_empty()) {
        match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, vs)) => {
                if !vs.contains(&r.version) {
                    vs.push(r.version.clone());
                }
            }
            None => groups.push((r.group.clone(), vec![r.version.clone()])),
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(g, vs)| {
            let gv = |v: &String| json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({
                "name": g,
                "versions": vs.iter().map(gv).collect::<Vec<_>>(),
                "preferredVersion": gv(&vs[0]),
            })
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn route(
    state: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    if method != Method::GET {
        let (code, mut out) = write::write(state, method, path, query, headers, body);
        state.changed.notify_waiters();
        // Like the real server, writes answer metadata only when asked.
        let metadata_only = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("as=PartialObjectMetadata"));
        if metadata_only
            && code.is_success()
            && let Ok(v) = serde_json::from_slice::<Value>(&out)
        {
            out = to_vec(&partial(&v));
        }
        return Reply::Body(code, out);
    }
    let store = state.store.read().unwrap_or_else(PoisonError::into_inner);
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["api"] => {
            return (
                StatusCode::OK,
                to_vec(&json!({
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
                })),
            )
                .into();
        }
        ["apis"] => return (StatusCode::OK, to_vec(&group_list(&store))).into(),
        ["api", v] | ["apis", "", v] => match resource_list(&store, "", v) {
            Some(l) => return (StatusCode::OK, to_vec(&l)).into(),
            None => return not_found(path).into(),
        },
        ["apis", g, v] => match resource_list(&store, g, v) {
            Some(l) => return (StatusCode::OK, to_vec(&l)).into(),
            None => return not_found(path).into(),
        },
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return not_found(path).into(),
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural, tail @ ..] => (Some(*ns), *plural, tail.first().copied()),
        [plural, tail @ ..] => (None, *plural, tail.first().copied()),
        [] => return not_found(path).into(),
    };
    let Some(res) = store.resource(group, version, plural) else {
        return not_found(path).into();
    };
    let key = (group.to_owned(), plural.to_owned());
    let verb = if name.is_some() { "get" } else { "list" };
    if store.forbidden.contains(&key) {
        let scope = namespace.map_or_else(
            || "at the cluster scope".to_owned(),
            |ns| format!("in the namespace \"{ns}\""),
        );
        return (
            StatusCode::FORBIDDEN,
            status_body(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!(
                    "{plural}{dot}{group} is forbidden: User \"system:serviceaccount:palisade:scanner\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}",
                    dot = if group.is_empty() { "" } else { "." },
                ),
                Some(json!({"group": group, "kind": plural})),
            ),
        )
            .into();
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let metadata_only = accept.contains("as=PartialObjectMetadata");
    if matches!(query_param(query, "watch"), Some("true" | "1")) {
        let timeout = query_param(query, "timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(300)
            .min(1800);
        let field_name = query_param(query, "fieldSelector")
            .map(percent_decode)
            .and_then(|f| f.strip_prefix("metadata.name=").map(str::to_owned));
        let from = query_param(query, "resourceVersion")
            .filter(|v| !v.is_empty() && *v != "0")
            .map(|v| v.parse::<u64>().unwrap_or(0));
        return Reply::Watch(WatchSpec {
            key,
            kind: res.kind.clone(),
            api_version: res.api_version(),
            namespace: namespace.map(str::to_owned),
            name: name.map(str::to_owned).or(field_name),
            metadata_only,
            from,
            deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(timeout),
        });
    }
    let empty = BTreeMap::new();
    let objects = store.objects.get(&key).unwrap_or(&empty);
    if let Some(name) = name {
        let ns = namespace.unwrap_or("");
        return match objects.get(&(ns.to_owned(), name.to_owned())) {
            Some(o) if metadata_only => (StatusCode::OK, to_vec(&partial(o))).into(),
            Some(o) => (StatusCode::OK, to_vec(&with_type_meta(o, res))).into(),
            None => (
                StatusCode::NOT_FOUND,
                status_body(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!(
                        "{plural}{dot}{group} \"{name}\" not found",
                        dot = if group.is_empty() { "" } else { "." }
                    ),
                    Some(json!({"name": name, "group": group, "kind": plural})),
                ),
            )
                .into(),
        };
    }
    list(&store, res, objects, namespace, query, metadata_only).into()
}

fn partial(o: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn query_param<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len() + 1
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The real server's continue token: base64 of
/// `{"v":"meta.k8s.io/v1","rv":<rv>,"start":"<last key>\u0000"}`.
fn encode_continue(rv: u64, last: &(String, String)) -> String {
    let token =
        json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{}/{}\u{0}", last.0, last.1)});
    base64::engine::general_purpose::URL_SAFE.encode(token.to_string())
}

fn decode_continue(token: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(token))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    if v.get("v")?.as_str()? != "meta.k8s.io/v1" {
        return None;
    }
    let start = v.get("start")?.as_str()?.strip_suffix('\u{0}')?;
    let (ns, name) = start.split_once('/')?;
    Some((ns.to_owned(), name.to_owned()))
}

fn list(
    store: &Store,
    res: &Resource,
    objects: &BTreeMap<(String, String), Value>,
    namespace: Option<&str>,
    query: &str,
    metadata_only: bool,
) -> (StatusCode, Vec<u8>) {
    let limit = query_param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let start = match query_param(query, "continue")
        .map(percent_decode)
        .filter(|c| !c.is_empty())
    {
        Some(c) => match decode_continue(&c) {
            Some(k) => Some(k),
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    status_body(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        "continue key is not valid: illegal base64 data",
                        None,
                    ),
                );
            }
        },
        None => None,
    };
    // Keys are (namespace, name): seek to the page's first key instead of
    // scanning from the start (50,000 objects take hundreds of pages).
    let lower = match (&start, namespace) {
        (Some(k), Some(ns)) if k.0.as_str() < ns => Bound::Included((ns.to_owned(), String::new())),
        (Some(k), _) => Bound::Excluded(k.clone()),
        (None, Some(ns)) => Bound::Included((ns.to_owned(), String::new())),
        (None, None) => Bound::Unbounded,
    };
    let in_scope = |(k, _): &(&(String, String), &Value)| namespace.is_none_or(|ns| k.0 == ns);
    let mut selected = objects
        .range((lower, Bound::Unbounded))
        .take_while(in_scope);
    let mut items: Vec<&Value> = Vec::new();
    let mut last: Option<&(String, String)> = None;
    for (k, o) in selected.by_ref() {
        if limit.is_some_and(|l| items.len() >= l) {
            break;
        }
        items.push(o);
        last = Some(k);
    }
    // Anything left after the page?
    let remaining = if limit.is_some_and(|l| items.len() >= l) {
        let l = last.cloned();
        objects
            .range((
                l.map_or(Bound::Unbounded, Bound::Excluded),
                Bound::Unbounded,
            ))
            .take_while(in_scope)
            .count()
    } else {
        0
    };
    let rv = store.resource_version;
    let mut meta = Map::new();
    meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
    if limit.is_some()
        && remaining > 0
        && let Some(l) = last
    {
        meta.insert("continue".into(), Value::String(encode_continue(rv, l)));
        meta.insert("remainingItemCount".into(), Value::from(remaining));
    }
    let mut head = Map::new();
    if metadata_only {
        head.insert("kind".into(), "PartialObjectMetadataList".into());
        head.insert("apiVersion".into(), "meta.k8s.io/v1".into());
    } else {
        head.insert("kind".into(), format!("{}List", res.kind).into());
        head.insert("apiVersion".into(), res.api_version().into());
    }
    head.insert("metadata".into(), Value::Object(meta));
    let items = ListItems {
        items,
        shape: if metadata_only {
            ItemShape::Partial
        } else if res.custom {
            ItemShape::AsStored
        } else {
            ItemShape::WithoutTypeMeta
        },
    };
    // Serialised from the stored objects in place: no copy of a page.
    let mut out = Vec::with_capacity(items.items.len() * 1024);
    let body = ListBody { head: &head, items };
    if serde_json::to_writer(&mut out, &body).is_err() {
        out.clear();
    }
    (StatusCode::OK, out)
}

/// How a list item is written.
#[derive(Clone, Copy)]
enum ItemShape {
    /// `PartialObjectMetadata` (kind, apiVersion, metadata).
    Partial,
    /// As stored, with apiVersion and kind (custom resources).
    AsStored,
    /// Without apiVersion and kind, as the server writes typed lists.
    WithoutTypeMeta,
}

struct ListItems<'a> {
    items: Vec<&'a Value>,
    shape: ItemShape,
}

struct ListBody<'a> {
    head: &'a Map<String, Value>,
    items: ListItems<'a>,
}

impl serde::Serialize for ListBody<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut m = s.serialize_map(Some(self.head.len() + 1))?;
        for (k, v) in self.head {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("items", &self.items)?;
        m.end()
    }
}

impl serde::Serialize for ListItems<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap as _, SerializeSeq as _};
        struct Item<'a>(&'a Value, ItemShape);
        impl serde::Serialize for Item<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let Value::Object(o) = self.0 else {
                    return self.0.serialize(s);
                };
                match self.1 {
                    ItemShape::AsStored => self.0.serialize(s),
                    ItemShape::WithoutTypeMeta => {
                        let mut m = s.serialize_map(None)?;
                        for (k, v) in o {
                            if k != "apiVersion" && k != "kind" {
                                m.serialize_entry(k, v)?;
                            }
                        }
                        m.end()
                    }
                    ItemShape::Partial => {
                        let mut m = s.serialize_map(Some(3))?;
                        m.serialize_entry("kind", "PartialObjectMetadata")?;
                        m.serialize_entry("apiVersion", "meta.k8s.io/v1")?;
                        match o.get("metadata") {
                            Some(md) => m.serialize_entry("metadata", md)?,
                            None => m.serialize_entry("metadata", &Map::new())?,
                        }
                        m.end()
                    }
                }
            }
        }
        let mut seq = s.serialize_seq(Some(self.items.len()))?;
        for o in &self.items {
            seq.serialize_element(&Item(o, self.shape))?;
        }
        seq.end()
    }
}

/// A single object as the server returns it: with apiVersion and kind.
fn with_type_meta(o: &Value, res: &Resource) -> Value {
    let mut o = o.clone();
    if let Some(m) = o.as_object_mut() {
        m.insert("apiVersion".into(), Value::String(res.api_version()));
        m.insert("kind".into(), Value::String(res.kind.clone()));
    }
    o
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn get(url: &str, accept: &str) -> (u16, Value) {
        // A minimal HTTP/1.1 client, to keep the crate free of client deps.
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let mut s = std::net::TcpStream::connect(host).unwrap();
        write!(
            s,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let code: u16 = text[9..12].parse().unwrap();
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        (code, serde_json::from_str(body).unwrap())
    }

    fn double() -> Running {
        let mut d = Double::new().forbid("rbac.authorization.k8s.io", "clusterroles");
        for i in 0..5 {
            d.add(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": format!("d{i}"), "namespace": if i % 2 == 0 {"a"} else {"b"}},
                "spec": {"replicas": i}}))
                .unwrap();
        }
        d.add(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "a"}, "stringData": {"token": "hunter2"}}))
            .unwrap();
        d.add(json!({"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "r"}}))
            .unwrap();
        d.start().unwrap()
    }

    #[test]
    fn discovery_lists_groups_and_resources() {
        let d = double();
        let (code, group_list) = get(&format!("{}/apis", d.url()), "application/json");
        assert_eq!(code, 200);
        let names: Vec<&str> = group_list["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"apps") && names.contains(&"ray.io"),
            "{names:?}"
        );
        let autoscaling = group_list["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "autoscaling")
            .unwrap();
        assert_eq!(autoscaling["preferredVersion"]["version"], "v2");
        let (_, core_v1) = get(&format!("{}/api/v1", d.url()), "");
        assert_eq!(core_v1["kind"], "APIResourceList");
        assert!(
            core_v1["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "secrets" && r["namespaced"] == true)
        );
    }

    #[test]
    fn lists_paginate_with_continue_and_strip_type_meta() {
        let d = double();
        let (_, page1) = get(&format!("{}/apis/apps/v1/deployments?limit=2", d.url()), "");
        assert_eq!(page1["kind"], "DeploymentList");
        assert_eq!(page1["items"].as_array().unwrap().len(), 2);
        assert!(page1["items"][0].get("kind").is_none());
        assert_eq!(page1["metadata"]["remainingItemCount"], 3);
        let mut names = Vec::new();
        let mut page = page1;
        loop {
            for i in page["items"].as_array().unwrap() {
                names.push(i["metadata"]["name"].as_str().unwrap().to_owned());
            }
            let Some(c) = page["metadata"]["continue"].as_str() else {
                break;
            };
            page = get(
                &format!("{}/apis/apps/v1/deployments?limit=2&continue={c}", d.url()),
                "",
            )
            .1;
        }
        assert_eq!(names, ["d0", "d2", "d4", "d1", "d3"]);
        let (_, ns_b) = get(
            &format!("{}/apis/apps/v1/namespaces/b/deployments", d.url()),
            "",
        );
        assert_eq!(ns_b["items"].as_array().unwrap().len(), 2);
        assert!(ns_b["metadata"].get("continue").is_none());
        let (code, bad) = get(
            &format!(
                "{}/apis/apps/v1/deployments?limit=2&continue=garbage",
                d.url()
            ),
            "",
        );
        assert_eq!((code, bad["reason"].as_str()), (400, Some("BadRequest")));
        let (_, crs) = get(&format!("{}/apis/ray.io/v1/rayclusters", d.url()), "");
        assert_eq!(crs["items"][0]["kind"], "RayCluster");
        assert_eq!(crs["items"][0]["metadata"]["namespace"], "default");
    }

    #[test]
    fn forbidden_kinds_get_a_403_status() {
        let d = double();
        let (code, s) = get(
            &format!("{}/apis/rbac.authorization.k8s.io/v1/clusterroles", d.url()),
            "",
        );
        assert_eq!(code, 403);
        assert_eq!(s["kind"], "Status");
        assert_eq!(s["reason"], "Forbidden");
        assert!(
            s["message"]
                .as_str()
                .unwrap()
                .contains("at the cluster scope")
        );
    }

    #[test]
    fn secrets_metadata_only_and_requests_recorded() {
        let d = double();
        let (_, l) = get(
            &format!("{}/api/v1/secrets", d.url()),
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        );
        assert_eq!(l["kind"], "PartialObjectMetadataList");
        assert_eq!(l["items"][0]["kind"], "PartialObjectMetadata");
        assert!(!l.to_string().contains("aHVudGVyMg"), "{l}");
        let (_, full) = get(&format!("{}/api/v1/namespaces/a/secrets/s", d.url()), "");
        assert_eq!(full["data"]["token"], "aHVudGVyMg==");
        let log = d.requests();
        assert_eq!(log.len(), 2);
        assert!(log[0].accept.contains("PartialObjectMetadataList"));
        assert_eq!(log[1].path, "/api/v1/namespaces/a/secrets/s");
    }
}

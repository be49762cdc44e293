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
//!   405 `MethodNotAllowed` for verbs it does not serve yet.
//!
//! Every request is recorded ([`Running::requests`]) so tests can assert what
//! a client asked for (for example that no full Secret was ever fetched).
//! Objects are kept in a shared store ([`Store`]) so later users (a secrets
//! controller) can add watch and patch handlers over the same data.
//!
//! Added objects get what the API server would add: `metadata.uid`,
//! `resourceVersion`, `creationTimestamp`, `managedFields`, the `default`
//! namespace for namespaced objects without one, and Secrets' `stringData`
//! merged into base64 `data`. Field and label selectors are not implemented.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

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
}

type Key = (String, String); // (group, plural)

/// The objects served, by resource, in etcd key order.
#[derive(Debug, Default)]
pub struct Store {
    resources: Vec<Resource>,
    objects: BTreeMap<Key, BTreeMap<(String, String), Value>>,
    forbidden: BTreeSet<Key>,
    resource_version: u64,
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
}

/// Builds and starts a double.
#[derive(Debug)]
pub struct Double {
    store: Store,
    known: Vec<Resource>,
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
                ..Store::default()
            },
            known: known_custom_resources(),
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
    pub fn add(&mut self, mut obj: Value) -> Result<(), AddError> {
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
        let (group, version) = api_version
            .split_once('/')
            .map_or(("", api_version.as_str()), |(g, v)| (g, v));
        let find = |rs: &[Resource]| {
            rs.iter()
                .find(|r| r.group == group && r.version == version && r.kind == kind)
                .cloned()
        };
        let res = if let Some(r) = find(&self.store.resources) {
            r
        } else {
            let r = find(&self.known).ok_or_else(|| AddError::UnknownKind {
                api_version: api_version.clone(),
                kind: kind.clone(),
            })?;
            self.store.resources.push(r.clone());
            r
        };
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
        self.store.resource_version += 1;
        let rv = self.store.resource_version;
        meta.insert("uid".into(), Value::String(uid(rv)));
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        meta.insert(
            "creationTimestamp".into(),
            Value::String("2026-01-05T09:30:00Z".into()),
        );
        meta.insert(
            "managedFields".into(),
            json!([{
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": api_version,
                "time": "2026-01-05T09:30:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:annotations": {".": {}}}}
            }]),
        );
        if res.group.is_empty() && res.kind == "Secret" {
            merge_string_data(&mut obj);
        }
        self.store
            .objects
            .entry((res.group.clone(), res.plural.clone()))
            .or_default()
            .insert((namespace, name), obj);
        Ok(())
    }

    /// Starts serving on `127.0.0.1` on a free port, in a background thread
    /// with its own tokio runtime (so synchronous tests and other processes
    /// can use it). Stops when the [`Running`] is dropped.
    pub fn start(self) -> std::io::Result<Running> {
        let state = Arc::new(Shared {
            store: RwLock::new(self.store),
            log: Mutex::new(Vec::new()),
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
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut self
            .state
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner))
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

async fn handle(State(state): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (status, body) = route(&state, &method, &path, &query, req.headers());
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
        });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
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
) -> (StatusCode, Vec<u8>) {
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
            );
        }
        ["apis"] => return (StatusCode::OK, to_vec(&group_list(&store))),
        ["api", v] | ["apis", "", v] => match resource_list(&store, "", v) {
            Some(l) => return (StatusCode::OK, to_vec(&l)),
            None => return not_found(path),
        },
        ["apis", g, v] => match resource_list(&store, g, v) {
            Some(l) => return (StatusCode::OK, to_vec(&l)),
            None => return not_found(path),
        },
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return not_found(path),
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural, tail @ ..] => (Some(*ns), *plural, tail.first().copied()),
        [plural, tail @ ..] => (None, *plural, tail.first().copied()),
        [] => return not_found(path),
    };
    let Some(res) = store.resource(group, version, plural) else {
        return not_found(path);
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
        );
    }
    if method != Method::GET {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            status_body(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                &format!("the double does not serve {method} yet"),
                None,
            ),
        );
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let metadata_only = accept.contains("as=PartialObjectMetadata");
    let empty = BTreeMap::new();
    let objects = store.objects.get(&key).unwrap_or(&empty);
    if let Some(name) = name {
        let ns = namespace.unwrap_or("");
        return match objects.get(&(ns.to_owned(), name.to_owned())) {
            Some(o) if metadata_only => (StatusCode::OK, to_vec(&partial(o))),
            Some(o) => (StatusCode::OK, to_vec(o)),
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
            ),
        };
    }
    list(&store, res, objects, namespace, query, metadata_only)
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
    let in_scope = |k: &(String, String)| namespace.is_none_or(|ns| k.0 == ns);
    let after_start = |k: &(String, String)| start.as_ref().is_none_or(|s| k > s);
    let mut selected = objects
        .iter()
        .filter(|(k, _)| in_scope(k) && after_start(k));
    let mut items: Vec<Value> = Vec::new();
    let mut last: Option<&(String, String)> = None;
    for (k, o) in selected.by_ref() {
        if limit.is_some_and(|l| items.len() >= l) {
            break;
        }
        items.push(if metadata_only {
            partial(o)
        } else if res.custom {
            o.clone()
        } else {
            strip_type_meta(o)
        });
        last = Some(k);
    }
    // Anything left after the page?
    let remaining = objects
        .iter()
        .filter(|(k, _)| in_scope(k) && last.is_none_or(|l| *k > l) && after_start(k))
        .count();
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
    let body = if metadata_only {
        json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
            "items": items,
        })
    } else {
        json!({
            "kind": format!("{}List", res.kind),
            "apiVersion": res.api_version(),
            "metadata": meta,
            "items": items,
        })
    };
    (StatusCode::OK, to_vec(&body))
}

fn strip_type_meta(o: &Value) -> Value {
    match o {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "apiVersion" && *k != "kind")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
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

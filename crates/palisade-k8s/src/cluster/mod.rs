//! Reading objects from a live cluster through kube-rs.
//!
//! [`load`] connects with a kubeconfig (`--kubeconfig`, `$KUBECONFIG`,
//! `~/.kube/config`, or the in-cluster service account), discovers which API
//! groups and custom resources exist, and lists every kind the rules look at
//! ([`WANTED`]) with pagination (`limit` + `continue`) and a bounded number of
//! lists in flight. A kind the credentials may not list (403) or that vanished
//! (404) is skipped with a warning; other errors fail the load.
//!
//! Secret values are never requested: Secrets are listed through the
//! metadata-only path (`Accept: application/json;as=PartialObjectMetadataList;
//! g=meta.k8s.io;v=v1`), and their `kubectl.kubernetes.io/last-applied-configuration`
//! annotation (which holds the applied manifest, values included) is dropped
//! as the page is read, before anything else sees it.
//!
//! Objects become the same [`Object`]s as manifests: `apiVersion` and `kind`
//! restored on items of typed lists (the server leaves them out),
//! `metadata.managedFields` stripped, and a location of the form
//! `cluster://<context>/<Kind>/<namespace>/<name>`. Pods, ReplicaSets and
//! Jobs created by a controller (an `ownerReference` with `controller: true`)
//! are left out: their template is scanned on the owner, as in manifests.

mod json;

use crate::load::LoadOutcome;
use crate::object::{Object, Source};
use futures::StreamExt as _;
use json::ListPage;
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, Request, params::ListParams};
use kube::discovery::{Discovery, Scope};
use palisade_core::node::Value;
use palisade_core::{Diagnostic, Node};
use std::path::PathBuf;
use std::sync::Arc;

/// The kinds the rules look at, by API group. Custom resources are listed
/// only when discovery finds them.
pub const WANTED: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "Namespace",
            "Node",
            "Pod",
            "ReplicationController",
            "Service",
            "ServiceAccount",
            "ConfigMap",
            "Secret",
            "LimitRange",
            "ResourceQuota",
            "PersistentVolumeClaim",
        ],
    ),
    (
        "apps",
        &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"],
    ),
    ("batch", &["Job", "CronJob"]),
    (
        "networking.k8s.io",
        &["Ingress", "IngressClass", "NetworkPolicy"],
    ),
    (
        "rbac.authorization.k8s.io",
        &["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"],
    ),
    ("policy", &["PodDisruptionBudget"]),
    ("autoscaling", &["HorizontalPodAutoscaler"]),
    (
        "serving.kserve.io",
        &[
            "InferenceService",
            "ServingRuntime",
            "ClusterServingRuntime",
            "InferenceGraph",
        ],
    ),
    ("machinelearning.seldon.io", &["SeldonDeployment"]),
    ("mlops.seldon.io", &["Model", "Server"]),
    ("ray.io", &["RayCluster", "RayService", "RayJob"]),
    (
        "traefik.io",
        &[
            "IngressRoute",
            "IngressRouteTCP",
            "Middleware",
            "ServersTransport",
            "TLSOption",
        ],
    ),
    (
        "traefik.containo.us",
        &[
            "IngressRoute",
            "IngressRouteTCP",
            "Middleware",
            "ServersTransport",
            "TLSOption",
        ],
    ),
    (
        "gateway.networking.k8s.io",
        &["Gateway", "HTTPRoute", "GRPCRoute"],
    ),
    ("argoproj.io", &["Rollout"]),
    ("serving.knative.dev", &["Service"]),
    ("leaderworkerset.x-k8s.io", &["LeaderWorkerSet"]),
    ("kubeflow.org", &["Notebook", "PyTorchJob", "TFJob"]),
    (
        "cilium.io",
        &["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"],
    ),
];

/// How to reach the cluster and what to read.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// A kubeconfig file (default: `$KUBECONFIG`, `~/.kube/config`, else in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    pub context: Option<String>,
    /// Only these namespaces (empty: all). Cluster-scoped kinds are still
    /// read; Namespace objects are kept only for these names.
    pub namespaces: Vec<String>,
    /// Items per list page (`limit`).
    pub page_size: u32,
    /// Lists in flight at once.
    pub concurrency: usize,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            kubeconfig: None,
            context: None,
            namespaces: Vec::new(),
            page_size: 500,
            concurrency: 8,
        }
    }
}

/// Why a cluster could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The kubeconfig could not be read or has no usable context.
    #[error("kubeconfig: {0}")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    /// No kubeconfig and not running in a cluster.
    #[error("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster: {0}")]
    NoConfig(#[from] kube::config::InClusterError),
    /// The client could not be built.
    #[error("cannot create the Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    /// Discovery failed.
    #[error("API discovery failed: {0}")]
    Discovery(#[source] kube::Error),
    /// A list failed for another reason than 403/404.
    #[error("cannot list {kind}: {source}")]
    List {
        /// `Kind` (and namespace).
        kind: String,
        /// The error.
        #[source]
        source: kube::Error,
    },
    /// A list page is not a Kubernetes list.
    #[error("cannot read the {kind} list returned by the server: {source}")]
    Decode {
        /// `Kind`.
        kind: String,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A list task stopped without an answer (it panicked or was cancelled).
    #[error("listing {kind} stopped: {message}")]
    Task {
        /// `Kind`.
        kind: String,
        /// Why.
        message: String,
    },
}

/// One kind listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `group/version`.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Objects read.
    pub objects: usize,
    /// Pages requested.
    pub pages: usize,
}

/// What was read from the cluster.
#[derive(Debug, Default)]
pub struct ClusterLoad {
    /// The objects (`files` is 0), in a stable order.
    pub outcome: LoadOutcome,
    /// Kinds skipped (403, 404) and other things worth knowing; never fatal.
    pub warnings: Vec<Diagnostic>,
    /// The context name used in locations (`in-cluster` without kubeconfig).
    pub context: String,
    /// The kinds listed.
    pub listed: Vec<Listed>,
}

/// Reads the cluster, on a runtime of its own (for synchronous callers).
pub fn load_blocking(opts: &ClusterOptions) -> Result<ClusterLoad, ClusterError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ClusterError::Runtime)?
        .block_on(load(opts))
}

async fn connect(opts: &ClusterOptions) -> Result<(Client, String), ClusterError> {
    let kubeconfig = match &opts.kubeconfig {
        Some(p) => Some(Kubeconfig::read_from(p)?),
        None => match Kubeconfig::read() {
            Ok(k) => Some(k),
            // An explicit context needs a kubeconfig; otherwise fall back to in-cluster.
            Err(e) if opts.context.is_some() => return Err(e.into()),
            Err(_) => None,
        },
    };
    let (config, context) = match kubeconfig {
        Some(kc) => {
            let context = opts
                .context
                .clone()
                .or_else(|| kc.current_context.clone())
                .unwrap_or_else(|| "default".to_owned());
            let options = KubeConfigOptions {
                context: opts.context.clone(),
                ..KubeConfigOptions::default()
            };
            (
                kube::Config::from_custom_kubeconfig(kc, &options).await?,
                context,
            )
        }
        None => (kube::Config::incluster()?, "in-cluster".to_owned()),
    };
    let client = Client::try_from(config).map_err(ClusterError::Client)?;
    Ok((client, context))
}

/// A client for the kubeconfig and context of `opts`, and the context name
/// (for writers such as the secrets controller).
pub async fn client(opts: &ClusterOptions) -> Result<(Client, String), ClusterError> {
    connect(opts).await
}

/// One object from its JSON (a get or a watch event's object), made as
/// [`load`] makes list items: type meta from `ar`, managedFields and Secret
/// values dropped. `Ok(None)` for controller-owned Pods, ReplicaSets and Jobs.
pub fn object_from_json(
    text: &str,
    ar: &ApiResource,
    namespaced: bool,
    context: &str,
) -> Result<Option<Object>, serde_json::Error> {
    let n: json::JsonNode = serde_json::from_str(text)?;
    Ok(to_object(n.0, ar, namespaced, context))
}

/// One list to run: a resource, cluster-wide or in one namespace.
#[derive(Debug, Clone)]
struct Task {
    ar: ApiResource,
    namespaced: bool,
    namespace: Option<String>,
}

/// Reads the cluster.
pub async fn load(opts: &ClusterOptions) -> Result<ClusterLoad, ClusterError> {
    let (client, context) = connect(opts).await?;
    let groups: Vec<&str> = WANTED.iter().map(|(g, _)| *g).collect();
    let discovery = Discovery::new(client.clone())
        .filter(&groups)
        .run()
        .await
        .map_err(ClusterError::Discovery)?;
    let mut tasks = Vec::new();
    for (group, kinds) in WANTED {
        let Some(g) = discovery.get(group) else {
            continue;
        };
        // The group's preferred version when it serves the kind, else the
        // most stable version that does (KServe's ServingRuntime is only in
        // v1alpha1 while the group prefers v1beta1).
        let preferred = g.recommended_resources();
        let by_stability = g.resources_by_stability();
        for kind in *kinds {
            let Some((ar, caps)) = preferred
                .iter()
                .chain(&by_stability)
                .find(|(ar, _)| ar.kind == *kind)
            else {
                continue;
            };
            if !caps.operations.is_empty() && !caps.supports_operation("list") {
                continue;
            }
            let namespaced = caps.scope == Scope::Namespaced;
            if namespaced && !opts.namespaces.is_empty() {
                for ns in &opts.namespaces {
                    tasks.push(Task {
                        ar: ar.clone(),
                        namespaced,
                        namespace: Some(ns.clone()),
                    });
                }
            } else {
                tasks.push(Task {
                    ar: ar.clone(),
                    namespaced,
                    namespace: None,
                });
            }
        }
    }
    let context_arc: Arc<str> = Arc::from(context.as_str());
    // Each list is its own task: decoding a page (most of a list's CPU
    // time) then runs on any worker thread while the other lists wait for
    // their answers, instead of inside the one task that polls them all.
    let page_size = opts.page_size;
    let results: Vec<Result<TaskResult, ClusterError>> = futures::stream::iter(tasks)
        .map(|t| {
            let (client, context) = (client.clone(), context_arc.clone());
            let what = t.ar.kind.clone();
            async move {
                tokio::spawn(async move { list_all(&client, t, page_size, context).await })
                    .await
                    .unwrap_or_else(|e| {
                        Err(ClusterError::Task {
                            kind: what,
                            message: e.to_string(),
                        })
                    })
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    let mut out = ClusterLoad {
        context,
        ..ClusterLoad::default()
    };
    for r in results {
        let r = r?;
        if let Some(w) = r.warning {
            out.warnings.push(w);
        }
        if let Some(l) = r.listed {
            match out
                .listed
                .iter_mut()
                .find(|x| x.api_version == l.api_version && x.kind == l.kind)
            {
                Some(x) => {
                    x.objects += l.objects;
                    x.pages += l.pages;
                }
                None => out.listed.push(l),
            }
        }
        out.outcome.objects.extend(r.objects);
    }
    if !opts.namespaces.is_empty() {
        out.outcome
            .objects
            .retain(|o| !o.is("", "Namespace") || opts.namespaces.contains(&o.name));
    }
    out.outcome.objects.sort_by(|a, b| {
        (a.group(), &a.kind, &a.namespace, &a.name).cmp(&(
            b.group(),
            &b.kind,
            &b.namespace,
            &b.name,
        ))
    });
    out.warnings.sort();
    out.listed
        .sort_by(|a, b| (&a.api_version, &a.kind).cmp(&(&b.api_version, &b.kind)));
    Ok(out)
}

#[derive(Debug)]
struct TaskResult {
    objects: Vec<Object>,
    warning: Option<Diagnostic>,
    listed: Option<Listed>,
}

fn is_secret(ar: &ApiResource) -> bool {
    ar.group.is_empty() && ar.kind == "Secret"
}

async fn list_all(
    client: &Client,
    task: Task,
    page_size: u32,
    context: Arc<str>,
) -> Result<TaskResult, ClusterError> {
    let ar = &task.ar;
    let what = match &task.namespace {
        Some(ns) => format!("{} in namespace {ns}", ar.kind),
        None => ar.kind.clone(),
    };
    let path = url_path(ar, task.namespace.as_deref());
    let req = Request::new(path);
    let metadata_only = is_secret(ar);
    let mut objects = Vec::new();
    let mut continue_token: Option<String> = None;
    let mut pages = 0usize;
    let mut restarted = false;
    loop {
        let lp = ListParams {
            limit: Some(page_size),
            continue_token: continue_token.clone(),
            ..ListParams::default()
        };
        let built = if metadata_only {
            req.list_metadata(&lp)
        } else {
            req.list(&lp)
        };
        let http_req = built.map_err(|e| ClusterError::List {
            kind: what.clone(),
            source: kube::Error::BuildRequest(e),
        })?;
        pages += 1;
        let text = match client.request_text(http_req).await {
            Ok(t) => t,
            Err(kube::Error::Api(status)) if matches!(status.code, 403 | 404 | 401) => {
                let why = match status.code {
                    403 => "forbidden",
                    404 => "not found",
                    _ => "unauthorized",
                };
                return Ok(TaskResult {
                    objects: Vec::new(),
                    warning: Some(Diagnostic {
                        file: format!("cluster://{context}/{}", ar.kind),
                        line: 0,
                        column: 0,
                        message: format!(
                            "cannot list {what} ({why}: {}); skipped, findings that need it may be missing",
                            status.message
                        ),
                    }),
                    listed: None,
                });
            }
            // The continue token expired (410 Gone): start the list over once.
            Err(kube::Error::Api(status)) if status.code == 410 && !restarted => {
                restarted = true;
                objects.clear();
                continue_token = None;
                continue;
            }
            Err(e) => {
                return Err(ClusterError::List {
                    kind: what,
                    source: e,
                });
            }
        };
        let page: ListPage =
            serde_json::from_str(&text).map_err(|source| ClusterError::Decode {
                kind: what.clone(),
                source,
            })?;
        drop(text);
        for item in page.items {
            if let Some(o) = to_object(item.0, ar, task.namespaced, &context) {
                objects.push(o);
            }
        }
        match page.metadata.continue_token.filter(|c| !c.is_empty()) {
            Some(c) => continue_token = Some(c),
            None => break,
        }
    }
    Ok(TaskResult {
        listed: Some(Listed {
            api_version: ar.api_version.clone(),
            kind: ar.kind.clone(),
            objects: objects.len(),
            pages,
        }),
        objects,
        warning: None,
    })
}

fn url_path(ar: &ApiResource, namespace: Option<&str>) -> String {
    let base = if ar.group.is_empty() {
        format!("/api/{}", ar.version)
    } else {
        format!("/apis/{}/{}", ar.group, ar.version)
    };
    match namespace {
        Some(ns) => format!("{base}/namespaces/{ns}/{}", ar.plural),
        None => format!("{base}/{}", ar.plural),
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Turns a list item into an [`Object`]: type meta restored, managedFields
/// stripped, Secret contents dropped. `None` for controller-owned Pods,
/// ReplicaSets and Jobs, and for items that are not objects.
fn to_object(mut root: Node, ar: &ApiResource, namespaced: bool, context: &str) -> Option<Object> {
    let Value::Map(entries) = &mut root.value else {
        return None;
    };
    // Typed lists leave apiVersion and kind out of their items; metadata-only
    // items say PartialObjectMetadata. Either way, the resource decides.
    entries.retain(|e| e.key != "apiVersion" && e.key != "kind");
    let secret = is_secret(ar);
    if secret {
        entries.retain(|e| e.key != "data" && e.key != "stringData");
    }
    let string = |s: &str| Node {
        value: Value::Scalar(palisade_core::node::Scalar {
            text: s.into(),
            plain: false,
        }),
        pos: palisade_core::Pos::default(),
    };
    entries.insert(
        0,
        palisade_core::node::Entry {
            key: "apiVersion".into(),
            key_pos: palisade_core::Pos::default(),
            value: string(&ar.api_version),
        },
    );
    entries.insert(
        1,
        palisade_core::node::Entry {
            key: "kind".into(),
            key_pos: palisade_core::Pos::default(),
            value: string(&ar.kind),
        },
    );
    let meta = entries.iter_mut().find(|e| e.key == "metadata")?;
    let Value::Map(meta) = &mut meta.value.value else {
        return None;
    };
    meta.retain(|e| e.key != "managedFields");
    if secret {
        for e in meta.iter_mut() {
            if e.key == "annotations"
                && let Value::Map(ann) = &mut e.value.value
            {
                ann.retain(|a| a.key != LAST_APPLIED);
            }
        }
    }
    let text = |key: &str| {
        meta.iter()
            .find(|e| e.key == key)
            .and_then(|e| e.value.as_str())
            .map(str::to_owned)
    };
    let name = text("name").unwrap_or_default();
    let namespace = if namespaced {
        text("namespace").filter(|s| !s.is_empty())
    } else {
        None
    };
    let owned_by_controller = meta
        .iter()
        .find(|e| e.key == "ownerReferences")
        .is_some_and(|e| {
            e.value
                .items()
                .iter()
                .any(|r| r.get("controller").and_then(Node::as_bool) == Some(true))
        });
    if owned_by_controller
        && matches!(
            (ar.group.as_str(), ar.kind.as_str()),
            ("", "Pod") | ("apps", "ReplicaSet") | ("batch", "Job")
        )
    {
        return None;
    }
    let file = match &namespace {
        Some(ns) => format!("cluster://{context}/{}/{ns}/{name}", ar.kind),
        None => format!("cluster://{context}/{}/{name}", ar.kind),
    };
    Some(Object {
        api_version: ar.api_version.clone(),
        kind: ar.kind.clone(),
        namespace,
        name,
        root,
        source: Source {
            file: Arc::from(file),
            template: None,
            doc_line: 0,
            doc_index: 0,
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: if group.is_empty() {
                version.into()
            } else {
                format!("{group}/{version}")
            },
            kind: kind.into(),
            plural: plural.into(),
        }
    }

    fn item(text: &str) -> Node {
        serde_json::from_str::<json::JsonNode>(text).unwrap().0
    }

    #[test]
    fn items_get_type_meta_and_lose_managed_fields() {
        let o = to_object(
            item(r#"{"metadata":{"name":"d","namespace":"llm","managedFields":[{"manager":"kubectl"}]},"spec":{"replicas":2}}"#),
            &ar("apps", "v1", "Deployment", "deployments"),
            true,
            "kind-dev",
        )
        .unwrap();
        assert_eq!(
            (o.api_version.as_str(), o.kind.as_str()),
            ("apps/v1", "Deployment")
        );
        assert_eq!(o.namespace.as_deref(), Some("llm"));
        assert!(o.metadata().get("managedFields").is_none());
        assert_eq!(&*o.source.file, "cluster://kind-dev/Deployment/llm/d");
        assert_eq!(o.root.get("kind").unwrap().as_str(), Some("Deployment"));
    }

    #[test]
    fn secret_metadata_keeps_no_values() {
        let o = to_object(
            item(r#"{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"s","namespace":"a","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"token\":\"aHVudGVy\"}}","team":"ml"}},"data":{"token":"aHVudGVy"}}"#),
            &ar("", "v1", "Secret", "secrets"),
            true,
            "c",
        )
        .unwrap();
        let json = o.root.to_json().to_string();
        assert!(!json.contains("aHVudGVy"), "{json}");
        assert_eq!(o.annotation("team"), Some("ml"));
        assert_eq!(o.kind, "Secret");
    }

    #[test]
    fn controller_owned_pods_are_left_to_their_owner() {
        let pod = r#"{"metadata":{"name":"p","namespace":"a","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"1","controller":true}]}}"#;
        assert!(to_object(item(pod), &ar("", "v1", "Pod", "pods"), true, "c").is_none());
        let bare = r#"{"metadata":{"name":"p","namespace":"a"}}"#;
        assert!(to_object(item(bare), &ar("", "v1", "Pod", "pods"), true, "c").is_some());
        let cluster_scoped = to_object(
            item(r#"{"metadata":{"name":"n1","namespace":"ignored"}}"#),
            &ar("", "v1", "Node", "nodes"),
            false,
            "c",
        )
        .unwrap();
        assert_eq!(cluster_scoped.namespace, None);
        assert_eq!(&*cluster_scoped.source.file, "cluster://c/Node/n1");
    }
}

//! One extraction step that finds every pod template, whatever wraps it.
//!
//! Covers the core workload kinds, Argo Rollouts, KServe (InferenceService
//! components, ServingRuntime, ClusterServingRuntime), Seldon
//! (SeldonDeployment, Core 2 Server), Knative Service, LeaderWorkerSet, Ray
//! (RayCluster, RayService, RayJob), Kubeflow Notebook and Training Operator
//! jobs (PyTorchJob, TFJob, MPIJob...) and KServe LLMInferenceService. Init
//! and ephemeral containers count.
//! Security contexts are merged as the kubelet merges them.

use crate::object::Object;
use palisade_core::{Node, Path};

/// Which list a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerKind {
    /// `containers` (or a KServe model/framework container).
    Regular,
    /// `initContainers`.
    Init,
    /// `ephemeralContainers`.
    Ephemeral,
}

impl ContainerKind {
    /// The field name of the list.
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Regular => "containers",
            ContainerKind::Init => "initContainers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// A container of a pod template.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// Which list it is in.
    pub kind: ContainerKind,
    /// `name` (KServe framework containers are named `kserve-container`).
    pub name: &'a str,
    /// The container object.
    pub node: &'a Node,
    /// Path of the container inside the object.
    pub path: Path,
}

impl Container<'_> {
    /// A field of the container.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.node.get(key)
    }

    /// `image`.
    pub fn image(&self) -> Option<&str> {
        self.node.get("image").and_then(Node::as_str)
    }

    /// `securityContext.<key>` of the container itself.
    pub fn sc(&self, key: &str) -> Option<(&Node, Path)> {
        let n = self.node.get("securityContext")?.get(key)?;
        if n.is_null() {
            return None;
        }
        Some((n, self.path.keys_from(&["securityContext", key])))
    }
}

/// Security-context fields that a container inherits from the pod when it
/// does not set them (kubelet `DetermineEffectiveSecurityContext`). Each is
/// replaced whole, except `windowsOptions`, merged field by field.
pub const INHERITED_SC_FIELDS: &[&str] = &[
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "windowsOptions",
];

/// A pod template found in an object.
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    /// The object holding it.
    pub object: &'a Object,
    /// The pod spec.
    pub spec: &'a Node,
    /// Path of the pod spec inside the object.
    pub spec_path: Path,
    /// The template's `metadata` (for a Pod, the object's own).
    pub meta: Option<&'a Node>,
    /// Path of that metadata.
    pub meta_path: Path,
    /// A label for the part of the object this template is, when the object
    /// has several (`predictor`, `workerGroupSpecs[gpu]`); empty otherwise.
    pub role: String,
    /// All containers: regular, init and ephemeral.
    pub containers: Vec<Container<'a>>,
}

impl<'a> Workload<'a> {
    /// A pod-spec field.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.spec.get(key)
    }

    /// Path of a pod-spec field.
    pub fn path(&self, key: &str) -> Path {
        self.spec_path.key(key)
    }

    /// `securityContext.<key>` at pod level.
    pub fn pod_sc(&self, key: &str) -> Option<(&'a Node, Path)> {
        let n = self.spec.get("securityContext")?.get(key)?;
        if n.is_null() {
            return None;
        }
        Some((n, self.spec_path.keys_from(&["securityContext", key])))
    }

    /// The effective value of a security-context field for a container:
    /// the container's own, else the pod's for inherited fields. For
    /// `windowsOptions` pass the sub-field as `key` (e.g.
    /// `windowsOptions.hostProcess`): it is merged field by field.
    pub fn effective_sc(&self, c: &Container<'a>, key: &str) -> Option<(&'a Node, Path)> {
        let (top, sub) = match key.split_once('.') {
            Some((t, s)) => (t, Some(s)),
            None => (key, None),
        };
        let lookup = |base: &'a Node, base_path: &Path| -> Option<(&'a Node, Path)> {
            let mut n = base.get("securityContext")?.get(top)?;
            let mut p = base_path.keys_from(&["securityContext", top]);
            if let Some(s) = sub {
                n = n.get(s)?;
                p = p.key(s);
            }
            if n.is_null() { None } else { Some((n, p)) }
        };
        if let Some(v) = lookup(c.node, &c.path) {
            return Some(v);
        }
        if !INHERITED_SC_FIELDS.contains(&top) {
            return None;
        }
        // seLinuxOptions, seccompProfile, appArmorProfile: a container value
        // replaces the pod's whole, so a sub-field never falls through.
        if sub.is_some()
            && top != "windowsOptions"
            && c.node
                .get("securityContext")
                .and_then(|s| s.get(top))
                .is_some_and(|n| !n.is_null())
        {
            return None;
        }
        lookup(self.spec, &self.spec_path)
    }

    /// Template labels.
    pub fn label(&self, key: &str) -> Option<&'a str> {
        self.meta?.get("labels")?.get(key)?.as_str()
    }

    /// An annotation of the pod template (for a Pod, of the Pod itself).
    /// Annotations on a controller's own metadata never reach its pods, so
    /// there is no fallback to them.
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.meta
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(key))
            .and_then(Node::as_str)
    }

    /// The pod's volumes with their paths.
    pub fn volumes(&self) -> impl Iterator<Item = (&'a Node, Path)> + '_ {
        let base = self.path("volumes");
        self.spec
            .list("volumes")
            .iter()
            .enumerate()
            .map(move |(i, v)| (v, base.index(i)))
    }

    /// Whether the pod spec has this boolean set to true.
    pub fn flag(&self, key: &str) -> bool {
        self.spec.get(key).and_then(Node::as_bool) == Some(true)
    }
}

/// KServe v1beta1 framework fields of a predictor, each an inline container.
pub const KSERVE_FRAMEWORKS: &[&str] = &[
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "pmml",
    "lightgbm",
    "paddle",
];

/// KServe v1beta1 explainer framework fields.
const KSERVE_EXPLAINERS: &[&str] = &["art", "alibi"];

fn add<'a>(out: &mut Vec<Workload<'a>>, obj: &'a Object, path: &str, role: String) {
    let p = Path::keys(path);
    if let Some(s) = obj.root.at_path(&p).filter(|n| n.is_map()) {
        let tmpl = p.0.len() >= 2
            && p.0.get(p.0.len() - 2) == Some(&palisade_core::Seg::Key("template".into()));
        push(out, obj, s, p, tmpl, role);
    }
}

/// Finds every pod template in `obj`.
pub fn workloads(obj: &Object) -> Vec<Workload<'_>> {
    let mut out = Vec::new();
    let root = &obj.root;
    let spec = obj.spec();
    let group = obj.group();
    match (group, obj.kind.as_str()) {
        ("", "Pod") | ("serving.knative.dev", "Revision") => {
            add(&mut out, obj, "spec", String::new());
        }
        ("", "PodTemplate") => add(&mut out, obj, "template.spec", String::new()),
        (
            "apps" | "extensions" | "",
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController",
        )
        | ("batch", "Job")
        | ("argoproj.io", "Rollout")
        | ("serving.knative.dev", "Service" | "Configuration") => {
            add(&mut out, obj, "spec.template.spec", String::new());
        }
        ("batch", "CronJob") => add(
            &mut out,
            obj,
            "spec.jobTemplate.spec.template.spec",
            String::new(),
        ),
        ("leaderworkerset.x-k8s.io", "LeaderWorkerSet") => {
            add(
                &mut out,
                obj,
                "spec.leaderWorkerTemplate.leaderTemplate.spec",
                "leader".into(),
            );
            add(
                &mut out,
                obj,
                "spec.leaderWorkerTemplate.workerTemplate.spec",
                "worker".into(),
            );
        }
        ("serving.kserve.io", "InferenceService") => {
            for comp in ["predictor", "transformer", "explainer"] {
                let cpath = Path::keys("spec").key(comp);
                let Some(c) = spec.get(comp).filter(|n| n.is_map()) else {
                    continue;
                };
                push(&mut out, obj, c, cpath.clone(), false, comp.to_owned());
                if let Some(w) = c.get("workerSpec").filter(|n| n.is_map()) {
                    push(
                        &mut out,
                        obj,
                        w,
                        cpath.key("workerSpec"),
                        false,
                        format!("{comp}.workerSpec"),
                    );
                }
            }
        }
        ("serving.kserve.io", "ServingRuntime" | "ClusterServingRuntime") => {
            if spec.is_map() {
                push(
                    &mut out,
                    obj,
                    spec,
                    Path::keys("spec"),
                    false,
                    String::new(),
                );
            }
            if let Some(w) = spec.get("workerSpec").filter(|n| n.is_map()) {
                push(
                    &mut out,
                    obj,
                    w,
                    Path::keys("spec.workerSpec"),
                    false,
                    "workerSpec".into(),
                );
            }
        }
        ("machinelearning.seldon.io", "SeldonDeployment") => {
            for (i, pred) in spec.list("predictors").iter().enumerate() {
                let pname = pred.get("name").and_then(Node::as_str).unwrap_or("");
                for (j, cs) in pred.list("componentSpecs").iter().enumerate() {
                    let base = Path::keys("spec.predictors")
                        .index(i)
                        .key("componentSpecs")
                        .index(j);
                    if let Some(s) = cs.get("spec").filter(|n| n.is_map()) {
                        push(
                            &mut out,
                            obj,
                            s,
                            base.key("spec"),
                            true,
                            format!("predictor {pname}[{j}]"),
                        );
                    }
                }
            }
        }
        ("mlops.seldon.io", "Server" | "ServerConfig") => {
            add(&mut out, obj, "spec.podSpec", String::new());
        }
        ("kubeflow.org", "Notebook") => add(&mut out, obj, "spec.template.spec", String::new()),
        // Training Operator jobs: `spec.<kind>ReplicaSpecs.<Role>.template.spec`
        // (PyTorchJob Master/Worker, TFJob Chief/PS/Worker, MPIJob
        // Launcher/Worker, XGBoostJob, PaddleJob, JAXJob).
        ("kubeflow.org", kind) if kind.ends_with("Job") => {
            for e in spec.entries() {
                if !e.key.ends_with("ReplicaSpecs") {
                    continue;
                }
                for r in e.value.entries() {
                    let p = Path::keys("spec")
                        .key(&e.key)
                        .key(&r.key)
                        .keys_from(&["template", "spec"]);
                    if let Some(s) = root.at_path(&p).filter(|n| n.is_map()) {
                        push(&mut out, obj, s, p, true, r.key.to_string());
                    }
                }
            }
        }
        // KServe LLMInferenceService (llm-d): `spec.template` and
        // `spec.worker` are pod specs, as are those of the prefill pool.
        ("serving.kserve.io", "LLMInferenceService") => {
            for (path, role) in [
                ("spec.template", ""),
                ("spec.worker", "worker"),
                ("spec.prefill.template", "prefill"),
                ("spec.prefill.worker", "prefill.worker"),
            ] {
                add(&mut out, obj, path, role.into());
            }
        }
        ("ray.io", kind @ ("RayCluster" | "RayService" | "RayJob")) => {
            let base = match kind {
                "RayCluster" => Path::keys("spec"),
                "RayService" => Path::keys("spec.rayClusterConfig"),
                _ => Path::keys("spec.rayClusterSpec"),
            };
            if let Some(cluster) = root.at_path(&base) {
                let head = base.keys_from(&["headGroupSpec", "template", "spec"]);
                if let Some(s) = root.at_path(&head).filter(|n| n.is_map()) {
                    push(&mut out, obj, s, head, true, "head".into());
                }
                for (i, g) in cluster.list("workerGroupSpecs").iter().enumerate() {
                    let gname = g.get("groupName").and_then(Node::as_str).unwrap_or("");
                    let p = base
                        .key("workerGroupSpecs")
                        .index(i)
                        .keys_from(&["template", "spec"]);
                    if let Some(s) = root.at_path(&p).filter(|n| n.is_map()) {
                        push(&mut out, obj, s, p, true, format!("worker {gname}"));
                    }
                }
            }
            if kind == "RayJob" {
                add(
                    &mut out,
                    obj,
                    "spec.submitterPodTemplate.spec",
                    "submitter".into(),
                );
            }
        }
        _ => {}
    }
    out
}

fn push<'a>(
    out: &mut Vec<Workload<'a>>,
    obj: &'a Object,
    spec: &'a Node,
    spec_path: Path,
    template: bool,
    role: String,
) {
    let (meta, meta_path) = if template {
        // `.../template.spec` → `.../template.metadata`
        let mut mp = spec_path.clone();
        mp.0.pop();
        let mp = mp.key("metadata");
        (obj.root.at_path(&mp), mp)
    } else if obj.kind == "Pod" || obj.kind == "Revision" {
        (obj.root.get("metadata"), Path::keys("metadata"))
    } else if spec_path.0.len() > 1
        && spec_path.0.last() == Some(&palisade_core::Seg::Key("spec".into()))
    {
        let mut mp = spec_path.clone();
        mp.0.pop();
        let mp = mp.key("metadata");
        (obj.root.at_path(&mp), mp)
    } else {
        (obj.root.get("metadata"), Path::keys("metadata"))
    };
    let mut containers = Vec::new();
    for kind in [
        ContainerKind::Init,
        ContainerKind::Regular,
        ContainerKind::Ephemeral,
    ] {
        let list_path = spec_path.key(kind.field());
        for (i, c) in spec.list(kind.field()).iter().enumerate() {
            if !c.is_map() {
                continue;
            }
            containers.push(Container {
                kind,
                name: c.get("name").and_then(Node::as_str).unwrap_or(""),
                node: c,
                path: list_path.index(i),
            });
        }
    }
    // KServe predictor frameworks and explainers are inline containers.
    if obj.group() == "serving.kserve.io" && obj.kind == "InferenceService" {
        for f in KSERVE_FRAMEWORKS.iter().chain(KSERVE_EXPLAINERS) {
            if let Some(c) = spec.get(f).filter(|n| n.is_map()) {
                containers.push(Container {
                    kind: ContainerKind::Regular,
                    name: c
                        .get("name")
                        .and_then(Node::as_str)
                        .unwrap_or("kserve-container"),
                    node: c,
                    path: spec_path.key(f),
                });
            }
        }
    }
    out.push(Workload {
        object: obj,
        spec,
        spec_path,
        meta,
        meta_path,
        role,
        containers,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_str;

    fn one(text: &str) -> Object {
        let mut out = load_str("t.yaml", text);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        out.objects.remove(0)
    }

    #[test]
    fn cronjob_init_and_ephemeral_containers_count() {
        let o = one(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        metadata: {labels: {a: b}}\n        spec:\n          initContainers: [{name: i, image: x}]\n          containers: [{name: m, image: y}]\n          ephemeralContainers: [{name: e, image: z}]\n",
        );
        let w = workloads(&o);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].containers.len(), 3);
        assert_eq!(w[0].label("a"), Some("b"));
        assert_eq!(
            w[0].containers[0].path.to_string(),
            "spec.jobTemplate.spec.template.spec.initContainers[0]"
        );
    }

    #[test]
    fn kserve_components_and_framework_containers() {
        let o = one(
            "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: llm}\nspec:\n  predictor:\n    model:\n      modelFormat: {name: huggingface}\n      storageUri: s3://b/m\n    securityContext: {runAsNonRoot: true}\n  transformer:\n    containers: [{name: t, image: x}]\n",
        );
        let w = workloads(&o);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].role, "predictor");
        assert_eq!(w[0].containers[0].name, "kserve-container");
        assert_eq!(w[0].containers[0].path.to_string(), "spec.predictor.model");
        let c = &w[0].containers[0];
        assert!(w[0].effective_sc(c, "runAsNonRoot").is_some());
    }

    #[test]
    fn ray_seldon_lws() {
        let o = one(
            "apiVersion: ray.io/v1\nkind: RayService\nmetadata: {name: r}\nspec:\n  rayClusterConfig:\n    headGroupSpec:\n      template:\n        spec:\n          containers: [{name: head, image: rayproject/ray}]\n    workerGroupSpecs:\n    - groupName: gpu\n      template:\n        spec:\n          containers: [{name: w, image: rayproject/ray}]\n",
        );
        assert_eq!(workloads(&o).len(), 2);
        let o = one(
            "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: s}\nspec:\n  predictors:\n  - name: default\n    componentSpecs:\n    - spec:\n        containers: [{name: classifier, image: x}]\n",
        );
        assert_eq!(
            workloads(&o)[0].containers[0].path.to_string(),
            "spec.predictors[0].componentSpecs[0].spec.containers[0]"
        );
        let o = one(
            "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata: {name: l}\nspec:\n  leaderWorkerTemplate:\n    leaderTemplate:\n      spec: {containers: [{name: a, image: x}]}\n    workerTemplate:\n      spec: {containers: [{name: b, image: x}]}\n",
        );
        assert_eq!(workloads(&o).len(), 2);
    }

    #[test]
    fn kubeflow_notebook_training_jobs_and_llm_inference_service() {
        let o = one(
            "apiVersion: kubeflow.org/v1\nkind: Notebook\nmetadata: {name: n}\nspec:\n  template:\n    spec:\n      containers: [{name: n, image: kubeflownotebookswg/jupyter-scipy:v1.9.0}]\n",
        );
        assert_eq!(
            workloads(&o)[0].containers[0].path.to_string(),
            "spec.template.spec.containers[0]"
        );
        let o = one(
            "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: p}\nspec:\n  pytorchReplicaSpecs:\n    Master:\n      template:\n        spec: {containers: [{name: pytorch, image: x}]}\n    Worker:\n      template:\n        metadata: {labels: {a: b}}\n        spec: {containers: [{name: pytorch, image: x}]}\n",
        );
        let w = workloads(&o);
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].role, "Worker");
        assert_eq!(w[1].label("a"), Some("b"));
        assert_eq!(
            w[1].containers[0].path.to_string(),
            "spec.pytorchReplicaSpecs.Worker.template.spec.containers[0]"
        );
        let o = one(
            "apiVersion: serving.kserve.io/v1alpha1\nkind: LLMInferenceService\nmetadata: {name: l}\nspec:\n  model: {uri: hf://Qwen/Qwen3-8B}\n  template:\n    containers: [{name: main, image: ghcr.io/llm-d/llm-d-cuda:v0.3.0}]\n  prefill:\n    template:\n      containers: [{name: main, image: ghcr.io/llm-d/llm-d-cuda:v0.3.0}]\n",
        );
        let w = workloads(&o);
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].role, "prefill");
        assert_eq!(
            w[0].containers[0].path.to_string(),
            "spec.template.containers[0]"
        );
    }

    #[test]
    fn security_context_merges_like_the_kubelet() {
        let o = one(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    runAsNonRoot: true\n    seLinuxOptions: {level: s0}\n    windowsOptions: {hostProcess: true, runAsUserName: a}\n  containers:\n  - name: c\n    image: x\n    securityContext:\n      runAsNonRoot: false\n      seLinuxOptions: {type: t}\n      windowsOptions: {runAsUserName: b}\n",
        );
        let w = &workloads(&o)[0];
        let c = &w.containers[0];
        assert_eq!(
            w.effective_sc(c, "runAsNonRoot").unwrap().0.as_bool(),
            Some(false)
        );
        // seLinuxOptions is replaced whole: the pod's level does not fall through
        assert!(w.effective_sc(c, "seLinuxOptions.level").is_none());
        // windowsOptions merges field by field
        assert_eq!(
            w.effective_sc(c, "windowsOptions.hostProcess")
                .unwrap()
                .0
                .as_bool(),
            Some(true)
        );
        assert_eq!(
            w.effective_sc(c, "windowsOptions.runAsUserName")
                .unwrap()
                .0
                .as_str(),
            Some("b")
        );
        // privileged is container-only
        assert!(w.effective_sc(c, "privileged").is_none());
    }
}

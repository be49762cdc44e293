//! PLS-AI-004: GPU workload autoscales without a replica ceiling.
//!
//! What it does: reports autoscaling that can add GPU replicas without
//! bound: a Serverless KServe InferenceService whose GPU predictor has no
//! `maxReplicas` (0 means unlimited), a Knative Service with GPUs and no
//! `autoscaling.knative.dev/max-scale`, a KEDA ScaledObject on a GPU
//! workload without `maxReplicaCount` (KEDA's default is 100), and a
//! RayCluster with in-tree autoscaling whose GPU worker group has no
//! `maxReplicas` (the CRD default is 2147483647).
//!
//! Why it matters: traffic (or an attacker's traffic) turns straight into
//! GPU nodes; the bill has no upper bound.
//!
//! Example: `predictor: {minReplicas: 1}` with `nvidia.com/gpu: 1`.
//!
//! Fix: set a ceiling that matches the GPU budget.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::ai::wants_gpu;
use palisade_k8s::{Object, Workload};

pub(crate) struct ReplicaCeiling;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-004",
    title: "GPU workload autoscales without a replica ceiling",
    severity: Severity::Medium,
    category: "ai-serving",
    rationale: "Autoscalers add replicas as load rises. For GPU workloads every replica is a GPU (often a whole node) billed by the hour, so an autoscaler without a ceiling turns a traffic spike, a retry storm or an abusive client into unbounded spend (denial of wallet) and can starve every other GPU workload in the cluster. KServe Serverless and Knative treat a missing or zero maximum as unlimited; KEDA defaults to 100 replicas; KubeRay worker groups default to 2147483647.",
    remediation: "Set a ceiling that fits the GPU budget: `spec.predictor.maxReplicas` on the InferenceService, the `autoscaling.knative.dev/max-scale` annotation on the Knative revision template, `spec.maxReplicaCount` on the KEDA ScaledObject, `maxReplicas` on each RayCluster worker group; back it with a ResourceQuota on `requests.nvidia.com/gpu`.",
    references: References {
        owasp_llm: &["LLM10"],
        mitre: &["AML.T0034"],
        links: &[
            "https://kserve.github.io/website/latest/modelserving/autoscaling/autoscaling/",
            "https://knative.dev/docs/serving/autoscaling/scale-bounds/",
            "https://keda.sh/docs/latest/reference/scaledobject-spec/#maxreplicacount",
            "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/configuring-autoscaling.html",
        ],
        ..References::NONE
    },
};

fn unbounded(n: Option<&Node>) -> bool {
    n.and_then(Node::as_str).is_none_or(|v| v.trim() == "0")
}

fn gpu_workloads_of(cx: &Context<'_>, kind: &str, ns: &str, name: &str) -> bool {
    cx.objects.iter().enumerate().any(|(i, o)| {
        o.kind == kind
            && o.effective_namespace() == ns
            && o.name == name
            && cx.workloads[i].iter().any(wants_gpu)
    })
}

impl Rule for ReplicaCeiling {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let o = w.object;
        if !wants_gpu(w) {
            return;
        }
        match (o.group(), o.kind.as_str()) {
            ("serving.kserve.io", "InferenceService") if w.role == "predictor" => {
                let mode = o
                    .annotation("serving.kserve.io/deploymentMode")
                    .unwrap_or("Serverless");
                if mode == "Serverless" && unbounded(w.spec.get("maxReplicas")) {
                    out.report(
                        o,
                        w.spec_path.key("maxReplicas"),
                        format!(
                            "InferenceService \"{}\" runs a GPU predictor in Serverless mode without maxReplicas: Knative may add GPU replicas without limit",
                            o.name
                        ),
                    );
                }
            }
            ("serving.knative.dev", "Service" | "Configuration") => {
                let max = w
                    .annotation("autoscaling.knative.dev/max-scale")
                    .or_else(|| w.annotation("autoscaling.knative.dev/maxScale"));
                if max.is_none_or(|v| v.trim() == "0") {
                    out.report(
                        o,
                        w.meta_path.keys_from(&["annotations", "autoscaling.knative.dev/max-scale"]),
                        format!(
                            "Knative {} \"{}\" requests GPUs without autoscaling.knative.dev/max-scale: it may scale without limit",
                            o.kind, o.name
                        ),
                    );
                }
            }
            ("ray.io", _) if w.role.starts_with("worker ") => {
                let base = match o.kind.as_str() {
                    "RayService" => Path::keys("spec.rayClusterConfig"),
                    "RayJob" => Path::keys("spec.rayClusterSpec"),
                    _ => Path::keys("spec"),
                };
                let Some(cluster) = o.root.at_path(&base) else {
                    return;
                };
                if cluster
                    .get("enableInTreeAutoscaling")
                    .and_then(Node::as_bool)
                    != Some(true)
                {
                    return;
                }
                let group = w.role.trim_start_matches("worker ");
                for (i, g) in cluster.list("workerGroupSpecs").iter().enumerate() {
                    if g.get("groupName").and_then(Node::as_str).unwrap_or("") == group
                        && g.get("maxReplicas").is_none()
                    {
                        out.report(
                            o,
                            base.key("workerGroupSpecs").index(i).key("maxReplicas"),
                            format!(
                                "{} \"{}\" autoscales GPU worker group \"{group}\" without maxReplicas (default 2147483647)",
                                o.kind, o.name
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn check_object(&self, o: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !o.is("keda.sh", "ScaledObject") {
            return;
        }
        let t = o.spec().get("scaleTargetRef");
        let kind = t
            .and_then(|t| t.get("kind"))
            .and_then(Node::as_str)
            .unwrap_or("Deployment");
        let Some(name) = t.and_then(|t| t.get("name")).and_then(Node::as_str) else {
            return;
        };
        if !gpu_workloads_of(cx, kind, o.effective_namespace(), name) {
            return;
        }
        if o.spec().get("maxReplicaCount").is_none() {
            out.report(
                o,
                Path::keys("spec.maxReplicaCount"),
                format!(
                    "ScaledObject \"{}\" scales GPU {kind} \"{name}\" without maxReplicaCount: KEDA allows up to 100 replicas",
                    o.name
                ),
            );
        }
    }
}

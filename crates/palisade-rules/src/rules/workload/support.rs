//! Helpers shared by the workload rules: label selectors, replica counts
//! and autoscalers, objects of a namespace, resource quantities, and which
//! pod templates run for good.

use crate::context::{Context, is_cluster_scoped};
use crate::rule::Emitter;
use palisade_core::{Node, Path};
use palisade_k8s::{Object, Workload, selector};
use std::collections::BTreeMap;

/// Whether a label selector (`matchLabels` and `matchExpressions`) selects
/// an object with `labels`. A missing selector selects nothing; an empty
/// one selects everything when `empty_selects_all` (policy/v1
/// PodDisruptionBudget) and nothing otherwise (policy/v1beta1). An invalid
/// selector selects nothing.
pub(crate) fn selector_matches(
    selector: Option<&Node>,
    labels: Option<&Node>,
    empty_selects_all: bool,
) -> bool {
    let Some(sel) = selector.filter(|s| s.is_map()) else {
        return false;
    };
    if selector::is_empty(Some(sel)) {
        return empty_selects_all;
    }
    let label = |k: &str| {
        labels
            .and_then(|l| l.get(k))
            .filter(|v| !v.is_null())
            .and_then(Node::as_str)
    };
    selector::matches(sel, &label, &str::to_owned).unwrap_or(false)
}

/// `spec.template.metadata.labels` of a controller.
pub(crate) fn template_labels(obj: &Object) -> Option<&Node> {
    obj.root
        .at(&["spec", "template", "metadata", "labels"])
        .filter(|n| n.is_map())
}

/// `spec.replicas` of a Deployment, StatefulSet or ReplicaSet: `Some(1)`
/// when omitted (the API default), `None` when it is not an integer (an
/// unrendered template value).
pub(crate) fn replicas(obj: &Object) -> Option<i64> {
    match obj.spec().get("replicas") {
        None => Some(1),
        Some(n) if n.is_null() => Some(1),
        Some(n) => n.as_i64(),
    }
}

/// Objects of `kind` in namespace `ns` (namespaced kinds only).
pub(crate) fn in_namespace<'a>(
    cx: &'a Context<'a>,
    kind: &'a str,
    ns: &'a str,
) -> impl Iterator<Item = &'a Object> + 'a {
    cx.of_kind_in(kind, ns)
}

/// An autoscaler that owns the replica count of `obj`: a
/// HorizontalPodAutoscaler or a KEDA ScaledObject in the same namespace
/// whose `scaleTargetRef` names it. Returns the autoscaler and its minimum
/// (HPA `minReplicas`, default 1; KEDA `minReplicaCount`, default 0), or
/// `None` for the minimum when it is not an integer.
pub(crate) fn autoscaler<'a>(
    cx: &'a Context<'a>,
    obj: &'a Object,
) -> Option<(&'a Object, Option<i64>)> {
    let ns = obj.effective_namespace();
    let targets = |a: &Object, default_kind: &str| {
        let t = a.spec().get("scaleTargetRef");
        let kind = t
            .and_then(|t| t.get("kind"))
            .and_then(Node::as_str)
            .unwrap_or(default_kind);
        let name = t.and_then(|t| t.get("name")).and_then(Node::as_str);
        kind == obj.kind && name == Some(obj.name.as_str())
    };
    let min = |a: &Object, key: &str, default: i64| match a.spec().get(key) {
        None => Some(default),
        Some(n) if n.is_null() => Some(default),
        Some(n) => n.as_i64(),
    };
    if let Some(h) = in_namespace(cx, "HorizontalPodAutoscaler", ns).find(|h| targets(h, "")) {
        return Some((h, min(h, "minReplicas", 1)));
    }
    in_namespace(cx, "ScaledObject", ns)
        .find(|s| s.group() == "keda.sh" && targets(s, "Deployment"))
        .map(|s| (s, min(s, "minReplicaCount", 0)))
}

/// Whether a resource quantity is zero (`0`, `0m`, `0Mi`, `0.0`), which for
/// a limit means "no limit" to the kubelet.
pub(crate) fn quantity_is_zero(n: &Node) -> bool {
    let Some(s) = n.as_str() else { return false };
    let num = s.trim().trim_end_matches(|c: char| c.is_ascii_alphabetic());
    num.parse::<f64>().is_ok_and(|v| v == 0.0)
}

/// A resource quantity that is set: not null and not an empty string.
pub(crate) fn quantity_set(n: Option<&Node>) -> Option<&Node> {
    n.filter(|n| !n.is_null() && n.as_str().is_some_and(|s| !s.trim().is_empty()))
}

/// Whether the pod template belongs to something that runs until deleted,
/// as opposed to a run-to-completion Job, CronJob, RayJob submitter, or a
/// Pod with `restartPolicy` `Never`/`OnFailure` or owned by a Job.
pub(crate) fn long_running(w: &Workload<'_>) -> bool {
    let o = w.object;
    match (o.group(), o.kind.as_str()) {
        ("batch", "Job" | "CronJob") => false,
        ("ray.io", "RayJob") if w.role == "submitter" => false,
        ("", "Pod" | "PodTemplate") => {
            let restart = w.get("restartPolicy").and_then(Node::as_str);
            let job_owned = o
                .metadata()
                .get("ownerReferences")
                .map_or(&[][..], Node::items)
                .iter()
                .any(|r| r.get("kind").and_then(Node::as_str) == Some("Job"));
            !matches!(restart, Some("Never" | "OnFailure")) && !job_owned
        }
        _ => true,
    }
}

/// The namespace of a namespaced object (`None` for cluster-scoped ones).
pub(crate) fn namespace_of(o: &Object) -> Option<&str> {
    (!is_cluster_scoped(o)).then(|| o.effective_namespace())
}

/// The ServiceAccount a pod runs as: `serviceAccountName`, else the
/// deprecated `serviceAccount`, else `default`. Returns the name and the
/// field it came from (`None` when defaulted).
pub(crate) fn service_account<'a>(w: &Workload<'a>) -> (&'a str, Option<&'static str>) {
    for key in ["serviceAccountName", "serviceAccount"] {
        if let Some(name) = w
            .get(key)
            .filter(|n| !n.is_null())
            .and_then(Node::as_str)
            .filter(|s| !s.is_empty())
        {
            return (name, Some(key));
        }
    }
    ("default", None)
}

/// Namespaces that hold at least one pod template, each with the first
/// object (in input order) that holds one there. System namespaces
/// (`kube-system`, `kube-public`, `kube-node-lease`) are left out, and so
/// are KServe ServingRuntimes and PodTemplates, which run no pods of their
/// own.
pub(crate) fn namespaces_with_workloads<'a>(cx: &Context<'a>) -> BTreeMap<&'a str, &'a Object> {
    let mut out = BTreeMap::new();
    for (i, ws) in cx.workloads.iter().enumerate() {
        let o = &cx.objects[i];
        if ws.is_empty()
            || o.kind == "PodTemplate"
            || (o.group() == "serving.kserve.io" && o.kind != "InferenceService")
        {
            continue;
        }
        let Some(ns) = namespace_of(o) else { continue };
        if matches!(ns, "kube-system" | "kube-public" | "kube-node-lease") {
            continue;
        }
        out.entry(ns).or_insert(o);
    }
    out
}

/// Reports a namespace-level finding: on the Namespace object when the
/// input has it, else on the first object in the namespace that holds a pod
/// template (at its `metadata.namespace`).
pub(crate) fn report_namespace(
    cx: &Context<'_>,
    out: &mut Emitter<'_>,
    ns: &str,
    first: &Object,
    message: String,
) {
    match cx
        .of_kind("Namespace")
        .find(|n| n.group().is_empty() && n.name == ns)
    {
        Some(n) => out.report(n, Path::keys("metadata.name"), message),
        None => out.report_keyed(first, Path::keys("metadata.namespace"), ns, message),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use palisade_k8s::load::load_str;

    fn node(yaml: &str) -> Node {
        let mut out = load_str(
            "t.yaml",
            &format!("apiVersion: v1\nkind: X\nmetadata: {{name: x}}\nv: {yaml}\n"),
        );
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        out.objects.remove(0).root.get("v").unwrap().clone()
    }

    #[test]
    fn selector_match_labels_and_expressions() {
        let labels = node("{app: vllm, tier: gpu}");
        let sel = node(
            "{matchLabels: {app: vllm}, matchExpressions: [{key: tier, operator: In, values: [gpu, cpu]}]}",
        );
        assert!(selector_matches(Some(&sel), Some(&labels), true));
        let sel = node("{matchExpressions: [{key: tier, operator: NotIn, values: [gpu]}]}");
        assert!(!selector_matches(Some(&sel), Some(&labels), true));
        let sel = node("{matchExpressions: [{key: canary, operator: DoesNotExist}]}");
        assert!(selector_matches(Some(&sel), Some(&labels), true));
        let sel = node("{matchExpressions: [{key: tier, operator: Bogus}]}");
        assert!(!selector_matches(Some(&sel), Some(&labels), true));
    }

    #[test]
    fn empty_selector_depends_on_api_version_and_missing_selects_nothing() {
        let labels = node("{app: vllm}");
        let empty = node("{}");
        assert!(selector_matches(Some(&empty), Some(&labels), true));
        assert!(!selector_matches(Some(&empty), Some(&labels), false));
        assert!(!selector_matches(None, Some(&labels), true));
        let sel = node("{matchLabels: {app: vllm}}");
        assert!(!selector_matches(Some(&sel), None, true));
    }

    #[test]
    fn zero_quantities() {
        for z in ["0", "0m", "0Mi", "0.0", "\"0\""] {
            assert!(quantity_is_zero(&node(z)), "{z}");
        }
        for nz in ["1", "500m", "0.5", "1Gi", "abc"] {
            assert!(!quantity_is_zero(&node(nz)), "{nz}");
        }
    }
}

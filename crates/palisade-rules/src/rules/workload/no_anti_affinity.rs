//! PLS-WL-021: Replicas may all land on one node.
//!
//! What it does: flags Deployments and StatefulSets with two or more
//! replicas (or an autoscaler allowing two or more) whose pod template has
//! neither a pod anti-affinity term (required or preferred) nor a
//! `topologySpreadConstraints` entry on the node (`kubernetes.io/hostname`)
//! or zone (`topology.kubernetes.io/zone`) topology.
//!
//! Why it matters: the scheduler may place every replica on the same node,
//! and one node failure or drain then takes the whole service down.
//!
//! Example: a 3-replica embedding service with no affinity at all.
//!
//! Fix: add `topologySpreadConstraints` on `kubernetes.io/hostname`, or a
//! preferred pod anti-affinity on it.

use super::support::{autoscaler, replicas};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct NoAntiAffinity;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-021",
    title: "Replicas may all land on one node",
    severity: Severity::Info,
    category: "reliability",
    rationale: "Without pod anti-affinity or a topology spread constraint the scheduler is free to put every replica on the same node; a single node failure, drain or GPU fault then takes the whole service down, whatever the replica count says.",
    remediation: "Add `topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: <the pod labels>}}]`, or a `preferredDuringSchedulingIgnoredDuringExecution` pod anti-affinity on `kubernetes.io/hostname`.",
    references: References {
        kube_linter: &["no-anti-affinity"],
        kube_score: &[
            "deployment-has-host-podantiaffinity",
            "statefulset-has-host-podantiaffinity",
        ],
        links: &[
            "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity",
            "https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/",
        ],
        ..References::NONE
    },
};

const SPREAD_KEYS: &[&str] = &[
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];

/// Whether the pod spec spreads its pods: any pod anti-affinity term, or a
/// topology spread constraint on a node or zone key.
fn spreads(spec: &Node) -> bool {
    let anti = spec.at(&["affinity", "podAntiAffinity"]).is_some_and(|a| {
        !a.list("requiredDuringSchedulingIgnoredDuringExecution")
            .is_empty()
            || !a
                .list("preferredDuringSchedulingIgnoredDuringExecution")
                .is_empty()
    });
    anti || spec.list("topologySpreadConstraints").iter().any(|t| {
        t.get("topologyKey")
            .and_then(Node::as_str)
            .is_some_and(|k| SPREAD_KEYS.contains(&k))
    })
}

impl Rule for NoAntiAffinity {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !matches!(obj.kind.as_str(), "Deployment" | "StatefulSet")
            || !matches!(obj.group(), "apps" | "extensions")
        {
            return;
        }
        let n = match autoscaler(cx, obj) {
            Some((a, _)) => a.spec().get("maxReplicas").and_then(Node::as_i64),
            None => replicas(obj),
        };
        let Some(n) = n.filter(|n| *n >= 2) else {
            return;
        };
        let Some(spec) = obj.root.at(&["spec", "template", "spec"]) else {
            return;
        };
        if spreads(spec) {
            return;
        }
        out.report(
            obj,
            Path::keys("spec.template.spec.affinity"),
            format!(
                "the {} runs up to {n} replicas with neither pod anti-affinity nor a topology spread constraint: they may all land on one node",
                obj.kind
            ),
        );
    }
}

//! PLS-WL-006: Namespace with workloads has no ResourceQuota.
//!
//! What it does: for each namespace that holds pod templates in the input
//! (system namespaces aside), reports when the input has no ResourceQuota
//! there with a non-empty `spec.hard`. Reported on the Namespace object when
//! present, else on the first workload in the namespace.
//!
//! Why it matters: a ResourceQuota caps what a whole namespace may consume
//! (CPU, memory, GPUs, object counts), so one team's runaway scale-up cannot
//! starve the rest of the cluster.
//!
//! Peer note: Trivy KSV-0040 asks for the same control but, run per object,
//! reports every object that is not itself a ResourceQuota with CPU and
//! memory quotas.
//!
//! Fix: add a ResourceQuota with `spec.hard` (`requests.cpu`,
//! `requests.memory`, `limits.memory`, `requests.nvidia.com/gpu`...).

use super::support::{in_namespace, namespaces_with_workloads, report_namespace};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};

pub(crate) struct NamespaceResourceQuota;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-006",
    title: "Namespace with workloads has no ResourceQuota",
    severity: Severity::Low,
    category: "resources",
    rationale: "A ResourceQuota caps the total CPU, memory, GPUs and object counts a namespace may claim, so a runaway autoscaler, a fork-bombing Job or a compromised CI token in one namespace cannot exhaust the cluster for everyone else.",
    remediation: "Create a ResourceQuota in the namespace with `spec.hard` limits such as `requests.cpu`, `requests.memory`, `limits.memory`, `requests.nvidia.com/gpu` and `pods`.",
    references: References {
        trivy: &["KSV-0040"],
        links: &["https://kubernetes.io/docs/concepts/policy/resource-quotas/"],
        ..References::NONE
    },
};

impl Rule for NamespaceResourceQuota {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for (ns, first) in namespaces_with_workloads(cx) {
            let has = in_namespace(cx, "ResourceQuota", ns).any(|q| {
                !q.spec()
                    .get("hard")
                    .map_or(&[][..], Node::entries)
                    .is_empty()
            });
            if !has {
                report_namespace(
                    cx,
                    out,
                    ns,
                    first,
                    format!("namespace {ns:?} runs workloads but has no ResourceQuota"),
                );
            }
        }
    }
}

//! PLS-WL-005: Namespace with workloads has no LimitRange.
//!
//! What it does: for each namespace that holds pod templates in the input
//! (system namespaces aside), reports when the input has no LimitRange there
//! with at least one `spec.limits` item. Reported on the Namespace object
//! when present, else on the first workload in the namespace.
//!
//! Why it matters: a LimitRange gives every container default requests and
//! limits and caps what one container may ask for, so a manifest that forgets
//! `resources` still cannot take a whole node.
//!
//! Peer note: Trivy KSV-0039 asks for the same control but, run per object,
//! reports every object that is not itself a complete LimitRange.
//!
//! Fix: add a LimitRange with a `type: Container` item (`default`,
//! `defaultRequest`, `max`) to the namespace.

use super::support::{in_namespace, namespaces_with_workloads, report_namespace};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};

pub(crate) struct NamespaceLimitRange;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-005",
    title: "Namespace with workloads has no LimitRange",
    severity: Severity::Low,
    category: "resources",
    rationale: "A LimitRange gives containers that forget `resources` default requests and limits and caps what any one container may request, so a single unbounded model server or batch job cannot claim a whole node; without one every manifest has to get this right on its own.",
    remediation: "Create a LimitRange in the namespace with a `type: Container` item setting `default` and `defaultRequest` (cpu, memory) and `max`, sized for the namespace's workloads.",
    references: References {
        trivy: &["KSV-0039"],
        links: &["https://kubernetes.io/docs/concepts/policy/limit-range/"],
        ..References::NONE
    },
};

impl Rule for NamespaceLimitRange {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for (ns, first) in namespaces_with_workloads(cx) {
            let has = in_namespace(cx, "LimitRange", ns).any(|lr| {
                !lr.spec()
                    .get("limits")
                    .map_or(&[][..], Node::items)
                    .is_empty()
            });
            if !has {
                report_namespace(
                    cx,
                    out,
                    ns,
                    first,
                    format!("namespace {ns:?} runs workloads but has no LimitRange"),
                );
            }
        }
    }
}

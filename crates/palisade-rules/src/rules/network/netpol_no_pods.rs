//! PLS-NET-012: NetworkPolicy selects no pod.
//!
//! What it does: flags Kubernetes NetworkPolicies whose non-empty
//! `podSelector` matches the pods of no workload in the same namespace of
//! the input. An empty `podSelector` (the whole namespace, including pods
//! created later) is never reported.
//!
//! Why it matters: a policy that selects nothing protects nothing; it is
//! usually written for pods whose labels have since changed, so the pods it
//! was meant to isolate are open.
//!
//! Example: `podSelector: {matchLabels: {app: vllm}}` while the pods are
//! labelled `app.kubernetes.io/name: vllm`.
//!
//! Fix: make the selector match the pods it is meant for, or delete the
//! policy.

use super::netpol::{is_empty_selector, is_k8s_netpol, pod_labels_by_namespace, selector_matches};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};

pub(crate) struct NetpolNoPods;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-012",
    title: "NetworkPolicy selects no pod",
    severity: Severity::Low,
    category: "network",
    rationale: "A NetworkPolicy only isolates the pods its `podSelector` selects. One that selects no pod protects nothing, and usually means the labels of the pods it was written for have changed, leaving them open. Judged on the input: pods created by something not in it cannot be seen.",
    remediation: "Make `spec.podSelector` match the pod template labels of the workloads it is meant to isolate, or delete the policy.",
    references: References {
        kube_linter: &["dangling-networkpolicy"],
        kube_score: &["networkpolicy-targets-pod"],
        links: &["https://kubernetes.io/docs/concepts/services-networking/network-policies/"],
        ..References::NONE
    },
};

impl Rule for NetpolNoPods {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let mut pods = None;
        for np in cx.of_kind("NetworkPolicy").filter(|o| is_k8s_netpol(o)) {
            let sel = np.spec().get("podSelector");
            if is_empty_selector(sel) {
                continue;
            }
            let pods = pods.get_or_insert_with(|| pod_labels_by_namespace(cx));
            let ns = np.effective_namespace();
            let in_ns = pods.get(ns).map_or(&[][..], Vec::as_slice);
            if in_ns
                .iter()
                .any(|l| selector_matches(sel, l, false) == Some(true))
            {
                continue;
            }
            out.report(
                np,
                Path::keys("spec.podSelector"),
                format!(
                    "NetworkPolicy {:?} selects no pod of the {} workload(s) in namespace {ns:?}",
                    np.name,
                    in_ns.len()
                ),
            );
        }
    }
}

//! PLS-NET-003: NetworkPolicy without a podSelector.
//!
//! What it does: flags NetworkPolicies whose `spec.podSelector` is missing
//! or null.
//!
//! Why it matters: the API server decodes a missing `podSelector` as the
//! empty selector, so the policy silently applies to every pod in its
//! namespace, and its allow rules open those pods to the sources it lists.
//! A policy meant for one workload then widens access for all of them;
//! `kubectl apply` with client-side validation refuses it outright.
//!
//! Example: `spec: {ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}`.
//!
//! Fix: set `spec.podSelector` to the pods the policy is for, or to `{}` when
//! it really is meant for the whole namespace.

use super::netpol::is_k8s_netpol;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct NetpolNoPodSelector;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-003",
    title: "NetworkPolicy without a podSelector",
    severity: Severity::Low,
    category: "network",
    rationale: "A NetworkPolicy without `spec.podSelector` is read as `podSelector: {}` and applies to every pod in its namespace, so its allow rules open all of them to the listed sources. This is rarely what was meant; write the selector explicitly.",
    remediation: "Set `spec.podSelector.matchLabels` (or `matchExpressions`) to the pods the policy protects, or `spec.podSelector: {}` when the policy is deliberately namespace-wide.",
    references: References {
        trivy: &["KSV-0038"],
        links: &[
            "https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/#NetworkPolicySpec",
        ],
        ..References::NONE
    },
};

impl Rule for NetpolNoPodSelector {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_k8s_netpol(obj) {
            return;
        }
        if obj.spec().get("podSelector").is_some_and(|n| !n.is_null()) {
            return;
        }
        out.report(
            obj,
            Path::keys("spec.podSelector"),
            format!(
                "NetworkPolicy \"{}\" has no spec.podSelector: it is read as {{}} and applies to every pod in namespace \"{}\"",
                obj.name,
                obj.effective_namespace()
            ),
        );
    }
}

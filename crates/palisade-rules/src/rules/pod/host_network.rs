//! PLS-POD-005: Pod uses the host network namespace.
//!
//! What it does: flags pod templates with `hostNetwork: true`.
//!
//! Why it matters: the pod binds directly on the node's interfaces, sees
//! all of the node's traffic and loopback services (kubelet, metadata
//! endpoints reachable only from the node), and NetworkPolicies do not
//! select it.
//!
//! Example: `spec: {hostNetwork: true}`.
//!
//! Fix: remove `hostNetwork` and expose the pod through a Service.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct HostNetwork;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-005",
    title: "Pod uses the host network namespace",
    severity: Severity::High,
    category: "pod-security",
    rationale: "With `hostNetwork: true` the pod shares the node's network stack: it can listen on any node port, reach services bound to the node's loopback, sniff node traffic with NET_RAW, and it escapes NetworkPolicy, which does not apply to host-network pods in most CNIs. Every containerPort also becomes a host port.",
    remediation: "Remove `spec.hostNetwork` or set it to false and expose the pod through a Service (NodePort or LoadBalancer if it must be reachable from outside). Keep host networking for node agents (CNI, kube-proxy) only.",
    references: References {
        trivy: &["KSV-0009"],
        kubescape: &["C-0041"],
        checkov: &["CKV_K8S_19"],
        polaris: &["hostNetworkSet"],
        kube_linter: &["host-network"],
        pss: &["baseline:host-namespaces"],
        cis: &["5.2.4"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        ..References::NONE
    },
};

impl Rule for HostNetwork {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if w.flag("hostNetwork") {
            out.report(
                w.object,
                w.path("hostNetwork"),
                "pod uses the host network namespace (hostNetwork: true): it listens on the node's interfaces and is not isolated by NetworkPolicy",
            );
        }
    }
}

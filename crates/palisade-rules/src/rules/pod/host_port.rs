//! PLS-POD-006: Container binds a host port.
//!
//! What it does: flags container ports with a non-zero `hostPort` (init and
//! ephemeral containers included). Pods on the host network are left to
//! PLS-POD-005: every port of theirs is a host port.
//!
//! Why it matters: the port opens on the node's own address, outside the
//! Service and its NetworkPolicy-governed path, and pins the pod to nodes
//! where the port is free.
//!
//! Example: `ports: [{containerPort: 8000, hostPort: 8000}]`.
//!
//! Fix: remove `hostPort`; expose the port through a Service.

use super::who;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct HostPort;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-006",
    title: "Container binds a host port",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "A `hostPort` publishes the container on the node's own IP address, reachable by anything that can reach the node, bypassing the Service in front of the workload; depending on the CNI it is also outside NetworkPolicy. It also limits scheduling to nodes where the port is free.",
    remediation: "Remove `ports[].hostPort` and expose the port through a Service (`type: NodePort` or `LoadBalancer` if it must be reachable from outside the cluster).",
    references: References {
        trivy: &["KSV-0024"],
        kubescape: &["C-0044"],
        checkov: &["CKV_K8S_26"],
        polaris: &["hostPortSet"],
        pss: &["baseline:host-ports"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        ..References::NONE
    },
};

impl Rule for HostPort {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if w.flag("hostNetwork") {
            return;
        }
        for c in &w.containers {
            let base = c.path.key("ports");
            for (i, p) in c
                .node
                .get("ports")
                .map_or(&[][..], Node::items)
                .iter()
                .enumerate()
            {
                let Some(host) = p.get("hostPort").and_then(Node::as_i64).filter(|v| *v > 0) else {
                    continue;
                };
                let target = p
                    .get("containerPort")
                    .and_then(Node::as_i64)
                    .map(|cp| format!(" (containerPort {cp})"))
                    .unwrap_or_default();
                out.report_container(
                    w.object,
                    c.name,
                    base.index(i).key("hostPort"),
                    format!("{} binds host port {host}{target}", who(c)),
                );
            }
        }
    }
}

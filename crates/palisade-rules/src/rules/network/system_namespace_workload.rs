//! PLS-NS-002: Workload in a system namespace.
//!
//! What it does: flags objects with a pod template in `kube-system`,
//! `kube-public` or `kube-node-lease`, except the control-plane static pods
//! (`tier: control-plane` with a `component` of kube-apiserver, etcd,
//! kube-controller-manager or kube-scheduler) and cluster add-ons that
//! declare it with `priorityClassName: system-node-critical` or
//! `system-cluster-critical`.
//!
//! Why it matters: kube-system holds the service accounts and Secrets of
//! the cluster's own components and is usually exempt from Pod Security
//! and admission policies; an application there hides among them and
//! inherits their exemptions. kube-public is readable by everyone.
//!
//! Example: a model-download Job in kube-system.
//!
//! Fix: move the workload to an application namespace.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct SystemNamespaceWorkload;

static META: RuleMeta = RuleMeta {
    id: "PLS-NS-002",
    title: "Workload in a system namespace",
    severity: Severity::Medium,
    category: "namespace",
    rationale: "kube-system holds the credentials of the cluster's own components and is commonly exempted from Pod Security Admission and policy engines, so an application deployed there escapes those controls and can reach Secrets and service accounts that grant control of the cluster. kube-public is readable without authentication and kube-node-lease is reserved for node heartbeats.",
    remediation: "Set `metadata.namespace` to an application namespace. Cluster add-ons that must live in kube-system should declare `priorityClassName: system-cluster-critical` (or `system-node-critical`).",
    references: References {
        trivy: &["KSV-0037"],
        links: &[
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces",
        ],
        ..References::NONE
    },
};

const SYSTEM: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];
const CONTROL_PLANE: &[&str] = &[
    "kube-apiserver",
    "etcd",
    "kube-controller-manager",
    "kube-scheduler",
];

impl Rule for SystemNamespaceWorkload {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let obj = w.object;
        let Some(ns) = obj.namespace.as_deref().filter(|n| SYSTEM.contains(n)) else {
            return;
        };
        let priority = w.get("priorityClassName").and_then(Node::as_str);
        if matches!(
            priority,
            Some("system-node-critical" | "system-cluster-critical")
        ) {
            return;
        }
        if w.label("tier") == Some("control-plane")
            && w.label("component")
                .is_some_and(|c| CONTROL_PLANE.contains(&c))
        {
            return;
        }
        let role = if w.role.is_empty() {
            String::new()
        } else {
            format!(" ({})", w.role)
        };
        out.report_keyed(
            obj,
            Path::keys("metadata.namespace"),
            &w.role,
            format!(
                "{} \"{}\"{role} runs in the system namespace \"{ns}\" without a system priority class: application workloads belong in their own namespace",
                obj.kind, obj.name
            ),
        );
    }
}

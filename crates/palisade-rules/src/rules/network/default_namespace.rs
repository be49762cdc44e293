//! PLS-NS-001: Object in the default namespace.
//!
//! What it does: flags workloads (every kind that has a pod template) and
//! namespaced application objects (Service, Ingress, ConfigMap, Secret,
//! ServiceAccount, Role, RoleBinding, PersistentVolumeClaim,
//! HorizontalPodAutoscaler, PodDisruptionBudget) whose `metadata.namespace`
//! is `default`, or missing. Objects Kubernetes itself keeps there (Service
//! and Endpoints `kubernetes`, ServiceAccount `default`, ConfigMap
//! `kube-root-ca.crt`) are skipped, and so are objects rendered by Helm
//! without a namespace: the release namespace (`helm install -n`) decides
//! where they land.
//!
//! Why it matters: the default namespace is where everything lands by
//! accident; it usually has no Pod Security labels, quotas or default-deny
//! policy, and RBAC granted there applies to all of it.
//!
//! Example: a vLLM Deployment with no `metadata.namespace`.
//!
//! Fix: set `metadata.namespace` to a dedicated namespace.

use super::netpol::describe;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct DefaultNamespace;

static META: RuleMeta = RuleMeta {
    id: "PLS-NS-001",
    title: "Object in the default namespace",
    severity: Severity::Low,
    category: "namespace",
    rationale: "Objects without a namespace land in `default` (or whatever namespace the kubectl context points at), which normally has no Pod Security labels, ResourceQuota or default-deny NetworkPolicy, and where RBAC grants cover every tenant at once. Separate namespaces are the unit Kubernetes applies these controls to.",
    remediation: "Create a namespace for the application (with Pod Security labels, a ResourceQuota and a default-deny NetworkPolicy) and set `metadata.namespace` on every object.",
    references: References {
        kubescape: &["C-0061", "C-0212"],
        checkov: &["CKV_K8S_21"],
        trivy: &["KSV-0110"],
        kube_linter: &["use-namespace"],
        cis: &["5.7.4"],
        links: &["https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/"],
        ..References::NONE
    },
};

/// Namespaced application kinds checked besides workloads, as `(group, kind)`.
const KINDS: &[(&str, &str)] = &[
    ("", "Service"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"),
    ("networking.k8s.io", "Ingress"),
    ("extensions", "Ingress"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
];

/// Objects the control plane keeps in `default`.
fn built_in(obj: &Object) -> bool {
    matches!(
        (obj.kind.as_str(), obj.name.as_str()),
        ("Service" | "Endpoints", "kubernetes")
            | ("ServiceAccount", "default")
            | ("ConfigMap", "kube-root-ca.crt")
    )
}

impl Rule for DefaultNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let has_pods = cx
            .workloads
            .get(crate::context::index_in(cx.objects, obj))
            .is_some_and(|w| !w.is_empty());
        let listed = KINDS
            .iter()
            .any(|(g, k)| obj.kind == *k && obj.group() == *g);
        if !(has_pods || listed) || built_in(obj) || crate::context::is_cluster_scoped(obj) {
            return;
        }
        let msg = match obj.namespace.as_deref() {
            Some("default") => format!("{} is in the default namespace", describe(obj)),
            Some(_) => return,
            None if obj.source.template.is_some() => return,
            None => format!(
                "{} has no metadata.namespace: it lands in the kubectl context's namespace, \"default\" unless -n is given",
                describe(obj)
            ),
        };
        out.report(obj, Path::keys("metadata.namespace"), msg);
    }
}

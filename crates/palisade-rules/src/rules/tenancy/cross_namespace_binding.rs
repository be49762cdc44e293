//! PLS-TEN-002: ServiceAccount bound to a role in another tenant's
//! namespace.
//!
//! What it does: flags RoleBindings whose subjects include a ServiceAccount
//! of a different namespace, when neither namespace is a system namespace
//! (`kube-*`, `openshift-*`, and the usual platform namespaces of
//! cert-manager, ingress controllers, monitoring, GPU operator, Kubeflow
//! and KServe).
//!
//! Why it matters: a workload of tenant A holds permissions in tenant B's
//! namespace: compromising A's pod is compromising B.
//!
//! Example: RoleBinding in `team-b` granting `edit` to
//! `system:serviceaccount:team-a:trainer`.
//!
//! Fix: run the workload in the namespace it acts on, or grant through a
//! platform namespace.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct CrossNamespaceBinding;

static META: RuleMeta = RuleMeta {
    id: "PLS-TEN-002",
    title: "ServiceAccount bound to a role in another tenant's namespace",
    severity: Severity::Medium,
    category: "tenancy",
    rationale: "Namespaces separate tenants only while each tenant's identities act in their own namespace. A RoleBinding that grants a ServiceAccount of another namespace rights here links the two: anyone who compromises a pod of the other tenant (a notebook, a training job, a model server running remote code) inherits those rights in this namespace, often to its Secrets and model servers.",
    remediation: "Bind only ServiceAccounts of the binding's own namespace; run cross-namespace automation from a dedicated platform namespace (whose workloads are trusted by every tenant), or use per-tenant copies of the controller.",
    references: References {
        mitre: &["T1078.004"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/multi-tenancy/#access-controls",
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects",
        ],
        ..References::NONE
    },
};

/// Namespaces of the cluster's platform, trusted by every tenant.
fn is_platform(ns: &str) -> bool {
    ns.starts_with("kube-")
        || ns.starts_with("openshift")
        || ns.starts_with("istio-")
        || ns.starts_with("knative-")
        || ns.starts_with("gke-")
        || matches!(
            ns,
            "cert-manager"
                | "ingress-nginx"
                | "traefik"
                | "monitoring"
                | "observability"
                | "gpu-operator"
                | "nvidia-gpu-operator"
                | "kubeflow"
                | "kserve"
                | "argocd"
                | "flux-system"
                | "kyverno"
                | "gatekeeper-system"
                | "ray-system"
                | "kuberay-system"
                | "palisade"
        )
}

impl Rule for CrossNamespaceBinding {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, o: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !o.is("rbac.authorization.k8s.io", "RoleBinding") {
            return;
        }
        let ns = o.effective_namespace();
        if is_platform(ns) {
            return;
        }
        let role = o
            .root
            .get("roleRef")
            .and_then(|r| r.get("name"))
            .and_then(Node::as_str)
            .unwrap_or("");
        for (i, s) in o.root.list("subjects").iter().enumerate() {
            if s.get("kind").and_then(Node::as_str) != Some("ServiceAccount") {
                continue;
            }
            let Some(sns) = s.get("namespace").and_then(Node::as_str) else {
                continue;
            };
            let name = s.get("name").and_then(Node::as_str).unwrap_or("");
            if sns == ns || is_platform(sns) {
                continue;
            }
            out.report_keyed(
                o,
                Path::keys("subjects").index(i),
                &format!("{sns}/{name}"),
                format!(
                    "RoleBinding \"{}\" in namespace \"{ns}\" grants role {role:?} to ServiceAccount {sns}/{name} of another namespace: a compromise of that tenant's pods reaches this one",
                    o.name
                ),
            );
        }
    }
}

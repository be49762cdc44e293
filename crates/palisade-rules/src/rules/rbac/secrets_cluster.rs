//! PLS-RBAC-005: Secrets readable in every namespace.
//!
//! What it does: flags every subject that a ClusterRoleBinding lets get,
//! list or watch Secrets (`secrets` in the core group, also through `*`),
//! and every ClusterRole with such a rule that no binding of the input uses.
//! Rules limited by `resourceNames` do not count: they name the Secrets.
//!
//! Why it matters: ServiceAccount tokens, registry credentials and TLS keys
//! of every namespace, kube-system included, are Secrets; reading them all is
//! close to cluster-admin.
//!
//! Example: `ClusterRole` with `{apiGroups: [""], resources: [secrets],
//! verbs: [list]}` bound by a ClusterRoleBinding.
//!
//! Fix: use a Role in the namespaces that need it, limited by resourceNames.

use super::model::{Names, Need, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct SecretsCluster;

/// get/list/watch on Secrets, shared with PLS-RBAC-006.
pub(crate) const READ_SECRETS: &[Need] = &[Need::Api(
    Req::new(&["get", "list", "watch"], "", "secrets").names(Names::Unrestricted),
)];

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-005",
    title: "Secrets readable in every namespace",
    severity: Severity::Critical,
    category: "rbac",
    rationale: "Reading Secrets cluster-wide returns the ServiceAccount tokens, registry credentials and TLS keys of every namespace, kube-system included; at least one of those usually belongs to a controller with cluster-admin-like rights, so the subject is one request away from them. `list` and `watch` return the values too, not only names.",
    remediation: "Grant Secret access with a Role (or a RoleBinding to a ClusterRole) in the namespaces that need it, and limit it with `resourceNames` to the Secrets the workload reads; drop `list`/`watch` when `get` of known names suffices.",
    references: References {
        trivy: &["KSV-0041"],
        kubescape: &["C-0015", "C-0186"],
        kube_linter: &["access-to-secrets"],
        cis: &["5.1.2"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "read Secrets (get/list/watch)",
    ways: &[&[READ_SECRETS]],
    reach: Reach::Cluster,
    unused_roles: true,
};

impl Rule for SecretsCluster {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

//! PLS-RBAC-001: Cluster-admin rights granted cluster-wide.
//!
//! What it does: flags every subject of a ClusterRoleBinding whose role
//! allows all verbs on all resources of all API groups: the built-in
//! `cluster-admin` (always complete, since the API server reconciles it at
//! start), or any role with such a rule, including through aggregation.
//!
//! Why it matters: the subject can read every Secret, run any pod on any
//! node and rewrite RBAC itself; one stolen token is the whole cluster.
//!
//! Example: `ClusterRoleBinding` with `roleRef: {kind: ClusterRole, name:
//! cluster-admin}` and a ServiceAccount subject.
//!
//! Fix: bind a role with the verbs and resources the subject needs; keep
//! break-glass admin access in a group bound only when needed.

use super::model::Need;
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct ClusterAdmin;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-001",
    title: "Cluster-admin rights granted cluster-wide",
    severity: Severity::Critical,
    category: "rbac",
    rationale: "A ClusterRoleBinding to cluster-admin, or to any role with all verbs on all resources in all API groups, lets the subject read every Secret, run privileged pods on any node and grant itself anything. A stolen token of such a subject, often a controller's ServiceAccount, is the whole cluster.",
    remediation: "Bind a Role or ClusterRole that lists only the `apiGroups`, `resources` and `verbs` the subject needs, with a RoleBinding where one namespace suffices. Keep administrator access in a group that is bound only when needed, and remove `cluster-admin` from `roleRef` of workload bindings.",
    references: References {
        trivy: &["KSV-0111"],
        kubescape: &["C-0035", "C-0185"],
        polaris: &["clusterrolebindingClusterAdmin"],
        kube_linter: &["cluster-admin-role-binding"],
        cis: &["5.1.1"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "do anything (all verbs on all resources)",
    ways: &[&[&[Need::FullAdmin]]],
    reach: Reach::Cluster,
    unused_roles: false,
};

impl Rule for ClusterAdmin {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

//! PLS-RBAC-002: Full control of a namespace granted.
//!
//! What it does: flags every subject of a RoleBinding whose role allows all
//! verbs on all resources of all API groups (a RoleBinding to
//! `cluster-admin`, or to a Role or ClusterRole with such a rule). The
//! grant holds in the binding's namespace only.
//!
//! Why it matters: in that namespace the subject reads every Secret, runs
//! pods as any ServiceAccount, execs into them and binds itself any role,
//! including ones that reach beyond the namespace through those
//! ServiceAccounts.
//!
//! Example: `RoleBinding` in `payments` with `roleRef: {kind: ClusterRole,
//! name: cluster-admin}`.
//!
//! Fix: bind a role listing the resources and verbs the subject needs.

use super::model::Need;
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct NamespaceAdmin;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-002",
    title: "Full control of a namespace granted",
    severity: Severity::High,
    category: "rbac",
    rationale: "A RoleBinding to cluster-admin, or to a role with all verbs on all resources in all API groups, gives the subject every Secret of the namespace, pods running as any of its ServiceAccounts, exec into them, and the right to bind itself any role there. Whatever those ServiceAccounts can do elsewhere, the subject can do too.",
    remediation: "Point `roleRef` at a Role that lists the `apiGroups`, `resources` and `verbs` the subject needs; if it deploys applications, the built-in `edit` role, or a narrower Role, is usually enough.",
    references: References {
        trivy: &["KSV-0111"],
        polaris: &[
            "rolebindingClusterAdminClusterRole",
            "rolebindingClusterAdminRole",
        ],
        cis: &["5.1.1"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "do anything (all verbs on all resources)",
    ways: &[&[&[Need::FullAdmin]]],
    reach: Reach::Namespace,
    unused_roles: false,
};

impl Rule for NamespaceAdmin {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

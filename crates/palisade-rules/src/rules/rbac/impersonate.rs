//! PLS-RBAC-010: Subject can impersonate users or groups.
//!
//! What it does: flags every subject that a ClusterRoleBinding allows the
//! `impersonate` verb on `users`, `groups` or `uids` (also through
//! wildcards), and every ClusterRole with such a rule that no binding of
//! the input uses. A RoleBinding cannot grant this (users and groups are
//! not namespaced), so Roles are not judged. Rules limited by
//! `resourceNames` count only when they name the `system:masters` group.
//!
//! Why it matters: `kubectl --as=anyone --as-group=system:masters` is
//! cluster-admin, without any binding to show for it.
//!
//! Example: `{apiGroups: [""], resources: [users, groups], verbs: [impersonate]}`.
//!
//! Fix: remove the rule, or limit it with resourceNames to harmless names.

use super::model::{Names, Need, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct Impersonate;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-010",
    title: "Subject can impersonate users or groups",
    severity: Severity::Critical,
    category: "rbac",
    rationale: "With `impersonate` on users and groups, a request sent `--as=anyone --as-group=system:masters` is authorized as cluster-admin, and audit logs show the impersonated identity. No binding reveals that power.",
    remediation: "Remove `impersonate` (and `*`) from `rules[].verbs` for `users`, `groups` and `uids`; when an authenticating proxy needs it, limit `resourceNames` to the identities it may assert, never `system:masters`.",
    references: References {
        trivy: &["KSV-0043"],
        kubescape: &["C-0065"],
        cis: &["5.1.8"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#impersonate-verb",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "impersonate users or groups",
    ways: &[&[&[
        Need::Api(
            Req::new(&["impersonate"], "", "users")
                .names(Names::Unrestricted)
                .cluster_scoped(),
        ),
        Need::Api(
            Req::new(&["impersonate"], "", "groups")
                .names(Names::OneOf(&["system:masters"]))
                .cluster_scoped(),
        ),
        Need::Api(
            Req::new(&["impersonate"], "authentication.k8s.io", "uids")
                .names(Names::Unrestricted)
                .cluster_scoped(),
        ),
    ]]],
    reach: Reach::Cluster,
    unused_roles: true,
};

impl Rule for Impersonate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

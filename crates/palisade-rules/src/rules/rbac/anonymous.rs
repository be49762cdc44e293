//! PLS-RBAC-016: Anonymous or unauthenticated requests granted permissions.
//!
//! What it does: flags every non-default RoleBinding or ClusterRoleBinding
//! with the subject `system:anonymous` (user) or `system:unauthenticated`
//! (group), whatever the role.
//!
//! Why it matters: anyone who reaches the API server endpoint, from the
//! internet if it is exposed, gets the role without a credential.
//!
//! Example: `subjects: [{kind: Group, name: system:unauthenticated}]`.
//!
//! Fix: remove the subject; bind a real group or ServiceAccount.

use super::model::RoleState;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};

pub(crate) struct Anonymous;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-016",
    title: "Anonymous or unauthenticated requests granted permissions",
    severity: Severity::Critical,
    category: "rbac",
    rationale: "Requests without credentials are authenticated as user `system:anonymous` in group `system:unauthenticated` when anonymous auth is on (the default). A binding to either gives its role to anyone who can reach the API server, which on managed clusters is often the internet.",
    remediation: "Remove `system:anonymous` and `system:unauthenticated` from `subjects`; bind the role to the group or ServiceAccount that needs it, and consider `--anonymous-auth=false` or an AuthenticationConfiguration limiting anonymous access to health endpoints.",
    references: References {
        trivy: &["KSV-0122"],
        kubescape: &["C-0262"],
        links: &[
            "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests",
        ],
        ..References::NONE
    },
};

impl Rule for Anonymous {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let model = cx.rbac();
        for b in &model.bindings {
            if b.exempt {
                continue;
            }
            for s in &b.subjects {
                if !matches!(s.name, "system:anonymous" | "system:unauthenticated") {
                    continue;
                }
                let unseen = match b.role {
                    RoleState::Resolved(_) => "",
                    _ => " (a role not in the input)",
                };
                out.report_keyed(
                    b.object,
                    Path::keys("subjects").index(s.index),
                    &s.key(),
                    format!(
                        "{}{unseen}: {s} gets it {} without any credential",
                        b.describe(),
                        b.scope
                    ),
                );
            }
        }
    }
}

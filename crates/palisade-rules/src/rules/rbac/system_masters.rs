//! PLS-RBAC-018: Binding names the system:masters group.
//!
//! What it does: flags every non-default binding with the subject group
//! `system:masters`.
//!
//! Why it matters: members of `system:masters` bypass authorization
//! altogether, so the binding grants nothing; it shows access planned around
//! a group whose members RBAC cannot restrict and whose certificates cannot
//! be revoked.
//!
//! Example: `subjects: [{kind: Group, name: system:masters}]`.
//!
//! Fix: use an ordinary group bound to the role it needs.

use super::model::SubjectKind;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};

pub(crate) struct SystemMasters;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-018",
    title: "Binding names the system:masters group",
    severity: Severity::Low,
    category: "rbac",
    rationale: "Requests from members of `system:masters` skip authorization entirely (RBAC and webhooks), so a binding to it changes nothing; it signals identities issued into that group, typically client certificates with `O=system:masters`, which RBAC can neither limit nor revoke before they expire.",
    remediation: "Remove `system:masters` from `subjects`; issue credentials in an ordinary group and bind that group (kubeadm uses `kubeadm:cluster-admins` bound to cluster-admin since v1.29), so access can be withdrawn by deleting a binding.",
    references: References {
        cis: &["5.1.7"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        ],
        ..References::NONE
    },
};

impl Rule for SystemMasters {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let model = cx.rbac();
        for b in model.bindings.iter().filter(|b| !b.exempt) {
            for s in b
                .subjects
                .iter()
                .filter(|s| s.kind == SubjectKind::Group && s.name == "system:masters")
            {
                out.report_keyed(
                    b.object,
                    Path::keys("subjects").index(s.index),
                    &s.key(),
                    format!(
                        "{} {:?} names Group \"system:masters\", which bypasses authorization: the binding grants nothing, and its members cannot be limited by RBAC",
                        b.object.kind, b.object.name
                    ),
                );
            }
        }
    }
}

//! PLS-RBAC-003: Built-in admin or edit role granted.
//!
//! What it does: flags every subject bound to the built-in `admin` or
//! `edit` ClusterRole, by a RoleBinding (that namespace) or a
//! ClusterRoleBinding (every namespace).
//!
//! Why it matters: both roles read and write Secrets, exec into pods, run
//! pods as any ServiceAccount of the namespace, impersonate those
//! ServiceAccounts and mint their tokens; `admin` also writes Roles and
//! RoleBindings. Their rules also grow with every ClusterRole labelled
//! `aggregate-to-admin` / `aggregate-to-edit` that an operator installs.
//!
//! Example: `RoleBinding` with `roleRef: {kind: ClusterRole, name: edit}`
//! for a CI ServiceAccount.
//!
//! Fix: bind a Role with the resources and verbs the subject needs.

use super::model::{RoleKind, Scope};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};

pub(crate) struct AdminEdit;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-003",
    title: "Built-in admin or edit role granted",
    severity: Severity::Medium,
    category: "rbac",
    rationale: "The built-in edit role reads and writes Secrets, execs into pods, creates pods and workloads running as any ServiceAccount of the namespace, impersonates those ServiceAccounts and mints their tokens; admin adds Roles and RoleBindings. Both also absorb every ClusterRole labelled aggregate-to-edit or aggregate-to-admin. Bound to a workload or CI identity, that is every ServiceAccount's power in the namespace.",
    remediation: "Replace `roleRef.name: admin` / `edit` with a Role that lists only the needed `resources` and `verbs`; keep admin and edit for people, bound per namespace with a RoleBinding rather than a ClusterRoleBinding.",
    references: References {
        trivy: &["KSV-0111"],
        links: &["https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles"],
        ..References::NONE
    },
};

impl Rule for AdminEdit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let model = cx.rbac();
        for b in &model.bindings {
            if b.exempt || b.role_kind != Some(RoleKind::ClusterRole) {
                continue;
            }
            let powers = match b.role_name {
                "admin" => {
                    "read and write Secrets, exec into pods, run pods as any ServiceAccount and write Roles and RoleBindings"
                }
                "edit" => {
                    "read and write Secrets, exec into pods and run pods as any ServiceAccount"
                }
                _ => continue,
            };
            let scope = match b.scope {
                Scope::Cluster => "in every namespace".to_owned(),
                Scope::Namespace(ns) => format!("in namespace {ns:?}"),
            };
            for s in &b.subjects {
                out.report_keyed(
                    b.object,
                    Path::keys("subjects").index(s.index),
                    &s.key(),
                    format!(
                        "{s} is bound to the built-in {:?} ClusterRole {scope} by {} {:?}: it can {powers}",
                        b.role_name, b.object.kind, b.object.name
                    ),
                );
            }
        }
    }
}

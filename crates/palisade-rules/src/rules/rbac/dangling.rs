//! PLS-RBAC-019: Binding refers to a role that is not there.
//!
//! What it does: flags every non-default binding whose `roleRef` names a
//! Role (in the binding's namespace) or ClusterRole that neither the input
//! nor every cluster (built-in and `system:` roles) has, or a roleRef the API
//! server refuses (a ClusterRoleBinding to a Role, no name).
//!
//! Why it matters: the binding's permissions cannot be checked, and whoever
//! later creates a role with that name grants it to these subjects.
//!
//! Example: `roleRef: {kind: Role, name: deployer}` with no Role `deployer`.
//!
//! Fix: add the role to the same manifests, or remove the binding.

use super::model::{RoleKind, RoleState, Scope};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};

pub(crate) struct Dangling;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-019",
    title: "Binding refers to a role that is not there",
    severity: Severity::Low,
    category: "rbac",
    rationale: "A binding whose role is missing grants nothing today, but nothing in it can be reviewed, and anyone who may create a Role or ClusterRole of that name decides what its subjects get. Polaris fails its exec/attach binding checks on such bindings for the same reason.",
    remediation: "Ship the Role or ClusterRole named in `roleRef.name` with the binding (same namespace for a Role), fix the name, or delete the binding.",
    references: References {
        polaris: &[
            "clusterrolebindingPodExecAttach",
            "rolebindingClusterRolePodExecAttach",
            "rolebindingRolePodExecAttach",
        ],
        links: &[
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding",
        ],
        ..References::NONE
    },
};

impl Rule for Dangling {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let model = cx.rbac();
        for b in model.bindings.iter().filter(|b| !b.exempt) {
            let msg = match (b.role, b.role_kind, b.scope) {
                (RoleState::Missing, Some(RoleKind::Role), Scope::Namespace(ns)) => format!(
                    "{} {:?} refers to Role {:?} in namespace {ns:?}, which is not in the input",
                    b.object.kind, b.object.name, b.role_name
                ),
                (RoleState::Missing, _, _) => format!(
                    "{} {:?} refers to ClusterRole {:?}, which is not in the input and is not built in",
                    b.object.kind, b.object.name, b.role_name
                ),
                (RoleState::Invalid, _, _) => format!(
                    "{} {:?} has a roleRef the API server refuses (kind {:?}, name {:?}): a ClusterRoleBinding must refer to a ClusterRole, and the name must be set",
                    b.object.kind,
                    b.object.name,
                    b.role_kind.map_or("?", RoleKind::as_str),
                    b.role_name
                ),
                _ => continue,
            };
            out.report(b.object, Path::keys("roleRef.name"), msg);
        }
    }
}

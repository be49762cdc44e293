//! PLS-RBAC-012: Subject can grant itself more permissions.
//!
//! What it does: flags every subject that holds `bind` on roles or
//! clusterroles together with write access to rolebindings or
//! clusterrolebindings, or `escalate` on roles or clusterroles together with
//! write access to them (also through wildcards, and across the subject's
//! bindings and implicit groups), and every non-default role that holds both
//! halves and that no binding of the input uses. Rules limited by
//! `resourceNames` (named roles) do not count for `bind`/`escalate`.
//!
//! Why it matters: RBAC stops a subject from granting permissions it does
//! not hold, unless it has `bind` or `escalate`; with them it binds itself
//! cluster-admin or writes it into a role.
//!
//! Example: `{apiGroups: [rbac.authorization.k8s.io], resources:
//! [clusterroles], verbs: [bind]}` plus `create` on clusterrolebindings.
//!
//! Fix: remove `bind`/`escalate`, or name the roles in resourceNames.

use super::model::{Names, Need, RBAC_GROUP, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct BindEscalate;

const WRITE: &[&str] = &["create", "update", "patch"];

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-012",
    title: "Subject can grant itself more permissions",
    severity: Severity::High,
    category: "rbac",
    rationale: "RBAC refuses to let a subject create a binding or role that grants more than it holds, except with the `bind` verb (bind any role, cluster-admin included) or the `escalate` verb (write any rule into a role). Together with write access to bindings or roles, that is every permission there is, in the binding's scope.",
    remediation: "Remove `bind` and `escalate` (and `*`) from `rules[].verbs` on `roles`/`clusterroles`; a controller that must create bindings gets `bind` limited by `resourceNames` to the roles it hands out.",
    references: References {
        checkov: &["CKV_K8S_157", "CKV_K8S_158"],
        cis: &["5.1.8"],
        links: &[
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping",
        ],
        kubescape: &["C-0191"],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "grant itself any permission (bind or escalate roles, and write bindings or roles)",
    ways: &[
        &[
            &[
                Need::Api(Req::new(&["bind"], RBAC_GROUP, "roles").names(Names::Unrestricted)),
                Need::Api(
                    Req::new(&["bind"], RBAC_GROUP, "clusterroles").names(Names::Unrestricted),
                ),
            ],
            &[
                Need::Api(Req::new(WRITE, RBAC_GROUP, "rolebindings")),
                Need::Api(Req::new(WRITE, RBAC_GROUP, "clusterrolebindings").cluster_scoped()),
            ],
        ],
        &[
            &[
                Need::Api(Req::new(&["escalate"], RBAC_GROUP, "roles").names(Names::Unrestricted)),
                Need::Api(
                    Req::new(&["escalate"], RBAC_GROUP, "clusterroles").names(Names::Unrestricted),
                ),
            ],
            &[
                Need::Api(Req::new(WRITE, RBAC_GROUP, "roles")),
                Need::Api(Req::new(WRITE, RBAC_GROUP, "clusterroles").cluster_scoped()),
            ],
        ],
    ],
    reach: Reach::Any,
    unused_roles: true,
};

impl Rule for BindEscalate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

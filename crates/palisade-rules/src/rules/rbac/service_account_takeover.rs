//! PLS-RBAC-011: Subject can act as any ServiceAccount.
//!
//! What it does: flags every subject allowed `impersonate` on
//! `serviceaccounts` or `create` on `serviceaccounts/token` (also through
//! wildcards), in a namespace or cluster-wide, and every non-default role
//! with such a rule that no binding of the input uses. Rules limited by
//! `resourceNames` (named ServiceAccounts) do not count.
//!
//! Why it matters: the subject gets the permissions of every ServiceAccount
//! in scope, controllers' included, with a fresh token on demand.
//!
//! Example: `{apiGroups: [""], resources: [serviceaccounts/token], verbs: [create]}`.
//!
//! Fix: remove the rule or name the ServiceAccounts in resourceNames.

use super::model::{Names, Need, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct ServiceAccountTakeover;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-011",
    title: "Subject can act as any ServiceAccount",
    severity: Severity::High,
    category: "rbac",
    rationale: "Impersonating ServiceAccounts, or creating tokens for them through the TokenRequest API (`serviceaccounts/token`), gives the subject the combined permissions of every ServiceAccount in scope, controllers' included. The built-in edit and admin roles carry both powers.",
    remediation: "Remove `impersonate` on `serviceaccounts` and `create` on `serviceaccounts/token` from `rules[]`, or limit them with `resourceNames` to the ServiceAccounts the subject really acts as.",
    references: References {
        kubescape: &["C-0065"],
        cis: &["5.1.8", "5.1.13"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#impersonate-verb",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "act as any ServiceAccount (impersonate, or mint tokens)",
    ways: &[&[&[
        Need::Api(Req::new(&["impersonate"], "", "serviceaccounts").names(Names::Unrestricted)),
        Need::Api(Req::new(&["create"], "", "serviceaccounts/token").names(Names::Unrestricted)),
    ]]],
    reach: Reach::Any,
    unused_roles: true,
};

impl Rule for ServiceAccountTakeover {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

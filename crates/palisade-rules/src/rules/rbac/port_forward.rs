//! PLS-RBAC-008: Subject can port-forward to pods.
//!
//! What it does: flags every subject allowed `create` or `get` on
//! `pods/portforward` (also through wildcards), and every non-default role
//! with such a rule that no binding of the input uses.
//!
//! Why it matters: port-forwarding reaches any port of any pod in scope from
//! the subject's machine, around NetworkPolicies and Ingress
//! authentication (databases, admin endpoints, debug ports).
//!
//! Example: `{apiGroups: [""], resources: [pods/portforward], verbs: [create]}`.
//!
//! Fix: expose what is needed through a Service with authentication.

use super::model::{Need, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct PortForward;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-008",
    title: "Subject can port-forward to pods",
    severity: Severity::Medium,
    category: "rbac",
    rationale: "`kubectl port-forward` tunnels through the API server to any port of any pod in scope, so NetworkPolicies, Ingress authentication and localhost-only listeners (databases, admin and debug ports) no longer protect it.",
    remediation: "Remove `pods/portforward` (and `*`) from `rules[].resources`; expose what people need through a Service behind authentication, or grant port-forward in a separate, time-bound role.",
    references: References {
        kubescape: &["C-0063"],
        links: &["https://kubernetes.io/docs/concepts/security/rbac-good-practices/"],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "port-forward to pods",
    ways: &[&[&[Need::Api(Req::new(
        &["create", "get"],
        "",
        "pods/portforward",
    ))]]],
    reach: Reach::Any,
    unused_roles: true,
};

impl Rule for PortForward {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

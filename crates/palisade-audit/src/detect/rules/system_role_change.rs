//! PLS-KA-012: a built-in `system:` role or binding was modified or deleted.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct SystemRoleChange;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-012",
        title: "System role or binding modified",
        severity: Severity::High,
        category: "audit-rbac",
        rationale: "The `system:` ClusterRoles and bindings are what the control plane, nodes and controllers run with; widening one grants every holder new powers, quietly.",
        remediation: "Revert the change (the API server reconciles the defaults on restart unless `rbac.authorization.kubernetes.io/autoupdate` is false) and find out who made it.",
        references: References {
            mitre: &["T1098"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["System ClusterRole Modified/Deleted"],
};

const EXPECTED: [&str; 2] = ["system:coredns", "system:managed-certificate-controller"];

impl Rule for SystemRoleChange {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if !matches!(
            ev.resource(),
            "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings"
        ) || !matches!(ev.verb.as_ref(), "update" | "patch" | "delete")
            || !ev.complete()
            || !ev.succeeded()
        {
            return;
        }
        let name = ev.name();
        // The API server itself reconciles the defaults at start-up.
        if !name.starts_with("system:")
            || EXPECTED.contains(&name)
            || ev.user.username == "system:apiserver"
        {
            return;
        }
        let done = match ev.verb.as_ref() {
            "delete" => "deleted",
            "patch" => "patched",
            _ => "updated",
        };
        out.push(Hit::new(
            "verb",
            format!(
                "{} {} {done}",
                super::super::kind_of(ev.resource()),
                cx.object()
            ),
        ));
    }
}

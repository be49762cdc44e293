//! PLS-KA-009: a Role or ClusterRole allowing pods/exec was created.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct RolePodExec;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-009",
        title: "Role allowing pod exec created",
        severity: Severity::Medium,
        category: "audit-rbac",
        rationale: "`pods/exec` (and `pods/attach`) lets the holder run commands in any pod the role reaches, with that pod's credentials.",
        remediation: "Grant exec only through a break-glass role bound for a limited time.",
        references: References {
            mitre: &["T1609"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["ClusterRole With Pod Exec Created"],
};

impl Rule for RolePodExec {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if !matches!(ev.resource(), "roles" | "clusterroles")
            || !matches!(ev.verb.as_ref(), "create" | "update")
            || !ev.complete()
            || !ev.succeeded()
        {
            return;
        }
        let Some(rules) = cx
            .request()
            .and_then(|r| r.get("rules"))
            .and_then(Value::as_array)
        else {
            return;
        };
        for (i, r) in rules.iter().enumerate() {
            let grants = r.get("resources").and_then(Value::as_array).and_then(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .find(|s| matches!(*s, "pods/exec" | "pods/attach"))
            });
            if let Some(res) = grants {
                out.push(Hit::new(
                    format!("requestObject.rules[{i}].resources"),
                    format!(
                        "{} {} grants {res:?}",
                        super::super::kind_of(ev.resource()),
                        cx.object()
                    ),
                ));
            }
        }
    }
}

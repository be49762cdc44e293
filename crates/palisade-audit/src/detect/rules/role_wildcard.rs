//! PLS-KA-008: a Role or ClusterRole with wildcard verbs or resources was created.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct RoleWildcard;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-008",
        title: "Role with wildcard permissions created",
        severity: Severity::Medium,
        category: "audit-rbac",
        rationale: "`*` in verbs or resources grants today's and tomorrow's permissions, including escalate, bind and impersonate.",
        remediation: "List the verbs and resources the role needs instead of `*`.",
        references: References {
            cis: &["5.1.3"],
            mitre: &["T1098"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["ClusterRole With Wildcard Created"],
};

impl Rule for RoleWildcard {
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
            for field in ["verbs", "resources"] {
                if r.get(field)
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("*")))
                {
                    out.push(Hit::new(
                        format!("requestObject.rules[{i}].{field}"),
                        format!(
                            "{} {} grants {field} \"*\"",
                            super::super::kind_of(ev.resource()),
                            cx.object()
                        ),
                    ));
                }
            }
        }
    }
}

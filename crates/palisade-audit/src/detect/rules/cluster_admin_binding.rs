//! PLS-KA-007: someone was bound to cluster-admin.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct ClusterAdminBinding;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-007",
        title: "Binding to cluster-admin created",
        severity: Severity::High,
        category: "audit-rbac",
        rationale: "A (Cluster)RoleBinding to cluster-admin grants everything on everything; created at run time it is how an attacker makes access permanent.",
        remediation: "Check the binding's subjects; remove it unless it is an approved break-glass grant, and bind least-privilege roles instead.",
        references: References {
            cis: &["5.1.1"],
            mitre: &["T1098"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["Attach to cluster-admin Role"],
};

impl Rule for ClusterAdminBinding {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if !matches!(ev.resource(), "clusterrolebindings" | "rolebindings")
            || !matches!(ev.verb.as_ref(), "create" | "update")
            || !ev.complete()
            || !ev.succeeded()
        {
            return;
        }
        let Some(req) = cx.request() else { return };
        if req.pointer("/roleRef/name").and_then(Value::as_str) != Some("cluster-admin") {
            return;
        }
        let subjects: Vec<String> = req
            .get("subjects")
            .and_then(Value::as_array)
            .map(|s| {
                s.iter()
                    .map(|x| {
                        format!(
                            "{} {:?}",
                            x.get("kind").and_then(Value::as_str).unwrap_or("?"),
                            x.get("name").and_then(Value::as_str).unwrap_or("?")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Hit::new(
            "requestObject.roleRef.name",
            format!(
                "{} {} binds cluster-admin to {}",
                super::super::kind_of(ev.resource()),
                cx.object(),
                if subjects.is_empty() {
                    "no subjects".to_owned()
                } else {
                    subjects.join(", ")
                }
            ),
        ));
    }
}

//! PLS-KA-004: a pod (or workload) with a privileged container was created.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct PrivilegedPod;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-004",
        title: "Privileged pod created",
        severity: Severity::High,
        category: "audit-pod-security",
        rationale: "A privileged container has every capability and the host's devices: it can take over the node. Creating one at run time, outside the reviewed manifests, is a classic escalation.",
        remediation: "Find who created it and why; enforce the Pod Security `baseline` level (or an admission policy) in the namespace.",
        references: References {
            pss: &["baseline:privileged"],
            mitre: &["T1611", "T1610"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["Create Privileged Pod"],
};

impl Rule for PrivilegedPod {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.verb != "create" || !ev.complete() || !ev.succeeded() {
            return;
        }
        for (base, spec) in cx.pod_specs() {
            for (path, c) in containers(spec, &base) {
                if c.pointer("/securityContext/privileged")
                    .and_then(Value::as_bool)
                    == Some(true)
                {
                    out.push(Hit::new(
                        format!("{path}.securityContext.privileged"),
                        format!(
                            "{} {} created with privileged container {:?} (image {:?})",
                            super::super::kind_of(ev.resource()),
                            cx.object(),
                            name_of(c),
                            c.get("image").and_then(Value::as_str).unwrap_or("?")
                        ),
                    ));
                }
            }
        }
    }
}

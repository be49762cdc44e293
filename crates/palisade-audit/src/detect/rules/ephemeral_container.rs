//! PLS-KA-003: an ephemeral (debug) container was added to a running pod.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct EphemeralContainer;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-003",
        title: "Ephemeral container added to a pod",
        severity: Severity::Medium,
        category: "audit-exec",
        rationale: "`kubectl debug` adds a container of any image to a running pod, sharing its namespaces and volumes: a way to bring tools and a shell into a hardened workload.",
        remediation: "Confirm the debug session; restrict `pods/ephemeralcontainers` and enforce Pod Security on the image and security context of debug containers.",
        references: References {
            mitre: &["T1610"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["EphemeralContainers Created"],
};

impl Rule for EphemeralContainer {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "pods"
            || ev.subresource() != "ephemeralcontainers"
            || !ev.complete()
            || !super::modifies(&ev.verb)
            || !ev.succeeded()
        {
            return;
        }
        let detail = cx
            .request()
            .and_then(|r| {
                r.pointer("/spec/ephemeralContainers")
                    .or_else(|| r.get("ephemeralContainers"))
            })
            .and_then(Value::as_array)
            .and_then(|a| a.last())
            .map(|c| {
                format!(
                    " ({:?}, image {:?})",
                    name_of(c),
                    c.get("image").and_then(Value::as_str).unwrap_or("?")
                )
            })
            .unwrap_or_default();
        out.push(Hit::new(
            "objectRef.subresource",
            format!("ephemeral container added to pod {}{detail}", cx.object()),
        ));
    }
}

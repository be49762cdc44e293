//! PLS-KA-002: a port of a pod was forwarded to a client.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;
use std::fmt::Write as _;

pub(crate) struct PortForward;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-002",
        title: "Port-forward to a pod",
        severity: Severity::Medium,
        category: "audit-exec",
        rationale: "Port-forwarding tunnels a client straight to a pod, past Services, NetworkPolicies and ingress authentication: an inference server's admin port or a database becomes reachable from a laptop.",
        remediation: "Confirm the tunnel was expected; restrict `pods/portforward` to break-glass roles.",
        references: References {
            mitre: &["T1572"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["port-forward"],
};

impl Rule for PortForward {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, st: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "pods"
            || ev.subresource() != "portforward"
            || ev.stage == "RequestReceived"
        {
            return;
        }
        if ev.decision() == Some("forbid")
            || ev.code().is_some_and(|c| c >= 400)
            || !st.first(INFO.meta.id, &ev.audit_id)
        {
            return;
        }
        let ports = super::query_values(&ev.request_uri, "ports").join(",");
        let mut msg = format!("port-forward to pod {}", cx.object());
        if !ports.is_empty() {
            let _ = write!(msg, " ports {ports}");
        }
        out.push(Hit::new("objectRef.subresource", msg));
    }
}

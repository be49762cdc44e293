//! PLS-KA-001: a shell or command was run inside a pod (exec/attach).
#[allow(clippy::wildcard_imports)]
use super::prelude::*;
use std::fmt::Write as _;

pub(crate) struct ExecPod;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-001",
        title: "Exec or attach into a pod",
        severity: Severity::Medium,
        category: "audit-exec",
        rationale: "`kubectl exec`/`attach` runs commands inside a running container with its service account, secrets and network position; attackers use it to move laterally and read mounted credentials.",
        remediation: "Confirm the session was expected; restrict `pods/exec` and `pods/attach` to break-glass roles and prefer ephemeral debug containers under audit.",
        references: References {
            mitre: &["T1609"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["Attach/Exec Pod"],
};

impl Rule for ExecPod {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, st: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        let sub = ev.subresource();
        if ev.resource() != "pods" || !matches!(sub, "exec" | "attach") {
            return;
        }
        // create (SPDY) or get (WebSocket, kubectl >= 1.30); started or complete, once per request.
        if !matches!(ev.verb.as_ref(), "create" | "get")
            || !matches!(ev.stage.as_ref(), "ResponseStarted" | "ResponseComplete")
        {
            return;
        }
        if ev.decision() == Some("forbid")
            || ev.code().is_some_and(|c| c >= 400)
            || !st.first(INFO.meta.id, &ev.audit_id)
        {
            return;
        }
        let command = super::query_values(&ev.request_uri, "command").join(" ");
        let container = super::query_values(&ev.request_uri, "container").join(",");
        let mut msg = format!("{sub} into pod {}", cx.object());
        if !container.is_empty() {
            let _ = write!(msg, " container {container:?}");
        }
        if !command.is_empty() {
            let _ = write!(msg, " running {command:?}");
        }
        out.push(Hit::new("objectRef.subresource", msg));
    }
}

//! PLS-KA-011: a request by the anonymous user was allowed.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct AnonymousAllowed;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-011",
        title: "Anonymous request allowed",
        severity: Severity::High,
        category: "audit-auth",
        rationale: "`system:anonymous` is anyone who can reach the API server. An allowed anonymous request (beyond the health endpoints) means RBAC grants something to unauthenticated clients.",
        remediation: "Remove bindings to `system:anonymous` and `system:unauthenticated`; consider `--anonymous-auth=false` or an AuthenticationConfiguration limiting anonymous access to health endpoints.",
        references: References {
            cis: &["1.2.1"],
            mitre: &["T1078.001"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["Anonymous Request Allowed"],
};

impl Rule for AnonymousAllowed {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.user.username != "system:anonymous"
            || !ev.complete()
            || ev.decision() != Some("allow")
        {
            return;
        }
        let path = ev.request_uri.split('?').next().unwrap_or("");
        if matches!(path, "/healthz" | "/livez" | "/readyz" | "/version")
            || path.starts_with("/healthz/")
            || path.starts_with("/livez/")
            || path.starts_with("/readyz/")
        {
            return;
        }
        let reason = ev.reason().map(|r| format!(" ({r})")).unwrap_or_default();
        out.push(Hit::new(
            "annotations.authorization.k8s.io/decision",
            format!(
                "anonymous {} {} allowed{reason}",
                ev.verb.to_uppercase(),
                ev.request_uri
            ),
        ));
    }
}

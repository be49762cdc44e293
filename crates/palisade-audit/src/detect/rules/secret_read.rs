//! PLS-KA-010: Secrets read by a user not expected to read them.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct SecretRead;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-010",
        title: "Secret read by an unexpected user",
        severity: Severity::Medium,
        category: "audit-secrets",
        rationale: "Reading Secrets is how stolen credentials turn into access to databases, clouds and model registries. Controllers read them; people and most workloads should not.",
        remediation: "Confirm the read; if the reader is legitimate add it to the expected readers (`--allow-secret-reader`), otherwise revoke its Secret permissions and rotate what it read.",
        references: References {
            cis: &["5.1.2"],
            mitre: &["T1552.007"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["K8s Secret Get Successfully"],
};

impl Rule for SecretRead {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, st: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "secrets"
            || !ev.subresource().is_empty()
            || !matches!(ev.verb.as_ref(), "get" | "list" | "watch")
        {
            return;
        }
        // A watch stays open: its ResponseStarted is the read.
        let stage_ok = ev.complete() || (ev.verb == "watch" && ev.stage == "ResponseStarted");
        if !stage_ok
            || !ev.succeeded()
            || cx.is_expected_secret_reader()
            || !st.first(INFO.meta.id, &ev.audit_id)
        {
            return;
        }
        let what = match (ev.verb.as_ref(), ev.name(), ev.namespace()) {
            ("get", _, _) => format!("read Secret {}", cx.object()),
            (v, _, "") => format!("{v} of Secrets in all namespaces"),
            (v, _, ns) => format!("{v} of Secrets in namespace {ns}"),
        };
        out.push(Hit::new("verb", what));
    }
}

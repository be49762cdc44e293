//! PLS-KA-021: one user read many Secrets in a short window (stateful).
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct SecretBurst;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-021",
        title: "Many Secrets read in a short window",
        severity: Severity::High,
        category: "audit-secrets",
        rationale: "Reading Secret after Secret, or listing them across namespaces, is what credential-harvesting tools do right after a token is stolen.",
        remediation: "Find the token the user or ServiceAccount used, revoke it, and rotate the Secrets that were read.",
        references: References {
            mitre: &["T1552.007", "T1555"],
            ..References::NONE
        },
    },
    falco: &[],
};

impl Rule for SecretBurst {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, st: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "secrets"
            || !ev.subresource().is_empty()
            || !matches!(ev.verb.as_ref(), "get" | "list")
            || !ev.complete()
            || !ev.succeeded()
            || cx.is_expected_secret_reader()
        {
            return;
        }
        let Some(t) = ev.time_micros() else { return };
        let window = cx.config.secret_window_secs.saturating_mul(1_000_000);
        let user = cx.effective_user().to_owned();
        // A list counts as reading every Secret it returns; the object is the namespace.
        let object = if ev.verb == "list" {
            format!("list:{}", ev.namespace())
        } else {
            cx.object()
        };
        let reads = st.secret_reads.entry(user.clone()).or_default();
        reads.push_back((t, object));
        while reads.front().is_some_and(|(t0, _)| *t0 < t - window) {
            reads.pop_front();
        }
        while reads.len() > 4 * cx.config.secret_burst.max(1) {
            reads.pop_front();
        }
        let mut distinct: Vec<&str> = reads.iter().map(|(_, o)| o.as_str()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let lists = distinct.iter().filter(|o| o.starts_with("list:")).count();
        // A list returns every Secret of the namespace at once: it weighs five gets.
        let weight = distinct.len() - lists + lists * 5;
        if weight < cx.config.secret_burst {
            return;
        }
        let until = st
            .secret_reported_until
            .get(&user)
            .copied()
            .unwrap_or(i64::MIN);
        if t <= until {
            return;
        }
        st.secret_reported_until.insert(user, t + window);
        out.push(Hit::new(
            "objectRef.name",
            format!(
                "{} distinct Secret reads ({lists} of them lists) within {} s",
                distinct.len(),
                cx.config.secret_window_secs
            ),
        ));
    }
}

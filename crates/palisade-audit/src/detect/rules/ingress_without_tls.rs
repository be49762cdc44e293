//! PLS-KA-015: an Ingress without TLS was created.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct IngressWithoutTls;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-015",
        title: "Ingress without TLS created",
        severity: Severity::Low,
        category: "audit-network",
        rationale: "Without `spec.tls` the ingress serves plain HTTP: prompts, completions and bearer tokens cross the network in clear.",
        remediation: "Add `spec.tls` with a certificate (cert-manager) for every host.",
        references: References {
            mitre: &["T1040"],
            ..References::NONE
        },
    },
    falco: &[],
};

impl Rule for IngressWithoutTls {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "ingresses"
            || !matches!(ev.verb.as_ref(), "create" | "update")
            || !ev.complete()
            || !ev.succeeded()
        {
            return;
        }
        let Some(spec) = cx.request().and_then(|r| r.get("spec")) else {
            return;
        };
        if spec
            .get("tls")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
        {
            return;
        }
        let hosts: Vec<&str> = spec
            .get("rules")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| r.get("host").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Hit::new(
            "requestObject.spec.tls",
            format!(
                "Ingress {} serves {} without TLS",
                cx.object(),
                if hosts.is_empty() {
                    "all hosts".to_owned()
                } else {
                    hosts.join(", ")
                }
            ),
        ));
    }
}

//! PLS-KA-014: a NodePort Service was created.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct NodePortService;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-014",
        title: "NodePort Service created",
        severity: Severity::Low,
        category: "audit-network",
        rationale: "A NodePort opens the port on every node's address, bypassing the ingress and its authentication; inference servers exposed this way are found by scanners within hours.",
        remediation: "Use a ClusterIP Service behind an authenticated ingress or gateway.",
        references: References {
            mitre: &["T1133"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["Create NodePort Service"],
};

impl Rule for NodePortService {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "services"
            || !matches!(ev.verb.as_ref(), "create" | "update" | "patch")
            || !ev.complete()
            || !ev.succeeded()
        {
            return;
        }
        let Some(spec) = cx.request().and_then(|r| r.get("spec")) else {
            return;
        };
        if spec.get("type").and_then(Value::as_str) != Some("NodePort") {
            return;
        }
        let ports: Vec<String> = spec
            .get("ports")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        p.get("nodePort")
                            .or_else(|| p.get("port"))
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Hit::new(
            "requestObject.spec.type",
            format!(
                "Service {} set to type NodePort (ports {})",
                cx.object(),
                ports.join(",")
            ),
        ));
    }
}

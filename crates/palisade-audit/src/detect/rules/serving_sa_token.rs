//! PLS-KA-020: a new ServiceAccount token was issued in a model-serving namespace.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct ServingSaToken;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-020",
        title: "ServiceAccount token created in a serving namespace",
        severity: Severity::Medium,
        category: "audit-ai",
        rationale: "A token minted for a serving namespace's ServiceAccount (TokenRequest, or a `kubernetes.io/service-account-token` Secret) by someone other than the kubelet is a credential for the model server's identity, usable from anywhere.",
        remediation: "Confirm who requested it and why; revoke long-lived token Secrets and rely on the kubelet's projected, audience-bound tokens.",
        references: References {
            mitre: &["T1528", "T1098.001"],
            ..References::NONE
        },
    },
    falco: &[],
};

impl Rule for ServingSaToken {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.verb != "create" || !ev.complete() || !ev.succeeded() || !cx.in_serving_namespace() {
            return;
        }
        // The kubelet mints projected tokens for every pod it runs.
        let user = &ev.user.username;
        if user.starts_with("system:node:") || user == "system:kube-controller-manager" {
            return;
        }
        if ev.resource() == "serviceaccounts" && ev.subresource() == "token" {
            out.push(Hit::new(
                "objectRef.subresource",
                format!("token requested for ServiceAccount {}", cx.object()),
            ));
        } else if ev.resource() == "secrets"
            && ev.subresource().is_empty()
            && cx
                .request()
                .and_then(|r| r.get("type"))
                .and_then(Value::as_str)
                == Some("kubernetes.io/service-account-token")
        {
            let sa = cx
                .request()
                .and_then(|r| {
                    r.pointer("/metadata/annotations/kubernetes.io~1service-account.name")
                })
                .and_then(Value::as_str)
                .unwrap_or("?");
            out.push(Hit::new(
                "requestObject.type",
                format!(
                    "long-lived token Secret {} created for ServiceAccount {sa:?}",
                    cx.object()
                ),
            ));
        }
    }
}

//! PLS-KA-017: exec or attach into a model-serving pod.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct ExecInferencePod;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-017",
        title: "Exec into an inference pod",
        severity: Severity::High,
        category: "audit-ai",
        rationale: "A shell in a model server reaches the weights, the Hugging Face token and the prompts in memory, and can swap the model file under the running server.",
        remediation: "Treat as an incident unless it was an approved debug session; serve models from read-only root filesystems and deny `pods/exec` in serving namespaces.",
        references: References {
            owasp_llm: &["LLM03"],
            mitre: &["T1609", "AML.T0010"],
            ..References::NONE
        },
    },
    falco: &[],
};

impl Rule for ExecInferencePod {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, st: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        let sub = ev.subresource();
        if ev.resource() != "pods"
            || !matches!(sub, "exec" | "attach")
            || !matches!(ev.verb.as_ref(), "create" | "get")
            || !matches!(ev.stage.as_ref(), "ResponseStarted" | "ResponseComplete")
        {
            return;
        }
        if ev.decision() == Some("forbid") || ev.code().is_some_and(|c| c >= 400) {
            return;
        }
        let why = if super::looks_inference(ev.name()) {
            "its name marks a model server"
        } else if cx.in_serving_namespace() {
            "it runs in a serving namespace"
        } else {
            return;
        };
        if !st.first(INFO.meta.id, &ev.audit_id) {
            return;
        }
        let command = super::query_values(&ev.request_uri, "command").join(" ");
        out.push(Hit::new(
            "objectRef.name",
            format!(
                "{sub} into inference pod {} ({why}){}",
                cx.object(),
                if command.is_empty() {
                    String::new()
                } else {
                    format!(" running {command:?}")
                }
            ),
        ));
    }
}

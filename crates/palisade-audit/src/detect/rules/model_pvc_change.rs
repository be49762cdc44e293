//! PLS-KA-019: a PersistentVolumeClaim holding models was changed or deleted.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct ModelPvcChange;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-019",
        title: "Model PersistentVolumeClaim changed",
        severity: Severity::Medium,
        category: "audit-ai",
        rationale: "Model servers load weights from PVCs (KServe `pvc://`, vLLM and TGI caches); replacing, resizing away or deleting the claim changes or takes down the served model outside the release process.",
        remediation: "Confirm the change; protect model PVCs with RBAC limited to the pipeline and keep weights signed so a swapped file is refused.",
        references: References {
            owasp_llm: &["LLM03"],
            mitre: &["AML.T0018", "T1485"],
            ..References::NONE
        },
    },
    falco: &[],
};

const MARKS: [&str; 8] = [
    "model",
    "weights",
    "hf-cache",
    "huggingface",
    "llm",
    "checkpoint",
    "vllm",
    "gguf",
];

fn looks_model_pvc(name: &str, labels: Option<&Value>) -> bool {
    let n = name.to_ascii_lowercase();
    MARKS.iter().any(|m| n.contains(m))
        || labels.and_then(Value::as_object).is_some_and(|l| {
            l.iter().any(|(k, v)| {
                let v = v.as_str().unwrap_or("").to_ascii_lowercase();
                (k.contains("component") || k.contains("purpose"))
                    && (v.contains("model") || v.contains("weights"))
            })
        })
}

impl Rule for ModelPvcChange {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "persistentvolumeclaims"
            || !matches!(ev.verb.as_ref(), "update" | "patch" | "delete")
            || !ev.complete()
            || !ev.succeeded()
        {
            return;
        }
        let labels = cx
            .request()
            .and_then(|r| r.pointer("/metadata/labels"))
            .or_else(|| cx.response().and_then(|r| r.pointer("/metadata/labels")));
        if looks_model_pvc(ev.name(), labels) {
            out.push(Hit::new(
                "verb",
                format!(
                    "model PersistentVolumeClaim {} {}",
                    cx.object(),
                    match ev.verb.as_ref() {
                        "delete" => "deleted",
                        "patch" => "patched",
                        _ => "updated",
                    }
                ),
            ));
        }
    }
}

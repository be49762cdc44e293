//! PLS-KA-018: an InferenceService's model location (storageUri) changed.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct InferenceStorageUri;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-018",
        title: "InferenceService storageUri changed",
        severity: Severity::High,
        category: "audit-ai",
        rationale: "Pointing a KServe InferenceService at another storageUri swaps the model every client talks to: the quickest way to serve a backdoored model under a trusted name.",
        remediation: "Confirm the new model location went through review and signing (`palisade model verify`); restrict update/patch on inferenceservices to the deployment pipeline.",
        references: References {
            owasp_llm: &["LLM03", "LLM04"],
            mitre: &["AML.T0018"],
            ..References::NONE
        },
    },
    falco: &[],
};

/// Every `storageUri` in an InferenceService body: (JSON path under the body, value).
fn storage_uris(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if k == "storageUri" {
                    if let Some(s) = x.as_str() {
                        out.push((p, s.to_owned()));
                    }
                } else if k != "status" {
                    storage_uris(x, &p, out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                storage_uris(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

impl Rule for InferenceStorageUri {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, st: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "inferenceservices"
            || !ev.complete()
            || !ev.succeeded()
            || !super::modifies(&ev.verb)
        {
            return;
        }
        let mut found = Vec::new();
        if let Some(req) = cx.request() {
            storage_uris(req, "", &mut found);
        }
        let key = cx.object();
        // The object as stored after the request, when the audit level recorded it.
        let mut after = Vec::new();
        if let Some(resp) = cx.response() {
            storage_uris(resp, "", &mut after);
        }
        let current = after.first().or(found.first()).map(|(_, u)| u.clone());
        let previous = current
            .as_ref()
            .and_then(|c| st.storage_uris.insert(key.clone(), c.clone()));
        if ev.verb == "create" {
            return;
        }
        let Some((path, uri)) = found.first().or(after.first()) else {
            return;
        };
        match previous {
            Some(prev) if prev == *uri => {}
            Some(prev) => out.push(Hit::new(format!("requestObject.{path}"), format!("InferenceService {key} storageUri changed from {prev:?} to {uri:?}"))),
            // Not seen before: a patch naming storageUri is a change; an update may just repeat it.
            None if ev.verb == "patch" => out.push(Hit::new(format!("requestObject.{path}"), format!("InferenceService {key} storageUri set to {uri:?} by patch"))),
            None => out.push(Hit::new(format!("requestObject.{path}"), format!("InferenceService {key} updated with storageUri {uri:?} (previous value not seen in this stream)"))),
        }
    }
}

//! PLS-STO-001: Model downloaded over plain HTTP.
//!
//! What it does: flags model locations (KServe `storageUri`, Seldon
//! `modelUri`/`storageUri`, LLMInferenceService `model.uri`, llama.cpp
//! `--model-url`, model URL environment variables, model files fetched by
//! curl or wget in init containers) that use `http://`. Loopback addresses
//! are ignored.
//!
//! Why it matters: anyone on the network path can replace the weights
//! (and with pickle-based formats, run code when they load).
//!
//! Example: `storageUri: http://models.internal/llama3.tar.gz`.
//!
//! Fix: `https://` or an object-store scheme (`s3://`, `gs://`) with
//! TLS; verify the files' signature before serving.

use super::{model_uris, safe_url};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct PlainHttp;

static META: RuleMeta = RuleMeta {
    id: "PLS-STO-001",
    title: "Model downloaded over plain HTTP",
    severity: Severity::High,
    category: "ai-supply-chain",
    rationale: "A model fetched over plain HTTP can be read and replaced by anyone between the server and the storage: a poisoned or backdoored model then answers your users, and pickle-based formats (PyTorch `.bin`/`.pt`, joblib, many `.tar.gz` bundles) execute code when the server loads them. Nothing in the download proves the files are the ones that were published.",
    remediation: "Fetch models over `https://` or an object-store scheme with TLS (`s3://`, `gs://`, `hf://`, `oci://`), and verify them before serving: an init container running `palisade model verify` against the publisher's signature, or the sigstore model-validation operator.",
    references: References {
        owasp_llm: &["LLM03", "LLM04"],
        mitre: &["AML.T0010.003", "AML.T0018"],
        links: &[
            "https://kserve.github.io/website/latest/modelserving/storage/uri/uri/",
            "https://genai.owasp.org/llmrisk/llm032025-supply-chain/",
        ],
        ..References::NONE
    },
};

impl Rule for PlainHttp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for u in model_uris(cx, obj) {
            let lower = u.uri.to_ascii_lowercase();
            let Some(rest) = lower.strip_prefix("http://") else {
                continue;
            };
            let host = rest.split(['/', ':', '@']).next().unwrap_or("");
            let host = rest
                .split('/')
                .next()
                .and_then(|a| a.rsplit('@').next())
                .map_or(host, |h| h.split(':').next().unwrap_or(h));
            if host == "localhost" || host.starts_with("127.") || host == "[::1]" {
                continue;
            }
            let msg = format!(
                "{} {} fetches the model over plain HTTP: anyone on the path can replace the weights",
                u.field,
                safe_url(u.uri)
            );
            match u.container {
                Some(c) => out.report_container(obj, c, u.path, msg),
                None => out.report(obj, u.path, msg),
            }
        }
    }
}

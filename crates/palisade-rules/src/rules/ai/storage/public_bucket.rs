//! PLS-STO-002: Model fetched from a public bucket URL.
//!
//! What it does: flags model locations that are anonymous HTTPS URLs of
//! cloud object stores: `https://<bucket>.s3.amazonaws.com/...`,
//! `https://s3.<region>.amazonaws.com/<bucket>/...`,
//! `https://storage.googleapis.com/<bucket>/...`,
//! `https://<account>.blob.core.windows.net/...`, without a signature
//! (signed URLs are PLS-STO-003).
//!
//! Why it matters: an anonymous URL works only if the bucket is public:
//! the proprietary model is downloadable by anyone, and a bucket whose
//! policy is that loose is often writable too.
//!
//! Example: `storageUri: https://acme-models.s3.amazonaws.com/llama3/`.
//!
//! Fix: make the bucket private and use `s3://`/`gs://` with a
//! ServiceAccount's credentials.

use super::{model_uris, safe_url};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct PublicBucket;

static META: RuleMeta = RuleMeta {
    id: "PLS-STO-002",
    title: "Model fetched from a public bucket URL",
    severity: Severity::Medium,
    category: "ai-supply-chain",
    rationale: "Object stores serve anonymous `https://` URLs only for objects that are public. A model loaded that way is readable by the whole internet (fine-tuned weights are intellectual property and may memorise training data), and buckets opened for anonymous reads are frequently writable by more principals than intended, which turns into model replacement.",
    remediation: "Keep model buckets private (S3 Block Public Access, GCS uniform bucket-level access without `allUsers`, Azure containers with access level Private), reference them as `s3://`, `gs://` or `https://<account>.blob.core.windows.net` with credentials from a ServiceAccount (IRSA, Workload Identity) or a storage Secret, and verify the files' signature before serving.",
    references: References {
        owasp_llm: &["LLM03", "LLM02"],
        mitre: &["AML.T0010.003", "AML.T0035"],
        links: &[
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
            "https://kserve.github.io/website/latest/modelserving/storage/s3/s3/",
        ],
        ..References::NONE
    },
};

/// The object store an anonymous URL points at, if any.
pub(super) fn public_store(uri: &str) -> Option<&'static str> {
    let lower = uri.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.ends_with(".amazonaws.com")
        && (host.contains(".s3.") || host.starts_with("s3.") || host.contains(".s3-"))
    {
        Some("Amazon S3")
    } else if host == "storage.googleapis.com" || host.ends_with(".storage.googleapis.com") {
        Some("Google Cloud Storage")
    } else if host.ends_with(".blob.core.windows.net") {
        Some("Azure Blob Storage")
    } else if host.ends_with(".r2.dev") || host.ends_with(".digitaloceanspaces.com") {
        Some("public object storage")
    } else {
        None
    }
}

impl Rule for PublicBucket {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for u in model_uris(cx, obj) {
            let Some(store) = public_store(u.uri) else {
                continue;
            };
            if super::signed_url::signature(u.uri).is_some() {
                continue;
            }
            let msg = format!(
                "{} {} reads the model anonymously from {store}: the bucket is public, so anyone can download the model",
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

//! PLS-STO-003: Model URI carries a signed-URL credential.
//!
//! What it does: flags model locations whose query string is a bearer
//! credential: AWS SigV4 presigned URLs (`X-Amz-Signature`,
//! `X-Amz-Credential`), Google Cloud Storage signed URLs
//! (`X-Goog-Signature`), Azure shared access signatures (`sig=` with
//! `sv=`/`se=`). The message never shows the query. (Keys and passwords in
//! URIs are PLS-SEC-006.)
//!
//! Why it matters: whoever reads the manifest (or the object in the
//! cluster) can use the URL until it expires, often days or never.
//!
//! Example: `storageUri: https://acme.blob.core.windows.net/m/model.tar.gz?sv=...&sig=...`.
//!
//! Fix: give the server storage credentials through a ServiceAccount.

use super::{model_uris, safe_url};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct SignedUrl;

static META: RuleMeta = RuleMeta {
    id: "PLS-STO-003",
    title: "Model URI carries a signed-URL credential",
    severity: Severity::High,
    category: "ai-supply-chain",
    rationale: "Presigned S3 URLs, GCS signed URLs and Azure SAS tokens are bearer credentials: anyone holding the URL can read (and, for write-enabled SAS, overwrite) the object until it expires. Written into a manifest, the credential lands in Git, CI logs and the cluster's etcd, visible to everyone who can read the resource; account-level SAS tokens often grant far more than one model and last for years.",
    remediation: "Remove the signed URL; let the model server authenticate to storage itself (KServe: a ServiceAccount with IRSA/Workload Identity or a storage Secret; `s3://`, `gs://` or `https://<account>.blob.core.windows.net` URIs). Revoke the exposed signature (rotate the key that signed it, or the SAS policy).",
    references: References {
        owasp_llm: &["LLM02", "LLM03"],
        mitre: &["AML.T0055"],
        links: &[
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html",
            "https://learn.microsoft.com/en-us/azure/storage/common/storage-sas-overview",
        ],
        ..References::NONE
    },
};

/// The kind of signature in a URL's query, if any.
pub(super) fn signature(uri: &str) -> Option<&'static str> {
    let (_, query) = uri.split_once('?')?;
    let keys: Vec<String> = query
        .split('&')
        .map(|kv| kv.split('=').next().unwrap_or("").to_ascii_lowercase())
        .collect();
    let has = |k: &str| keys.iter().any(|x| x == k);
    if has("x-amz-signature") || has("x-amz-credential") {
        Some("an AWS presigned URL")
    } else if has("x-goog-signature") || has("x-goog-credential") {
        Some("a Google Cloud Storage signed URL")
    } else if has("sig") && (has("sv") || has("se") || has("sp")) {
        Some("an Azure shared access signature")
    } else if has("signature") && has("expires") {
        Some("a signed URL")
    } else {
        None
    }
}

impl Rule for SignedUrl {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        for u in model_uris(cx, obj) {
            let Some(kind) = signature(u.uri) else {
                continue;
            };
            let msg = format!(
                "{} {} carries {kind} in its query (not shown): anyone who reads this object can use it",
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

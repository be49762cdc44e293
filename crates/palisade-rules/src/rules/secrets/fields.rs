//! PLS-SEC-006: Credential in an object field.
//!
//! What it does: runs the format detectors (never key-name guesses) over
//! every string field of every object except Secrets and the fields other
//! secrets rules own (container env, command and args, ConfigMap data,
//! annotations and labels). Catches credentials embedded in custom
//! resources: a KServe `storageUri` such as `s3://AKIA...:...@bucket`, a
//! `https://user:password@` model URL, a Slack webhook in an alerting CR, a
//! token in a Helm values block of an Argo CD Application.
//!
//! Why it matters: custom resources are stored and shown like any other
//! object; nothing hides or encrypts their fields.
//!
//! Example: `storageUri: https://deploy:...@models.example.com/llama.tar.gz`.
//!
//! Fix: use the resource's credential reference (KServe: a ServiceAccount
//! with a Secret of storage credentials; most operators: a `secretRef`).

use super::scan;
use crate::context::{Context, index_in};
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct FieldSecret;

static META: RuleMeta = RuleMeta {
    id: "PLS-SEC-006",
    title: "Credential in an object field",
    severity: Severity::High,
    category: "secrets",
    rationale: "Fields of custom resources and other objects are stored, listed and printed in plain text like the rest of the object. Credentials embedded in them (access keys in an `s3://` URI, passwords in a model or repository URL, webhook URLs, tokens in inline Helm values) are exposed to everyone who can read that resource type, which operators rarely treat as sensitive.",
    remediation: "Use the resource's own credential reference instead of an inline value: for KServe `storageUri`, a ServiceAccount whose Secret carries the storage credentials; for Argo CD, a repository Secret; for most operators, a `secretRef`/`credentialsSecret` field. Rotate the exposed credential.",
    references: References {
        mitre: &["T1552"],
        links: &["https://kserve.github.io/website/latest/modelserving/storage/s3/s3/"],
        ..References::NONE
    },
};

impl Rule for FieldSecret {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let workloads = cx
            .workloads
            .get(index_in(cx.objects, obj))
            .map_or(&[][..], Vec::as_slice);
        for f in scan::object_fields(obj, workloads) {
            out.report(
                obj,
                f.path.clone(),
                format!("field {} holds {}", f.label, scan::describe(&f.hits)),
            );
        }
    }
}

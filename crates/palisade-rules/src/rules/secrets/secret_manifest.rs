//! PLS-SEC-004: Secret manifest holds real credentials.
//!
//! What it does: flags Secret objects whose `data` (decoded) or `stringData`
//! hold real credential values: a detector match, a non-placeholder value
//! under a secret-looking key, a random-looking value, a registry
//! `auth`/`password` in a `dockerconfigjson`, the `tls.key` of a TLS Secret,
//! the `token` of a service-account-token Secret. Placeholders, templates,
//! certificates and `username`/`host`-style keys are not reported. One
//! finding per Secret, listing the keys.
//!
//! Why it matters: base64 is an encoding, not encryption; a Secret manifest
//! in Git or a chart exposes its credentials to everyone who can read the
//! repository, forever.
//!
//! Example: `kind: Secret`, `stringData: {password: hunter2}`.
//!
//! Fix: commit a SealedSecret, an ExternalSecret or a SOPS-encrypted file
//! instead, and create the Secret in the cluster.

use super::scan;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct SecretManifest;

static META: RuleMeta = RuleMeta {
    id: "PLS-SEC-004",
    title: "Secret manifest holds real credentials",
    severity: Severity::Medium,
    category: "secrets",
    rationale: "Secret `data` is only base64-encoded, so a Secret manifest committed to Git, packaged in a chart or attached to a ticket discloses its credentials to everyone who can read it, for as long as the history exists. In the cluster the object is fine; in a manifest it is a leak.",
    remediation: "Do not commit Secret values: commit a SealedSecret, an ExternalSecret (External Secrets Operator) or a SOPS-encrypted manifest, or create the Secret out of band (`kubectl create secret ... --from-file`). Keep only placeholders in chart defaults. Rotate credentials that were committed.",
    references: References {
        mitre: &["T1552.001"],
        links: &["https://kubernetes.io/docs/concepts/security/secrets-good-practices/"],
        ..References::NONE
    },
};

impl Rule for SecretManifest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !(obj.kind == "Secret" && obj.group().is_empty()) {
            return;
        }
        let found = scan::secret_values(obj);
        let Some(first) = found.first() else { return };
        let hits: Vec<scan::Hit> = found
            .iter()
            .flat_map(|f| {
                f.hits.iter().map(|h| scan::Hit {
                    key: if h.key.is_empty() {
                        f.label.clone()
                    } else {
                        format!("{} {}", f.label, h.key)
                    },
                    ..h.clone()
                })
            })
            .collect();
        let ty = obj
            .root
            .get("type")
            .and_then(palisade_core::Node::as_str)
            .unwrap_or("Opaque");
        out.report(
            obj,
            first.path.clone(),
            format!(
                "{ty} Secret {:?} commits credentials: {}",
                obj.name,
                scan::describe(&hits)
            ),
        );
    }
}

//! PLS-SEC-002: Secret value in a ConfigMap.
//!
//! What it does: flags ConfigMap `data` and `binaryData` entries that hold a
//! credential: a value a format detector recognizes, a non-placeholder value
//! under a secret-looking key (`db_password: ...`), or a secret-named pair
//! inside an embedded config file (`REDIS_PASSWORD=...` in a `.env`,
//! `spring.datasource.password=...` in `application.properties`, JSON).
//!
//! Why it matters: ConfigMaps are not meant for secrets: they are never
//! encrypted at rest by default policies, are readable by far more
//! subjects (`view` includes them), and are printed by `kubectl describe`.
//!
//! Example: `data: {AWS_SECRET_ACCESS_KEY: ..., config: "REDIS_PASSWORD=abcd1234"}`.
//!
//! Fix: move the value into a Secret and mount or reference that instead.

use super::scan;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct ConfigMapSecret;

static META: RuleMeta = RuleMeta {
    id: "PLS-SEC-002",
    title: "Secret value in a ConfigMap",
    severity: Severity::High,
    category: "secrets",
    rationale: "ConfigMaps are meant for non-confidential configuration: the built-in `view` role can read them, `kubectl describe` prints them, and encryption-at-rest configurations usually cover only Secrets. A password, token or private key in `data` or `binaryData` (directly or inside an embedded `.env`, properties or JSON file) is exposed to everyone who can read the namespace's configuration.",
    remediation: "Move the credential into a Secret and mount it (`volumes[].secret`) or reference it (`env[].valueFrom.secretKeyRef`); keep only non-secret settings in the ConfigMap, with a reference such as `${REDIS_PASSWORD}` resolved at startup. Rotate the exposed credential.",
    references: References {
        trivy: &["KSV-0109"],
        kubescape: &["C-0012"],
        polaris: &["sensitiveConfigmapContent"],
        mitre: &["T1552"],
        links: &["https://kubernetes.io/docs/concepts/configuration/configmap/"],
        ..References::NONE
    },
};

impl Rule for ConfigMapSecret {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !(obj.kind == "ConfigMap" && obj.group().is_empty()) {
            return;
        }
        for f in scan::configmap(obj) {
            let field = f.path.to_string();
            let field = field.split(['.', '[']).next().unwrap_or("data");
            out.report(
                obj,
                f.path.clone(),
                format!(
                    "ConfigMap {field} key {:?} holds {}",
                    f.label,
                    scan::describe(&f.hits)
                ),
            );
        }
    }
}

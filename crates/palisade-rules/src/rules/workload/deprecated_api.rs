//! PLS-WL-017: Object uses a deprecated API version.
//!
//! What it does: flags objects whose `apiVersion`/`kind` is deprecated but
//! still served (today `v1` Endpoints, deprecated in v1.33 in favour of
//! EndpointSlice). Removed versions are PLS-WL-016. The table is in
//! `api_versions.rs`.
//!
//! Why it matters: the API server answers with a warning today and the
//! manifest is on the path to breaking; new Service features (dual-stack,
//! traffic distribution) only reach EndpointSlices.
//!
//! Fix: move to the replacement the message names.

use super::api_versions::lookup;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct DeprecatedApi;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-017",
    title: "Object uses a deprecated API version",
    severity: Severity::Medium,
    category: "api-versions",
    rationale: "A deprecated apiVersion still works but draws API server warnings, misses features that only its replacement gets, and will break the manifest when the version is removed; migrating before that day is cheaper than during an upgrade.",
    remediation: "Change the object to the replacement named in the finding; for v1 Endpoints, write discovery.k8s.io/v1 EndpointSlice objects (labelled `kubernetes.io/service-name`) for selector-less Services.",
    references: References {
        links: &[
            "https://kubernetes.io/docs/reference/using-api/deprecation-guide/",
            "https://kubernetes.io/blog/2025/04/24/endpoints-deprecation/",
        ],
        kube_score: &["stable-version"],
        ..References::NONE
    },
};

impl Rule for DeprecatedApi {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(e) = lookup(&obj.api_version, &obj.kind) else {
            return;
        };
        if e.removed_in.is_some() {
            return;
        }
        let since = e
            .deprecated_in
            .map(|d| format!(" since Kubernetes v{d}"))
            .unwrap_or_default();
        out.report(
            obj,
            Path::keys("apiVersion"),
            format!(
                "{} {} is deprecated{since}; use {}",
                obj.api_version, obj.kind, e.replacement
            ),
        );
    }
}

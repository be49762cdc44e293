//! PLS-WL-016: Object uses a removed API version.
//!
//! What it does: flags objects whose `apiVersion`/`kind` is no longer
//! served by Kubernetes (every removal up to v1.32 in the official
//! deprecation guide: `extensions/v1beta1`, `apps/v1beta1`/`v1beta2`,
//! `batch/v1beta1` CronJob, `policy/v1beta1` PodDisruptionBudget and
//! PodSecurityPolicy, `autoscaling/v2beta1`/`v2beta2`,
//! `networking.k8s.io/v1beta1` Ingress, `rbac.authorization.k8s.io/v1beta1`,
//! `flowcontrol.apiserver.k8s.io/v1beta1`..`v1beta3`, `storage.k8s.io/v1beta1`
//! CSIStorageCapacity, ...). The table is in `api_versions.rs`.
//!
//! Why it matters: the API server rejects the manifest, so the deploy fails
//! (or, in a chart with several objects, half-applies); and security
//! objects such as a PodSecurityPolicy silently protect nothing.
//!
//! Fix: move to the replacement the message names (`kubectl convert` helps).

use super::api_versions::lookup;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct RemovedApi;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-016",
    title: "Object uses a removed API version",
    severity: Severity::High,
    category: "api-versions",
    rationale: "Kubernetes no longer serves this apiVersion: applying the manifest fails, a chart half-applies, and objects meant to enforce policy (a PodSecurityPolicy, a v1beta1 webhook configuration) protect nothing on a current cluster.",
    remediation: "Change `apiVersion` to the replacement named in the finding (e.g. `apps/v1` for Deployments, `networking.k8s.io/v1` for Ingress, `batch/v1` for CronJob, `policy/v1` for PodDisruptionBudget) and apply the field changes the migration guide lists; `kubectl convert` can do most of it.",
    references: References {
        kube_linter: &["no-extensions-v1beta"],
        kube_score: &["stable-version"],
        links: &["https://kubernetes.io/docs/reference/using-api/deprecation-guide/"],
        ..References::NONE
    },
};

impl Rule for RemovedApi {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(e) = lookup(&obj.api_version, &obj.kind) else {
            return;
        };
        let Some(removed) = e.removed_in else { return };
        let since = e
            .deprecated_in
            .map(|d| format!(" (deprecated in v{d})"))
            .unwrap_or_default();
        out.report(
            obj,
            Path::keys("apiVersion"),
            format!(
                "{} {} is no longer served since Kubernetes v{removed}{since}; use {}",
                obj.api_version, obj.kind, e.replacement
            ),
        );
    }
}

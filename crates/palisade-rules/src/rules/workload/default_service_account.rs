//! PLS-WL-010: Workload runs as the default ServiceAccount.
//!
//! What it does: flags pod templates with no `serviceAccountName` (nor the
//! deprecated `serviceAccount`), or with it set to `default`: the pod runs
//! as its namespace's `default` ServiceAccount. Reported whether or not the
//! token is mounted (PLS-WL-009 covers that): the identity is still shared.
//! KServe ServingRuntimes are skipped (their pods run as the
//! InferenceService's predictor, which is checked).
//!
//! Why it matters: every pod in the namespace that does not choose an
//! identity shares `default`; a RoleBinding made for one of them grants the
//! rest, and audit logs cannot tell them apart (CIS 5.1.5).
//!
//! Fix: create a ServiceAccount per workload and set `serviceAccountName`.

use super::support::service_account;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct DefaultServiceAccount;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-010",
    title: "Workload runs as the default ServiceAccount",
    severity: Severity::Low,
    category: "service-accounts",
    rationale: "Pods that do not name a ServiceAccount all run as their namespace's `default` one, so a permission granted to `default` for one workload is granted to every other, and API audit logs cannot tell which workload acted.",
    remediation: "Create a dedicated ServiceAccount for the workload (with `automountServiceAccountToken: false` unless it calls the API) and set `serviceAccountName` in the pod spec.",
    references: References {
        kube_linter: &["default-service-account"],
        cis: &["5.1.5"],
        links: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/",
        ],
        ..References::NONE
    },
};

impl Rule for DefaultServiceAccount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let o = w.object;
        if o.group() == "serving.kserve.io" && o.kind != "InferenceService" {
            return;
        }
        match service_account(w) {
            ("default", Some(field)) => out.report(o, w.path(field), format!("the pod sets {field}: default")),
            ("default", None) => out.report(
                o,
                w.path("serviceAccountName"),
                "the pod sets no serviceAccountName, so it runs as the namespace's default ServiceAccount",
            ),
            _ => {}
        }
    }
}

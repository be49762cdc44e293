//! PLS-WL-014: No PodDisruptionBudget covers the workload.
//!
//! What it does: flags Deployments and StatefulSets whose pod template
//! labels are selected by no PodDisruptionBudget in the same namespace in
//! the input. Matching uses the PDB's `selector` against the template's
//! labels (not the controller's own labels), with `matchExpressions`; an
//! empty selector selects every pod in policy/v1 and none in
//! policy/v1beta1. `replicas: 0` is not reported.
//!
//! Why it matters: without a PDB, a node drain or cluster upgrade may evict
//! every replica at once.
//!
//! Fix: add a PodDisruptionBudget selecting the pods with `maxUnavailable: 1`.

use super::support::{in_namespace, replicas, selector_matches, template_labels};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct MissingPdb;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-014",
    title: "No PodDisruptionBudget covers the workload",
    severity: Severity::Info,
    category: "reliability",
    rationale: "Voluntary disruptions (node drains, cluster upgrades, autoscaler scale-downs) only respect a PodDisruptionBudget; without one, a drain may evict every replica of a service at once.",
    remediation: "Add a PodDisruptionBudget in the same namespace whose `spec.selector.matchLabels` matches the pod template's labels, with `maxUnavailable: 1` (or a `minAvailable` below the replica count).",
    references: References {
        polaris: &["missingPodDisruptionBudget"],
        kube_score: &[
            "deployment-has-poddisruptionbudget",
            "statefulset-has-poddisruptionbudget",
        ],
        links: &["https://kubernetes.io/docs/tasks/run-application/configure-pdb/"],
        ..References::NONE
    },
};

/// Whether a PodDisruptionBudget selects pods with `labels`.
pub(crate) fn pdb_selects(pdb: &Object, labels: Option<&palisade_core::Node>) -> bool {
    let empty_selects_all = pdb.api_version != "policy/v1beta1";
    selector_matches(pdb.spec().get("selector"), labels, empty_selects_all)
}

impl Rule for MissingPdb {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !matches!(obj.kind.as_str(), "Deployment" | "StatefulSet")
            || !matches!(obj.group(), "apps" | "extensions" | "")
        {
            return;
        }
        if replicas(obj) == Some(0) {
            return;
        }
        let labels = template_labels(obj);
        let ns = obj.effective_namespace();
        if in_namespace(cx, "PodDisruptionBudget", ns).any(|p| pdb_selects(p, labels)) {
            return;
        }
        out.report(
            obj,
            Path::keys("spec.template.metadata.labels"),
            format!(
                "no PodDisruptionBudget in namespace {ns:?} selects the pods of this {}",
                obj.kind
            ),
        );
    }
}

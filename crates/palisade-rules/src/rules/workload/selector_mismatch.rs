//! PLS-WL-019: Controller selector does not match its pod template.
//!
//! What it does: flags Deployments, StatefulSets, DaemonSets and
//! ReplicaSets whose non-empty `spec.selector` (`matchLabels` and
//! `matchExpressions`) does not select the labels of their own pod
//! template.
//!
//! Why it matters: the API server refuses such an `apps/v1` object
//! (`selector does not match template labels`), so the change never
//! rolls out; with the old `extensions/v1beta1` API the controller would
//! create pods it never counts, forever.
//!
//! Example: `selector: {matchLabels: {app: vllm}}` with template labels
//! `{app.kubernetes.io/name: vllm}`.
//!
//! Fix: make the template's labels include every `matchLabels` entry.

use super::support::{selector_matches, template_labels};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::{Object, selector};

pub(crate) struct SelectorMismatch;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-019",
    title: "Controller selector does not match its pod template",
    severity: Severity::Medium,
    category: "workloads",
    rationale: "A controller only manages the pods its selector selects. When the selector does not match the pod template's labels, the API server rejects the `apps/v1` object (`selector does not match template labels`) and the rollout never happens; with older API versions the controller keeps creating pods it never counts.",
    remediation: "Make `spec.template.metadata.labels` include every `spec.selector.matchLabels` entry and satisfy every `matchExpressions` requirement (the selector is immutable after creation: change the labels, not the selector).",
    references: References {
        kube_linter: &["mismatching-selector"],
        kube_score: &[
            "deployment-pod-selector-labels-match-template-metadata-labels",
            "statefulset-pod-selector-labels-match-template-metadata-labels",
        ],
        links: &["https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#selector"],
        ..References::NONE
    },
};

impl Rule for SelectorMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !matches!(
            obj.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        ) || !matches!(obj.group(), "apps" | "extensions")
        {
            return;
        }
        let sel = obj.spec().get("selector").filter(|s| s.is_map());
        if selector::is_empty(sel) {
            return;
        }
        if selector_matches(sel, template_labels(obj), false) {
            return;
        }
        out.report(
            obj,
            Path::keys("spec.selector"),
            format!(
                "the {}'s spec.selector does not select the labels of its own pod template",
                obj.kind
            ),
        );
    }
}

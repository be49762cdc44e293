//! PLS-WL-022: HorizontalPodAutoscaler targets nothing.
//!
//! What it does: flags HorizontalPodAutoscalers whose `spec.scaleTargetRef`
//! (`kind` and `name`) names no object in the same namespace of the input.
//!
//! Why it matters: the autoscaler does nothing (`FailedGetScale`), so the
//! workload it was meant for never scales under load; a typo here is found
//! at the first traffic peak.
//!
//! Example: `scaleTargetRef: {kind: Deployment, name: vllm}` while the
//! Deployment is `vllm-llama3`.
//!
//! Fix: name the workload exactly (`apiVersion`, `kind`, `name`).

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct HpaTarget;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-022",
    title: "HorizontalPodAutoscaler targets nothing",
    severity: Severity::Low,
    category: "reliability",
    rationale: "An autoscaler whose `scaleTargetRef` names no object only logs `FailedGetScale`: the workload it was written for keeps its static replica count and falls over at the first load peak. Judged on the input: a target not in it cannot be seen.",
    remediation: "Set `spec.scaleTargetRef` to the `apiVersion`, `kind` and `name` of an existing Deployment, StatefulSet or other scalable object in the same namespace.",
    references: References {
        kube_linter: &["dangling-horizontalpodautoscaler"],
        kube_score: &["horizontalpodautoscaler-has-target"],
        links: &["https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/"],
        ..References::NONE
    },
};

impl Rule for HpaTarget {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if obj.kind != "HorizontalPodAutoscaler" || obj.group() != "autoscaling" {
            return;
        }
        let Some(t) = obj.spec().get("scaleTargetRef") else {
            return;
        };
        let (Some(kind), Some(name)) = (
            t.get("kind").and_then(Node::as_str),
            t.get("name").and_then(Node::as_str),
        ) else {
            return;
        };
        let ns = obj.effective_namespace();
        if cx.of_kind_in(kind, ns).any(|o| o.name == name) {
            return;
        }
        out.report(
            obj,
            Path::keys("spec.scaleTargetRef.name"),
            format!("scaleTargetRef names {kind} {name:?}, which is not in namespace {ns:?}"),
        );
    }
}

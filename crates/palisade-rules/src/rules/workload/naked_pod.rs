//! PLS-WL-013: Pod is not managed by a controller.
//!
//! What it does: flags Pod objects without `metadata.ownerReferences`:
//! nothing recreates them when they die.
//!
//! Why it matters: a bare Pod is gone for good after a node failure, drain
//! or eviction, and cannot be rolled out or scaled.
//!
//! Fix: run it from a Deployment, StatefulSet, DaemonSet or Job.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct NakedPod;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-013",
    title: "Pod is not managed by a controller",
    severity: Severity::Low,
    category: "reliability",
    rationale: "A Pod created on its own is not recreated when its node fails, is drained or evicts it; it cannot be rolled out or scaled, and its spec drifts from whatever was meant to run.",
    remediation: "Wrap the pod spec in a controller: a Deployment (or StatefulSet) for servers, a DaemonSet for per-node agents, a Job for run-to-completion work.",
    references: References {
        kubescape: &["C-0073"],
        polaris: &["nakedPod"],
        links: &[
            "https://kubernetes.io/docs/concepts/configuration/overview/#naked-pods-vs-replicasets-deployments-and-jobs",
        ],
        ..References::NONE
    },
};

impl Rule for NakedPod {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !obj.is("", "Pod") {
            return;
        }
        if obj
            .metadata()
            .get("ownerReferences")
            .map(Node::items)
            .is_some_and(|r| !r.is_empty())
        {
            return;
        }
        out.report(
            obj,
            Path::keys("metadata.ownerReferences"),
            "the Pod has no ownerReferences: no controller recreates it",
        );
    }
}

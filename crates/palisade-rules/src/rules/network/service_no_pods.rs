//! PLS-NET-011: Service selects no pod.
//!
//! What it does: flags Services with a `spec.selector` that matches the pods
//! of no workload in the same namespace of the input (the labels a pod will
//! carry include those its controller adds: KServe, Knative, Jobs, Ray...).
//! Services without a selector (hand-managed EndpointSlices) and
//! `ExternalName` Services are not judged.
//!
//! Why it matters: a selector that matches nothing is usually a typo or a
//! label renamed on one side only; the Service then has no endpoints and
//! every client fails, or, worse, a later workload that happens to carry
//! the labels silently receives the traffic.
//!
//! Example: `selector: {app: vllm}` while the pods are labelled
//! `app.kubernetes.io/name: vllm`.
//!
//! Fix: make the selector match the pod template's labels.

use super::netpol::{Labels, is_service, pod_labels_by_namespace};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};

pub(crate) struct ServiceNoPods;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-011",
    title: "Service selects no pod",
    severity: Severity::Low,
    category: "network",
    rationale: "A Service whose selector matches no pod has no endpoints: clients get connection errors, and whatever pod later carries those labels (a debug pod, another team's workload) silently receives the traffic. It is almost always a typo or a label renamed on one side only. Judged on the input: pods created by something not in it cannot be seen.",
    remediation: "Make `spec.selector` equal to (a subset of) the pod template's `metadata.labels`, or remove the Service.",
    references: References {
        kube_linter: &["dangling-service"],
        kube_score: &["service-targets-pod"],
        links: &[
            "https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service",
        ],
        ..References::NONE
    },
};

/// Whether a Service selector (a plain label map) selects a pod.
fn selects(sel: &Node, labels: &Labels) -> bool {
    sel.entries().iter().all(|e| {
        e.value
            .as_str()
            .is_some_and(|v| labels.get(e.key.as_str()).is_some_and(|l| l == v))
    })
}

impl Rule for ServiceNoPods {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let mut pods = None;
        for svc in cx.of_kind("Service").filter(|o| is_service(o)) {
            let spec = svc.spec();
            if spec.get("type").and_then(Node::as_str) == Some("ExternalName") {
                continue;
            }
            let Some(sel) = spec.get("selector").filter(|s| !s.entries().is_empty()) else {
                continue;
            };
            let pods = pods.get_or_insert_with(|| pod_labels_by_namespace(cx));
            let ns = svc.effective_namespace();
            let in_ns = pods.get(ns).map_or(&[][..], Vec::as_slice);
            if in_ns.iter().any(|l| selects(sel, l)) {
                continue;
            }
            let shown: Vec<String> = sel
                .entries()
                .iter()
                .map(|e| format!("{}={}", e.key, e.value.as_str().unwrap_or("?")))
                .collect();
            out.report(
                svc,
                Path::keys("spec.selector"),
                format!(
                    "Service {:?} selects {} but no pod of the {} workload(s) in namespace {ns:?} carries those labels",
                    svc.name,
                    shown.join(", "),
                    in_ns.len()
                ),
            );
        }
    }
}

//! PLS-WL-008: Readiness probe not set.
//!
//! What it does: flags regular containers of long-running pods without a
//! `readinessProbe`. Skips the same pods and containers as PLS-WL-007, and
//! also Knative Services and KServe InferenceServices in serverless mode,
//! where Knative gives a container without a readiness probe a default TCP
//! probe. See `probes.rs`.
//!
//! Why it matters: without a readiness probe a pod receives traffic as soon
//! as its containers start: an LLM server still loading weights answers
//! with errors or connection resets for minutes after every rollout or
//! scale-up.
//!
//! Fix: add `readinessProbe` (an `httpGet` on an endpoint that only answers
//! once the model is loaded, such as vLLM's `/health` or TGI's `/health`).

use super::probes::{Probe, check};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct ReadinessProbe;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-008",
    title: "Readiness probe not set",
    severity: Severity::Low,
    category: "reliability",
    rationale: "Without a readiness probe a pod is put behind its Service as soon as its containers start, so a model server still loading weights receives requests it cannot answer, and every rollout or scale-up shows up as a burst of errors to clients.",
    remediation: "Add `readinessProbe` to each long-running container, pointing at an endpoint that only succeeds once the server can serve, e.g. `httpGet: {path: /health, port: 8000}` for vLLM or TGI, `/v2/health/ready` for Triton.",
    references: References {
        kubescape: &["C-0018"],
        checkov: &["CKV_K8S_9"],
        polaris: &["readinessProbeMissing"],
        kube_linter: &["no-readiness-probe"],
        kube_score: &["pod-probes"],
        links: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
        ],
        ..References::NONE
    },
};

impl Rule for ReadinessProbe {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check(w, cx, out, Probe::Readiness);
    }
}

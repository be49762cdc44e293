//! PLS-WL-007: Liveness probe not set.
//!
//! What it does: flags regular containers of long-running pods (Deployments,
//! StatefulSets, DaemonSets, bare Pods that restart, KServe, Knative, Seldon,
//! LeaderWorkerSet...) without a `livenessProbe`. Jobs, CronJobs and other
//! run-to-completion pods, init and ephemeral containers, KServe framework
//! containers (probed by their ServingRuntime) and the Ray container (probed
//! by KubeRay) are skipped: see `probes.rs`.
//!
//! Why it matters: a process that deadlocks (a model server stuck on a hung
//! GPU call, a worker waiting on a dead queue) keeps its pod Running; without
//! a liveness probe nothing restarts it and requests time out forever.
//!
//! Fix: add `livenessProbe` (an `httpGet` on the server's health endpoint,
//! with a `startupProbe` covering model load time).

use super::probes::{Probe, check};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct LivenessProbe;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-007",
    title: "Liveness probe not set",
    severity: Severity::Low,
    category: "reliability",
    rationale: "A process that hangs (a model server stuck on a wedged GPU call, a worker blocked on a dead connection) keeps its pod Running; without a liveness probe the kubelet never restarts it, and traffic keeps timing out until someone notices.",
    remediation: "Add `livenessProbe` to each long-running container, e.g. `httpGet: {path: /health, port: 8000}` with `periodSeconds` and `failureThreshold` set; cover slow model loading with a `startupProbe` rather than a long `initialDelaySeconds`.",
    references: References {
        kubescape: &["C-0056"],
        checkov: &["CKV_K8S_8"],
        polaris: &["livenessProbeMissing"],
        kube_linter: &["no-liveness-probe"],
        kube_score: &["pod-probes"],
        links: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
        ],
        ..References::NONE
    },
};

impl Rule for LivenessProbe {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check(w, cx, out, Probe::Liveness);
    }
}

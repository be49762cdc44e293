//! PLS-WL-002: CPU request not set.
//!
//! What it does: flags regular and init containers without
//! `resources.requests.cpu` (or with it set to zero). A CPU limit also
//! counts: the API server copies it into a missing request.
//!
//! Why it matters: the scheduler places pods by their requests; a container
//! without one is packed onto nodes as if it needed nothing, and under
//! contention it gets the smallest CPU share.
//!
//! Satisfied by: the container's own value; pod-level `spec.resources`; the
//! container's CPU limit (copied into the request by the API server); a
//! LimitRange in the same namespace, present in the input, whose `type:
//! Container` item supplies a default (the LimitRanger admission plugin
//! applies it). Ephemeral containers cannot have resources and are skipped;
//! KServe InferenceServices and ServingRuntimes are skipped because KServe's
//! webhook fills component resources from its configuration. See
//! `resources.rs`.
//!
//! Fix: set `resources.requests.cpu` on every container.

use super::resources::{Field, check};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct CpuRequests;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-002",
    title: "CPU request not set",
    severity: Severity::Low,
    category: "resources",
    rationale: "The scheduler places pods by their requests. A container with no CPU request is packed onto nodes as if it needed nothing, so nodes get overcommitted, and under contention it receives the minimum CPU share, starving model servers of the cores they need to keep up.",
    remediation: "Set `resources.requests.cpu` on every container to what it needs under normal load (for example `requests: {cpu: \"2\"}`), or give the namespace a LimitRange with a `type: Container` item that sets `defaultRequest.cpu`.",
    references: References {
        trivy: &["KSV-0015"],
        kubescape: &["C-0050"],
        checkov: &["CKV_K8S_10"],
        polaris: &["cpuRequestsMissing"],
        kube_linter: &["unset-cpu-requirements"],
        kube_score: &["container-resources"],
        links: &["https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"],
        ..References::NONE
    },
};

impl Rule for CpuRequests {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check(w, cx, out, Field::Requests, "cpu");
    }
}

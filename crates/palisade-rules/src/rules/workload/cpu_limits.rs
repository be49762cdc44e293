//! PLS-WL-001: CPU limit not set.
//!
//! What it does: flags regular and init containers without
//! `resources.limits.cpu` (or with it set to zero). A zero limit means no
//! limit to the kubelet.
//!
//! Why it matters: a container without a CPU limit can use every idle core
//! on the node, so one runaway tokenizer or batch preprocessing loop slows
//! every neighbour's latency.
//!
//! Satisfied by: the container's own value; pod-level `spec.resources`; a
//! LimitRange in the same namespace, present in the input, whose `type:
//! Container` item supplies a default (the LimitRanger admission plugin
//! applies it). Ephemeral containers cannot have resources and are skipped;
//! KServe InferenceServices and ServingRuntimes are skipped because KServe's
//! webhook fills component resources from its configuration. See
//! `resources.rs`.
//!
//! Fix: set `resources.limits.cpu` on every container.

use super::resources::{Field, check};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct CpuLimits;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-001",
    title: "CPU limit not set",
    severity: Severity::Low,
    category: "resources",
    rationale: "A container without a CPU limit can take every idle core on its node: one runaway process (a tokenizer loop, a stuck preprocessing worker) degrades the latency of every other pod scheduled there, and namespaces cannot be held to a fair share.",
    remediation: "Set `resources.limits.cpu` on every container (for example `limits: {cpu: \"4\"}`), or give the namespace a LimitRange with a `type: Container` item that sets `default.cpu`.",
    references: References {
        trivy: &["KSV-0011"],
        kubescape: &["C-0050", "C-0270"],
        checkov: &["CKV_K8S_11"],
        polaris: &["cpuLimitsMissing"],
        kube_score: &["container-resources"],
        links: &["https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"],
        kube_linter: &["unset-cpu-requirements"],
        ..References::NONE
    },
};

impl Rule for CpuLimits {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check(w, cx, out, Field::Limits, "cpu");
    }
}

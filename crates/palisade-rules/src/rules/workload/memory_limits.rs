//! PLS-WL-003: Memory limit not set.
//!
//! What it does: flags regular and init containers without
//! `resources.limits.memory` (or with it set to zero). A zero limit means no
//! limit to the kubelet.
//!
//! Why it matters: memory is not compressible: a container without a limit
//! can grow until the node runs out, and then the kernel or the kubelet
//! kills or evicts whatever it picks, often other tenants' pods.
//!
//! Satisfied by: the container's own value; pod-level `spec.resources`; a
//! LimitRange in the same namespace, present in the input, whose `type:
//! Container` item supplies a default (the LimitRanger admission plugin
//! applies it). Ephemeral containers cannot have resources and are skipped;
//! KServe InferenceServices and ServingRuntimes are skipped because KServe's
//! webhook fills component resources from its configuration. See
//! `resources.rs`.
//!
//! Fix: set `resources.limits.memory` on every container.

use super::resources::{Field, check};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct MemoryLimits;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-003",
    title: "Memory limit not set",
    severity: Severity::Medium,
    category: "resources",
    rationale: "Memory cannot be throttled, only reclaimed by killing. A container without a memory limit (a model server loading a bigger checkpoint, a leak in a Python worker) grows until the node runs out, and then the kernel OOM killer or kubelet eviction takes down other pods on the node.",
    remediation: "Set `resources.limits.memory` on every container (for example `limits: {memory: 24Gi}`), or give the namespace a LimitRange with a `type: Container` item that sets `default.memory`.",
    references: References {
        trivy: &["KSV-0018"],
        kubescape: &["C-0004", "C-0271"],
        checkov: &["CKV_K8S_13"],
        polaris: &["memoryLimitsMissing"],
        kube_linter: &["unset-memory-requirements"],
        kube_score: &["container-resources"],
        links: &["https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"],
        ..References::NONE
    },
};

impl Rule for MemoryLimits {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check(w, cx, out, Field::Limits, "memory");
    }
}

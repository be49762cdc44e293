//! PLS-WL-004: Memory request not set.
//!
//! What it does: flags regular and init containers without
//! `resources.requests.memory` (or with it set to zero). A memory limit also
//! counts: the API server copies it into a missing request.
//!
//! Why it matters: the scheduler places pods by their requests; a container
//! without a memory request lands on nodes that cannot hold it and is first
//! in line for eviction under memory pressure.
//!
//! Satisfied by: the container's own value; pod-level `spec.resources`; the
//! container's memory limit (copied into the request by the API server); a
//! LimitRange in the same namespace, present in the input, whose `type:
//! Container` item supplies a default (the LimitRanger admission plugin
//! applies it). Ephemeral containers cannot have resources and are skipped;
//! KServe InferenceServices and ServingRuntimes are skipped because KServe's
//! webhook fills component resources from its configuration. See
//! `resources.rs`.
//!
//! Fix: set `resources.requests.memory` on every container.

use super::resources::{Field, check};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct MemoryRequests;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-004",
    title: "Memory request not set",
    severity: Severity::Low,
    category: "resources",
    rationale: "The scheduler places pods by their requests. A container without a memory request is scheduled onto nodes that may not have room for it and, being the lowest QoS class for memory, is among the first evicted when the node comes under memory pressure.",
    remediation: "Set `resources.requests.memory` on every container to its working set (for example `requests: {memory: 16Gi}`), or give the namespace a LimitRange with a `type: Container` item that sets `defaultRequest.memory`.",
    references: References {
        trivy: &["KSV-0016"],
        kubescape: &["C-0004"],
        checkov: &["CKV_K8S_12"],
        polaris: &["memoryRequestsMissing"],
        kube_score: &["container-resources"],
        links: &["https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"],
        kube_linter: &["unset-memory-requirements"],
        ..References::NONE
    },
};

impl Rule for MemoryRequests {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        check(w, cx, out, Field::Requests, "memory");
    }
}

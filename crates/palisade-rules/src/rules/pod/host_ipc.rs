//! PLS-POD-004: Pod shares the host IPC namespace.
//!
//! What it does: flags pod templates with `hostIPC: true`.
//!
//! Why it matters: the pod can read and write the node's System V shared
//! memory, semaphores and message queues, and `/dev/shm`, which other
//! processes on the node use to exchange data.
//!
//! Example: `spec: {hostIPC: true}`.
//!
//! Fix: remove `hostIPC` (or set it to false).

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct HostIpc;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-004",
    title: "Pod shares the host IPC namespace",
    severity: Severity::High,
    category: "pod-security",
    rationale: "With `hostIPC: true` the pod joins the node's IPC namespace: it can attach to the System V shared memory segments, semaphores and message queues of every process on the node and read or tamper with `/dev/shm`. Inference servers sometimes ask for it to speed up NCCL; an `emptyDir` with `medium: Memory` mounted at `/dev/shm` gives the same without sharing the host's.",
    remediation: "Remove `spec.hostIPC` or set it to false. For a larger shared-memory area mount an `emptyDir: {medium: Memory, sizeLimit: ...}` volume at `/dev/shm`.",
    references: References {
        trivy: &["KSV-0008"],
        kubescape: &["C-0038"],
        checkov: &["CKV_K8S_18"],
        polaris: &["hostIPCSet"],
        kube_linter: &["host-ipc"],
        pss: &["baseline:host-namespaces"],
        cis: &["5.2.3"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        ..References::NONE
    },
};

impl Rule for HostIpc {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if w.flag("hostIPC") {
            out.report(
                w.object,
                w.path("hostIPC"),
                "pod shares the host IPC namespace (hostIPC: true): it can read and write the node's shared memory and message queues",
            );
        }
    }
}

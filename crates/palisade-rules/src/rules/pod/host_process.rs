//! PLS-POD-024: Windows HostProcess container.
//!
//! What it does: flags containers whose effective
//! `windowsOptions.hostProcess` is true; the pod-level value applies to
//! every container that does not set its own (`windowsOptions` merges
//! field by field).
//!
//! Why it matters: a HostProcess container is a process on the Windows
//! node itself, with the node's filesystem, network and, as SYSTEM, full
//! control of it: the Windows equivalent of a privileged container.
//!
//! Example: `securityContext: {windowsOptions: {hostProcess: true}}`.
//!
//! Fix: remove `hostProcess`.

use super::{Hits, effective};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct HostProcess;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-024",
    title: "Windows HostProcess container",
    severity: Severity::Critical,
    category: "pod-security",
    rationale: "A Windows HostProcess container is not isolated at all: it runs as a process on the node, sees the node's filesystem and network, and usually runs as NT AUTHORITY\\SYSTEM, so whoever controls it controls the node and every pod on it.",
    remediation: "Remove `securityContext.windowsOptions.hostProcess` (pod and containers) and `hostNetwork: true`. Keep HostProcess pods to node-management DaemonSets in a dedicated namespace with an explicit exception.",
    references: References {
        trivy: &["KSV-0103"],
        polaris: &["hostProcess"],
        pss: &["baseline:host-process"],
        mitre: &["T1611"],
        links: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/",
        ],
        ..References::NONE
    },
};

impl Rule for HostProcess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let mut hits = Hits::new();
        for c in &w.containers {
            if let Some(e) = effective(w, c, "windowsOptions.hostProcess")
                .filter(|e| e.node.as_bool() == Some(true))
            {
                hits.value(c, e.path, e.from_pod, || {
                    String::from("windowsOptions.hostProcess: true")
                });
            }
        }
        hits.emit(w, out);
    }
}

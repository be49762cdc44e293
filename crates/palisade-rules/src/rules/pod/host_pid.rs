//! PLS-POD-003: Pod shares the host PID namespace.
//!
//! What it does: flags pod templates with `hostPID: true`.
//!
//! Why it matters: every process on the node becomes visible to the pod;
//! with root or `SYS_PTRACE` the pod can read their memory and environment,
//! and a privileged container reaches a root shell on the node with
//! `nsenter -t 1`.
//!
//! Example: `spec: {hostPID: true}`.
//!
//! Fix: remove `hostPID` (or set it to false).

use super::{holds_cap, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct HostPid;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-003",
    title: "Pod shares the host PID namespace",
    severity: Severity::High,
    category: "pod-security",
    rationale: "With `hostPID: true` the pod sees every process on the node, including other pods' and the kubelet's. A root process with SYS_PTRACE can read their memory and `/proc/<pid>/environ` (tokens, keys), and a privileged container gets a root shell on the node with `nsenter -t 1 -a`.",
    remediation: "Remove `spec.hostPID` or set it to false. For process-level debugging use `kubectl debug node/<name>` on demand instead of a standing workload; to share processes between the pod's own containers use `shareProcessNamespace: true`.",
    references: References {
        trivy: &["KSV-0010"],
        kubescape: &["C-0038"],
        checkov: &["CKV_K8S_17"],
        polaris: &["hostPIDSet"],
        kube_linter: &["host-pid"],
        pss: &["baseline:host-namespaces"],
        cis: &["5.2.2"],
        mitre: &["T1611"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        ..References::NONE
    },
};

impl Rule for HostPid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !w.flag("hostPID") {
            return;
        }
        let privileged: Vec<String> = w
            .containers
            .iter()
            .filter(|c| {
                c.node
                    .get("securityContext")
                    .and_then(|s| s.get("privileged"))
                    .and_then(Node::as_bool)
                    == Some(true)
            })
            .map(who)
            .collect();
        let ptrace: Vec<String> = w
            .containers
            .iter()
            .filter(|c| holds_cap(c, "SYS_PTRACE"))
            .map(who)
            .collect();
        let note = if !privileged.is_empty() {
            format!(
                "; with privileged {} this is a root shell on the node via nsenter -t 1",
                privileged.join(", ")
            )
        } else if !ptrace.is_empty() {
            format!(
                "; {} can ptrace every process on the node (SYS_PTRACE)",
                ptrace.join(", ")
            )
        } else {
            String::new()
        };
        let msg = format!("pod shares the host PID namespace (hostPID: true){note}");
        out.report(w.object, w.path("hostPID"), msg);
    }
}

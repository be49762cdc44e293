//! PLS-POD-001: Container runs privileged.
//!
//! What it does: flags containers (init and ephemeral included) whose
//! `securityContext.privileged` is true.
//!
//! Why it matters: a privileged container has every capability and every
//! host device; escaping to the node is one `mount` away.
//!
//! Example: `securityContext: {privileged: true}`.
//!
//! Fix: remove `privileged`; add only the capabilities the process needs.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct Privileged;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-001",
    title: "Container runs privileged",
    severity: Severity::Critical,
    category: "pod-security",
    rationale: "A privileged container gets every Linux capability and access to all host devices, so a compromise of the process is a compromise of the node and of every pod on it. GPU workloads are often made privileged to reach the devices; the NVIDIA device plugin makes that unnecessary.",
    remediation: "Remove `securityContext.privileged` (or set it to false). Grant only the specific capabilities the process needs, and request GPUs through the device plugin (`resources.limits[\"nvidia.com/gpu\"]`).",
    references: References {
        trivy: &["KSV-0017"],
        kubescape: &["C-0057"],
        checkov: &["CKV_K8S_16"],
        polaris: &["runAsPrivileged"],
        kube_linter: &["privileged-container"],
        pss: &["baseline:privileged"],
        cis: &["5.2.1"],
        mitre: &["T1611"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        kube_score: &["container-security-context-privileged"],
        ..References::NONE
    },
};

impl Rule for Privileged {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            if let Some((v, path)) = c.sc("privileged")
                && v.as_bool() == Some(true)
            {
                out.report_container(
                    w.object,
                    c.name,
                    path,
                    format!(
                        "container {:?} sets securityContext.privileged: true",
                        c.name
                    ),
                );
            }
        }
    }
}

//! PLS-POD-018: Container adds CAP_SYS_ADMIN.
//!
//! What it does: flags `SYS_ADMIN` (any case, with or without `CAP_`) in a
//! container's `securityContext.capabilities.add`.
//!
//! Why it matters: SYS_ADMIN is "the new root": mount, namespace and BPF
//! operations, cgroup release_agent escapes (CVE-2022-0492), and it makes
//! `allowPrivilegeEscalation: false` meaningless.
//!
//! Example: `capabilities: {add: [SYS_ADMIN]}` for a FUSE model mount.
//!
//! Fix: use a CSI driver for the mount; remove the capability.

use super::{caps, is_windows, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct SysAdmin;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-018",
    title: "Container adds CAP_SYS_ADMIN",
    severity: Severity::High,
    category: "pod-security",
    rationale: "CAP_SYS_ADMIN covers mount, namespace, BPF and many device operations; together with a writable cgroup filesystem or a missing seccomp profile it is a direct container escape (cgroup release_agent, CVE-2022-0492), and it overrides `allowPrivilegeEscalation: false`. It is often added to mount FUSE filesystems (s3fs, gcsfuse) for model weights.",
    remediation: "Remove `SYS_ADMIN` from `securityContext.capabilities.add`. Mount object storage through a CSI driver (Mountpoint for S3, GCS FUSE CSI) or copy weights in an init container instead of mounting FUSE in the serving container.",
    references: References {
        trivy: &["KSV-0005"],
        checkov: &["CKV_K8S_39"],
        pss: &["baseline:capabilities"],
        mitre: &["T1611"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        ..References::NONE
    },
};

impl Rule for SysAdmin {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        for c in &w.containers {
            for cap in caps(c, "add").into_iter().filter(|x| x.name == "SYS_ADMIN") {
                out.report_container(
                    w.object,
                    c.name,
                    cap.path,
                    format!("{} adds capability {}", who(c), cap.raw),
                );
            }
        }
    }
}

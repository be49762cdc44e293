//! PLS-POD-017: Container adds capabilities beyond the baseline set.
//!
//! What it does: flags each entry of `securityContext.capabilities.add`
//! outside the Pod Security Standards baseline set (AUDIT_WRITE, CHOWN,
//! DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP,
//! SETGID, SETPCAP, SETUID, SYS_CHROOT), `ALL` included. Names match as the
//! runtimes match them: any case, with or without `CAP_`. SYS_ADMIN is left
//! to PLS-POD-018 and NET_RAW to PLS-POD-016.
//!
//! Why it matters: the capabilities outside that set (NET_ADMIN,
//! SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH, BPF, PERFMON...) each open a
//! documented path out of the container or into its neighbours.
//!
//! Example: `capabilities: {add: [NET_ADMIN]}`.
//!
//! Fix: remove the capability; find the narrower mechanism.

use super::{caps, is_windows, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct CapabilitiesAdded;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-017",
    title: "Container adds capabilities beyond the baseline set",
    severity: Severity::High,
    category: "pod-security",
    rationale: "The Pod Security Standards baseline lets containers add only the runtime's default capabilities. Everything else is a known escalation path: NET_ADMIN rewrites the node-facing network and iptables, SYS_PTRACE reads other processes' memory, SYS_MODULE loads kernel modules, DAC_READ_SEARCH reads any file by handle (the 'shocker' escape), BPF and PERFMON reach into the kernel; `ALL` grants every one of them.",
    remediation: "Remove the capability from `securityContext.capabilities.add`. Keep to the baseline set (in practice `NET_BIND_SERVICE` at most), and move the privileged operation to a node-level agent or a CNI/CSI plugin that is trusted for it.",
    references: References {
        trivy: &["KSV-0022"],
        kubescape: &["C-0046"],
        polaris: &["dangerousCapabilities"],
        pss: &["baseline:capabilities"],
        cis: &["5.2.8"],
        mitre: &["T1611"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        ..References::NONE
    },
};

/// Capabilities the Pod Security Standards baseline allows to be added.
const BASELINE: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

impl Rule for CapabilitiesAdded {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        for c in &w.containers {
            for cap in caps(c, "add") {
                if BASELINE.contains(&cap.name.as_str())
                    || cap.name == "SYS_ADMIN"
                    || cap.name == "NET_RAW"
                {
                    continue;
                }
                let msg = if cap.name == "ALL" {
                    format!(
                        "{} adds ALL capabilities (as {:?}), SYS_ADMIN and SYS_MODULE included",
                        who(c),
                        cap.raw
                    )
                } else {
                    format!(
                        "{} adds capability {}, outside the baseline set",
                        who(c),
                        cap.raw
                    )
                };
                out.report_container(w.object, c.name, cap.path, msg);
            }
        }
    }
}

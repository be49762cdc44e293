//! PLS-POD-015: Container does not drop all capabilities.
//!
//! What it does: flags containers (init and ephemeral included) whose
//! `securityContext.capabilities.drop` neither contains `ALL` (any case) nor
//! names every capability the runtime grants by default. Capabilities are
//! container-only; a pod-level `capabilities` is ignored.
//!
//! Why it matters: the runtime's default set (CHOWN, DAC_OVERRIDE, FOWNER,
//! SETUID, SETGID, NET_RAW, MKNOD...) is far more than most servers need
//! and each one widens what a compromised process can do.
//!
//! Example: a container with no `capabilities`.
//!
//! Fix: `capabilities: {drop: [ALL]}`, then add back only what is needed.

use super::{DEFAULT_CAPS, caps, is_windows, sc_path, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct CapabilitiesNotDropped;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-015",
    title: "Container does not drop all capabilities",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "Containers start with the runtime's default capability set (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, SYS_CHROOT, AUDIT_WRITE). Running as root with them lets a process bypass file permissions, forge packets and create device nodes; dropping ALL removes them and costs most servers nothing.",
    remediation: "Set `securityContext.capabilities.drop: [\"ALL\"]` on every container and add back only what the process needs (typically just `NET_BIND_SERVICE` for ports below 1024, or nothing with `net.ipv4.ip_unprivileged_port_start`).",
    references: References {
        trivy: &["KSV-0003"],
        checkov: &["CKV_K8S_37"],
        polaris: &["insecureCapabilities"],
        pss: &["restricted:capabilities"],
        cis: &["5.2.9"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"],
        ..References::NONE
    },
};

impl Rule for CapabilitiesNotDropped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        for c in &w.containers {
            let drop = caps(c, "drop");
            if drop.iter().any(|d| d.name == "ALL") {
                continue;
            }
            let kept: Vec<&str> = DEFAULT_CAPS
                .iter()
                .copied()
                .filter(|d| !drop.iter().any(|x| x.name == *d))
                .collect();
            if kept.is_empty() {
                continue;
            }
            let msg = if drop.is_empty() {
                format!(
                    "{} does not drop ALL capabilities and keeps the runtime's default set",
                    who(c)
                )
            } else {
                format!(
                    "{} does not drop ALL capabilities; it keeps {}",
                    who(c),
                    kept.join(", ")
                )
            };
            out.report_container(w.object, c.name, sc_path(c, &["capabilities", "drop"]), msg);
        }
    }
}

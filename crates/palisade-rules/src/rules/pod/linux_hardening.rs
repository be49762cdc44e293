//! PLS-POD-026: Container has no Linux hardening at all.
//!
//! What it does: flags containers that use none of the four Linux
//! confinement mechanisms: no effective seccomp profile (`RuntimeDefault`
//! or `Localhost`), no effective AppArmor profile (field or annotation), no
//! SELinux options (container or pod), and no dropped capability (or `ALL`
//! added back).
//!
//! Why it matters: each mechanism alone blocks a class of escapes; a
//! container with none of them relies on namespaces only.
//!
//! Example: a container with no `securityContext` and no annotations.
//!
//! Fix: at least `seccompProfile: {type: RuntimeDefault}` and
//! `capabilities: {drop: [ALL]}`.

use super::{Confinement, apparmor_of, caps, is_windows, sc_path, seccomp_of, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::{Container, Workload};

pub(crate) struct LinuxHardening;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-026",
    title: "Container has no Linux hardening at all",
    severity: Severity::Low,
    category: "pod-security",
    rationale: "Seccomp, AppArmor, SELinux and dropped capabilities each close a class of kernel-level escapes. A container that configures none of them relies on namespaces alone (and on the node's defaults, which for seccomp is Unconfined). This is a summary signal; PLS-POD-015 and PLS-POD-019 give the specific fixes.",
    remediation: "Set `securityContext.seccompProfile.type: RuntimeDefault` at pod level and `securityContext.capabilities.drop: [\"ALL\"]` on each container; on AppArmor or SELinux nodes keep the runtime defaults or set `appArmorProfile` / `seLinuxOptions` explicitly.",
    references: References {
        kubescape: &["C-0055"],
        polaris: &["linuxHardening"],
        links: &["https://kubernetes.io/docs/concepts/security/linux-kernel-security-constraints/"],
        ..References::NONE
    },
};

/// Whether the effective `seLinuxOptions` (container's, else pod's) set any
/// sub-field.
fn has_selinux(w: &Workload<'_>, c: &Container<'_>) -> bool {
    let filled = |n: &Node| {
        n.entries()
            .iter()
            .any(|e| e.value.as_str().is_some_and(|s| !s.is_empty()))
    };
    let own = c
        .node
        .get("securityContext")
        .and_then(|s| s.get("seLinuxOptions"))
        .filter(|n| !n.is_null());
    match own {
        Some(n) => filled(n),
        None => w.pod_sc("seLinuxOptions").is_some_and(|(n, _)| filled(n)),
    }
}

impl Rule for LinuxHardening {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        for c in &w.containers {
            if matches!(seccomp_of(w, c), Confinement::Confined)
                || matches!(apparmor_of(w, c), Confinement::Confined)
            {
                continue;
            }
            if has_selinux(w, c) {
                continue;
            }
            let dropped = !caps(c, "drop").is_empty();
            let all_added = caps(c, "add").iter().any(|a| a.name == "ALL");
            if dropped && !all_added {
                continue;
            }
            let caps_note = if dropped {
                "capabilities dropped but ALL added back"
            } else {
                "no dropped capabilities"
            };
            out.report_container(
                w.object,
                c.name,
                sc_path(c, &[]),
                format!(
                    "{} has no Linux hardening: no seccomp profile, no AppArmor profile, no SELinux options, {caps_note}",
                    who(c)
                ),
            );
        }
    }
}

//! PLS-POD-023: Container unmasks /proc.
//!
//! What it does: flags containers whose `securityContext.procMount` is set
//! to anything but `Default` (`Unmasked` is the only other value the API
//! knows).
//!
//! Why it matters: `Unmasked` removes the runtime's masked and read-only
//! paths in `/proc` (`/proc/kcore`, `/proc/sysrq-trigger`, `/proc/sys`...),
//! handing the container kernel interfaces meant for the host.
//!
//! Example: `securityContext: {procMount: Unmasked}`.
//!
//! Fix: remove `procMount` or set it to `Default`.

use super::{sc_path, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct ProcMount;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-023",
    title: "Container unmasks /proc",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "The runtime masks or mounts read-only the parts of `/proc` that reach the host kernel (`/proc/kcore`, `/proc/sysrq-trigger`, `/proc/sys`, `/proc/keys`...). `procMount: Unmasked` removes those protections, which is only meant for nested container runtimes inside user-namespaced pods.",
    remediation: "Remove `securityContext.procMount` or set it to `Default`. Nested builders that need it must run with `hostUsers: false` in a dedicated, isolated namespace.",
    references: References {
        trivy: &["KSV-0027"],
        polaris: &["procMount"],
        kube_linter: &["unsafe-proc-mount"],
        pss: &["baseline:proc-mount"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        ..References::NONE
    },
};

impl Rule for ProcMount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let Some(v) = c
                .node
                .get("securityContext")
                .and_then(|s| s.get("procMount"))
                .filter(|n| !n.is_null())
                .and_then(Node::as_str)
            else {
                continue;
            };
            if v == "Default" {
                continue;
            }
            let hint = if w.get("hostUsers").and_then(Node::as_bool) == Some(false) {
                ""
            } else {
                " without a user namespace (hostUsers: false)"
            };
            out.report_container(
                w.object,
                c.name,
                sc_path(c, &["procMount"]),
                format!("{} sets procMount: {v}{hint}", who(c)),
            );
        }
    }
}

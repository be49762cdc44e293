//! PLS-POD-021: Custom SELinux options.
//!
//! What it does: flags `seLinuxOptions` with a `user` or `role`, or a
//! `type` other than the container types (`container_t`,
//! `container_init_t`, `container_kvm_t`, `container_engine_t`), at pod
//! level (which also labels the pod sandbox) and on each container.
//!
//! Why it matters: a custom type such as `spc_t` or `unconfined_t` lifts
//! SELinux confinement from the container; on SELinux nodes that is the
//! barrier between a root process and the host's files.
//!
//! Example: `seLinuxOptions: {type: spc_t}`.
//!
//! Fix: remove `user`, `role` and any non-container `type`; keep only
//! `level` if needed.

use super::{is_windows, sc_path, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct SeLinux;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-021",
    title: "Custom SELinux options",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "On SELinux nodes (RHEL, Fedora CoreOS, OpenShift) the container type `container_t` is what keeps a root process away from host files. Setting a `user`, a `role`, or a type such as `spc_t` or `unconfined_t` in `seLinuxOptions` removes or changes that confinement; the pod-level value also labels the pod sandbox.",
    remediation: "Remove `seLinuxOptions.user`, `.role` and any `type` other than `container_t`, `container_init_t`, `container_kvm_t` or `container_engine_t` from the pod and container `securityContext`. Setting only `level` (MCS categories) is fine.",
    references: References {
        trivy: &["KSV-0025"],
        pss: &["baseline:selinux"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        ..References::NONE
    },
};

/// Types the Pod Security Standards baseline allows.
const ALLOWED_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// What is wrong with one `seLinuxOptions` object: (sub-field path, text).
fn problems(opts: &Node, path: &Path) -> Vec<(Path, String)> {
    let mut out = Vec::new();
    let text = |k: &str| opts.get(k).filter(|n| !n.is_null()).and_then(Node::as_str);
    if let Some(t) = text("type")
        && !ALLOWED_TYPES.contains(&t)
    {
        out.push((path.key("type"), format!("seLinuxOptions.type: {t:?}")));
    }
    for k in ["user", "role"] {
        if let Some(v) = text(k).filter(|v| !v.is_empty()) {
            out.push((path.key(k), format!("seLinuxOptions.{k}: {v:?}")));
        }
    }
    out
}

impl Rule for SeLinux {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        if let Some((opts, path)) = w.pod_sc("seLinuxOptions") {
            let inheriting: Vec<String> = w
                .containers
                .iter()
                .filter(|c| {
                    c.node
                        .get("securityContext")
                        .and_then(|s| s.get("seLinuxOptions"))
                        .is_none_or(Node::is_null)
                })
                .map(who)
                .collect();
            let scope = if inheriting.is_empty() {
                String::from("the pod sandbox")
            } else {
                format!("the pod sandbox and {}", inheriting.join(", "))
            };
            for (p, what) in problems(opts, &path) {
                out.report(
                    w.object,
                    p,
                    format!("pod securityContext sets custom {what}, applied to {scope}"),
                );
            }
        }
        for c in &w.containers {
            let Some(opts) = c
                .node
                .get("securityContext")
                .and_then(|s| s.get("seLinuxOptions"))
            else {
                continue;
            };
            for (p, what) in problems(opts, &sc_path(c, &["seLinuxOptions"])) {
                out.report_container(
                    w.object,
                    c.name,
                    p,
                    format!("{} sets custom {what}", who(c)),
                );
            }
        }
    }
}

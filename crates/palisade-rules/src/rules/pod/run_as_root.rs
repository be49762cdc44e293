//! PLS-POD-009: Container may run as root.
//!
//! What it does: flags containers whose effective security context neither
//! sets `runAsNonRoot: true` nor a non-zero `runAsUser`, so the image's
//! `USER` decides (root unless the image says otherwise). The pod-level
//! values count for containers that do not override them, and a container
//! overriding a pod-level `runAsNonRoot: true` with `false` is caught.
//! An explicit `runAsUser: 0` is left to PLS-POD-010.
//!
//! Why it matters: root in the container owns every file in the image and
//! volume, and any container escape lands as root on the node.
//!
//! Example: pod `runAsNonRoot: true`, one container `runAsNonRoot: false`.
//!
//! Fix: `runAsNonRoot: true` and a non-zero `runAsUser` at pod level.

use super::{Hits, effective, sc_path, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct RunAsRoot;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-009",
    title: "Container may run as root",
    severity: Severity::High,
    category: "pod-security",
    rationale: "Unless the effective security context says `runAsNonRoot: true` or gives a non-zero `runAsUser`, the container runs as whatever user the image declares, and most images (including the common CUDA and Python bases) declare root. Root in the container can modify the image's binaries, read every mounted volume, and turns any container escape into root on the node.",
    remediation: "Set `securityContext.runAsNonRoot: true` and a non-zero `runAsUser` (and `runAsGroup`) at pod level, and do not override them with `runAsNonRoot: false` in any container. Build images with a numeric non-root `USER`.",
    references: References {
        trivy: &["KSV-0012"],
        kubescape: &["C-0013"],
        checkov: &["CKV_K8S_23"],
        polaris: &["runAsRootAllowed"],
        kube_linter: &["run-as-non-root"],
        pss: &["restricted:running-as-non-root"],
        cis: &["5.2.6"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"],
        ..References::NONE
    },
};

impl Rule for RunAsRoot {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let mut hits = Hits::new();
        for c in &w.containers {
            let user = effective(w, c, "runAsUser").and_then(|e| e.node.as_i64());
            if user == Some(0) {
                continue; // PLS-POD-010
            }
            if user.is_some_and(|u| u > 0) {
                continue;
            }
            let non_root = effective(w, c, "runAsNonRoot");
            match non_root.as_ref().map(|e| (e.node.as_bool(), e)) {
                Some((Some(true), _)) => {}
                Some((Some(false), e)) => {
                    hits.value(c, e.path.clone(), e.from_pod, || {
                        String::from("runAsNonRoot: false with no non-zero runAsUser (the image's user applies, often root)")
                    });
                }
                _ => hits.own(
                    c,
                    sc_path(c, &["runAsNonRoot"]),
                    format!(
                        "{} sets neither runAsNonRoot: true nor a non-zero runAsUser (pod or container), so it runs as the image's user (often root)",
                        who(c)
                    ),
                ),
            }
        }
        hits.emit(w, out);
    }
}

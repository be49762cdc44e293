//! PLS-POD-012: Container GID is 10000 or below.
//!
//! What it does: flags containers whose effective `runAsGroup` is not set
//! (the image's primary group applies) or is between 1 and 10000. GID 0 is
//! left to PLS-POD-013.
//!
//! Why it matters: low GIDs coincide with real groups on the node; a
//! process escaping the container with such a GID gets their file access.
//!
//! Example: `runAsGroup: 1000`.
//!
//! Fix: a GID above 10000 (65532 is the distroless `nonroot`).

use super::{Hits, effective, is_windows, sc_path, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct LowGid;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-012",
    title: "Container GID is 10000 or below",
    severity: Severity::Low,
    category: "pod-security",
    rationale: "GIDs up to 10000 are where node distributions put their own groups (disk, docker, adm...). A container process that escapes keeps its primary group, so a low GID can read or write host files of that group. When `runAsGroup` is not set, the image's primary group applies, usually root (0).",
    remediation: "Set `securityContext.runAsGroup` above 10000 (for example 65532) at pod level, next to `runAsUser`.",
    references: References {
        trivy: &["KSV-0021"],
        kube_score: &["container-security-context-user-group-id"],
        links: &["https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"],
        ..References::NONE
    },
};

impl Rule for LowGid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        let mut hits = Hits::new();
        for c in &w.containers {
            match effective(w, c, "runAsGroup").and_then(|e| e.node.as_i64().map(|v| (v, e))) {
                Some((0, _)) => {} // PLS-POD-013
                Some((v, _)) if v > 10000 => {}
                Some((v, e)) => hits.value(c, e.path, e.from_pod, || format!("runAsGroup: {v}, which is 10000 or below")),
                None => hits.own(
                    c,
                    sc_path(c, &["runAsGroup"]),
                    format!("{} does not set runAsGroup (pod or container), so the image's primary group applies", who(c)),
                ),
            }
        }
        hits.emit(w, out);
    }
}

//! PLS-POD-011: Container UID is 10000 or below.
//!
//! What it does: flags containers whose effective `runAsUser` is not set
//! (the image's UID applies) or is between 1 and 10000. UID 0 is left to
//! PLS-POD-010.
//!
//! Why it matters: low UIDs coincide with real users and system daemons on
//! the node; a process escaping the container with such a UID owns their
//! files.
//!
//! Example: `runAsUser: 1000`.
//!
//! Fix: a UID above 10000 (65532 is the distroless `nonroot`).

use super::{Hits, effective, is_windows, sc_path, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct LowUid;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-011",
    title: "Container UID is 10000 or below",
    severity: Severity::Low,
    category: "pod-security",
    rationale: "UIDs up to 10000 are where node distributions put their own users and daemons. A container process that escapes its namespaces keeps its UID, so a low UID can own or read host files belonging to a real account. When `runAsUser` is not set at all, the image's UID applies, which is usually root or 1000.",
    remediation: "Set `securityContext.runAsUser` above 10000 (for example 65532) at pod level, with `runAsNonRoot: true`, and build images whose files are readable by that UID.",
    references: References {
        trivy: &["KSV-0020"],
        checkov: &["CKV_K8S_40"],
        kube_score: &["container-security-context-user-group-id"],
        links: &["https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"],
        ..References::NONE
    },
};

impl Rule for LowUid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        let mut hits = Hits::new();
        for c in &w.containers {
            match effective(w, c, "runAsUser").and_then(|e| e.node.as_i64().map(|v| (v, e))) {
                Some((0, _)) => {} // PLS-POD-010
                Some((v, _)) if v > 10000 => {}
                Some((v, e)) => hits.value(c, e.path, e.from_pod, || {
                    format!("runAsUser: {v}, which is 10000 or below")
                }),
                None => hits.own(
                    c,
                    sc_path(c, &["runAsUser"]),
                    format!(
                        "{} does not set runAsUser (pod or container), so the image's UID applies",
                        who(c)
                    ),
                ),
            }
        }
        hits.emit(w, out);
    }
}

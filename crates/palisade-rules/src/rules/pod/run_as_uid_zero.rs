//! PLS-POD-010: Container runs as UID 0.
//!
//! What it does: flags containers whose effective `runAsUser` is 0, set on
//! the container or inherited from the pod.
//!
//! Why it matters: this is root by explicit request; it overrides a
//! non-root `USER` in the image.
//!
//! Example: `securityContext: {runAsUser: 0}`.
//!
//! Fix: a non-zero `runAsUser`, and `runAsNonRoot: true`.

use super::{Hits, effective};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct RunAsUidZero;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-010",
    title: "Container runs as UID 0",
    severity: Severity::High,
    category: "pod-security",
    rationale: "`runAsUser: 0` runs the process as root even when the image declares a non-root user. Root in the container owns the image's files and every mounted volume and turns any container escape into root on the node.",
    remediation: "Set `runAsUser` to a non-zero UID (above 10000 avoids clashing with host users) at pod level and remove `runAsUser: 0` from containers; add `runAsNonRoot: true` so the kubelet refuses to start a root container.",
    references: References {
        trivy: &["KSV-0105"],
        pss: &["restricted:running-as-non-root-user"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"],
        ..References::NONE
    },
};

impl Rule for RunAsUidZero {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let mut hits = Hits::new();
        for c in &w.containers {
            let Some(e) = effective(w, c, "runAsUser").filter(|e| e.node.as_i64() == Some(0))
            else {
                continue;
            };
            let refused =
                effective(w, c, "runAsNonRoot").and_then(|n| n.node.as_bool()) == Some(true);
            hits.value(c, e.path, e.from_pod, || {
                if refused {
                    String::from("runAsUser: 0 (root); with runAsNonRoot: true the kubelet refuses to start it")
                } else {
                    String::from("runAsUser: 0 (root)")
                }
            });
        }
        hits.emit(w, out);
    }
}

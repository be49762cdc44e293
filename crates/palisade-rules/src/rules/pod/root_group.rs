//! PLS-POD-013: Container runs with the root group.
//!
//! What it does: flags containers whose effective `runAsGroup` is 0, and
//! pods whose `fsGroup` or `supplementalGroups` include 0.
//!
//! Why it matters: group 0 can read and write everything the image and the
//! node leave group-root-owned, including files on hostPath volumes.
//!
//! Example: `securityContext: {runAsGroup: 0, fsGroup: 0}`.
//!
//! Fix: non-zero `runAsGroup`, `fsGroup` and `supplementalGroups`.

use super::{Hits, effective, is_windows};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct RootGroup;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-013",
    title: "Container runs with the root group",
    severity: Severity::Low,
    category: "pod-security",
    rationale: "A primary or supplementary GID of 0 gives the process the root group's access: files the image or the node leave group-root-writable (common in images built for arbitrary UIDs), and with `fsGroup: 0` every volume the kubelet relabels becomes owned by group root.",
    remediation: "Set `runAsGroup`, `fsGroup` and every `supplementalGroups` entry in the pod's `securityContext` to a non-zero GID (above 10000), and remove `runAsGroup: 0` from containers.",
    references: References {
        trivy: &["KSV-0029"],
        links: &["https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"],
        ..References::NONE
    },
};

impl Rule for RootGroup {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        let mut hits = Hits::new();
        for c in &w.containers {
            if let Some(e) = effective(w, c, "runAsGroup").filter(|e| e.node.as_i64() == Some(0)) {
                hits.value(c, e.path, e.from_pod, || {
                    String::from("runAsGroup: 0 (the root group)")
                });
            }
        }
        hits.emit(w, out);
        if let Some((n, path)) = w.pod_sc("fsGroup")
            && n.as_i64() == Some(0)
        {
            out.report(
                w.object,
                path,
                "pod securityContext sets fsGroup: 0: every container gets the root group and volumes are made group-root-owned",
            );
        }
        if let Some((n, path)) = w.pod_sc("supplementalGroups") {
            for (i, g) in n.items().iter().enumerate() {
                if g.as_i64() == Some(0) {
                    out.report(
                        w.object,
                        path.index(i),
                        "pod securityContext adds supplementary group 0 (root) to every container",
                    );
                }
            }
        }
    }
}

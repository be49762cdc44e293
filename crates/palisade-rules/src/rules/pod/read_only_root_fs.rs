//! PLS-POD-014: Container root filesystem is writable.
//!
//! What it does: flags containers (init and ephemeral included) that do not
//! set `securityContext.readOnlyRootFilesystem: true`. The field exists only
//! on containers; a pod-level value is ignored.
//!
//! Why it matters: a writable root filesystem lets an attacker drop tools,
//! replace binaries or patch the served model code inside the running
//! container, and it persists for the container's life.
//!
//! Example: a container with no `securityContext`.
//!
//! Fix: `readOnlyRootFilesystem: true` and `emptyDir` volumes for the paths
//! that must be writable.

use super::{is_windows, sc_path, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct ReadOnlyRootFs;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-014",
    title: "Container root filesystem is writable",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "With a writable root filesystem, a compromised process can drop and run tools, replace binaries or patch application and model-serving code for as long as the container lives, and nothing in the manifest shows it. A read-only root makes every writable path an explicit volume.",
    remediation: "Set `securityContext.readOnlyRootFilesystem: true` on each container and mount `emptyDir` volumes at the paths the process writes (`/tmp`, caches such as `~/.cache/huggingface`, `/dev/shm` via `emptyDir: {medium: Memory}`).",
    references: References {
        trivy: &["KSV-0014"],
        kubescape: &["C-0017"],
        checkov: &["CKV_K8S_22"],
        polaris: &["notReadOnlyRootFilesystem"],
        kube_linter: &["no-read-only-root-fs"],
        kube_score: &["container-security-context-readonlyrootfilesystem"],
        links: &["https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"],
        ..References::NONE
    },
};

impl Rule for ReadOnlyRootFs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        for c in &w.containers {
            let path = sc_path(c, &["readOnlyRootFilesystem"]);
            let v = c
                .node
                .get("securityContext")
                .and_then(|s| s.get("readOnlyRootFilesystem"))
                .and_then(Node::as_bool);
            let msg = match v {
                Some(true) => continue,
                Some(false) => format!("{} sets readOnlyRootFilesystem: false", who(c)),
                None => format!("{} does not set readOnlyRootFilesystem: true", who(c)),
            };
            out.report_container(w.object, c.name, path, msg);
        }
    }
}

//! PLS-RBAC-007: Subject can exec or attach into pods.
//!
//! What it does: flags every subject allowed `create` or `get` on
//! `pods/exec` or `pods/attach` (`get` opens the same stream over a
//! WebSocket), or `update`/`patch` on `pods/ephemeralcontainers` (`kubectl
//! debug`), also through wildcards; and every non-default Role or
//! ClusterRole with such a rule that no binding of the input uses.
//!
//! Why it matters: a shell in a container is its ServiceAccount token, its
//! mounted Secrets and, for privileged pods, the node.
//!
//! Example: `{apiGroups: [""], resources: [pods/exec], verbs: [create]}`.
//!
//! Fix: drop the rule; use logs, metrics or a break-glass role instead.

use super::model::{Need, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct Exec;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-007",
    title: "Subject can exec or attach into pods",
    severity: Severity::High,
    category: "rbac",
    rationale: "Exec, attach and ephemeral debug containers run commands inside existing containers: the subject gets their ServiceAccount tokens, mounted Secrets and network position, and the node itself when the pod is privileged. `get` on pods/exec has long been enough as well, through a WebSocket upgrade.",
    remediation: "Remove `pods/exec`, `pods/attach` and `pods/ephemeralcontainers` (and `*`) from `rules[].resources` for workloads and CI; give people a separate, time-bound role for debugging.",
    references: References {
        trivy: &["KSV-0053", "KSV-0054"],
        kubescape: &["C-0002"],
        polaris: &[
            "clusterrolePodExecAttach",
            "rolePodExecAttach",
            "clusterrolebindingPodExecAttach",
            "rolebindingClusterRolePodExecAttach",
            "rolebindingRolePodExecAttach",
        ],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#exec-into-pods",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "exec or attach into pods",
    ways: &[&[&[
        Need::Api(Req::new(&["create", "get"], "", "pods/exec")),
        Need::Api(Req::new(&["create", "get"], "", "pods/attach")),
        Need::Api(Req::new(
            &["update", "patch"],
            "",
            "pods/ephemeralcontainers",
        )),
    ]]],
    reach: Reach::Any,
    unused_roles: true,
};

impl Rule for Exec {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

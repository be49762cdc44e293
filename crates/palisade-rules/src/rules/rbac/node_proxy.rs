//! PLS-RBAC-013: Subject can reach kubelets through nodes/proxy.
//!
//! What it does: flags every subject that a ClusterRoleBinding allows `get`
//! or `create` on `nodes/proxy` (also through wildcards), and every
//! ClusterRole with such a rule that no binding of the input uses. Nodes are
//! cluster-scoped, so a RoleBinding cannot grant it.
//!
//! Why it matters: the kubelet API behind nodes/proxy runs commands in any
//! container on the node (`/exec`, `/run`), bypassing pods/exec RBAC,
//! admission and most audit logging; `get` suffices over a WebSocket.
//!
//! Example: a metrics ClusterRole with `{resources: [nodes/proxy], verbs: [get]}`.
//!
//! Fix: use `nodes/metrics` or `nodes/stats` instead.

use super::model::{Need, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct NodeProxy;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-013",
    title: "Subject can reach kubelets through nodes/proxy",
    severity: Severity::High,
    category: "rbac",
    rationale: "nodes/proxy forwards requests to the kubelet API of any node, where /exec, /run and /attach run commands in every container on it, control-plane pods included, without pods/exec RBAC, admission or API audit of the command. `get` has long been enough as well, through a WebSocket upgrade. Monitoring charts often ask for it when nodes/metrics would do.",
    remediation: "Replace `nodes/proxy` in `rules[].resources` with `nodes/metrics` (and `nodes/stats` or `nodes/log` where needed) for scrapers; keep nodes/proxy to node-debugging roles bound only when needed.",
    references: References {
        trivy: &["KSV-0047"],
        cis: &["5.1.10"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#access-to-proxy-subresource-of-nodes",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "run commands in any container of the nodes through nodes/proxy",
    ways: &[&[&[Need::Api(
        Req::new(&["get", "create"], "", "nodes/proxy").cluster_scoped(),
    )]]],
    reach: Reach::Cluster,
    unused_roles: true,
};

impl Rule for NodeProxy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

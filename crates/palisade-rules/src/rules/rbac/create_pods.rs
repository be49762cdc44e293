//! PLS-RBAC-009: Subject can create pods or workloads.
//!
//! What it does: flags every subject allowed to create, update or patch
//! pods, or to create, update or patch the controllers that make them
//! (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs,
//! ReplicationControllers), also through wildcards; and every non-default
//! role with such a rule that no binding of the input uses.
//!
//! Why it matters: whoever writes a pod spec chooses its ServiceAccount,
//! volumes and privileges; unless admission forbids it, that is any
//! ServiceAccount's token in the namespace and a privileged pod on a node.
//!
//! Example: `{apiGroups: [apps], resources: [deployments], verbs: [create]}`.
//!
//! Fix: deploy through GitOps or CI identities and enforce Pod Security.

use super::model::{Need, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct CreatePods;

const WRITE: &[&str] = &["create", "update", "patch"];

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-009",
    title: "Subject can create pods or workloads",
    severity: Severity::High,
    category: "rbac",
    rationale: "Writing a pod spec, directly or through a Deployment, Job or other controller, chooses its ServiceAccount, volumes and security context: unless admission (Pod Security `restricted`, a policy engine) forbids it, the subject gets any ServiceAccount token of the namespace and can run a privileged pod with the host filesystem mounted, an escalation to the node and beyond.",
    remediation: "Limit pod and workload `create`/`update`/`patch` to deployment identities (GitOps controller, CI), enforce `pod-security.kubernetes.io/enforce: restricted` on the namespace, and give operators read-only roles.",
    references: References {
        trivy: &["KSV-0048"],
        kubescape: &["C-0188"],
        kube_linter: &["access-to-create-pods"],
        cis: &["5.1.4"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "create or change pods (directly or through workload controllers)",
    ways: &[&[&[
        Need::Api(Req::new(WRITE, "", "pods")),
        Need::Api(Req::new(WRITE, "", "replicationcontrollers")),
        Need::Api(Req::new(WRITE, "apps", "deployments")),
        Need::Api(Req::new(WRITE, "apps", "replicasets")),
        Need::Api(Req::new(WRITE, "apps", "statefulsets")),
        Need::Api(Req::new(WRITE, "apps", "daemonsets")),
        Need::Api(Req::new(WRITE, "batch", "jobs")),
        Need::Api(Req::new(WRITE, "batch", "cronjobs")),
        Need::Api(Req::new(WRITE, "extensions", "deployments")),
        Need::Api(Req::new(WRITE, "extensions", "replicasets")),
        Need::Api(Req::new(WRITE, "extensions", "daemonsets")),
    ]]],
    reach: Reach::Any,
    unused_roles: true,
};

impl Rule for CreatePods {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

//! PLS-RBAC-014: Subject can change admission webhooks.
//!
//! What it does: flags every subject that a ClusterRoleBinding allows to
//! create, update, patch or delete `validatingwebhookconfigurations` or
//! `mutatingwebhookconfigurations` (also through wildcards), and every
//! ClusterRole with such a rule that no binding of the input uses. Rules
//! limited by `resourceNames` (a controller patching its own webhook's
//! caBundle) do not count.
//!
//! Why it matters: a webhook sees, and may rewrite, every object it
//! selects as it is written, Secrets and pod specs included; deleting one
//! switches a policy engine off.
//!
//! Example: `{apiGroups: [admissionregistration.k8s.io], resources:
//! [mutatingwebhookconfigurations], verbs: [create, update]}`.
//!
//! Fix: limit update/patch to the controller's own webhook by resourceNames.

use super::model::{Names, Need, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct Webhooks;

const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-014",
    title: "Subject can change admission webhooks",
    severity: Severity::High,
    category: "rbac",
    rationale: "An admission webhook receives every object it selects as it is created or updated, Secrets and pod specs included, and a mutating one can rewrite them, for example to add a privileged sidecar. Whoever writes webhook configurations can point one at their own endpoint, or delete the ones that enforce policy.",
    remediation: "Remove write verbs on `validatingwebhookconfigurations`/`mutatingwebhookconfigurations` from `rules[]`; a controller that rotates its webhook's `caBundle` needs `update`/`patch` limited by `resourceNames` to its own configuration, and no `create`.",
    references: References {
        trivy: &["KSV-0114"],
        checkov: &["CKV_K8S_155"],
        cis: &["5.1.12"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#control-admission-webhooks",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "create, change or delete admission webhook configurations",
    ways: &[&[&[
        Need::Api(
            Req::new(
                WRITE,
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
            )
            .names(Names::Unrestricted)
            .cluster_scoped(),
        ),
        Need::Api(
            Req::new(
                WRITE,
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
            )
            .names(Names::Unrestricted)
            .cluster_scoped(),
        ),
    ]]],
    reach: Reach::Cluster,
    unused_roles: true,
};

impl Rule for Webhooks {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

//! PLS-RBAC-006: Secrets readable in a namespace.
//!
//! What it does: flags every subject that a RoleBinding lets get, list or
//! watch Secrets in its namespace (also through `*`, and also when the
//! RoleBinding refers to a ClusterRole), and every Role with such a rule that
//! no binding of the input uses. Rules limited by `resourceNames` do not
//! count.
//!
//! Why it matters: the namespace's ServiceAccount tokens and credentials
//! are Secrets; whatever those ServiceAccounts may do, the subject can do.
//!
//! Example: `Role` with `{apiGroups: [""], resources: [secrets], verbs:
//! [get, list]}` bound to a web application's ServiceAccount.
//!
//! Fix: limit the rule with resourceNames, or mount the Secret instead.

use super::report::{Capability, Reach, report};
use super::secrets_cluster::READ_SECRETS;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct SecretsNamespace;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-006",
    title: "Secrets readable in a namespace",
    severity: Severity::Medium,
    category: "rbac",
    rationale: "Reading the Secrets of a namespace yields its credentials and, where legacy token Secrets exist, the tokens of its ServiceAccounts: the subject inherits whatever they can do, inside and outside the namespace. A workload rarely needs more than the few Secrets it mounts.",
    remediation: "Mount the Secrets the workload needs as volumes or env instead of reading them through the API; if it must read them, add `resourceNames` to the rule and drop `list`/`watch`.",
    references: References {
        trivy: &["KSV-0113"],
        kubescape: &["C-0015", "C-0186"],
        kube_linter: &["access-to-secrets"],
        cis: &["5.1.2"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "read Secrets (get/list/watch)",
    ways: &[&[READ_SECRETS]],
    reach: Reach::Namespace,
    unused_roles: true,
};

impl Rule for SecretsNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}

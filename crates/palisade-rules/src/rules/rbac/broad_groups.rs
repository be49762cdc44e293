//! PLS-RBAC-017: Every authenticated user or ServiceAccount granted sensitive permissions.
//!
//! What it does: flags every non-default binding whose subject is the group
//! `system:authenticated`, `system:serviceaccounts` or
//! `system:serviceaccounts:<namespace>` and whose role allows more than
//! reading: any write verb (other than creating access or token reviews),
//! reading Secrets, or a proxy, exec, attach or port-forward subresource.
//!
//! Why it matters: every identity of the cluster (every pod, every user of
//! the identity provider) holds that permission; one compromised pod is
//! enough.
//!
//! Example: `subjects: [{kind: Group, name: system:serviceaccounts}]` bound
//! to a role that creates pods.
//!
//! Fix: bind the ServiceAccounts or groups that need it by name.

use super::model::{PolicyRule, SubjectKind};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};

pub(crate) struct BroadGroups;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-017",
    title: "Every authenticated user or ServiceAccount granted sensitive permissions",
    severity: Severity::High,
    category: "rbac",
    rationale: "`system:authenticated` holds every user and every ServiceAccount, `system:serviceaccounts` every pod's identity, `system:serviceaccounts:<ns>` every pod of a namespace. Write access, Secret reads or exec granted to them is granted to any compromised pod or any account of the identity provider.",
    remediation: "Replace the group in `subjects` with the ServiceAccounts (`kind: ServiceAccount`, `name`, `namespace`) or the identity-provider groups that need the role; keep the broad groups to read-only discovery.",
    references: References {
        links: &[
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects",
        ],
        kubescape: &["C-0265"],
        ..References::NONE
    },
};

const WRITE_VERBS: &[&str] = &[
    "*",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "bind",
    "escalate",
    "impersonate",
    "approve",
];
const CONNECT: &[&str] = &[
    "pods/exec",
    "pods/attach",
    "pods/portforward",
    "pods/proxy",
    "nodes/proxy",
    "services/proxy",
];

/// More than reading, for a group that holds everyone.
fn sensitive(r: &PolicyRule<'_>) -> bool {
    let writes = r.verbs.iter().any(|v| WRITE_VERBS.contains(v))
        && r.resources.iter().any(|res| !res.ends_with("reviews"));
    let reads_secrets = r.allows_group("")
        && r.allows_resource("secrets")
        && ["get", "list", "watch"].iter().any(|v| r.allows_verb(v));
    let connects = r.allows_group("")
        && CONNECT.iter().any(|c| r.allows_resource(c))
        && (r.allows_verb("get") || r.allows_verb("create"));
    writes || reads_secrets || connects
}

impl Rule for BroadGroups {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let model = cx.rbac();
        for b in &model.bindings {
            if b.exempt {
                continue;
            }
            for s in &b.subjects {
                let everyone = match s.name {
                    "system:authenticated" => "every authenticated user and ServiceAccount",
                    "system:serviceaccounts" => "every ServiceAccount of the cluster",
                    n if n.starts_with("system:serviceaccounts:") => {
                        "every ServiceAccount of that namespace"
                    }
                    _ => continue,
                };
                if s.kind != SubjectKind::Group {
                    continue;
                }
                let Some(&rule) = model
                    .binding_rules(b)
                    .iter()
                    .find(|r| sensitive(model.rule(**r)))
                else {
                    continue;
                };
                out.report_keyed(
                    b.object,
                    Path::keys("subjects").index(s.index),
                    &s.key(),
                    format!(
                        "{}: {s} means {everyone} gets it {}, including {}",
                        b.describe(),
                        b.scope,
                        model.describe_rule(rule, b.role_name)
                    ),
                );
            }
        }
    }
}

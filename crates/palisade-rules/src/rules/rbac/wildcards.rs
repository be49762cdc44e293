//! PLS-RBAC-004: Wildcard in a Role or ClusterRole rule.
//!
//! What it does: flags each rule of a Role or ClusterRole that uses `*` in
//! `verbs`, `resources` (also `*/subresource`), `apiGroups` or
//! `nonResourceURLs`. Default roles (`system:*`, `cluster-admin`, `admin`,
//! `edit`, `view`) are skipped. This judges the definition, bound or not.
//!
//! Why it matters: a wildcard grants today's resources and every resource
//! and verb added later, CRDs included, so a role silently grows.
//!
//! Example: `rules: [{apiGroups: ["apps"], resources: ["*"], verbs: ["get"]}]`.
//!
//! Fix: list the resources and verbs explicitly.

use super::model::is_default_role;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};

pub(crate) struct Wildcards;

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-004",
    title: "Wildcard in a Role or ClusterRole rule",
    severity: Severity::Medium,
    category: "rbac",
    rationale: "A `*` in verbs, resources or apiGroups grants every current and future verb and resource it covers, including CRDs installed later and subresources such as pods/exec; the role grows without anyone editing it, and reviews cannot see what it allows.",
    remediation: "Replace `*` in `rules[].verbs`, `rules[].resources`, `rules[].apiGroups` and `rules[].nonResourceURLs` with the explicit lists the workload needs (for example `verbs: [get, list, watch]`).",
    references: References {
        trivy: &["KSV-0044", "KSV-0045", "KSV-0046", "KSV-0112"],
        kubescape: &["C-0187"],
        checkov: &["CKV_K8S_49"],
        kube_linter: &["wildcard-in-rules"],
        cis: &["5.1.3"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#minimize-wildcard-permissions",
        ],
        ..References::NONE
    },
};

impl Rule for Wildcards {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let model = cx.rbac();
        for d in &model.defs {
            let Some(obj) = d.object else { continue };
            if is_default_role(d.name) {
                continue;
            }
            for (i, r) in d.rules.iter().enumerate() {
                let fields: Vec<&str> = [
                    ("verbs", r.verbs.contains(&"*")),
                    (
                        "resources",
                        r.resources.iter().any(|x| *x == "*" || x.starts_with("*/")),
                    ),
                    ("apiGroups", r.api_groups.contains(&"*")),
                    ("nonResourceURLs", r.non_resource_urls.contains(&"*")),
                ]
                .into_iter()
                .filter_map(|(f, wild)| wild.then_some(f))
                .collect();
                let Some(first) = fields.first() else {
                    continue;
                };
                out.report(
                    obj,
                    Path::keys("rules").index(i).key(first),
                    format!(
                        "{} {:?} rules[{i}] uses a wildcard in {} ({})",
                        d.kind.as_str(),
                        d.name,
                        fields.join(", "),
                        r.summary()
                    ),
                );
            }
        }
    }
}

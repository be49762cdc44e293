//! PLS-NS-003: Namespace does not enforce a Pod Security level.
//!
//! What it does: flags Namespace objects without a
//! `pod-security.kubernetes.io/enforce` label, or with a value that is not
//! a Pod Security level (`privileged`, `baseline`, `restricted`). When the
//! namespace only has `warn` or `audit` labels, the message says so:
//! those report violations but admit the pods.
//!
//! Why it matters: Pod Security Admission is the built-in guard against
//! privileged, host-namespace and hostPath pods; without an enforce label
//! a namespace falls back to the cluster default, which is `privileged`
//! (no checks) unless the API server's AdmissionConfiguration says
//! otherwise.
//!
//! Example: `kind: Namespace` `name: llm-serving` with no labels.
//!
//! Fix: label the namespace `pod-security.kubernetes.io/enforce: restricted`
//! (or `baseline`).

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct NamespaceWithoutPsa;

static META: RuleMeta = RuleMeta {
    id: "PLS-NS-003",
    title: "Namespace does not enforce a Pod Security level",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "Without a `pod-security.kubernetes.io/enforce` label, Pod Security Admission applies the cluster default, which is `privileged` (nothing is checked) unless the API server was configured otherwise; anyone who can create pods in the namespace can run privileged containers or mount the host. `warn` and `audit` labels only report.",
    remediation: "Add `metadata.labels[\"pod-security.kubernetes.io/enforce\"]: restricted` (or `baseline` for workloads that cannot meet restricted), optionally pinned with `pod-security.kubernetes.io/enforce-version`; keep `warn`/`audit` at `restricted` to see what would break.",
    references: References {
        kubescape: &["C-0192"],
        cis: &["5.2.1"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces",
        ],
        ..References::NONE
    },
};

/// The namespace label that sets the enforced level.
pub(crate) const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// The Pod Security levels.
pub(crate) const LEVELS: &[&str] = &["privileged", "baseline", "restricted"];

impl Rule for NamespaceWithoutPsa {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if obj.kind != "Namespace" || !obj.group().is_empty() {
            return;
        }
        let path = Path::keys("metadata.labels").key(ENFORCE);
        let name = &obj.name;
        let msg = match obj.label(ENFORCE) {
            Some(level) if LEVELS.contains(&level) => return,
            Some(_) => format!(
                "namespace \"{name}\": {ENFORCE} is not a Pod Security level (privileged, baseline, restricted)"
            ),
            None => {
                let others: Vec<String> = ["warn", "audit"]
                    .iter()
                    .filter_map(|m| {
                        obj.label(&format!("pod-security.kubernetes.io/{m}"))
                            .map(|l| format!("{m}={l}"))
                    })
                    .collect();
                if others.is_empty() {
                    format!(
                        "namespace \"{name}\" has no {ENFORCE} label: pods are admitted under the cluster default, privileged unless configured"
                    )
                } else {
                    format!(
                        "namespace \"{name}\" only sets {} for Pod Security: violations are reported but admitted (no {ENFORCE} label)",
                        others.join(", ")
                    )
                }
            }
        };
        out.report(obj, path, msg);
    }
}

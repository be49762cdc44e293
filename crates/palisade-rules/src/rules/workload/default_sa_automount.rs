//! PLS-WL-011: The default ServiceAccount mounts its token.
//!
//! What it does: flags ServiceAccount objects named `default` that do not
//! set `automountServiceAccountToken: false`.
//!
//! Why it matters: every namespace has a `default` ServiceAccount and every
//! pod that names no other runs as it; unless it opts out, each of those
//! pods carries an API token, including pods created later by people who
//! never thought about API access (CIS 5.1.5).
//!
//! Fix: set `automountServiceAccountToken: false` on the `default`
//! ServiceAccount of every namespace.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct DefaultSaAutomount;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-011",
    title: "The default ServiceAccount mounts its token",
    severity: Severity::Low,
    category: "service-accounts",
    rationale: "Every pod that names no ServiceAccount runs as `default`; unless the `default` ServiceAccount opts out, each of those pods gets an API token mounted, including pods created later by people who never meant to give them API access.",
    remediation: "Set `automountServiceAccountToken: false` at the top level of the `default` ServiceAccount in each namespace, and give workloads that call the API their own ServiceAccount.",
    references: References {
        checkov: &["CKV_K8S_41"],
        cis: &["5.1.5"],
        links: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting",
        ],
        kubescape: &["C-0189"],
        ..References::NONE
    },
};

impl Rule for DefaultSaAutomount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !obj.is("", "ServiceAccount") || obj.name != "default" {
            return;
        }
        let v = obj
            .root
            .get("automountServiceAccountToken")
            .and_then(Node::as_bool);
        if v == Some(false) {
            return;
        }
        let msg = match v {
            Some(true) => "the default ServiceAccount sets automountServiceAccountToken: true",
            _ => "the default ServiceAccount does not set automountServiceAccountToken: false",
        };
        out.report(
            obj,
            Path::keys("automountServiceAccountToken"),
            format!("{msg} in namespace {:?}", obj.effective_namespace()),
        );
    }
}

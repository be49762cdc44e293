//! PLS-WL-009: Service account token is mounted automatically.
//!
//! What it does: flags pod templates whose ServiceAccount token is mounted
//! automatically. The pod's `automountServiceAccountToken` decides when set
//! (`true` overrides the ServiceAccount); when it is unset, the
//! ServiceAccount's own field decides, and a ServiceAccount object in the
//! input (same namespace, named by `serviceAccountName`, else `default`)
//! with `automountServiceAccountToken: false` satisfies the rule. With
//! neither set, the token is mounted: that is the Kubernetes default.
//! KServe ServingRuntimes are skipped (their pods run as the
//! InferenceService's predictor, which is checked).
//!
//! Why it matters: the token at
//! `/var/run/secrets/kubernetes.io/serviceaccount/token` is a credential
//! for the API server; anyone who gets code execution in the pod (a prompt
//! injection reaching a tool, a deserialisation bug) can use it with every
//! permission the ServiceAccount has.
//!
//! Peer note: Trivy KSV-0036 only reports an explicit `true` (or a manual
//! mount of the token path); an unset field mounts the token all the same.
//!
//! Fix: `automountServiceAccountToken: false` on the pod or the
//! ServiceAccount; pods that call the API mount a projected token instead.

use super::support::{in_namespace, service_account};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct AutomountToken;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-009",
    title: "Service account token is mounted automatically",
    severity: Severity::Medium,
    category: "service-accounts",
    rationale: "Unless disabled, every pod gets its ServiceAccount's API token mounted at /var/run/secrets/kubernetes.io/serviceaccount. Code execution in the pod (a tool call steered by prompt injection, an RCE in a model server) then yields a credential for the API server with all of that ServiceAccount's permissions.",
    remediation: "Set `automountServiceAccountToken: false` in the pod spec, or on the ServiceAccount (`automountServiceAccountToken: false` at its top level) so that every pod using it inherits it. Pods that really call the API can mount a short-lived projected `serviceAccountToken` volume instead.",
    references: References {
        trivy: &["KSV-0036"],
        kubescape: &["C-0034"],
        checkov: &["CKV_K8S_38"],
        polaris: &["automountServiceAccountToken"],
        cis: &["5.1.6"],
        links: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting",
        ],
        ..References::NONE
    },
};

impl Rule for AutomountToken {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let o = w.object;
        if o.group() == "serving.kserve.io" && o.kind != "InferenceService" {
            return;
        }
        let path = w.path("automountServiceAccountToken");
        match w.get("automountServiceAccountToken").and_then(Node::as_bool) {
            Some(false) => {}
            Some(true) => out.report(o, path, "the pod sets automountServiceAccountToken: true, so its ServiceAccount token is mounted"),
            None => {
                let (sa, _) = service_account(w);
                let ns = o.effective_namespace();
                let sa_obj = in_namespace(cx, "ServiceAccount", ns).find(|s| s.group().is_empty() && s.name == sa);
                let sa_setting = sa_obj.and_then(|s| s.root.get("automountServiceAccountToken")).and_then(Node::as_bool);
                if sa_setting == Some(false) {
                    return;
                }
                let why = match (sa_obj, sa_setting) {
                    (Some(_), Some(true)) => format!("ServiceAccount {sa:?} sets automountServiceAccountToken: true"),
                    (Some(_), _) => format!("ServiceAccount {sa:?} does not set automountServiceAccountToken: false"),
                    (None, _) => format!("ServiceAccount {sa:?} is not in the input to say otherwise"),
                };
                out.report(o, path, format!("the pod does not set automountServiceAccountToken and {why}, so the token is mounted"));
            }
        }
    }
}

//! PLS-NS-004: Namespace enforces the privileged Pod Security level.
//!
//! What it does: flags Namespace objects labelled
//! `pod-security.kubernetes.io/enforce: privileged`.
//!
//! Why it matters: `privileged` turns Pod Security Admission off for the
//! namespace, and because a namespace label overrides the cluster default,
//! it also defeats a stricter default set in the API server's
//! AdmissionConfiguration. GPU and model-serving namespaces are often
//! labelled so to get a driver or a hostPath working, and then admit any
//! privileged pod.
//!
//! Example: `pod-security.kubernetes.io/enforce: privileged` on `llm`.
//!
//! Fix: enforce `baseline` or `restricted`; move the few pods that need
//! privileges into a small dedicated namespace.

use super::namespace_without_psa::ENFORCE;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct NamespacePsaPrivileged;

static META: RuleMeta = RuleMeta {
    id: "PLS-NS-004",
    title: "Namespace enforces the privileged Pod Security level",
    severity: Severity::High,
    category: "pod-security",
    rationale: "`pod-security.kubernetes.io/enforce: privileged` admits any pod (privileged containers, host namespaces, hostPath mounts), and as a namespace label it overrides a stricter cluster-wide default. Any principal that can create a pod in the namespace can take over its node.",
    remediation: "Set `pod-security.kubernetes.io/enforce` to `baseline` or `restricted`. GPU workloads do not need privileges when the NVIDIA device plugin exposes the devices; keep any truly privileged agent (CNI, CSI, device plugin) in its own small namespace.",
    references: References {
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#privileged"],
        ..References::NONE
    },
};

impl Rule for NamespacePsaPrivileged {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if obj.kind != "Namespace"
            || !obj.group().is_empty()
            || obj.label(ENFORCE) != Some("privileged")
        {
            return;
        }
        out.report(
            obj,
            Path::keys("metadata.labels").key(ENFORCE),
            format!(
                "namespace \"{}\" enforces the privileged Pod Security level: any pod, including privileged and hostPath ones, is admitted",
                obj.name
            ),
        );
    }
}

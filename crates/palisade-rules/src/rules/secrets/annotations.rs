//! PLS-SEC-003: Secret value in an annotation or label.
//!
//! What it does: runs the format detectors over every annotation and label
//! (the object's and its pod templates'), and parses
//! `kubectl.kubernetes.io/last-applied-configuration`: the object copied
//! there is judged as the other secrets rules would judge it, and a copied
//! Secret's non-placeholder data is reported, decoded.
//!
//! Why it matters: metadata is shown by `kubectl describe` and by every tool
//! that lists objects, even for Secrets, whose `describe` hides the data but
//! prints annotations: `kubectl apply` of a Secret puts the whole Secret in
//! the last-applied annotation (with `stringData` in plain text).
//!
//! Example: a Secret applied with `kubectl apply` and exported back with
//! `kubectl get -o yaml`.
//!
//! Fix: remove the annotation (or apply Secrets with `--server-side`, which
//! keeps no copy); keep credentials out of annotations.

use super::scan;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct AnnotationSecret;

static META: RuleMeta = RuleMeta {
    id: "PLS-SEC-003",
    title: "Secret value in an annotation or label",
    severity: Severity::High,
    category: "secrets",
    rationale: "Annotations and labels are printed by `kubectl describe` and copied by controllers, backups and inventory tools that never treat them as confidential. `kubectl apply` stores the whole applied object in `kubectl.kubernetes.io/last-applied-configuration`, so a Secret applied client-side carries a plain-text copy of its data (and its `stringData`) in metadata that `kubectl describe secret` prints.",
    remediation: "Keep credentials out of annotations and labels. For Secrets, apply with `kubectl apply --server-side` (no last-applied copy) or remove the annotation (`kubectl annotate secret NAME kubectl.kubernetes.io/last-applied-configuration-`), strip it from exported manifests, and rotate what it exposed.",
    references: References {
        mitre: &["T1552"],
        links: &[
            "https://kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config/#how-apply-calculates-differences-and-merges-changes",
        ],
        ..References::NONE
    },
};

impl Rule for AnnotationSecret {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for f in scan::metadata(obj) {
            out.report(
                obj,
                f.path.clone(),
                format!("{} holds {}", f.label, scan::describe(&f.hits)),
            );
        }
    }
}

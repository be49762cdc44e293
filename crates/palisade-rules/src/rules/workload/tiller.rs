//! PLS-WL-018: Helm v2 Tiller is deployed.
//!
//! What it does: flags pod templates that run Tiller, the in-cluster server
//! of Helm v2: a container whose image repository is named `tiller`
//! (`gcr.io/kubernetes-helm/tiller`, `ghcr.io/helm/tiller`, `tiller`), or a
//! template labelled as Tiller's own Deployment is (`app: helm` and
//! `name: tiller`). Trivy and Checkov match any image or name that merely
//! contains "tiller" (which also hits `distiller`); this rule matches the
//! repository name exactly.
//!
//! Why it matters: Tiller listens on an unauthenticated gRPC port (44134)
//! and usually runs with cluster-admin; any pod that can reach it can
//! install anything, so one compromised pod becomes the whole cluster.
//! Helm v2 has been unsupported since November 2020.
//!
//! Fix: migrate releases to Helm 3 (`helm-2to3`) and delete Tiller.

use super::super::images::reference::ImageRef;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct Tiller;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-018",
    title: "Helm v2 Tiller is deployed",
    severity: Severity::Critical,
    category: "workloads",
    rationale: "Tiller, Helm v2's in-cluster server, accepts unauthenticated gRPC on port 44134 and is usually bound to cluster-admin, so any pod that can reach it can deploy privileged workloads or read every Secret; Helm v2 has had no security fixes since November 2020.",
    remediation: "Migrate releases to Helm 3 with the `helm-2to3` plugin, then delete the `tiller-deploy` Deployment, its Service and its ServiceAccount and ClusterRoleBinding.",
    references: References {
        trivy: &["KSV-0102"],
        checkov: &["CKV_K8S_34"],
        links: &["https://helm.sh/blog/helm-v2-deprecation-timeline/"],
        ..References::NONE
    },
};

impl Rule for Tiller {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let mut found = false;
        for c in &w.containers {
            let Some(image) = c.image() else { continue };
            if ImageRef::parse(image).is_some_and(|r| r.short_name() == "tiller") {
                found = true;
                out.report_container(
                    w.object,
                    c.name,
                    c.path.key("image"),
                    format!(
                        "container {:?} runs Helm v2 Tiller (image {image:?})",
                        c.name
                    ),
                );
            }
        }
        if !found && w.label("app") == Some("helm") && w.label("name") == Some("tiller") {
            out.report(
                w.object,
                w.meta_path.key("labels"),
                "the pod template is labelled app: helm, name: tiller (Helm v2 Tiller)",
            );
        }
    }
}

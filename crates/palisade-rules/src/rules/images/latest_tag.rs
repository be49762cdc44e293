//! PLS-IMG-001: Image uses the `latest` tag or no tag.
//!
//! What it does: flags containers (init and ephemeral included) whose image
//! has the tag `latest` or no tag at all, and no digest. A missing tag is
//! the same thing as `:latest` to the runtime, so one rule covers both (as
//! Trivy KSV-0013, Polaris tagNotSpecified, Checkov CKV_K8S_14 and
//! kube-linter latest-tag do). A digest pins the image whatever the tag
//! says, so `nginx:latest@sha256:…` passes.
//!
//! Why it matters: `latest` moves. Two nodes can run different code under
//! the same manifest, a rollback redeploys whatever `latest` is now, and
//! nobody can tell from the manifest which version is running.
//!
//! Example: `image: vllm/vllm-openai` or `image: vllm/vllm-openai:latest`.
//!
//! Fix: pin a version tag (`vllm/vllm-openai:v0.6.3`), better a digest.

use super::reference::ImageRef;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct LatestTag;

static META: RuleMeta = RuleMeta {
    id: "PLS-IMG-001",
    title: "Image uses the latest tag or no tag",
    severity: Severity::Medium,
    category: "images",
    rationale: "An image without a tag, or tagged `latest`, names whatever was pushed last: nodes can run different builds of the same manifest, a rollback does not roll back, and a compromised or broken push reaches production on the next pod restart.",
    remediation: "Set `image` to an explicit version tag (`vllm/vllm-openai:v0.6.3`), or better to a digest (`vllm/vllm-openai@sha256:...`), and bump it on purpose.",
    references: References {
        trivy: &["KSV-0013"],
        checkov: &["CKV_K8S_14"],
        polaris: &["tagNotSpecified"],
        kube_linter: &["latest-tag"],
        kube_score: &["container-image-tag"],
        links: &["https://kubernetes.io/docs/concepts/containers/images/#image-names"],
        ..References::NONE
    },
};

impl Rule for LatestTag {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let Some(image) = c.image() else { continue };
            let Some(r) = ImageRef::parse(image) else {
                continue;
            };
            if r.pinned() || !r.latest() {
                continue;
            }
            let what = if r.tag.is_some() {
                "uses the `latest` tag"
            } else {
                "has no tag, which means `latest`"
            };
            out.report_container(
                w.object,
                c.name,
                c.path.key("image"),
                format!("container {:?} image {image:?} {what}", c.name),
            );
        }
    }
}

//! PLS-IMG-003: Mutable image tag without `imagePullPolicy: Always`.
//!
//! What it does: flags containers (init and ephemeral included) whose image
//! is referenced by a tag (not a digest) and whose effective pull policy is
//! not `Always`. When `imagePullPolicy` is omitted the API server fills it
//! in: `Always` for `:latest` or no tag, `IfNotPresent` otherwise, so an
//! omitted policy on `nginx` is fine and on `nginx:1.27` is not. A digest
//! names fixed content, so the pull policy does not change what runs and the
//! rule skips it.
//!
//! Why it matters: with `IfNotPresent`, a node keeps running whatever it
//! pulled under that tag first, so replicas can differ after a re-push; and
//! a cached private image is used without checking the pod's pull
//! credentials.
//!
//! Example: `image: nginx:1.27` without `imagePullPolicy`.
//!
//! Fix: `imagePullPolicy: Always` (the kubelet only downloads layers that
//! changed), or pin the image by digest.

use super::reference::ImageRef;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct PullPolicy;

static META: RuleMeta = RuleMeta {
    id: "PLS-IMG-003",
    title: "Mutable image tag without imagePullPolicy Always",
    severity: Severity::Low,
    category: "images",
    rationale: "With `IfNotPresent` (the default for any tag other than `latest`) each node runs whatever it first pulled under the tag, so replicas drift apart after a re-push, and a private image already cached on the node is started without checking the pod's pull credentials.",
    remediation: "Set `imagePullPolicy: Always` on the container (the kubelet compares digests and only downloads changed layers), or reference the image by digest, which makes the policy irrelevant.",
    references: References {
        kubescape: &["C-0075"],
        checkov: &["CKV_K8S_15"],
        polaris: &["pullPolicyNotAlways"],
        kube_score: &["container-image-pull-policy"],
        links: &["https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy"],
        ..References::NONE
    },
};

impl Rule for PullPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let Some(image) = c.image() else { continue };
            let Some(r) = ImageRef::parse(image) else {
                continue;
            };
            if r.pinned() {
                continue;
            }
            let explicit = c
                .get("imagePullPolicy")
                .filter(|n| !n.is_null())
                .and_then(Node::as_str)
                .filter(|s| !s.is_empty());
            let (policy, how) = match explicit {
                Some(p) => (p, "sets"),
                None => (r.default_pull_policy(), "defaults to"),
            };
            if policy == "Always" {
                continue;
            }
            out.report_container(
                w.object,
                c.name,
                c.path.key("imagePullPolicy"),
                format!(
                    "container {:?} image {image:?} uses a mutable tag and {how} imagePullPolicy {policy}",
                    c.name
                ),
            );
        }
    }
}

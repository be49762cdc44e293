//! PLS-IMG-002: Image is not pinned by digest.
//!
//! What it does: flags containers (init and ephemeral included) whose image
//! has no `@sha256:…` digest. A malformed digest does not count.
//!
//! Why it matters: a tag is a mutable pointer; whoever can push to the
//! repository can change what `v0.6.3` means. A digest names exact bytes,
//! so the image that was scanned and signed is the image that runs.
//!
//! Example: `image: ghcr.io/huggingface/text-generation-inference:2.4.0`.
//!
//! Fix: `image: ghcr.io/huggingface/text-generation-inference:2.4.0@sha256:…`
//! (keeping the tag for readers is fine; the digest wins).

use super::reference::ImageRef;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct Digest;

static META: RuleMeta = RuleMeta {
    id: "PLS-IMG-002",
    title: "Image is not pinned by digest",
    severity: Severity::Low,
    category: "images",
    rationale: "A tag is a mutable pointer: anyone who can push to the repository (or a compromised CI job) can change what `2.4.0` means, and the next pod start pulls the new bytes. A digest names exact content, so what was scanned and approved is what runs.",
    remediation: "Reference images by digest: `image: ghcr.io/org/app:2.4.0@sha256:<64 hex>` (resolve it with `crane digest` or `docker buildx imagetools inspect`), and let a bot such as Renovate update it.",
    references: References {
        checkov: &["CKV_K8S_43"],
        links: &["https://kubernetes.io/docs/concepts/containers/images/#image-names"],
        ..References::NONE
    },
};

impl Rule for Digest {
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
            out.report_container(
                w.object,
                c.name,
                c.path.key("image"),
                format!(
                    "container {:?} image {image:?} is not pinned by digest",
                    c.name
                ),
            );
        }
    }
}

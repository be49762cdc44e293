//! PLS-IMG-004: Image from a registry that is not allowed.
//!
//! What it does: when `images.allowedRegistries` is set in the
//! configuration, flags containers (init and ephemeral included) whose image
//! does not come from one of the listed registries. With no list configured
//! the rule is silent: there is no policy to hold images to.
//!
//! Matching resolves names the way the runtime does: `nginx` is
//! `docker.io/library/nginx`, `index.docker.io` is `docker.io`, and an entry
//! whose first component is not a host (`acme`) is a Docker Hub namespace.
//! An entry matches an image whose `registry/repository` equals it or starts
//! with it followed by `/`, so `ghcr.io/acme` allows `ghcr.io/acme/llm` but
//! not `ghcr.io/acme-evil/llm`. Host names compare case-insensitively; the
//! literal image text is also compared, as the configuration documents.
//!
//! Why it matters: an allowlist of registries is the simplest supply-chain
//! control: images from anywhere else were not scanned, signed or mirrored.
//!
//! Example: `image: docker.io/someone/vllm:latest` with
//! `allowedRegistries: [registry.internal.example]`.
//!
//! Fix: mirror the image into an allowed registry and reference it there.

use super::reference::{ImageRef, normalise_allowed};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

/// Its fixtures carry the allowlist in `fixtures/PLS-IMG-004/palisade.yaml`.
pub(crate) struct AllowedRegistry;

static META: RuleMeta = RuleMeta {
    id: "PLS-IMG-004",
    title: "Image from a registry that is not allowed",
    severity: Severity::Medium,
    category: "images",
    rationale: "When a cluster has a list of approved registries, an image from anywhere else has not been scanned, signed or mirrored, and may disappear or change without notice; pulling model servers straight from public registries is a common supply-chain gap.",
    remediation: "Mirror the image into one of the registries in `images.allowedRegistries` and point `image` at the mirror, or add the registry to the list if it is in fact approved.",
    references: References {
        kubescape: &["C-0078"],
        links: &["https://kubernetes.io/docs/concepts/containers/images/#image-names"],
        ..References::NONE
    },
};

/// Whether `image` is covered by one of the `allowed` entries.
fn allowed(image: &str, r: &ImageRef, allowed: &[String]) -> bool {
    let canonical = r.canonical_name();
    let written = image.split('@').next().unwrap_or(image);
    allowed.iter().any(|entry| {
        let literal = entry.trim().trim_end_matches('/');
        if !literal.is_empty()
            && (written == literal || written.starts_with(&format!("{literal}/")))
        {
            return true;
        }
        let (host, path) = normalise_allowed(entry);
        let prefix = if path.is_empty() {
            host
        } else {
            format!("{host}/{path}")
        };
        canonical == prefix || canonical.starts_with(&format!("{prefix}/"))
    })
}

impl Rule for AllowedRegistry {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let list = &cx.settings.allowed_registries;
        if list.is_empty() {
            return;
        }
        for c in &w.containers {
            let Some(image) = c.image() else { continue };
            let Some(r) = ImageRef::parse(image) else {
                continue;
            };
            if allowed(image, &r, list) {
                continue;
            }
            out.report_container(
                w.object,
                c.name,
                c.path.key("image"),
                format!(
                    "container {:?} image {image:?} comes from {}, which is not in images.allowedRegistries",
                    c.name,
                    r.canonical_name()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Engine;
    use palisade_core::config::Config;
    use palisade_k8s::load::load_str;

    const PODS: &str = r"
apiVersion: apps/v1
kind: Deployment
metadata: {name: tgi, namespace: llm}
spec:
  selector: {matchLabels: {app: tgi}}
  template:
    metadata: {labels: {app: tgi}}
    spec:
      initContainers:
        - name: fetch
          image: registry.internal.example/tools/hf-fetch:1.2
      containers:
        - name: server
          image: ghcr.io/huggingface/text-generation-inference:2.4.0
        - name: proxy
          image: nginx:1.27
        - name: evil
          image: ghcr.io/acme-evil/llm:1
        - name: mirror
          image: ghcr.io/acme/llm:1
";

    fn run(allowed: &[&str]) -> Vec<String> {
        let load = load_str("t.yaml", PODS);
        assert!(load.diagnostics.is_empty());
        let config = Config {
            allowed_registries: allowed.iter().map(|s| (*s).to_owned()).collect(),
            ..Config::default()
        };
        let engine = Engine::with_rules(vec![Box::new(AllowedRegistry)], config);
        engine
            .check(&load.objects)
            .iter()
            .map(|f| f.container.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn silent_without_an_allowlist() {
        assert!(run(&[]).is_empty());
    }

    #[test]
    fn registry_and_repository_prefixes_match_on_path_boundaries() {
        let found = run(&["registry.internal.example", "ghcr.io/acme/"]);
        assert_eq!(found, ["server", "proxy", "evil"]);
    }

    #[test]
    fn docker_hub_short_names_resolve_to_docker_io() {
        let found = run(&["docker.io/library", "ghcr.io"]);
        assert_eq!(found, ["fetch"]);
        let found = run(&[
            "index.docker.io",
            "ghcr.io/huggingface",
            "registry.internal.example/tools",
        ]);
        assert_eq!(found, ["evil", "mirror"]);
    }

    #[test]
    fn host_case_does_not_matter() {
        let found = run(&["GHCR.io", "Registry.Internal.Example", "docker.io"]);
        assert!(found.is_empty(), "{found:?}");
    }
}

//! Container image references, parsed the way the container runtime and the
//! API server's defaulting read them (distribution `reference` grammar):
//!
//! ```text
//! [registry[:port]/]path[:tag][@algorithm:digest]
//! ```
//!
//! - The first `/`-separated component is a registry host only when it
//!   contains `.` or `:`, is `localhost`, or has an upper-case letter;
//!   otherwise the image is on Docker Hub (`docker.io`), and a one-component
//!   path gets the `library/` prefix: `nginx` is `docker.io/library/nginx`.
//! - `index.docker.io` is the legacy name of `docker.io`.
//! - The tag is after the last `:` of the last path component, so a
//!   registry port is never mistaken for a tag.
//! - A reference without a tag and without a digest means `:latest`.

/// Docker Hub's canonical registry name.
pub(crate) const DOCKER_HUB: &str = "docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRef {
    /// Registry host (with port), lower-cased; `docker.io` when omitted.
    pub registry: String,
    /// Whether the registry was written in the reference.
    pub explicit_registry: bool,
    /// Repository path inside the registry (`library/nginx`).
    pub repository: String,
    /// The tag, if written.
    pub tag: Option<String>,
    /// The digest (`sha256:...`), if written.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `image`. Returns `None` for an empty reference or one that
    /// still holds a template placeholder (`{{ .Values.image }}`,
    /// `$(REGISTRY)/app`), which cannot be judged.
    pub(crate) fn parse(image: &str) -> Option<ImageRef> {
        let image = image.trim();
        if image.is_empty()
            || image.contains("{{")
            || image.contains("$(")
            || image.contains("${")
            || image.chars().any(char::is_whitespace)
        {
            return None;
        }
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d.to_owned()).filter(|d| !d.is_empty())),
            None => (image, None),
        };
        let (name, tag) = match name.rfind(':') {
            Some(i) if !name[i..].contains('/') => (
                &name[..i],
                Some(name[i + 1..].to_owned()).filter(|t| !t.is_empty()),
            ),
            _ => (name, None),
        };
        if name.is_empty() {
            return None;
        }
        let (registry, explicit, repository) = match name.split_once('/') {
            Some((first, rest)) if is_registry_host(first) => {
                (first.to_ascii_lowercase(), true, rest.to_owned())
            }
            _ => (DOCKER_HUB.to_owned(), false, name.to_owned()),
        };
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB.to_owned()
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        Some(ImageRef {
            registry,
            explicit_registry: explicit,
            repository,
            tag,
            digest,
        })
    }

    /// Whether the reference names a content digest, which pins the image
    /// whatever the tag says.
    pub(crate) fn pinned(&self) -> bool {
        self.digest.as_deref().is_some_and(is_digest)
    }

    /// Whether the tag is `latest` or missing (which means `latest`).
    pub(crate) fn latest(&self) -> bool {
        self.tag.as_deref().is_none_or(|t| t == "latest")
    }

    /// `registry/repository`, e.g. `docker.io/library/nginx`.
    #[cfg_attr(not(test), allow(dead_code))] // used by PLS-IMG-004, not yet registered
    pub(crate) fn canonical_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The last component of the repository path (`tiller` for
    /// `ghcr.io/helm/tiller`).
    pub(crate) fn short_name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// The `imagePullPolicy` the API server fills in when the field is
    /// omitted: `Always` for `:latest` or no tag (and no digest), else
    /// `IfNotPresent`.
    pub(crate) fn default_pull_policy(&self) -> &'static str {
        if self.digest.is_none() && self.latest() {
            "Always"
        } else {
            "IfNotPresent"
        }
    }
}

/// Whether the first path component names a registry host.
fn is_registry_host(first: &str) -> bool {
    first.contains('.')
        || first.contains(':')
        || first == "localhost"
        || first.chars().any(|c| c.is_ascii_uppercase())
}

/// `algorithm:encoded` with a hex encoding of at least 32 characters
/// (`sha256:` + 64 hex, `sha512:` + 128 hex).
fn is_digest(d: &str) -> bool {
    let Some((algo, hex)) = d.split_once(':') else {
        return false;
    };
    !algo.is_empty()
        && algo
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
        && hex.len() >= 32
        && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// An entry of `images.allowedRegistries`, normalised like an image name:
/// a first component that is not a host means Docker Hub, and
/// `index.docker.io` is `docker.io`. Returns the lower-cased registry and
/// the path prefix after it (possibly empty).
#[cfg_attr(not(test), allow(dead_code))] // used by PLS-IMG-004, not yet registered
pub(crate) fn normalise_allowed(entry: &str) -> (String, String) {
    let entry = entry.trim().trim_end_matches('/');
    let (host, path) = match entry.split_once('/') {
        Some((first, rest)) if is_registry_host(first) => (first.to_ascii_lowercase(), rest),
        None if is_registry_host(entry) => (entry.to_ascii_lowercase(), ""),
        _ => (DOCKER_HUB.to_owned(), entry),
    };
    let host = if host == "index.docker.io" {
        DOCKER_HUB.to_owned()
    } else {
        host
    };
    (host, path.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn p(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    #[test]
    fn docker_hub_short_names_resolve_to_library() {
        let r = p("nginx");
        assert_eq!(r.registry, "docker.io");
        assert!(!r.explicit_registry);
        assert_eq!(r.repository, "library/nginx");
        assert_eq!(r.tag, None);
        assert!(r.latest());
        assert_eq!(r.canonical_name(), "docker.io/library/nginx");
        assert_eq!(
            p("vllm/vllm-openai:v0.6.3").canonical_name(),
            "docker.io/vllm/vllm-openai"
        );
        assert_eq!(
            p("index.docker.io/library/busybox:1.36").registry,
            "docker.io"
        );
        assert_eq!(p("docker.io/nginx").repository, "library/nginx");
    }

    #[test]
    fn registry_host_detection_dot_colon_localhost_uppercase() {
        assert_eq!(
            p("ghcr.io/huggingface/text-generation-inference:2.4.0").registry,
            "ghcr.io"
        );
        assert_eq!(p("localhost/app").registry, "localhost");
        let r = p("registry:5000/team/app");
        assert_eq!(r.registry, "registry:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag, None, "a registry port is not a tag");
        assert_eq!(p("Registry/app").registry, "registry");
        // a lower-case first component without a dot is a Docker Hub namespace
        assert_eq!(p("team/app:1").registry, "docker.io");
    }

    #[test]
    fn port_tag_and_digest_together() {
        let r = p(
            "localhost:5000/llm/triton:24.08-py3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        );
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "llm/triton");
        assert_eq!(r.tag.as_deref(), Some("24.08-py3"));
        assert!(r.pinned());
        assert!(!r.latest());
        assert_eq!(r.default_pull_policy(), "IfNotPresent");
    }

    #[test]
    fn latest_and_default_pull_policy() {
        assert!(p("nginx:latest").latest());
        assert_eq!(p("nginx:latest").default_pull_policy(), "Always");
        assert_eq!(p("nginx").default_pull_policy(), "Always");
        assert_eq!(p("nginx:1.27").default_pull_policy(), "IfNotPresent");
        let digest_only =
            p("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        assert!(digest_only.pinned());
        assert_eq!(digest_only.default_pull_policy(), "IfNotPresent");
        // latest@digest: the digest wins
        assert!(p("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").pinned());
    }

    #[test]
    fn malformed_digest_does_not_pin() {
        assert!(!p("nginx@sha256:abc").pinned());
        assert!(!p("nginx@latest").pinned());
    }

    #[test]
    fn placeholders_and_empty_are_not_judged() {
        assert!(ImageRef::parse("").is_none());
        assert!(ImageRef::parse("  ").is_none());
        assert!(ImageRef::parse("{{ .Values.image }}").is_none());
        assert!(ImageRef::parse("$(REGISTRY)/app:1").is_none());
        assert!(ImageRef::parse(":1.0").is_none());
    }

    #[test]
    fn short_name_is_last_component() {
        assert_eq!(
            p("gcr.io/kubernetes-helm/tiller:v2.16.1").short_name(),
            "tiller"
        );
        assert_eq!(p("tiller").short_name(), "tiller");
    }

    #[test]
    fn allowed_entries_normalise_like_images() {
        assert_eq!(
            normalise_allowed("ghcr.io/acme/"),
            ("ghcr.io".into(), "acme".into())
        );
        assert_eq!(
            normalise_allowed("Registry.Example.com:5000"),
            ("registry.example.com:5000".into(), String::new())
        );
        assert_eq!(
            normalise_allowed("index.docker.io/library"),
            ("docker.io".into(), "library".into())
        );
        assert_eq!(
            normalise_allowed("acme"),
            ("docker.io".into(), "acme".into())
        );
    }
}

//! PLS-NET-007: Ingress serves hosts without TLS.
//!
//! What it does: for Ingresses (`networking.k8s.io/v1`, `v1beta1` and
//! `extensions/v1beta1`, which share the `tls` and `rules[].host` layout),
//! reports an Ingress with no `spec.tls` at all, and each
//! `spec.rules[].host` that no `spec.tls[].hosts` entry covers (a `*.`
//! wildcard covers one label; a `tls` entry without `hosts` covers every
//! host). Certificates attached by cloud annotations (AWS Load Balancer
//! Controller `certificate-arn`, GKE pre-shared or managed certificates,
//! Azure Application Gateway) count as TLS for every host, and so does
//! ingress-nginx SSL passthrough (the backend terminates TLS).
//!
//! Why it matters: a host without TLS is served over plain HTTP; prompts,
//! completions, API keys and session cookies cross the network in clear.
//!
//! Example: rules for `api.llm.example.com` and `chat.llm.example.com`
//! with a tls entry naming only the first.
//!
//! Fix: list every host under `spec.tls[].hosts` with a `secretName`.

use super::netpol::is_ingress;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct IngressWithoutTls;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-007",
    title: "Ingress serves hosts without TLS",
    severity: Severity::Medium,
    category: "network",
    rationale: "A host an Ingress routes without a matching `spec.tls` entry is served over plain HTTP, so requests, responses, bearer tokens and cookies (for an LLM endpoint: prompts, completions and API keys) can be read and altered on the network.",
    remediation: "Add a `spec.tls` entry whose `hosts` lists every `spec.rules[].host`, with a `secretName` holding the certificate (cert-manager can issue it from the `cert-manager.io/cluster-issuer` annotation), and keep the controller's HTTP-to-HTTPS redirect on.",
    references: References {
        polaris: &["tlsSettingsMissing"],
        links: &["https://kubernetes.io/docs/concepts/services-networking/ingress/#tls"],
        kubescape: &["C-0263"],
        ..References::NONE
    },
};

/// Annotations with which a cloud controller terminates TLS for the whole
/// Ingress without a `spec.tls` entry.
const CLOUD_TLS_ANNOTATIONS: &[&str] = &[
    "alb.ingress.kubernetes.io/certificate-arn",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "networking.gke.io/managed-certificates",
    "appgw.ingress.kubernetes.io/appgw-ssl-certificate",
];

/// Whether TLS host `pattern` covers rule host `host` (case-insensitive; a
/// leading `*.` matches exactly one label).
fn covers(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    if p == h {
        return true;
    }
    match p.strip_prefix("*.") {
        Some(suffix) => h
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && first != "*" && rest == suffix),
        None => false,
    }
}

impl Rule for IngressWithoutTls {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_ingress(obj) {
            return;
        }
        // With SSL passthrough the backend terminates TLS itself.
        if obj
            .annotation("nginx.ingress.kubernetes.io/ssl-passthrough")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        {
            return;
        }
        if CLOUD_TLS_ANNOTATIONS
            .iter()
            .any(|k| obj.annotation(k).is_some_and(|v| !v.trim().is_empty()))
        {
            return;
        }
        let spec = obj.spec();
        let tls = spec.get("tls").map_or(&[][..], Node::items);
        let rules = spec.get("rules").map_or(&[][..], Node::items);
        let hosts: Vec<(usize, &str)> = rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                Some((
                    i,
                    r.get("host")
                        .and_then(Node::as_str)
                        .filter(|h| !h.is_empty())?,
                ))
            })
            .collect();
        if tls.is_empty() {
            let what = if hosts.is_empty() {
                "all its traffic".to_owned()
            } else {
                let mut names: Vec<&str> = hosts.iter().map(|(_, h)| *h).collect();
                names.dedup();
                names.join(", ")
            };
            out.report(
                obj,
                Path::keys("spec.tls"),
                format!(
                    "Ingress \"{}\" has no spec.tls: it serves {what} over plain HTTP",
                    obj.name
                ),
            );
            return;
        }
        // A tls entry without hosts gets the controller's default host:
        // treat it as covering everything.
        let patterns: Vec<&str> = tls
            .iter()
            .flat_map(|t| {
                t.get("hosts")
                    .map_or(&[][..], Node::items)
                    .iter()
                    .filter_map(Node::as_str)
            })
            .collect();
        if tls
            .iter()
            .any(|t| t.get("hosts").map_or(&[][..], Node::items).is_empty())
        {
            return;
        }
        let mut seen: Vec<&str> = Vec::new();
        for (i, host) in hosts {
            if seen.contains(&host) || patterns.iter().any(|p| covers(p, host)) {
                continue;
            }
            seen.push(host);
            out.report_keyed(
                obj,
                Path::keys("spec.rules").index(i).key("host"),
                host,
                format!("Ingress \"{}\" routes host {host} but no spec.tls entry lists it: it is served over plain HTTP", obj.name),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn wildcard_covers_one_label() {
        assert!(covers("*.llm.example.com", "api.llm.example.com"));
        assert!(covers("API.example.com", "api.example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("example.com", "api.example.com"));
    }
}

//! PLS-NET-008: Ingress uses an ingress-nginx snippet annotation.
//!
//! What it does: flags every `nginx.ingress.kubernetes.io/*-snippet`
//! annotation on an Ingress (`configuration-snippet`, `server-snippet`,
//! `auth-snippet`, `modsecurity-snippet`, `stream-snippet`), and says when
//! the snippet holds Lua, an `alias`/`root` directive, `load_module` or a
//! service-account token path. The snippet's text is never printed: it
//! may carry credentials.
//!
//! Why it matters: snippets are pasted verbatim into nginx.conf of a
//! controller that can read every Secret in the cluster (CVE-2021-25742),
//! so anyone who can edit an Ingress can read them.
//!
//! Example: `nginx.ingress.kubernetes.io/configuration-snippet: |
//! more_set_headers "X-Model: llama";`.
//!
//! Fix: replace the snippet with the dedicated annotation or ConfigMap key,
//! and keep `allow-snippet-annotations: "false"` on the controller.

use super::netpol::{annotation_path, annotations, is_ingress};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct NginxSnippetAnnotation;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-008",
    title: "Ingress uses an ingress-nginx snippet annotation",
    severity: Severity::High,
    category: "network",
    rationale: "ingress-nginx copies `*-snippet` annotations verbatim into nginx.conf, and the controller's service account can read every Secret in the cluster; a snippet can serve the controller's token or any file (CVE-2021-25742). Whoever may edit one Ingress can then read all Secrets. Current controllers refuse snippets unless `allow-snippet-annotations` is turned on.",
    remediation: "Remove the `nginx.ingress.kubernetes.io/*-snippet` annotation and use the dedicated annotation (e.g. `nginx.ingress.kubernetes.io/proxy-body-size`, `custom-headers`) or a controller ConfigMap setting; keep `allow-snippet-annotations: \"false\"` and `annotations-risk-level` below Critical in the controller ConfigMap.",
    references: References {
        checkov: &["CKV_K8S_153", "CKV_K8S_152", "CKV_K8S_154"],
        links: &[
            "https://github.com/kubernetes/ingress-nginx/issues/7837",
            "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#configuration-snippet",
        ],
        kubescape: &["C-0059"],
        ..References::NONE
    },
};

/// Prefix of ingress-nginx annotations.
pub(crate) const NGINX_PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// Whether an annotation key is an ingress-nginx snippet.
pub(crate) fn is_snippet(key: &str) -> bool {
    key.strip_prefix(NGINX_PREFIX)
        .is_some_and(|k| k.ends_with("-snippet"))
}

/// What in a snippet makes it worse than a header tweak.
fn dangerous(value: &str) -> Vec<&'static str> {
    let v = value.to_ascii_lowercase();
    let mut found = Vec::new();
    if v.contains("_by_lua") || v.contains("lua_") {
        found.push("Lua code");
    }
    if v.split(|c: char| c.is_whitespace() || c == ';' || c == '{')
        .any(|w| w == "alias" || w == "root")
    {
        found.push("an alias/root directive that serves files");
    }
    if v.contains("load_module") {
        found.push("load_module");
    }
    if v.contains("serviceaccount") || v.contains("/var/run/secrets") {
        found.push("a service-account token path");
    }
    found
}

impl Rule for NginxSnippetAnnotation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_ingress(obj) {
            return;
        }
        for (key, value) in annotations(obj) {
            if !is_snippet(key) {
                continue;
            }
            let bad = dangerous(value);
            let extra = if bad.is_empty() {
                String::new()
            } else {
                format!("; it contains {}", bad.join(" and "))
            };
            out.report_keyed(
                obj,
                annotation_path(key),
                key,
                format!(
                    "Ingress \"{}\" sets {key}: ingress-nginx pastes it verbatim into nginx.conf (CVE-2021-25742){extra}",
                    obj.name
                ),
            );
        }
    }
}

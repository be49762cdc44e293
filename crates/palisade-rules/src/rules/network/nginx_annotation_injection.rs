//! PLS-NET-009: ingress-nginx annotation value can inject configuration.
//!
//! What it does: checks the values of `nginx.ingress.kubernetes.io/*`
//! annotations on Ingresses (snippets excepted: PLS-NET-008 covers them)
//! for characters that end an nginx directive or string and so let the
//! value inject configuration:
//! - URL annotations (`auth-url`, `auth-signin`, `mirror-target`,
//!   `mirror-host`, `permanent-redirect`, `temporal-redirect`): any
//!   character a URL cannot hold unescaped (whitespace, line breaks,
//!   `"` `'` `<` `>` `{` `}` `|` `\` `^` `` ` ``) or `;`;
//! - `auth-tls-match-cn`: line breaks, `"` `'` `` ` `` `;` `{` `}` `#`, and
//!   a `|` outside parentheses, which splits the regex so that its second
//!   branch matches any subject (`CN=a|b` accepts every DN containing `b`);
//!   `CN=(a|b)` is fine;
//! - any other ingress-nginx annotation: a line break inside the value, `"`
//!   or `` ` ``, or Lua/`load_module` directives.
//!
//! Values are never printed, only the offending characters.
//!
//! Why it matters: ingress-nginx interpolates these values into nginx.conf;
//! CVE-2025-24514 (auth-url), CVE-2025-1097 (auth-tls-match-cn),
//! CVE-2025-1098 (mirror-*) and CVE-2023-5044 (permanent-redirect) turned
//! them into code execution in a controller that can read every Secret
//! (IngressNightmare, CVE-2025-1974).
//!
//! Example: `nginx.ingress.kubernetes.io/auth-url: "http://a/#;\nload_module ..."`.
//!
//! Fix: use a plain, valid URL or CN regex; upgrade ingress-nginx to a
//! version with annotation validation.

use super::netpol::{annotation_path, annotations, is_ingress};
use super::nginx_snippet_annotation::{NGINX_PREFIX, is_snippet};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct NginxAnnotationInjection;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-009",
    title: "ingress-nginx annotation value can inject configuration",
    severity: Severity::Critical,
    category: "network",
    rationale: "ingress-nginx writes annotation values such as `auth-url`, `auth-tls-match-cn`, `mirror-target` and `permanent-redirect` into nginx.conf. A value with a line break, quote, `;` or brace ends the directive and injects configuration, which led to code execution in the controller and disclosure of every Secret it can read (CVE-2023-5044, CVE-2025-24514, CVE-2025-1097, CVE-2025-1098, CVE-2025-1974).",
    remediation: "Set the annotation to a plain value: a valid URL for `auth-url`, `auth-signin`, `mirror-target`, `mirror-host` and the redirects (percent-encode special characters), and a `CN=` regex with alternatives grouped in parentheses for `auth-tls-match-cn`. Run ingress-nginx v1.11.5/v1.12.1 or later with annotation validation enabled, and restrict who may create or edit Ingresses.",
    references: References {
        trivy: &["KCV-0093"],
        mitre: &["T1190"],
        links: &[
            "https://kubernetes.io/blog/2025/03/24/ingress-nginx-cve-2025-1974/",
            "https://github.com/kubernetes/kubernetes/issues/131006",
            "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/",
        ],
        ..References::NONE
    },
};

/// URL-valued annotations, with the CVE that abused each (if any).
const URL_ANNOTATIONS: &[(&str, &str)] = &[
    ("auth-url", " (CVE-2025-24514)"),
    ("auth-signin", ""),
    ("mirror-target", " (CVE-2025-1098)"),
    ("mirror-host", " (CVE-2025-1098)"),
    ("permanent-redirect", " (CVE-2023-5044)"),
    ("temporal-redirect", ""),
];

/// The problem name of a top-level `|` in `auth-tls-match-cn`.
const ALTERNATION: &str = "'|' outside parentheses";

/// Directives that have no business in an annotation value.
const DIRECTIVES: &[&str] = &["_by_lua", "lua_package", "load_module"];

/// A readable name for an offending character.
fn show(c: char) -> String {
    match c {
        '\n' | '\r' => "a line break".to_owned(),
        '\t' => "a tab".to_owned(),
        ' ' => "a space".to_owned(),
        c if c.is_control() => format!("control character U+{:04X}", u32::from(c)),
        c => format!("'{c}'"),
    }
}

fn push(found: &mut Vec<String>, s: String) {
    if !found.contains(&s) {
        found.push(s);
    }
}

/// Offending characters of a URL value.
fn url_problems(v: &str) -> Vec<String> {
    let mut found = Vec::new();
    for c in v.chars() {
        if c.is_control() || c.is_whitespace() || "\"'<>{}|\\^`;".contains(c) {
            push(&mut found, show(c));
        }
    }
    found
}

/// Offending characters of an `auth-tls-match-cn` value.
fn cn_problems(v: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut depth: i32 = 0;
    let mut escaped = false;
    for c in v.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '(' => depth += 1,
            ')' => depth -= 1,
            '|' if depth <= 0 => push(&mut found, ALTERNATION.to_owned()),
            c if c.is_control() || "\"'`;{}#".contains(c) => push(&mut found, show(c)),
            _ => {}
        }
    }
    found
}

/// Offending content of any other annotation value.
fn generic_problems(v: &str) -> Vec<String> {
    let mut found = Vec::new();
    for c in v.chars() {
        if c.is_control() || c == '"' || c == '`' {
            push(&mut found, show(c));
        }
    }
    let lower = v.to_ascii_lowercase();
    for d in DIRECTIVES {
        if lower.contains(d) {
            push(&mut found, format!("the directive {d}"));
        }
    }
    found
}

impl Rule for NginxAnnotationInjection {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_ingress(obj) {
            return;
        }
        for (key, value) in annotations(obj) {
            let Some(short) = key.strip_prefix(NGINX_PREFIX) else {
                continue;
            };
            if is_snippet(key) {
                continue;
            }
            // A trailing line break from a `|` block scalar is harmless.
            let v = value.trim_end();
            let (problems, cve) =
                if let Some((_, cve)) = URL_ANNOTATIONS.iter().find(|(k, _)| *k == short) {
                    (url_problems(v.trim_start()), *cve)
                } else if short == "auth-tls-match-cn" {
                    (cn_problems(v), " (CVE-2025-1097)")
                } else {
                    (generic_problems(v), "")
                };
            if problems.is_empty() {
                continue;
            }
            let injects = problems.iter().any(|p| p != ALTERNATION);
            let mut why = Vec::new();
            if injects {
                why.push("can end the nginx directive it is copied into and inject configuration");
            }
            if problems.iter().any(|p| p == ALTERNATION) {
                why.push("splits the CN regex so that the branch after '|' matches any certificate subject containing it");
            }
            out.report_keyed(
                obj,
                annotation_path(key),
                key,
                format!(
                    "Ingress \"{}\": {key} contains {}, which {}{}",
                    obj.name,
                    problems.join(", "),
                    why.join(", and "),
                    if injects { cve } else { "" }
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cn_alternation_inside_parentheses_is_fine() {
        assert!(cn_problems("CN=(llm-gateway|llm-admin)").is_empty());
        assert!(cn_problems(r"CN=api\.example\.com").is_empty());
        assert_eq!(
            cn_problems("CN=invalid|cn"),
            vec!["'|' outside parentheses"]
        );
        assert!(!cn_problems("CN=valid#;\ninjection_point").is_empty());
    }

    #[test]
    fn url_values_allow_nginx_variables() {
        assert!(url_problems("https://$host/oauth2/start?rd=$escaped_request_uri").is_empty());
        assert_eq!(url_problems("http://example.com/invalid|url"), vec!["'|'"]);
        assert_eq!(
            url_problems("http://example.com/#;\ninjection_point"),
            vec!["';'", "a line break"]
        );
    }
}

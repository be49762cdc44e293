//! PLS-ING-001: Traefik IngressRoute without TLS.
//!
//! What it does: flags IngressRoutes (`traefik.io/v1alpha1` and the legacy
//! `traefik.containo.us/v1alpha1`) without `spec.tls` whose entry points
//! include a plain-HTTP one: `web`, any entry point other than
//! `websecure` (the Helm chart's TLS entry point), or none listed (every
//! entry point, `web` included). Routes to `api@internal` are left to
//! PLS-ING-003.
//!
//! Why it matters: the route serves plain HTTP: credentials, prompts and
//! completions cross the network in clear.
//!
//! Example: `entryPoints: [web]` with no `tls`.
//!
//! Fix: `entryPoints: [websecure]` and `tls: {secretName: ...}` or a
//! `certResolver`.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use crate::rules::ai::model::is_ingress_route;
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct RouteWithoutTls;

static META: RuleMeta = RuleMeta {
    id: "PLS-ING-001",
    title: "Traefik IngressRoute without TLS",
    severity: Severity::Medium,
    category: "ingress",
    rationale: "An IngressRoute without `tls` is served on its entry points as plain HTTP; with no `entryPoints` listed it is attached to every entry point, including the chart's `web` (port 80). Requests, responses, bearer tokens and cookies, and for LLM endpoints prompts and completions, can then be read and altered on the network.",
    remediation: "Attach the route to the TLS entry point only (`entryPoints: [websecure]`) and add `spec.tls` with a `secretName` or a `certResolver`; redirect `web` to `websecure` (`--entryPoints.web.http.redirections.entryPoint.to=websecure`).",
    references: References {
        links: &[
            "https://doc.traefik.io/traefik/reference/routing-configuration/kubernetes/crd/http/ingressroute/",
            "https://doc.traefik.io/traefik/https/tls/",
        ],
        ..References::NONE
    },
};

impl Rule for RouteWithoutTls {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, o: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_ingress_route(o) {
            return;
        }
        let spec = o.spec();
        if spec.get("tls").is_some_and(|t| !t.is_null()) {
            return;
        }
        let only_dashboard = spec.list("routes").iter().all(|r| {
            r.list("services").iter().all(|s| {
                s.get("name")
                    .and_then(Node::as_str)
                    .is_some_and(|n| n.ends_with("@internal"))
            })
        });
        if only_dashboard && !spec.list("routes").is_empty() {
            return;
        }
        let eps: Vec<&str> = spec
            .list("entryPoints")
            .iter()
            .filter_map(Node::as_str)
            .collect();
        let plain: Vec<&str> = eps.iter().copied().filter(|e| *e != "websecure").collect();
        let what = if eps.is_empty() {
            "it has no entryPoints, so it is served on every entry point including plain-HTTP `web`"
                .to_owned()
        } else if plain.is_empty() {
            return;
        } else {
            format!(
                "it is served on entry point {} over plain HTTP",
                plain.join(", ")
            )
        };
        out.report(
            o,
            Path::keys("spec.tls"),
            format!("IngressRoute \"{}\" has no tls: {what}", o.name),
        );
    }
}

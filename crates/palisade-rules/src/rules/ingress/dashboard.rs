//! PLS-ING-003: Traefik dashboard or API exposed insecurely.
//!
//! What it does: flags Traefik containers started with `--api.insecure`
//! (the API and dashboard on the `traefik` entry point, port 8080, with no
//! authentication), and IngressRoutes that route to `api@internal` on an
//! entry point other than the internal `traefik` one without an
//! authenticating Middleware (forwardAuth, basicAuth, digestAuth; chains
//! are followed) or an IP allow list.
//!
//! Why it matters: the API lists every router, service, middleware and
//! backend address of the cluster's ingress, a map of what to attack.
//!
//! Example: `match: Host(`traefik.example.com`)` to `api@internal` on
//! `websecure` with no middlewares.
//!
//! Fix: drop `--api.insecure`; protect the dashboard route with basicAuth
//! or forwardAuth, or reach it with `kubectl port-forward`.

use super::traefik_containers;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use crate::rules::ai::model::{is_ingress_route, middleware_refs, traefik_effects};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::ai::Cli;
use palisade_k8s::{Object, Workload};

pub(crate) struct Dashboard;

static META: RuleMeta = RuleMeta {
    id: "PLS-ING-003",
    title: "Traefik dashboard or API exposed insecurely",
    severity: Severity::High,
    category: "ingress",
    rationale: "Traefik's API and dashboard (`api@internal`) describe the whole edge of the cluster: every router with its host and path rules, every backend Service and address, every middleware (showing which routes lack authentication) and the TLS setup. `--api.insecure` serves it without authentication on the `traefik` entry point; a route to `api@internal` on a public entry point without an authenticating middleware publishes it.",
    remediation: "Remove `--api.insecure` (Helm: `api.insecure: false`); route to `api@internal` only through an IngressRoute with a `basicAuth` or `forwardAuth` Middleware (and an `ipAllowList`) on `websecure`, or keep the dashboard on the internal `traefik` entry point and use `kubectl port-forward`.",
    references: References {
        mitre: &["T1590"],
        links: &[
            "https://doc.traefik.io/traefik/operations/dashboard/#secure-mode",
            "https://doc.traefik.io/traefik/operations/api/#insecure",
        ],
        ..References::NONE
    },
};

impl Rule for Dashboard {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in traefik_containers(w) {
            if let Some(p) = Cli::of(c).bool_flag(&["--api.insecure"]) {
                out.report_container(
                    w.object,
                    c.name,
                    p,
                    format!(
                        "Traefik container {:?} sets --api.insecure: the API and dashboard are served without authentication",
                        c.name
                    ),
                );
            }
        }
    }

    fn check_object(&self, o: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_ingress_route(o) {
            return;
        }
        let ns = o.effective_namespace();
        let spec = o.spec();
        let eps: Vec<&str> = spec
            .list("entryPoints")
            .iter()
            .filter_map(Node::as_str)
            .collect();
        if !eps.is_empty() && eps.iter().all(|e| *e == "traefik") {
            return;
        }
        for (i, r) in spec.list("routes").iter().enumerate() {
            let api = r
                .list("services")
                .iter()
                .any(|s| s.get("name").and_then(Node::as_str) == Some("api@internal"));
            if !api {
                continue;
            }
            let eff = traefik_effects(cx, &middleware_refs(r, ns), 0);
            if eff.auth.is_some() || eff.source_limit.is_some() {
                continue;
            }
            let on = if eps.is_empty() {
                "every entry point".to_owned()
            } else {
                eps.join(", ")
            };
            out.report(
                o,
                Path::keys("spec.routes").index(i),
                format!(
                    "IngressRoute \"{}\" routes to api@internal on {on} without an authenticating Middleware: the Traefik API and dashboard are public",
                    o.name
                ),
            );
        }
    }
}

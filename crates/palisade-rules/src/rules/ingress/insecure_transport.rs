//! PLS-ING-002: Traefik skips backend certificate verification.
//!
//! What it does: flags `insecureSkipVerify: true` in ServersTransport
//! (`spec.insecureSkipVerify`), ServersTransportTCP
//! (`spec.tls.insecureSkipVerify`) and forwardAuth Middlewares
//! (`spec.forwardAuth.tls.insecureSkipVerify`), and the static option
//! `--serversTransport.insecureSkipVerify=true` on a Traefik container.
//!
//! Why it matters: Traefik then talks TLS to backends (or to the auth
//! server) without checking who answers; anyone who can intercept
//! in-cluster traffic reads prompts and API keys or answers the auth
//! check with "allowed".
//!
//! Example: a ServersTransport for a TLS model server with
//! `insecureSkipVerify: true`.
//!
//! Fix: `rootCAs` (or `rootCAsSecrets`) with the backend's CA and
//! `serverName`.

use super::traefik_containers;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use crate::rules::ai::model::is_traefik;
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::ai::Cli;
use palisade_k8s::{Object, Workload};

pub(crate) struct InsecureTransport;

static META: RuleMeta = RuleMeta {
    id: "PLS-ING-002",
    title: "Traefik skips backend certificate verification",
    severity: Severity::Medium,
    category: "ingress",
    rationale: "With `insecureSkipVerify` Traefik accepts any certificate from the backend or the forwardAuth server. The hop still looks encrypted, but anyone able to intercept pod traffic (a compromised pod with ARP or DNS spoofing, a malicious node) can impersonate the model server and read prompts and API keys, or impersonate the authentication server and approve every request.",
    remediation: "Remove `insecureSkipVerify`; give the ServersTransport (or forwardAuth `tls`) the backend CA in `rootCAs` (`rootCAsSecrets` in the legacy API) and a `serverName` matching the backend certificate, e.g. issued by cert-manager or the service mesh.",
    references: References {
        mitre: &["T1557"],
        links: &[
            "https://doc.traefik.io/traefik/reference/routing-configuration/kubernetes/crd/http/serverstransport/",
            "https://doc.traefik.io/traefik/middlewares/http/forwardauth/#tls",
        ],
        ..References::NONE
    },
};

impl Rule for InsecureTransport {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, o: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_traefik(o) {
            return;
        }
        let at: Option<&[&str]> = match o.kind.as_str() {
            "ServersTransport" => Some(&["insecureSkipVerify"]),
            "ServersTransportTCP" => Some(&["tls", "insecureSkipVerify"]),
            "Middleware" => Some(&["forwardAuth", "tls", "insecureSkipVerify"]),
            _ => None,
        };
        let Some(keys) = at else { return };
        if o.spec().at(keys).and_then(Node::as_bool) == Some(true) {
            out.report(
                o,
                Path::keys("spec").keys_from(keys),
                format!(
                    "{} \"{}\" sets insecureSkipVerify: Traefik accepts any certificate from the {}",
                    o.kind,
                    o.name,
                    if o.kind == "Middleware" { "authentication server" } else { "backend" }
                ),
            );
        }
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in traefik_containers(w) {
            if let Some(p) = Cli::of(c).bool_flag(&[
                "--serversTransport.insecureSkipVerify",
                "--serverstransport.insecureskipverify",
            ]) {
                out.report_container(
                    w.object,
                    c.name,
                    p,
                    format!(
                        "Traefik container {:?} sets --serversTransport.insecureSkipVerify: backend certificates are never checked",
                        c.name
                    ),
                );
            }
        }
    }
}

//! PLS-NET-013: Ingress routes to a Service that is not there.
//!
//! What it does: for every Ingress backend (`spec.defaultBackend` and each
//! `rules[].http.paths[].backend`; `serviceName`/`servicePort` in the old
//! `extensions/v1beta1` shape), checks that a Service of that name exists in
//! the Ingress's namespace in the input and that it has the port, by
//! number or by name. `resource` backends are not judged.
//!
//! Why it matters: a dangling backend answers 503 (or falls through to the
//! default backend); a typo in a name can route traffic to the wrong
//! service when one with that name appears later.
//!
//! Example: `service: {name: vllm, port: {number: 8000}}` while the Service
//! is called `vllm-llama3` and listens on port 80.
//!
//! Fix: name an existing Service and one of its ports.

use super::netpol::{is_ingress, is_service};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct IngressNoService;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-013",
    title: "Ingress routes to a Service that is not there",
    severity: Severity::Low,
    category: "network",
    rationale: "An Ingress backend naming a Service (or port) that does not exist answers 503 or falls through to the default backend, and a Service created later under that name, by anyone who can create Services in the namespace, receives the traffic. Judged on the input: a Service not in it cannot be seen.",
    remediation: "Point `backend.service.name` and `backend.service.port` (`number` or `name`) at an existing Service in the same namespace and one of its `spec.ports`.",
    references: References {
        kube_linter: &["dangling-ingress"],
        kube_score: &["ingress-targets-service"],
        links: &[
            "https://kubernetes.io/docs/concepts/services-networking/ingress/#the-ingress-resource",
        ],
        ..References::NONE
    },
};

/// One backend: its path, the Service name and the port (number or name).
struct Backend<'a> {
    path: Path,
    service: &'a str,
    port: Option<&'a Node>,
}

fn backend<'a>(b: &'a Node, path: &Path) -> Option<Backend<'a>> {
    if let Some(s) = b.get("service") {
        let service = s.get("name").and_then(Node::as_str)?;
        let port = s
            .get("port")
            .and_then(|p| p.get("number").or_else(|| p.get("name")));
        return Some(Backend {
            path: path.key("service").key("name"),
            service,
            port,
        });
    }
    let service = b.get("serviceName").and_then(Node::as_str)?;
    Some(Backend {
        path: path.key("serviceName"),
        service,
        port: b.get("servicePort"),
    })
}

fn backends(ing: &Object) -> Vec<Backend<'_>> {
    let spec = ing.spec();
    let mut out = Vec::new();
    for key in ["defaultBackend", "backend"] {
        if let Some(b) = spec
            .get(key)
            .and_then(|b| backend(b, &Path::keys("spec").key(key)))
        {
            out.push(b);
        }
    }
    for (i, r) in spec.list("rules").iter().enumerate() {
        let Some(paths) = r.get("http").map(|h| h.list("paths")) else {
            continue;
        };
        for (j, p) in paths.iter().enumerate() {
            let at = Path::keys("spec.rules")
                .index(i)
                .keys_from(&["http", "paths"])
                .index(j)
                .key("backend");
            if let Some(b) = p.get("backend").and_then(|b| backend(b, &at)) {
                out.push(b);
            }
        }
    }
    out
}

/// Whether the Service has the port: a number matches `port`, a name
/// matches `name`.
fn has_port(svc: &Object, port: &Node) -> bool {
    let ports = svc.spec().list("ports");
    match port.as_i64() {
        Some(n) => ports
            .iter()
            .any(|p| p.get("port").and_then(Node::as_i64) == Some(n)),
        None => port.as_str().is_none_or(|name| {
            ports
                .iter()
                .any(|p| p.get("name").and_then(Node::as_str) == Some(name))
        }),
    }
}

impl Rule for IngressNoService {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_ingress(obj) {
            return;
        }
        let ns = obj.effective_namespace();
        for b in backends(obj) {
            let svc = cx
                .of_kind_in("Service", ns)
                .find(|s| is_service(s) && s.name == b.service);
            match (svc, b.port) {
                (None, _) => out.report(
                    obj,
                    b.path,
                    format!(
                        "Ingress {:?} routes to Service {:?}, which is not in namespace {ns:?}",
                        obj.name, b.service
                    ),
                ),
                (Some(s), Some(port)) if !has_port(s, port) => {
                    let shown = port.as_str().unwrap_or("?");
                    out.report(
                        obj,
                        b.path,
                        format!(
                            "Ingress {:?} routes to port {shown} of Service {:?}, which has no such port",
                            obj.name, b.service
                        ),
                    );
                }
                _ => {}
            }
        }
    }
}

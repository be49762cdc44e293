//! Traefik (`PLS-ING-*`): IngressRoutes without TLS, ServersTransports
//! that skip certificate checks, the dashboard and API exposed insecurely,
//! routes to model servers without a request-size limit. ingress-nginx
//! snippets and IngressNightmare are PLS-NET-008/009.

use crate::rule::Rule;
use palisade_core::Node;
use palisade_k8s::{Container, Workload};

mod body_limit;
mod dashboard;
mod insecure_transport;
mod route_without_tls;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(route_without_tls::RouteWithoutTls),
        Box::new(insecure_transport::InsecureTransport),
        Box::new(dashboard::Dashboard),
        Box::new(body_limit::BodyLimit),
    ]
}

/// The Traefik proxy containers of a workload (image `traefik`, or a
/// `traefik` binary on the command line).
pub(crate) fn traefik_containers<'w, 'a>(
    w: &'w Workload<'a>,
) -> impl Iterator<Item = &'w Container<'a>> + 'w {
    w.containers.iter().filter(|c| {
        let repo = palisade_k8s::ai::image_repository(c.image().unwrap_or(""));
        let last = repo.rsplit('/').next().unwrap_or("");
        last == "traefik"
            || c.node
                .list("command")
                .first()
                .and_then(Node::as_str)
                .is_some_and(|s| s.rsplit('/').next() == Some("traefik"))
    })
}

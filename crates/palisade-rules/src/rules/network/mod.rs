//! Network exposure and namespaces: NetworkPolicy coverage (per workload and
//! per namespace), NetworkPolicy selectors, Service exposure (NodePort,
//! public LoadBalancer, externalIPs), Ingress TLS and ingress-nginx
//! annotations (`PLS-NET-*`); namespace placement and Pod Security
//! Admission labels (`PLS-NS-*`). `netpol` holds the shared model of
//! selectors and policies.

use crate::rule::Rule;

mod default_namespace;
mod ingress_no_service;
mod ingress_without_tls;
mod namespace_default_deny;
mod namespace_psa_privileged;
mod namespace_without_psa;
pub(crate) mod netpol;
mod netpol_no_pod_selector;
mod netpol_no_pods;
mod nginx_annotation_injection;
mod nginx_snippet_annotation;
mod service_external_ips;
mod service_no_pods;
mod service_nodeport;
pub(crate) mod service_public_loadbalancer;
mod ssh_port;
mod system_namespace_workload;
mod workload_not_isolated;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(workload_not_isolated::WorkloadNotIsolated),
        Box::new(namespace_default_deny::NamespaceDefaultDeny),
        Box::new(netpol_no_pod_selector::NetpolNoPodSelector),
        Box::new(service_nodeport::ServiceNodePort),
        Box::new(service_public_loadbalancer::ServicePublicLoadBalancer),
        Box::new(service_external_ips::ServiceExternalIps),
        Box::new(ingress_without_tls::IngressWithoutTls),
        Box::new(nginx_snippet_annotation::NginxSnippetAnnotation),
        Box::new(nginx_annotation_injection::NginxAnnotationInjection),
        Box::new(default_namespace::DefaultNamespace),
        Box::new(system_namespace_workload::SystemNamespaceWorkload),
        Box::new(namespace_without_psa::NamespaceWithoutPsa),
        Box::new(namespace_psa_privileged::NamespacePsaPrivileged),
        Box::new(ssh_port::SshPort),
        Box::new(service_no_pods::ServiceNoPods),
        Box::new(netpol_no_pods::NetpolNoPods),
        Box::new(ingress_no_service::IngressNoService),
    ]
}

//! The built-in rules, one per file, grouped by family. Each family's
//! `rules()` lists its rules; [`all`] is the registry.
//!
//! | family | prefix | what |
//! |---|---|---|
//! | [`pod`] | `PLS-POD` | pod security: privileges, host access, users, capabilities, profiles, volumes |
//! | [`workload`] | `PLS-WL` | resources, probes, replicas, service accounts, namespaces, deprecated APIs |
//! | [`images`] | `PLS-IMG` | tags, digests, pull policy, registries |
//! | [`secrets`] | `PLS-SEC` | secret values in env, ConfigMaps, annotations |
//! | [`rbac`] | `PLS-RBAC` | effective permissions of every subject |
//! | [`network`] | `PLS-NET` | NetworkPolicy coverage, exposure, Ingress |
//! | [`ai`] | `PLS-AI`, `PLS-GPU`, `PLS-STO` | AI serving exposure and flags, GPU isolation, model storage and supply chain |
//! | [`ingress`] | `PLS-ING` | Traefik routes, transports and dashboard |
//! | [`tenancy`] | `PLS-TEN` | namespaces shared with serving, cross-tenant bindings |

use crate::rule::Rule;

pub mod ai;
pub mod images;
pub mod ingress;
pub mod network;
pub mod pod;
pub mod rbac;
pub mod secrets;
pub mod tenancy;
pub mod workload;

/// Every built-in rule, in ID order.
pub fn all() -> Vec<Box<dyn Rule>> {
    let mut v: Vec<Box<dyn Rule>> = Vec::new();
    v.extend(pod::rules());
    v.extend(workload::rules());
    v.extend(images::rules());
    v.extend(secrets::rules());
    v.extend(rbac::rules());
    v.extend(network::rules());
    v.extend(ai::rules());
    v.extend(ingress::rules());
    v.extend(tenancy::rules());
    v.sort_by_key(|r| r.meta().id);
    v
}

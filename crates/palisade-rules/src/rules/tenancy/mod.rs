//! Tenancy (`PLS-TEN-*`): what shares a namespace with production model
//! serving, and ServiceAccounts bound across tenants' namespaces.
//! Namespaces without ResourceQuota/LimitRange are PLS-WL-005/006, without
//! a Pod Security `enforce` label PLS-NS-003.

use crate::rule::Rule;

mod cross_namespace_binding;
mod mixed_namespace;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(mixed_namespace::MixedNamespace),
        Box::new(cross_namespace_binding::CrossNamespaceBinding),
    ]
}

//! Pod security: privileges, host namespaces and ports, host paths, users
//! and groups, capabilities, seccomp/AppArmor/SELinux, sysctls, procMount,
//! Windows hostProcess, volume types.

use crate::rule::Rule;

mod privileged;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(privileged::Privileged)]
}

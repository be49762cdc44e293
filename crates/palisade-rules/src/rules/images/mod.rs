//! Images: tags, digests, pull policy, registries. `reference` parses image
//! references the way the runtime resolves them; the workload family's
//! Tiller rule uses it too.

use crate::rule::Rule;

mod digest;
mod latest_tag;
mod pull_policy;
pub(crate) mod reference;
// Written and unit-tested, not registered until the fixture harness can
// pass settings: see `registry.rs`.
#[cfg_attr(not(test), allow(dead_code))]
mod registry;

/// The rules of this family. PLS-IMG-004 (allowed registries) is written
/// and unit-tested but not listed yet: see `registry.rs`.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(latest_tag::LatestTag),
        Box::new(digest::Digest),
        Box::new(pull_policy::PullPolicy),
    ]
}

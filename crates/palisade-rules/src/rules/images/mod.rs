//! Images: tags, digests, pull policy, registries. `reference` parses image
//! references the way the runtime resolves them; the workload family's
//! Tiller rule uses it too.

use crate::rule::Rule;

mod digest;
mod latest_tag;
mod pull_policy;
pub(crate) mod reference;
mod registry;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(latest_tag::LatestTag),
        Box::new(digest::Digest),
        Box::new(pull_policy::PullPolicy),
        Box::new(registry::AllowedRegistry),
    ]
}

//! Rules of this family; see each file.

use crate::rule::Rule;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![]
}

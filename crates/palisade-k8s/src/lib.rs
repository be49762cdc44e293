//! Getting Kubernetes objects: YAML and JSON files, folders, standard input,
//! `List` wrappers, `helm template` and `kustomize build` output
//! ([`load`]); and finding every pod template whatever wraps it ([`workload`]).

pub mod ai;
pub mod load;
pub mod object;
pub mod selector;
pub mod workload;

pub use load::{LoadOutcome, Loader};
pub use object::{Object, Source};
pub use workload::{Container, ContainerKind, Workload};

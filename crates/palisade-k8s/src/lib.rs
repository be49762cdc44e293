//! Getting Kubernetes objects: YAML and JSON files, folders, standard input,
//! `List` wrappers, `helm template` and `kustomize build` output
//! ([`load`]), live clusters through kube-rs ([`cluster`], feature `cluster`);
//! and finding every pod template whatever wraps it ([`workload`]).

pub mod ai;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod load;
pub mod object;
pub mod selector;
pub mod workload;

pub use load::{LoadOutcome, Loader};
pub use object::{Object, Source};
pub use workload::{Container, ContainerKind, Workload};

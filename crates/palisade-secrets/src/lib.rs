//! Secrets lifecycle inside Kubernetes: inventory, rotation, rollouts and
//! the controller that runs them.
//!
//! - [`inventory`]: what exists, who consumes and reads it, findings.
//! - [`policy`] and [`rotation`]: what to rotate now (a pure function of
//!   metadata, policies and the clock) and the patches that do it;
//!   [`generate`] makes the new values; [`audit`] records them by keyed hash.
//! - [`rollout`]: which workloads roll when Secrets change (pure, paced).
//! - `cluster` (feature `cluster`): applying both through kube-rs, and the
//!   controller (watch, reconcile, Lease leader election, metrics).
//!
//! [`inventory`] takes loaded objects (manifests today; the same objects
//! come from a cluster later) and answers, for every Secret: its type, key
//! names (never values), age and last rotation, what consumes it (env,
//! envFrom, volumes, projected volumes, imagePullSecrets, Ingress TLS, CSI
//! SecretProviderClass `secretObjects`), what produces it (ExternalSecret,
//! SealedSecret, SecretProviderClass), which RBAC subjects can read it
//! (through [`palisade_rules::Context::readers`]), and the lifecycle
//! findings `PLS-SCR-*` ([`rules`]). Vault Agent injector annotations are
//! listed as Vault-backed secrets of the annotated workload.
//!
//! The library never prints; it returns data and [`palisade_core::Finding`]s.

pub mod audit;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod duration;
pub mod generate;
mod inventory;
pub mod pass;
pub mod policy;
pub mod rollout;
pub mod rotation;
pub mod rules;

pub use duration::Duration;
pub use inventory::{
    Consumer, ConsumerKind, Inventory, Options, Reader, SecretEntry, SecretSource, inventory,
};

/// What can go wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A duration that does not parse.
    #[error("invalid duration {0:?}: expected e.g. 90d, 12h, 1h30m, 0")]
    Duration(String),
}

/// Annotation recording when a Secret was last rotated (RFC 3339).
pub const ROTATED_AT: &str = "palisade.dev/rotated-at";
/// Annotation setting a Secret's rotation period (`30d`).
pub const ROTATE_EVERY: &str = "palisade.dev/rotate-every";
/// The Vault Agent injector's per-secret annotation prefix.
pub const VAULT_SECRET_PREFIX: &str = "vault.hashicorp.com/agent-inject-secret-";

//! The rule engine and the built-in rules: one rule per file under
//! [`rules`], grouped by family, each with fixtures under
//! `fixtures/<RULE-ID>/`. Rules see workloads through one extraction step
//! ([`palisade_k8s::workload`]) and the whole input through [`Context`].

pub mod access;
pub mod context;
pub mod custom;
pub mod docs;
pub mod engine;
pub mod rule;
pub mod rules;
pub mod suppress;

pub use context::Context;
pub use engine::{Engine, Settings, Timings};
pub use rule::{Emitter, Rule};

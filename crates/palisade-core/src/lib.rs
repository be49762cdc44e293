//! Palisade's shared vocabulary: documents with positions ([`node`], [`yaml`]),
//! findings ([`finding`]), reports and their writers ([`report`], [`output`]),
//! configuration ([`config`]), secret detection with redaction ([`secrets`])
//! and timestamps ([`clock`]).
//!
//! No I/O happens here: callers read files and hand over text.

pub mod clock;
pub mod config;
pub mod finding;
pub mod node;
pub mod output;
pub mod report;
pub mod secrets;
pub mod yaml;

pub use finding::{Finding, Location, References, ResourceRef, RuleMeta, Severity};
pub use node::{Node, Path, Pos, Seg, Value};
pub use report::{Diagnostic, InferenceService, Report};

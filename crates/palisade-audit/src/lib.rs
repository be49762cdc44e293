//! `palisade-audit`: a record nobody can quietly rewrite, detections on what
//! happens in the cluster, and delivery to the SIEM.
//!
//! - [`log`]: an append-only, tamper-evident log. Entries are the leaves of
//!   an RFC 6962 / RFC 9162 Merkle tree (leaf hash `SHA-256(0x00 || entry)`,
//!   node hash `SHA-256(0x01 || left || right)`), with inclusion and
//!   consistency proofs and checkpoints signed as C2SP signed notes
//!   (`tlog-checkpoint`, Ed25519). Appends are acknowledged only once they
//!   are on disk, with group commit; a torn tail is repaired on open.
//! - [`k8s`]: Kubernetes audit events (`audit.k8s.io/v1`, `v1beta1`) and a
//!   streaming reader for JSON lines, Event and EventList documents.
//! - [`detect`]: the `PLS-KA` detection rules over those events, stateless
//!   and stateful, reporting `palisade_core::Finding`s.
//!
//! - [`sink`]: SIEM export (JSON lines, syslog RFC 5424 + CEF over TCP/TLS,
//!   OCSF, Splunk HEC, webhooks), at least once through a disk spool.
//! - [`webhook`]: the receiver of the API server's audit webhook.
//!
//! Libraries never print: everything here returns values and errors.

pub mod detect;
pub mod k8s;
pub mod log;
pub mod sink;
pub mod webhook;

pub use log::{AuditWriter, LeafIndex, Log, Sink, WriterOptions};

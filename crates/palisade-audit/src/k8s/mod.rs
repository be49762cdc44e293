//! Kubernetes audit events (`audit.k8s.io/v1` and `v1beta1`) and a
//! streaming reader for JSON lines, single Event documents and EventLists.

mod event;
mod read;

pub use event::{Event, ObjectRef, Status, UserInfo, parse_timestamp};
pub use read::{
    Diagnostic, Document, EventSource, MAX_DOCUMENT, ParseError, ReadStats, parse_document,
    read_events,
};

//! `tlog:DIR`: records appended to a tamper-evident log of this crate, in
//! the folder format `palisade audit` reads, through the log's own writer
//! ([`AuditWriter`], group commit). A batch counts as delivered only when
//! every record of it is on disk, so the forwarder moves its cursor after
//! the sync and never before.

use super::{Delivery, PayloadFormat, SiemSink, SinkError, payload};
use crate::log::{AuditWriter, Log, WriterOptions};
use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;

/// How many entries at the log's tail are read for delivery IDs when the
/// log is opened (more than one forwarder batch).
const TAIL: u64 = 4096;

/// A tamper-evident log as a SIEM destination.
///
/// The writer takes the log's lock on the first batch and keeps it: one
/// process writes a log at a time (another one's batches fail, are retried
/// and stay spooled until the lock is free).
pub struct TlogSink {
    dir: PathBuf,
    format: PayloadFormat,
    writer: Option<AuditWriter>,
    /// Delivery IDs at the log's tail when it was opened. A batch that was
    /// appended but whose cursor move was lost (a crash in between) comes
    /// again: its records are skipped instead of appended twice.
    tail: HashSet<String>,
}

impl std::fmt::Debug for TlogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl TlogSink {
    /// A sink appending to the log in `dir` (created on the first batch).
    pub fn new(dir: PathBuf, format: PayloadFormat) -> TlogSink {
        TlogSink {
            dir,
            format,
            writer: None,
            tail: HashSet::new(),
        }
    }

    fn open(&mut self) -> Result<(), SinkError> {
        if self.writer.is_some() {
            return Ok(());
        }
        let err = |e: crate::log::Error| {
            SinkError::Transport(format!("tlog:{}: {e}", self.dir.display()))
        };
        let w = AuditWriter::open(&self.dir, WriterOptions::default()).map_err(err)?;
        let log = Log::open_read(&self.dir).map_err(err)?;
        self.tail.clear();
        for i in log.len().saturating_sub(TAIL)..log.len() {
            if let Some(id) = log.entry(i).ok().and_then(|b| delivery_id(&b)) {
                self.tail.insert(id);
            }
        }
        self.writer = Some(w);
        Ok(())
    }
}

/// The delivery ID of an entry this sink wrote (native `deliveryId` or
/// OCSF `metadata.uid`).
fn delivery_id(entry: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(entry).ok()?;
    v.get("deliveryId")
        .or_else(|| v.pointer("/metadata/uid"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl SiemSink for TlogSink {
    fn describe(&self) -> String {
        format!("tlog:{}", self.dir.display())
    }

    fn send(&mut self, batch: &[Delivery<'_>]) -> Result<(), SinkError> {
        self.open()?;
        let Some(w) = self.writer.as_ref() else {
            return Err(SinkError::Transport("tlog writer not open".into()));
        };
        // Submit the whole batch first: one group commit for all of it.
        let mut tickets = Vec::with_capacity(batch.len());
        for d in batch {
            if self.tail.contains(d.id) {
                continue;
            }
            let bytes = serde_json::to_vec(&payload(d, self.format))
                .map_err(|e| SinkError::Transport(e.to_string()))?;
            tickets.push(w.submit(bytes));
        }
        let mut failed = None;
        for t in tickets {
            if let Err(e) = t.wait() {
                failed.get_or_insert(e);
            }
        }
        match failed {
            None => Ok(()),
            Some(e) => {
                // The writer fails closed after an error: reopen (and
                // repair) on the next attempt.
                self.writer = None;
                Err(SinkError::Transport(format!(
                    "tlog:{}: {e}",
                    self.dir.display()
                )))
            }
        }
    }
}

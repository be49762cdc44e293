//! The disk-backed forwarder: spool, cursor, delivery thread.

use super::{Delivery, SiemSink, SinkError, SinkRecord};
use crate::log::{AuditWriter, LeafIndex, Log, WriterOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Tuning.
#[derive(Debug, Clone, Copy)]
pub struct ForwarderOptions {
    /// Records per delivery.
    pub batch: usize,
    /// First retry delay; doubles up to `retry_max`.
    pub retry_min: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

impl Default for ForwarderOptions {
    fn default() -> Self {
        ForwarderOptions {
            batch: 256,
            retry_min: Duration::from_millis(50),
            retry_max: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    spooled: AtomicU64,
    delivered: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
    wake: (Mutex<()>, Condvar),
}

/// Sends records to a [`SiemSink`] at least once, through a spool on disk.
#[derive(Debug)]
pub struct Forwarder {
    writer: Option<AuditWriter>,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
    describe: String,
}

fn cursor_path(spool: &Path) -> PathBuf {
    spool.join("cursor")
}

fn read_cursor(spool: &Path) -> u64 {
    std::fs::read_to_string(cursor_path(spool))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

impl Forwarder {
    /// Opens (or creates) the spool in `spool` and starts delivering to `sink`
    /// from where the last run stopped.
    pub fn start(
        spool: &Path,
        sink: Box<dyn SiemSink>,
        opts: ForwarderOptions,
    ) -> Result<Forwarder, SinkError> {
        std::fs::create_dir_all(spool)
            .map_err(|e| SinkError::Config(format!("{}: {e}", spool.display())))?;
        let id_path = spool.join("id");
        let id = match std::fs::read_to_string(&id_path) {
            Ok(s) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => {
                let mut b = [0u8; 8];
                rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
                let id = hex::encode(b);
                crate::log::checkpoint_write_atomic(&id_path, id.as_bytes())?;
                id
            }
        };
        let writer = AuditWriter::open(spool.join("log"), WriterOptions::default())?;
        let shared = Arc::new(Shared::default());
        shared.delivered.store(read_cursor(spool), Ordering::SeqCst);
        shared.spooled.store(writer.start_size(), Ordering::SeqCst);
        let describe = sink.describe();
        let (sh, dir) = (shared.clone(), spool.to_owned());
        let thread = std::thread::Builder::new()
            .name("siem-forwarder".into())
            .spawn(move || deliver(&dir, &id, sink, &sh, opts))
            .map_err(|e| SinkError::Config(e.to_string()))?;
        Ok(Forwarder {
            writer: Some(writer),
            shared,
            thread: Some(thread),
            describe,
        })
    }

    /// The destination.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Appends `record` to the spool; returns once it is on disk.
    pub fn send(&self, record: &SinkRecord) -> Result<LeafIndex, SinkError> {
        let bytes = serde_json::to_vec(record).map_err(|e| SinkError::Transport(e.to_string()))?;
        let w = self
            .writer
            .as_ref()
            .ok_or_else(|| SinkError::Config("forwarder closed".into()))?;
        let i = crate::log::Sink::append(w, &bytes)?;
        self.shared.spooled.fetch_max(i + 1, Ordering::SeqCst);
        self.shared.wake.1.notify_all();
        Ok(i)
    }

    /// Appends `records` to the spool in order, sharing one group commit;
    /// returns the index of the last one once all are on disk (`None` for
    /// an empty slice). On an error some of the records may be spooled.
    pub fn send_all(&self, records: &[SinkRecord]) -> Result<Option<LeafIndex>, SinkError> {
        let w = self
            .writer
            .as_ref()
            .ok_or_else(|| SinkError::Config("forwarder closed".into()))?;
        let mut tickets = Vec::with_capacity(records.len());
        for r in records {
            let bytes = serde_json::to_vec(r).map_err(|e| SinkError::Transport(e.to_string()))?;
            tickets.push(w.submit(bytes));
        }
        let mut last = None;
        let mut failed = None;
        for t in tickets {
            match t.wait() {
                Ok(i) => {
                    self.shared.spooled.fetch_max(i + 1, Ordering::SeqCst);
                    last = Some(i);
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        self.shared.wake.1.notify_all();
        match failed {
            None => Ok(last),
            Some(e) => Err(e.into()),
        }
    }

    /// Records in the spool (delivered or not).
    pub fn spooled(&self) -> u64 {
        self.shared.spooled.load(Ordering::SeqCst)
    }

    /// Records delivered so far (the cursor).
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::SeqCst)
    }

    /// Failed delivery attempts so far, and the last error.
    pub fn failures(&self) -> (u64, Option<String>) {
        (
            self.shared.failures.load(Ordering::SeqCst),
            self.shared.last_error.lock().ok().and_then(|e| e.clone()),
        )
    }

    /// Waits until everything sent so far is delivered, or `timeout`.
    pub fn flush(&self, timeout: Duration, spooled: u64) -> bool {
        let until = Instant::now() + timeout;
        while self.delivered() < spooled {
            if Instant::now() >= until {
                return false;
            }
            self.shared.wake.1.notify_all();
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Stops the delivery thread (what is not delivered stays in the spool
    /// for the next start).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(w) = self.writer.take() {
            w.close();
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn deliver(
    spool: &Path,
    id: &str,
    mut sink: Box<dyn SiemSink>,
    sh: &Shared,
    opts: ForwarderOptions,
) {
    let mut backoff = opts.retry_min;
    let logdir = spool.join("log");
    while !sh.stop.load(Ordering::SeqCst) {
        let cursor = sh.delivered.load(Ordering::SeqCst);
        let log = match Log::open_read(&logdir) {
            Ok(l) => l,
            Err(e) => {
                note(sh, &e.to_string());
                wait(sh, backoff);
                continue;
            }
        };
        if log.len() <= cursor {
            wait(sh, Duration::from_millis(100));
            continue;
        }
        let end = log.len().min(cursor + opts.batch.max(1) as u64);
        let mut records = Vec::new();
        for i in cursor..end {
            match log.entry(i).map_err(SinkError::from).and_then(|b| {
                serde_json::from_slice::<SinkRecord>(&b)
                    .map_err(|e| SinkError::Transport(format!("spool entry {i}: {e}")))
            }) {
                Ok(r) => records.push((format!("{id}:{i}"), r)),
                Err(e) => {
                    note(sh, &e.to_string());
                    break;
                }
            }
        }
        if records.is_empty() {
            wait(sh, backoff);
            continue;
        }
        let batch: Vec<Delivery<'_>> = records
            .iter()
            .map(|(k, r)| Delivery { id: k, record: r })
            .collect();
        match sink.send(&batch) {
            Ok(()) => {
                let next = cursor + batch.len() as u64;
                if let Err(e) = crate::log::checkpoint_write_atomic(
                    &cursor_path(spool),
                    next.to_string().as_bytes(),
                ) {
                    note(sh, &e.to_string());
                }
                sh.delivered.store(next, Ordering::SeqCst);
                backoff = opts.retry_min;
            }
            Err(e) => {
                note(sh, &e.to_string());
                wait(sh, backoff);
                backoff = (backoff * 2).min(opts.retry_max);
            }
        }
    }
}

fn note(sh: &Shared, e: &str) {
    sh.failures.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut l) = sh.last_error.lock() {
        *l = Some(e.to_owned());
    }
}

fn wait(sh: &Shared, d: Duration) {
    if sh.stop.load(Ordering::SeqCst) {
        return;
    }
    if let Ok(g) = sh.wake.0.lock() {
        let _ = sh.wake.1.wait_timeout(g, d);
    }
}

//! Group commit: one writer thread owns the log; appenders hand it records
//! and wait for their acknowledgement. While the thread syncs one batch, the
//! next one queues up, so a sync is shared by every append that arrived
//! meanwhile and throughput survives `fsync`.

use super::{Error, LeafIndex, Log, Repair, Result};
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Where audit records go: the gateway, the scanner and `detect` write
/// through this. `append` returns once the record is durable.
pub trait Sink: Send + Sync {
    /// Appends one record; returns its index once it is on disk.
    fn append(&self, record: &[u8]) -> Result<LeafIndex>;
}

/// Tuning of the writer thread.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// Most records in one batch (1 disables group commit: one sync per append).
    pub max_batch: usize,
    /// Most payload bytes in one batch.
    pub max_batch_bytes: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            max_batch: 4096,
            max_batch_bytes: 8 << 20,
        }
    }
}

type Reply = mpsc::SyncSender<Result<LeafIndex>>;

struct Request {
    payload: Vec<u8>,
    reply: Reply,
}

/// A pending append; [`Ticket::wait`] blocks until it is durable.
#[derive(Debug)]
pub struct Ticket(mpsc::Receiver<Result<LeafIndex>>);

impl Ticket {
    /// Waits for the acknowledgement: the record's index once it is on disk.
    pub fn wait(self) -> Result<LeafIndex> {
        self.0
            .recv()
            .map_err(|_| Error::Writer("the writer thread stopped".into()))?
    }
}

/// The log's writer: appends from any thread, acknowledged after sync.
#[derive(Debug)]
pub struct AuditWriter {
    tx: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    repair: Repair,
    start_size: u64,
}

impl AuditWriter {
    /// Opens (or creates) the log in `dir`, repairs a torn tail and starts
    /// the writer thread.
    pub fn open(dir: impl AsRef<Path>, opts: WriterOptions) -> Result<AuditWriter> {
        let (log, repair) = Log::open(dir)?;
        let start_size = log.len();
        let (tx, rx) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || run(log, &rx, opts))
            .map_err(|e| Error::Writer(e.to_string()))?;
        Ok(AuditWriter {
            tx: Some(tx),
            thread: Some(thread),
            repair,
            start_size,
        })
    }

    /// What opening repaired.
    pub fn repair(&self) -> &Repair {
        &self.repair
    }

    /// Entries in the log when it was opened.
    pub fn start_size(&self) -> u64 {
        self.start_size
    }

    /// Hands a record to the writer without waiting.
    pub fn submit(&self, record: Vec<u8>) -> Ticket {
        let (reply, rx) = mpsc::sync_channel(1);
        if let Some(tx) = &self.tx
            && let Err(mpsc::SendError(req)) = tx.send(Request {
                payload: record,
                reply,
            })
        {
            let _ = req
                .reply
                .send(Err(Error::Writer("the writer thread stopped".into())));
        }
        Ticket(rx)
    }

    /// Stops the writer after the queued appends and waits for it.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for AuditWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Sink for AuditWriter {
    fn append(&self, record: &[u8]) -> Result<LeafIndex> {
        self.submit(record.to_vec()).wait()
    }
}

fn run(mut log: Log, rx: &mpsc::Receiver<Request>, opts: WriterOptions) {
    let mut failed: Option<String> = None;
    while let Ok(first) = rx.recv() {
        let mut bytes = first.payload.len();
        let mut batch = vec![first];
        while batch.len() < opts.max_batch.max(1) && bytes < opts.max_batch_bytes {
            match rx.try_recv() {
                Ok(r) => {
                    bytes += r.payload.len();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        if let Some(why) = &failed {
            for r in batch {
                let _ = r.reply.send(Err(Error::Writer(why.clone())));
            }
            continue;
        }
        // A record that is too large fails alone; the rest are written.
        let (ok, too_large): (Vec<Request>, Vec<Request>) = batch
            .into_iter()
            .partition(|r| r.payload.len() <= super::MAX_ENTRY);
        for r in too_large {
            let n = r.payload.len();
            let _ = r.reply.send(Err(Error::TooLarge(n)));
        }
        if ok.is_empty() {
            continue;
        }
        let (payloads, replies): (Vec<Vec<u8>>, Vec<Reply>) =
            ok.into_iter().map(|r| (r.payload, r.reply)).unzip();
        match log.append_batch(&payloads) {
            Ok(first) => {
                for (k, reply) in replies.into_iter().enumerate() {
                    let _ = reply.send(Ok(first + k as u64));
                }
            }
            Err(e) => {
                // Fail closed: after a write error nothing more is accepted.
                let why = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(Error::Writer(why.clone())));
                }
                failed = Some(why);
            }
        }
    }
}

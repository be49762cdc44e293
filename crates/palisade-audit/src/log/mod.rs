//! The tamper-evident log: files in one directory.
//!
//! | file | content |
//! |---|---|
//! | `entries` | the records, each `len: u32 LE`, `crc32: u32 LE`, `index: u64 LE`, then `len` bytes; the CRC covers index, length and payload |
//! | `index` | one `u64 LE` byte offset into `entries` per record |
//! | `hashes` | the tree's stored hashes, 32 bytes each, in the order of Go's `sumdb/tlog` (`stored_hash_index`): leaf hashes and every completed subtree |
//! | `checkpoints/<size>` | signed notes, one per checkpoint (C2SP tlog-checkpoint) |
//! | `lock` | held (`flock`) by the one process that writes |
//!
//! `entries` is the source of truth; `index` and `hashes` are derived and
//! rebuilt on open when a crash left them behind. A batch is written to
//! `entries` and synced before `hashes` and `index` are extended and synced,
//! and only then acknowledged: a reader that sees `n` index entries sees `n`
//! complete records and their hashes.

mod checkpoint;
mod record;
mod store;
mod verify;
mod writer;

pub(crate) use checkpoint::write_atomic as checkpoint_write_atomic;
pub use checkpoint::{Key, generate_key};
pub use store::{Log, Repair};
pub use verify::{Problem, VerifyOptions, VerifyReport, verify};
pub use writer::{AuditWriter, Sink, Ticket, WriterOptions};

pub use tlog_tiles::Hash;

use std::path::PathBuf;

/// The position of an entry in the log, from 0.
pub type LeafIndex = u64;

/// Largest entry accepted (16 MiB).
pub const MAX_ENTRY: usize = 16 << 20;

/// The entries file.
pub const ENTRIES: &str = "entries";
/// The offset index.
pub const INDEX: &str = "index";
/// The stored tree hashes.
pub const HASHES: &str = "hashes";
/// The checkpoints folder.
pub const CHECKPOINTS: &str = "checkpoints";
/// The writer's lock file.
pub const LOCK: &str = "lock";

/// What can go wrong with the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The entry is larger than [`MAX_ENTRY`].
    #[error("entry of {0} bytes exceeds the limit of {MAX_ENTRY} bytes")]
    TooLarge(usize),
    /// Another process holds the writer's lock.
    #[error("{}: another process is writing this log", .0.display())]
    Locked(PathBuf),
    /// The derived files disagree with the entries in a way a crash cannot explain.
    #[error(
        "the hashes file disagrees with entry {index}: the log was modified; run `palisade audit verify`"
    )]
    Inconsistent {
        /// The entry.
        index: LeafIndex,
    },
    /// A record that should be complete is not.
    #[error("entry {index} at byte {offset} of the entries file is damaged ({reason})")]
    Damaged {
        /// The entry.
        index: LeafIndex,
        /// Its byte offset in `entries`.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// An index or tree size outside the log.
    #[error("{0}")]
    Range(String),
    /// A signing or verifier key that cannot be used.
    #[error("key: {0}")]
    Key(String),
    /// A checkpoint that cannot be made or read.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The writer thread failed earlier or has stopped.
    #[error("audit writer: {0}")]
    Writer(String),
    /// Tree arithmetic failed (a corrupt hashes file).
    #[error("tree: {0}")]
    Tree(#[from] tlog_tiles::Error),
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

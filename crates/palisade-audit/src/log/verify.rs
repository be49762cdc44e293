//! Verification from the raw files: every record re-read and checksummed,
//! the tree recomputed from the entries, compared with the stored hashes and
//! index, and every checkpoint's signature and root checked.

use super::checkpoint::{list_checkpoints, verifiers};
use super::record::{self, HEADER};
use super::store::MemHashes;
use super::{ENTRIES, HASHES, INDEX, LeafIndex, MAX_ENTRY, Result, io};
use signed_note::Note;
use std::fmt;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use tlog_tiles::{Checkpoint, Hash};

/// What to verify against.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Trusted verifier keys (signed-note `name+id+key`). Checkpoints must
    /// carry a valid signature by one of them; with none given and
    /// checkpoints present, verification fails (closed).
    pub vkeys: Vec<String>,
}

/// One problem, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The entries file ends inside a record: an interrupted append, cut on
    /// the next open. Not tampering by itself (checkpoints catch a truncation).
    TornTail {
        /// The entry being written.
        index: LeafIndex,
        /// Its byte offset.
        offset: u64,
        /// Bytes of it present.
        bytes: u64,
    },
    /// A record whose checksum or length field is wrong.
    BadRecord {
        /// Position in the file.
        index: LeafIndex,
        /// Byte offset.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A record carrying another index than its position: entries were
    /// reordered, removed or inserted.
    OutOfOrder {
        /// Position in the file.
        index: LeafIndex,
        /// Byte offset.
        offset: u64,
        /// The index written in the record.
        found: LeafIndex,
    },
    /// An entry's leaf hash differs from the one stored when it was appended.
    LeafMismatch {
        /// The entry.
        index: LeafIndex,
        /// Its byte offset.
        offset: u64,
    },
    /// An interior tree hash differs from the recomputed one.
    NodeMismatch {
        /// Level in the tree (1 = parents of leaves).
        level: u8,
        /// Position at that level.
        n: u64,
    },
    /// The hashes file has the wrong length for the entries.
    HashesLength {
        /// Hashes expected.
        expected: u64,
        /// Hashes found.
        found: u64,
    },
    /// The index points elsewhere than where the entry is.
    IndexMismatch {
        /// The entry.
        index: LeafIndex,
        /// Where it is.
        expected: u64,
        /// What the index says (`None`: no index entry).
        found: Option<u64>,
    },
    /// The index has entries for records that are not there.
    IndexLength {
        /// Entries in the entries file.
        expected: u64,
        /// Index entries.
        found: u64,
    },
    /// A checkpoint that does not parse.
    CheckpointMalformed {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// A checkpoint without a valid signature from a trusted key.
    CheckpointSignature {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// A checkpoint's file name is not its size.
    CheckpointName {
        /// The file.
        file: PathBuf,
        /// The size inside.
        size: u64,
    },
    /// A checkpoint covers entries the log no longer has: truncated or removed.
    CheckpointBeyondLog {
        /// The file.
        file: PathBuf,
        /// The checkpoint's size.
        size: u64,
        /// Entries in the log.
        log_size: u64,
    },
    /// A checkpoint's root differs from the recomputed tree: some entry
    /// between `since` (the last checkpoint that matched) and `size` changed.
    CheckpointRoot {
        /// The file.
        file: PathBuf,
        /// The checkpoint's size.
        size: u64,
        /// Size of the last good checkpoint before it (0 if none).
        since: u64,
    },
    /// Checkpoints exist but no trusted key was given.
    NoTrustedKey {
        /// How many checkpoints.
        checkpoints: usize,
    },
}

impl Problem {
    /// Whether this is tampering or damage (rather than an interrupted append).
    pub fn is_error(&self) -> bool {
        !matches!(self, Problem::TornTail { .. })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::TornTail {
                index,
                offset,
                bytes,
            } => write!(
                f,
                "entry {index} at byte {offset}: torn tail ({bytes} bytes of an interrupted append; the next writer cuts it)"
            ),
            Problem::BadRecord {
                index,
                offset,
                reason,
            } => {
                write!(f, "entry {index} at byte {offset}: {reason}")
            }
            Problem::OutOfOrder {
                index,
                offset,
                found,
            } => write!(
                f,
                "entry {index} at byte {offset}: the record is entry {found} (entries reordered, removed or inserted)"
            ),
            Problem::LeafMismatch { index, offset } => write!(
                f,
                "entry {index} at byte {offset}: content differs from the hash stored when it was appended"
            ),
            Problem::NodeMismatch { level, n } => write!(
                f,
                "hashes file: tree node {n} at level {level} differs from the recomputed tree"
            ),
            Problem::HashesLength { expected, found } => write!(
                f,
                "hashes file: {found} hashes where the entries need {expected}"
            ),
            Problem::IndexMismatch {
                index,
                expected,
                found: Some(o),
            } => write!(
                f,
                "index: entry {index} is at byte {expected}, the index says {o}"
            ),
            Problem::IndexMismatch {
                index,
                expected,
                found: None,
            } => write!(
                f,
                "index: entry {index} (byte {expected}) has no index entry"
            ),
            Problem::IndexLength { expected, found } => {
                write!(f, "index: {found} entries where the log has {expected}")
            }
            Problem::CheckpointMalformed { file, reason } => {
                write!(f, "checkpoint {}: malformed ({reason})", file.display())
            }
            Problem::CheckpointSignature { file, reason } => {
                write!(
                    f,
                    "checkpoint {}: signature not valid ({reason})",
                    file.display()
                )
            }
            Problem::CheckpointName { file, size } => write!(
                f,
                "checkpoint {}: file name does not match its size {size}",
                file.display()
            ),
            Problem::CheckpointBeyondLog {
                file,
                size,
                log_size,
            } => write!(
                f,
                "checkpoint {}: signed tree of {size} entries, the log has {log_size}: entries {log_size}..{size} are missing (truncated or removed)",
                file.display()
            ),
            Problem::CheckpointRoot { file, size, since } => write!(
                f,
                "checkpoint {}: root of the first {size} entries differs from the signed one: an entry in {since}..{size} was changed",
                file.display()
            ),
            Problem::NoTrustedKey { checkpoints } => write!(
                f,
                "{checkpoints} checkpoints present but no trusted verifier key given (--vkey)"
            ),
        }
    }
}

/// The result of [`verify`].
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Entries read.
    pub entries: u64,
    /// Bytes in the entries file.
    pub bytes: u64,
    /// Root hash of the whole recomputed tree.
    pub root: Option<Hash>,
    /// Checkpoints whose signature and root were checked and good: (size, file).
    pub checkpoints: Vec<(u64, PathBuf)>,
    /// What is wrong, in file order.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Whether the log is intact (a torn tail alone is not an error).
    pub fn ok(&self) -> bool {
        !self.problems.iter().any(Problem::is_error)
    }
}

/// At most this many problems of one kind are listed.
const CAP: usize = 20;

/// Verifies the log in `dir` without modifying it.
pub fn verify(dir: impl AsRef<Path>, opts: &VerifyOptions) -> Result<VerifyReport> {
    let dir = dir.as_ref();
    let mut rep = VerifyReport::default();
    // 1. Records.
    let ep = dir.join(ENTRIES);
    let file = std::fs::File::open(&ep).map_err(io(&ep))?;
    let file_len = file.metadata().map_err(io(&ep))?.len();
    rep.bytes = file_len;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut offsets = Vec::new();
    let mut leaves = Vec::new();
    let mut at = 0u64;
    let mut bad = 0;
    let mut payload = Vec::new();
    loop {
        let pos = leaves.len() as u64;
        if at == file_len {
            break;
        }
        let mut h = [0u8; HEADER as usize];
        if at + HEADER > file_len {
            rep.problems.push(Problem::TornTail {
                index: pos,
                offset: at,
                bytes: file_len - at,
            });
            break;
        }
        r.read_exact(&mut h).map_err(io(&ep))?;
        let (len, crc, index) = record::header(&h);
        if len as usize > MAX_ENTRY {
            rep.problems.push(Problem::BadRecord {
                index: pos,
                offset: at,
                reason: "length field larger than the limit (the rest of the file cannot be framed)",
            });
            break;
        }
        if at + HEADER + u64::from(len) > file_len {
            rep.problems.push(Problem::TornTail {
                index: pos,
                offset: at,
                bytes: file_len - at,
            });
            break;
        }
        payload.resize(len as usize, 0);
        r.read_exact(&mut payload).map_err(io(&ep))?;
        if record::check(len, crc, index, &payload).is_err() {
            if bad < CAP {
                rep.problems.push(Problem::BadRecord {
                    index: pos,
                    offset: at,
                    reason: "checksum mismatch",
                });
            }
            bad += 1;
        } else if index != pos {
            if bad < CAP {
                rep.problems.push(Problem::OutOfOrder {
                    index: pos,
                    offset: at,
                    found: index,
                });
            }
            bad += 1;
        }
        offsets.push(at);
        leaves.push(tlog_tiles::record_hash(&payload));
        at += HEADER + u64::from(len);
    }
    let n = leaves.len() as u64;
    rep.entries = n;
    // 2. The tree, recomputed.
    let mut stored: Vec<Hash> = Vec::with_capacity(leaves.len() * 2);
    for (i, leaf) in leaves.iter().enumerate() {
        let hs = tlog_tiles::stored_hashes_for_record_hash(i as u64, *leaf, &MemHashes(&stored))?;
        stored.extend(hs);
    }
    let mem = MemHashes(&stored);
    rep.root = Some(tlog_tiles::tree_hash(n, &mem)?);
    // 3. Against the stored hashes.
    let hp = dir.join(HASHES);
    let on_disk = std::fs::read(&hp).map_err(io(&hp))?;
    let found = on_disk.len() as u64 / 32;
    let mut leaf_bad = 0;
    let mut node_bad = None;
    for (i, chunk) in on_disk.chunks_exact(32).enumerate().take(stored.len()) {
        if chunk != stored[i].0 {
            let (level, k) = tlog_tiles::split_stored_hash_index(i as u64);
            if level == 0 {
                if leaf_bad < CAP {
                    let offset = usize::try_from(k)
                        .ok()
                        .and_then(|k| offsets.get(k))
                        .copied()
                        .unwrap_or(0);
                    rep.problems
                        .push(Problem::LeafMismatch { index: k, offset });
                }
                leaf_bad += 1;
            } else if node_bad.is_none() {
                node_bad = Some(Problem::NodeMismatch { level, n: k });
            }
        }
    }
    if leaf_bad == 0
        && let Some(p) = node_bad
    {
        rep.problems.push(p);
    }
    if found != stored.len() as u64 || on_disk.len() % 32 != 0 {
        rep.problems.push(Problem::HashesLength {
            expected: stored.len() as u64,
            found,
        });
    }
    // 4. Against the index.
    let ip = dir.join(INDEX);
    let index = std::fs::read(&ip).map_err(io(&ip))?;
    let mut idx_bad = 0;
    for (i, &off) in offsets.iter().enumerate() {
        let got = index
            .get(i * 8..i * 8 + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
        if got != Some(off) {
            if idx_bad < CAP {
                rep.problems.push(Problem::IndexMismatch {
                    index: i as u64,
                    expected: off,
                    found: got,
                });
            }
            idx_bad += 1;
        }
    }
    if index.len() as u64 / 8 != n || index.len() % 8 != 0 {
        rep.problems.push(Problem::IndexLength {
            expected: n,
            found: index.len() as u64 / 8,
        });
    }
    // 5. Checkpoints.
    let cps = list_checkpoints(dir)?;
    if !cps.is_empty() && opts.vkeys.is_empty() {
        rep.problems.push(Problem::NoTrustedKey {
            checkpoints: cps.len(),
        });
        return Ok(rep);
    }
    let known = verifiers(&opts.vkeys)?;
    let mut since = 0;
    for (name_size, path) in cps {
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let note = match Note::from_bytes(&bytes) {
            Ok(n) => n,
            Err(e) => {
                rep.problems.push(Problem::CheckpointMalformed {
                    file: path,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if let Err(e) = note.verify(&known) {
            rep.problems.push(Problem::CheckpointSignature {
                file: path,
                reason: e.to_string(),
            });
            continue;
        }
        let cp = match Checkpoint::from_bytes(note.text()) {
            Ok(c) => c,
            Err(e) => {
                rep.problems.push(Problem::CheckpointMalformed {
                    file: path,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let size = cp.size();
        if size != name_size {
            rep.problems.push(Problem::CheckpointName {
                file: path.clone(),
                size,
            });
        }
        if size > n {
            rep.problems.push(Problem::CheckpointBeyondLog {
                file: path,
                size,
                log_size: n,
            });
            continue;
        }
        if tlog_tiles::tree_hash(size, &mem)? == *cp.hash() {
            since = size;
            rep.checkpoints.push((size, path));
        } else {
            rep.problems.push(Problem::CheckpointRoot {
                file: path,
                size,
                since,
            });
        }
    }
    Ok(rep)
}

//! Opening, repairing, reading and extending the log files.

use super::record::{self, HEADER};
use super::{CHECKPOINTS, ENTRIES, Error, HASHES, INDEX, LOCK, LeafIndex, MAX_ENTRY, Result, io};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use tlog_tiles::{Hash, HashReader};

const HASH_SIZE: u64 = 32;

/// What opening the log had to repair after a crash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repair {
    /// Bytes cut from the end of the entries file (a torn, unacknowledged append).
    pub truncated_bytes: u64,
    /// Where the cut was made.
    pub truncated_at: u64,
    /// Index entries rebuilt from the entries file.
    pub index_rebuilt: u64,
    /// Entries whose tree hashes were recomputed.
    pub hashes_rebuilt: u64,
}

impl Repair {
    /// Whether anything was repaired.
    pub fn any(&self) -> bool {
        *self != Repair::default()
    }
}

/// An open log. [`Log::open`] takes the writer's lock and repairs a torn
/// tail; [`Log::open_read`] only reads the complete prefix.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    entries: File,
    index: File,
    hashes: File,
    /// Number of entries.
    size: u64,
    /// Length of the entries file.
    end: u64,
    _lock: Option<File>,
}

/// Reads stored hashes from the hashes file.
pub(crate) struct FileHashes<'a>(pub(crate) &'a File);

impl HashReader for FileHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let mut out = Vec::with_capacity(indexes.len());
        for &i in indexes {
            let mut h = [0u8; 32];
            self.0
                .read_exact_at(&mut h, i * HASH_SIZE)
                .map_err(|_| tlog_tiles::Error::IndexesNotInTree)?;
            out.push(Hash(h));
        }
        Ok(out)
    }
}

/// Stored hashes held in memory (verification, tests).
pub(crate) struct MemHashes<'a>(pub(crate) &'a [Hash]);

impl HashReader for MemHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.0.get(i).copied())
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

fn open_rw(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io(path))
}

fn open_ro(path: &Path) -> Result<File> {
    File::open(path).map_err(io(path))
}

fn len_of(f: &File, path: &Path) -> Result<u64> {
    Ok(f.metadata().map_err(io(path))?.len())
}

fn read_u64_at(f: &File, offset: u64) -> Option<u64> {
    let mut b = [0u8; 8];
    f.read_exact_at(&mut b, offset).ok()?;
    Some(u64::from_le_bytes(b))
}

/// Syncs a directory so that a created or renamed file survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

impl Log {
    /// Opens (creating if needed) the log in `dir` for writing: takes the
    /// writer's lock, cuts a torn tail back to the last complete entry and
    /// rebuilds the index and tree hashes a crash left behind.
    pub fn open(dir: impl AsRef<Path>) -> Result<(Log, Repair)> {
        let dir = dir.as_ref().to_owned();
        std::fs::create_dir_all(dir.join(CHECKPOINTS)).map_err(io(&dir))?;
        let lock_path = dir.join(LOCK);
        let lock = open_rw(&lock_path)?;
        match fs4::FileExt::try_lock(&lock) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => return Err(Error::Locked(dir)),
            Err(fs4::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let entries = open_rw(&dir.join(ENTRIES))?;
        let index = open_rw(&dir.join(INDEX))?;
        let hashes = open_rw(&dir.join(HASHES))?;
        sync_dir(&dir)?;
        let mut log = Log {
            dir,
            entries,
            index,
            hashes,
            size: 0,
            end: 0,
            _lock: Some(lock),
        };
        let repair = log.reconcile()?;
        Ok((log, repair))
    }

    /// Opens the log in `dir` to read it, without the lock and without
    /// repairing: the size is the number of entries the index and hashes
    /// files cover (an append in progress is not seen).
    pub fn open_read(dir: impl AsRef<Path>) -> Result<Log> {
        let dir = dir.as_ref().to_owned();
        let entries = open_ro(&dir.join(ENTRIES))?;
        let index = open_ro(&dir.join(INDEX))?;
        let hashes = open_ro(&dir.join(HASHES))?;
        let end = len_of(&entries, &dir.join(ENTRIES))?;
        let mut size = len_of(&index, &dir.join(INDEX))? / 8;
        let nh = len_of(&hashes, &dir.join(HASHES))? / HASH_SIZE;
        while size > 0 && tlog_tiles::stored_hash_count(size) > nh {
            size -= 1;
        }
        Ok(Log {
            dir,
            entries,
            index,
            hashes,
            size,
            end,
            _lock: None,
        })
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the log has no entries.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Byte offset of entry `i` in the entries file.
    pub fn offset(&self, i: LeafIndex) -> Result<u64> {
        if i >= self.size {
            return Err(Error::Range(format!(
                "entry {i} does not exist (the log has {} entries)",
                self.size
            )));
        }
        read_u64_at(&self.index, i * 8).ok_or_else(|| Error::Damaged {
            index: i,
            offset: i * 8,
            reason: "index file unreadable",
        })
    }

    /// The bytes of entry `i`.
    pub fn entry(&self, i: LeafIndex) -> Result<Vec<u8>> {
        let offset = self.offset(i)?;
        match record::read_at(&self.entries, offset, self.end) {
            Ok(r) if r.index == i => Ok(r.payload),
            Ok(_) => Err(Error::Damaged {
                index: i,
                offset,
                reason: "record carries another index",
            }),
            Err(bad) => Err(Error::Damaged {
                index: i,
                offset,
                reason: bad.reason(),
            }),
        }
    }

    /// The RFC 6962 root hash of the tree of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        Ok(tlog_tiles::tree_hash(size, &FileHashes(&self.hashes))?)
    }

    /// The leaf hash of entry `i` as stored.
    pub fn leaf_hash(&self, i: LeafIndex) -> Result<Hash> {
        if i >= self.size {
            return Err(Error::Range(format!(
                "entry {i} does not exist (the log has {} entries)",
                self.size
            )));
        }
        let idx = tlog_tiles::stored_hash_index(0, i);
        Ok(FileHashes(&self.hashes).read_hashes(&[idx])?[0])
    }

    /// An inclusion proof (RFC 9162 §2.1.3, the audit path from leaf to
    /// root) that entry `i` is in the tree of size `size`.
    pub fn prove_inclusion(&self, i: LeafIndex, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        if i >= size {
            return Err(Error::Range(format!(
                "entry {i} is not in a tree of size {size}"
            )));
        }
        Ok(tlog_tiles::prove_record(
            size,
            i,
            &FileHashes(&self.hashes),
        )?)
    }

    /// A consistency proof (RFC 9162 §2.1.4) that the tree of size `old` is
    /// a prefix of the tree of size `new`.
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.check_size(new)?;
        if old == 0 || old > new {
            return Err(Error::Range(format!(
                "a consistency proof needs 1 <= old ({old}) <= new ({new})"
            )));
        }
        Ok(tlog_tiles::prove_tree(new, old, &FileHashes(&self.hashes))?)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size {
            return Err(Error::Range(format!(
                "tree size {size} is larger than the log ({} entries)",
                self.size
            )));
        }
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Appends `payloads` as one batch: entries written and synced, then
    /// hashes and index extended and synced. Returns the first new index.
    /// On failure the files are cut back to where they were.
    pub(crate) fn append_batch(&mut self, payloads: &[Vec<u8>]) -> Result<LeafIndex> {
        if let Some(p) = payloads.iter().find(|p| p.len() > MAX_ENTRY) {
            return Err(Error::TooLarge(p.len()));
        }
        let (first, start_end) = (self.size, self.end);
        let result = self.write_batch(payloads);
        if result.is_err() {
            // Best effort: drop whatever part of the batch reached the files.
            let _ = self.entries.set_len(start_end);
            let _ = self.index.set_len(first * 8);
            let _ = self
                .hashes
                .set_len(tlog_tiles::stored_hash_count(first) * HASH_SIZE);
            self.size = first;
            self.end = start_end;
        }
        result.map(|()| first)
    }

    fn write_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
        let total: usize = payloads.iter().map(|p| p.len() + HEADER as usize).sum();
        let mut buf = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(payloads.len() * 8);
        let mut at = self.end;
        for (k, p) in payloads.iter().enumerate() {
            offsets.extend_from_slice(&at.to_le_bytes());
            record::encode(self.size + k as u64, p, &mut buf);
            at = self.end + buf.len() as u64;
        }
        let ep = self.path(ENTRIES);
        self.entries.write_all_at(&buf, self.end).map_err(io(&ep))?;
        self.entries.sync_data().map_err(io(&ep))?;
        let mut n = self.size;
        let mut hbuf = Vec::with_capacity(payloads.len() * 64);
        let hash_start = tlog_tiles::stored_hash_count(n) * HASH_SIZE;
        for p in payloads {
            let reader = PendingHashes {
                file: &self.hashes,
                start: hash_start,
                pending: &hbuf,
            };
            for h in tlog_tiles::stored_hashes(n, p, &reader)? {
                hbuf.extend_from_slice(&h.0);
            }
            n += 1;
        }
        let hp = self.path(HASHES);
        self.hashes
            .write_all_at(&hbuf, hash_start)
            .map_err(io(&hp))?;
        let ip = self.path(INDEX);
        self.index
            .write_all_at(&offsets, self.size * 8)
            .map_err(io(&ip))?;
        self.hashes.sync_data().map_err(io(&hp))?;
        self.index.sync_data().map_err(io(&ip))?;
        self.size = n;
        self.end = at;
        Ok(())
    }

    /// Brings `index` and `hashes` in line with `entries` after a crash and
    /// cuts a torn tail.
    fn reconcile(&mut self) -> Result<Repair> {
        let mut repair = Repair::default();
        let (ep, ip, hp) = (self.path(ENTRIES), self.path(INDEX), self.path(HASHES));
        let entries_len = len_of(&self.entries, &ep)?;
        // 1. The last index entry that points at a complete record carrying its index.
        let mut n = len_of(&self.index, &ip)? / 8;
        let mut end = 0;
        while n > 0 {
            let i = n - 1;
            if let Some(off) = read_u64_at(&self.index, i * 8)
                && let Ok(r) = record::read_at(&self.entries, off, entries_len)
                && r.index == i
            {
                end = off + r.framed_len();
                break;
            }
            n -= 1;
        }
        let indexed = n;
        // 2. Complete records after it (synced entries whose index was not yet written).
        let mut new_offsets = Vec::new();
        while let Ok(r) = record::read_at(&self.entries, end, entries_len) {
            if r.index != n {
                break;
            }
            new_offsets.extend_from_slice(&end.to_le_bytes());
            end += r.framed_len();
            n += 1;
        }
        // 3. Whatever follows is a torn append: cut it.
        if end < entries_len {
            repair.truncated_bytes = entries_len - end;
            repair.truncated_at = end;
            self.entries.set_len(end).map_err(io(&ep))?;
            self.entries.sync_data().map_err(io(&ep))?;
        }
        self.index.set_len(indexed * 8).map_err(io(&ip))?;
        if !new_offsets.is_empty() {
            self.index
                .write_all_at(&new_offsets, indexed * 8)
                .map_err(io(&ip))?;
            repair.index_rebuilt = n - indexed;
        }
        // 4. Hashes: keep the longest prefix that is complete, recompute the rest.
        let nh = len_of(&self.hashes, &hp)? / HASH_SIZE;
        let mut m = n;
        while m > 0 && tlog_tiles::stored_hash_count(m) > nh {
            m -= 1;
        }
        self.hashes
            .set_len(tlog_tiles::stored_hash_count(m) * HASH_SIZE)
            .map_err(io(&hp))?;
        self.end = end;
        self.size = m;
        if m > 0 {
            let stored = self.leaf_hash(m - 1)?;
            let actual = tlog_tiles::record_hash(&self.entry(m - 1)?);
            if stored != actual {
                return Err(Error::Inconsistent { index: m - 1 });
            }
        }
        // Make the index readable for entries m..n while recomputing.
        self.size = n;
        let mut hbuf = Vec::new();
        let hash_start = tlog_tiles::stored_hash_count(m) * HASH_SIZE;
        for i in m..n {
            let payload = self.entry(i)?;
            let reader = PendingHashes {
                file: &self.hashes,
                start: hash_start,
                pending: &hbuf,
            };
            for h in tlog_tiles::stored_hashes(i, &payload, &reader)? {
                hbuf.extend_from_slice(&h.0);
            }
        }
        if !hbuf.is_empty() {
            self.hashes
                .write_all_at(&hbuf, hash_start)
                .map_err(io(&hp))?;
            repair.hashes_rebuilt = n - m;
        }
        self.hashes.sync_data().map_err(io(&hp))?;
        self.index.sync_data().map_err(io(&ip))?;
        Ok(repair)
    }
}

/// Stored hashes: those in the file before `start`, then those computed in
/// this batch and not yet written.
struct PendingHashes<'a> {
    file: &'a File,
    start: u64,
    pending: &'a [u8],
}

impl HashReader for PendingHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let mut out = Vec::with_capacity(indexes.len());
        for &i in indexes {
            let at = i * HASH_SIZE;
            let mut h = [0u8; 32];
            if at >= self.start {
                let from = usize::try_from(at - self.start)
                    .map_err(|_| tlog_tiles::Error::IndexesNotInTree)?;
                let src = self
                    .pending
                    .get(from..from + 32)
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)?;
                h.copy_from_slice(src);
            } else {
                self.file
                    .read_exact_at(&mut h, at)
                    .map_err(|_| tlog_tiles::Error::IndexesNotInTree)?;
            }
            out.push(Hash(h));
        }
        Ok(out)
    }
}

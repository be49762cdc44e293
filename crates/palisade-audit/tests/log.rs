//! The tamper-evident log: tree and proofs checked against independent
//! implementations, every kind of tampering detected and located, crash
//! repair, group commit.
#![allow(clippy::unwrap_used, clippy::panic)]

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use palisade_audit::log::{
    self, AuditWriter, Key, Log, Problem, Sink, VerifyOptions, WriterOptions, generate_key, verify,
};
use sha2_011::Sha256;
use std::os::unix::fs::FileExt;
use std::path::Path;

fn entry(i: u64) -> Vec<u8> {
    format!("{{\"n\":{i},\"what\":\"entry {i}\"}}").into_bytes()
}

fn make_log(dir: &Path, n: u64) {
    let w = AuditWriter::open(dir, WriterOptions::default()).unwrap();
    let start = w.start_size();
    for i in 0..n {
        assert_eq!(w.append(&entry(i)).unwrap(), start + i);
    }
    w.close();
}

fn key() -> (Key, String) {
    let (skey, vkey) = generate_key("audit.example.com/test").unwrap();
    (Key::from_skey(&skey).unwrap(), vkey)
}

fn opts(vkey: &str) -> VerifyOptions {
    VerifyOptions {
        vkeys: vec![vkey.to_owned()],
    }
}

/// Log with checkpoints at 4, 9 and 13 entries.
fn checkpointed(dir: &Path) -> String {
    let (k, vkey) = key();
    let w = AuditWriter::open(dir, WriterOptions::default()).unwrap();
    for i in 0..13 {
        w.append(&entry(i)).unwrap();
        if i == 3 || i == 8 || i == 12 {
            drop(w.submit(Vec::new()).wait().map(|_| ()).err());
        }
    }
    w.close();
    // The empty entries above are entries too; re-open to sign.
    let (l, _) = Log::open(dir).unwrap();
    assert_eq!(l.len(), 16);
    l.checkpoint(&k).unwrap();
    drop(l);
    vkey
}

fn offset(dir: &Path, i: u64) -> u64 {
    Log::open_read(dir).unwrap().offset(i).unwrap()
}

fn flip(path: &Path, at: u64) {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, at).unwrap();
    b[0] ^= 0x40;
    f.write_all_at(&b, at).unwrap();
}

#[test]
fn root_and_proofs_match_ct_merkle() {
    let d = tempfile::tempdir().unwrap();
    make_log(d.path(), 37);
    let l = Log::open_read(d.path()).unwrap();
    let mut t = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    for size in 1..=37u64 {
        t.push(entry(size - 1));
        assert_eq!(
            t.root().as_bytes().as_slice(),
            l.root(size).unwrap().0,
            "root of {size}"
        );
        let root = RootHash::<Sha256>::new(*t.root().as_bytes(), size);
        for i in 0..size {
            let p = l.prove_inclusion(i, size).unwrap();
            let bytes: Vec<u8> = p.iter().flat_map(|h| h.0).collect();
            root.verify_inclusion(&entry(i), i, &InclusionProof::from_bytes(bytes))
                .unwrap_or_else(|e| panic!("inclusion {i} in {size}: {e:?}"));
            tlog_tiles::check_record(
                &p,
                size,
                l.root(size).unwrap(),
                i,
                tlog_tiles::record_hash(&entry(i)),
            )
            .unwrap();
        }
    }
    for old in 1..=37u64 {
        let mut t_old = MemoryBackedTree::<Sha256, Vec<u8>>::new();
        for i in 0..old {
            t_old.push(entry(i));
        }
        let p = l.prove_consistency(old, 37).unwrap();
        let bytes: Vec<u8> = p.iter().flat_map(|h| h.0).collect();
        t.root()
            .verify_consistency(
                &t_old.root(),
                &ConsistencyProof::try_from_bytes(bytes).unwrap(),
            )
            .unwrap_or_else(|e| panic!("consistency {old} -> 37: {e:?}"));
    }
    // A proof for another entry does not verify.
    let p = l.prove_inclusion(3, 37).unwrap();
    assert!(
        tlog_tiles::check_record(
            &p,
            37,
            l.root(37).unwrap(),
            3,
            tlog_tiles::record_hash(&entry(4))
        )
        .is_err()
    );
}

#[test]
fn checkpoint_is_a_c2sp_signed_note() {
    let d = tempfile::tempdir().unwrap();
    make_log(d.path(), 5);
    let (k, vkey) = key();
    let (l, _) = Log::open(d.path()).unwrap();
    let note = l.checkpoint(&k).unwrap();
    let text = String::from_utf8(note.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("audit.example.com/test"));
    assert_eq!(lines.next(), Some("5"));
    assert_eq!(lines.next(), Some(l.root(5).unwrap().to_string().as_str()));
    assert_eq!(lines.next(), Some(""));
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("\u{2014} audit.example.com/test ")
    );
    // Parsed and verified by the reference crates.
    let parsed = signed_note::Note::from_bytes(&note).unwrap();
    let v = signed_note::StandardVerifier::new(&vkey).unwrap();
    parsed
        .verify(&signed_note::VerifierList::new(vec![Box::new(v)]))
        .unwrap();
    let cp = tlog_tiles::Checkpoint::from_bytes(parsed.text()).unwrap();
    assert_eq!(cp.size(), 5);
    assert_eq!(*cp.hash(), l.root(5).unwrap());
    assert_eq!(k.vkey(), vkey);
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert!(rep.ok(), "{:?}", rep.problems);
    assert_eq!(rep.checkpoints.len(), 1);
}

#[test]
fn intact_log_verifies() {
    let d = tempfile::tempdir().unwrap();
    let vkey = checkpointed(d.path());
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert!(rep.ok(), "{:?}", rep.problems);
    assert_eq!(rep.entries, 16);
}

#[test]
fn flipped_byte_is_located() {
    let d = tempfile::tempdir().unwrap();
    let vkey = checkpointed(d.path());
    let off = offset(d.path(), 7);
    flip(&d.path().join(log::ENTRIES), off + 16 + 3);
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert!(!rep.ok());
    assert_eq!(
        rep.problems[0],
        Problem::BadRecord {
            index: 7,
            offset: off,
            reason: "checksum mismatch"
        }
    );
    assert!(rep.problems.contains(&Problem::LeafMismatch {
        index: 7,
        offset: off
    }));
    assert!(rep.problems.iter().any(|p| matches!(
        p,
        Problem::CheckpointRoot {
            size: 16,
            since: 0,
            ..
        }
    )));
}

/// Rewrites entry `i` with new content and a correct checksum: only the
/// stored hashes and the checkpoint can tell.
fn rewrite_entry(dir: &Path, i: u64, content: &[u8]) {
    let l = Log::open_read(dir).unwrap();
    let old = l.entry(i).unwrap();
    assert_eq!(old.len(), content.len());
    let off = l.offset(i).unwrap();
    let mut framed = Vec::new();
    let len = u32::try_from(content.len()).unwrap();
    let mut h = crc32fast::Hasher::new();
    h.update(&i.to_le_bytes());
    h.update(&len.to_le_bytes());
    h.update(content);
    framed.extend_from_slice(&len.to_le_bytes());
    framed.extend_from_slice(&h.finalize().to_le_bytes());
    framed.extend_from_slice(&i.to_le_bytes());
    framed.extend_from_slice(content);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join(log::ENTRIES))
        .unwrap();
    f.write_all_at(&framed, off).unwrap();
}

#[test]
fn rewritten_entry_with_valid_checksum_is_located() {
    let d = tempfile::tempdir().unwrap();
    let vkey = checkpointed(d.path());
    let mut forged = entry(5);
    forged[5] = b'9';
    rewrite_entry(d.path(), 5, &forged);
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    let off = offset(d.path(), 5);
    assert_eq!(
        rep.problems[0],
        Problem::LeafMismatch {
            index: 5,
            offset: off
        }
    );
}

#[test]
fn rewritten_entry_and_hashes_caught_by_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let (k, vkey) = key();
    make_log(d.path(), 6);
    Log::open(d.path()).unwrap().0.checkpoint(&k).unwrap();
    make_log(d.path(), 4); // entries 6..10
    Log::open(d.path()).unwrap().0.checkpoint(&k).unwrap();
    // The attacker rewrites entry 7 and recomputes every derived file.
    let mut forged = entry(1);
    forged[5] = b'X';
    rewrite_entry(d.path(), 7, &forged);
    std::fs::remove_file(d.path().join(log::HASHES)).unwrap();
    let (l, repair) = Log::open(d.path()).unwrap();
    assert_eq!(repair.hashes_rebuilt, 10);
    drop(l);
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert_eq!(rep.checkpoints.len(), 1, "the checkpoint at 6 still holds");
    assert!(
        matches!(
            &rep.problems[..],
            [Problem::CheckpointRoot {
                size: 10,
                since: 6,
                ..
            }]
        ),
        "{:?}",
        rep.problems
    );
    assert!(
        rep.problems[0]
            .to_string()
            .contains("an entry in 6..10 was changed")
    );
}

#[test]
fn truncation_at_a_record_boundary_is_detected() {
    let d = tempfile::tempdir().unwrap();
    let vkey = checkpointed(d.path());
    let off = offset(d.path(), 12);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(d.path().join(log::ENTRIES))
        .unwrap();
    f.set_len(off).unwrap();
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert!(!rep.ok());
    assert!(rep.problems.contains(&Problem::IndexLength {
        expected: 12,
        found: 16
    }));
    assert!(rep.problems.iter().any(|p| matches!(
        p,
        Problem::CheckpointBeyondLog {
            size: 16,
            log_size: 12,
            ..
        }
    )));
}

#[test]
fn truncation_inside_a_record_is_a_torn_tail_and_caught_by_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let vkey = checkpointed(d.path());
    let off = offset(d.path(), 15);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(d.path().join(log::ENTRIES))
        .unwrap();
    f.set_len(off + 9).unwrap();
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert_eq!(
        rep.problems[0],
        Problem::TornTail {
            index: 15,
            offset: off,
            bytes: 9
        }
    );
    assert!(rep.problems.iter().any(|p| matches!(
        p,
        Problem::CheckpointBeyondLog {
            size: 16,
            log_size: 15,
            ..
        }
    )));
}

fn splice(dir: &Path, f: impl FnOnce(&mut Vec<Vec<u8>>)) {
    // Cut the entries file into framed records and reassemble.
    let data = std::fs::read(dir.join(log::ENTRIES)).unwrap();
    let l = Log::open_read(dir).unwrap();
    let mut recs = Vec::new();
    for i in 0..l.len() {
        let a = usize::try_from(l.offset(i).unwrap()).unwrap();
        let b = if i + 1 < l.len() {
            usize::try_from(l.offset(i + 1).unwrap()).unwrap()
        } else {
            data.len()
        };
        recs.push(data[a..b].to_vec());
    }
    f(&mut recs);
    std::fs::write(dir.join(log::ENTRIES), recs.concat()).unwrap();
}

#[test]
fn reordered_entries_are_located() {
    let d = tempfile::tempdir().unwrap();
    let vkey = checkpointed(d.path());
    splice(d.path(), |r| r.swap(3, 4));
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert!(
        matches!(
            rep.problems[0],
            Problem::OutOfOrder {
                index: 3,
                found: 4,
                ..
            }
        ),
        "{:?}",
        rep.problems
    );
    assert!(matches!(
        rep.problems[1],
        Problem::OutOfOrder {
            index: 4,
            found: 3,
            ..
        }
    ));
}

#[test]
fn removed_entry_is_located() {
    let d = tempfile::tempdir().unwrap();
    let vkey = checkpointed(d.path());
    splice(d.path(), |r| {
        r.remove(9);
    });
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    let off = offset(d.path(), 9);
    assert_eq!(
        rep.problems[0],
        Problem::OutOfOrder {
            index: 9,
            offset: off,
            found: 10
        }
    );
    assert!(
        rep.problems
            .iter()
            .any(|p| matches!(p, Problem::CheckpointBeyondLog { .. }))
    );
}

#[test]
fn inserted_entry_is_located() {
    let d = tempfile::tempdir().unwrap();
    let vkey = checkpointed(d.path());
    splice(d.path(), |r| {
        let copy = r[2].clone();
        r.insert(6, copy);
    });
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert!(
        matches!(
            rep.problems[0],
            Problem::OutOfOrder {
                index: 6,
                found: 2,
                ..
            }
        ),
        "{:?}",
        rep.problems
    );
}

#[test]
fn forged_checkpoint_is_rejected() {
    let d = tempfile::tempdir().unwrap();
    let vkey = checkpointed(d.path());
    let path = d.path().join(log::CHECKPOINTS).join(format!("{:020}", 16));
    let text = std::fs::read_to_string(&path).unwrap();
    // Claim a smaller tree with the same signature.
    std::fs::write(&path, text.replacen("\n16\n", "\n15\n", 1)).unwrap();
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert!(
        matches!(&rep.problems[..], [Problem::CheckpointSignature { .. }]),
        "{:?}",
        rep.problems
    );
    // Signed by another key.
    let (other, _) = key();
    let (l, _) = Log::open(d.path()).unwrap();
    l.checkpoint(&other).unwrap();
    let rep = verify(d.path(), &opts(&vkey)).unwrap();
    assert!(
        rep.problems
            .iter()
            .all(|p| matches!(p, Problem::CheckpointSignature { .. }))
    );
    // No trusted key: fail closed.
    let rep = verify(d.path(), &VerifyOptions::default()).unwrap();
    assert!(matches!(
        &rep.problems[..],
        [Problem::NoTrustedKey { checkpoints: 1 }]
    ));
}

#[test]
fn torn_tail_is_repaired_on_open() {
    let d = tempfile::tempdir().unwrap();
    make_log(d.path(), 10);
    let ep = d.path().join(log::ENTRIES);
    let good = std::fs::metadata(&ep).unwrap().len();
    // Half a record: header claims 100 bytes, 20 written.
    let mut torn = Vec::new();
    torn.extend_from_slice(&100u32.to_le_bytes());
    torn.extend_from_slice(&[0xab; 4]);
    torn.extend_from_slice(&10u64.to_le_bytes());
    torn.extend_from_slice(&[b'x'; 20]);
    let f = std::fs::OpenOptions::new().append(true).open(&ep).unwrap();
    f.write_all_at(&torn, good).unwrap();
    drop(f);
    let rep = verify(d.path(), &VerifyOptions::default()).unwrap();
    assert_eq!(
        rep.problems,
        vec![Problem::TornTail {
            index: 10,
            offset: good,
            bytes: 36
        }]
    );
    assert!(rep.ok(), "a torn tail alone is not tampering");
    let (l, repair) = Log::open(d.path()).unwrap();
    assert_eq!((repair.truncated_at, repair.truncated_bytes), (good, 36));
    assert_eq!(l.len(), 10);
    drop(l);
    let rep = verify(d.path(), &VerifyOptions::default()).unwrap();
    assert!(rep.problems.is_empty(), "{:?}", rep.problems);
}

#[test]
fn synced_entries_without_index_are_recovered() {
    let d = tempfile::tempdir().unwrap();
    make_log(d.path(), 20);
    // A crash after the entries were synced, before index and hashes were.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(d.path().join(log::INDEX))
        .unwrap();
    f.set_len(13 * 8).unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(d.path().join(log::HASHES))
        .unwrap();
    f.set_len(tlog_tiles::stored_hash_count(11) * 32 + 5)
        .unwrap();
    let (l, repair) = Log::open(d.path()).unwrap();
    assert_eq!(l.len(), 20);
    assert_eq!(repair.index_rebuilt, 7);
    assert_eq!(repair.hashes_rebuilt, 9);
    assert_eq!(l.entry(19).unwrap(), entry(19));
    drop(l);
    assert!(
        verify(d.path(), &VerifyOptions::default())
            .unwrap()
            .problems
            .is_empty()
    );
}

#[test]
fn concurrent_appends_share_syncs_and_lose_nothing() {
    let d = tempfile::tempdir().unwrap();
    let w = std::sync::Arc::new(AuditWriter::open(d.path(), WriterOptions::default()).unwrap());
    let mut handles = Vec::new();
    for t in 0..8u64 {
        let w = w.clone();
        handles.push(std::thread::spawn(move || {
            (0..100u64)
                .map(|i| (w.append(&entry(t * 1000 + i)).unwrap(), t * 1000 + i))
                .collect::<Vec<_>>()
        }));
    }
    let mut acked: Vec<(u64, u64)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    drop(w);
    acked.sort_unstable();
    assert_eq!(acked.len(), 800);
    let l = Log::open_read(d.path()).unwrap();
    assert_eq!(l.len(), 800);
    for (idx, n) in acked {
        assert_eq!(l.entry(idx).unwrap(), entry(n));
    }
    assert!(
        verify(d.path(), &VerifyOptions::default())
            .unwrap()
            .problems
            .is_empty()
    );
}

#[test]
fn second_writer_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let _w = AuditWriter::open(d.path(), WriterOptions::default()).unwrap();
    assert!(matches!(Log::open(d.path()), Err(log::Error::Locked(_))));
}

#[test]
fn oversized_entry_fails_alone() {
    let d = tempfile::tempdir().unwrap();
    let w = AuditWriter::open(d.path(), WriterOptions::default()).unwrap();
    assert!(matches!(
        w.append(&vec![0u8; log::MAX_ENTRY + 1]),
        Err(log::Error::TooLarge(_))
    ));
    assert_eq!(w.append(b"next").unwrap(), 0);
}

#[test]
fn key_debug_hides_the_secret() {
    let (skey, _) = generate_key("k").unwrap();
    let k = Key::from_skey(&skey).unwrap();
    let secret = skey.rsplit('+').next().unwrap();
    assert!(!format!("{k:?}").contains(secret));
    assert!(Key::from_skey("PRIVATE+KEY+k+00000000+AAAA").is_err());
    assert!(generate_key("has space").is_err());
}

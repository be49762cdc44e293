//! Turns tiktoken's `o200k_base` and `cl100k_base` vocabularies into
//! compact, position-independent tables that `src/tokens.rs` reads straight
//! from the binary's read-only data: no heap at run time, pages mapped only
//! when touched, shared between processes. tiktoken-rs's own `CoreBPE`
//! keeps three heap copies of each vocabulary (encoder, decoder, sorted
//! tokens: about 60 MiB of heap for both), which alone exceeded the
//! gateway's memory target.
//!
//! Layout (all integers little-endian `u32`):
//! `b"PLBPE1\0\0"`, token count `n`, slot count `s` (a power of two),
//! `n + 1` byte offsets into the blob (rank order), `s` hash slots
//! (`rank + 1`, 0 = empty; FNV-1a, linear probing), then the token bytes.

use std::io::Write;
use std::path::PathBuf;

/// FNV-1a, 64 bits (the same function as `tokens::fnv1a`).
fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn table(bpe: &tiktoken_rs::CoreBPE) -> Vec<u8> {
    // Ordinary tokens have the ranks 0..n with no gap; special tokens come
    // after a gap and are not part of `encode_ordinary`.
    let mut tokens: Vec<Vec<u8>> = Vec::new();
    while let Ok(b) = bpe.decode_bytes(&[u32::try_from(tokens.len()).expect("rank")]) {
        tokens.push(b);
    }
    assert!(tokens.len() > 50_000, "vocabulary too small");
    let n = tokens.len();
    let slots_len = (n * 2).next_power_of_two();
    let mask = slots_len - 1;
    let mut slots = vec![0u32; slots_len];
    for (rank, t) in tokens.iter().enumerate() {
        #[allow(clippy::cast_possible_truncation)]
        let mut i = (fnv1a(t) as usize) & mask;
        while slots[i] != 0 {
            i = (i + 1) & mask;
        }
        slots[i] = u32::try_from(rank + 1).expect("rank");
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"PLBPE1\0\0");
    out.extend_from_slice(&u32::try_from(n).expect("n").to_le_bytes());
    out.extend_from_slice(&u32::try_from(slots_len).expect("slots").to_le_bytes());
    let mut off = 0u32;
    for t in &tokens {
        out.extend_from_slice(&off.to_le_bytes());
        off += u32::try_from(t.len()).expect("len");
    }
    out.extend_from_slice(&off.to_le_bytes());
    for s in &slots {
        out.extend_from_slice(&s.to_le_bytes());
    }
    for t in &tokens {
        out.extend_from_slice(t);
    }
    out
}

#[allow(clippy::disallowed_macros)] // a build script talks to cargo on standard output
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for (name, bpe) in [
        ("o200k_base", tiktoken_rs::o200k_base()),
        ("cl100k_base", tiktoken_rs::cl100k_base()),
    ] {
        let bpe = bpe.expect("tiktoken vocabulary");
        let mut f = std::fs::File::create(dir.join(format!("{name}.bpe"))).expect("create table");
        f.write_all(&table(&bpe)).expect("write table");
    }
}

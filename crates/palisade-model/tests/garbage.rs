//! Parsers survive garbage: every fixture, mutated thousands of ways (bit
//! flips, truncation, inserted and overwritten bytes, huge length fields),
//! goes through the scanner, which must return without panicking. A cheap,
//! deterministic stand-in for the cargo-fuzz targets that runs in CI.

#![allow(clippy::unwrap_used, clippy::panic, clippy::many_single_char_names)] // tests fail loudly; byte-mutation names

use palisade_model::scan::{Limits, Options, scan_bytes};
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }
}

fn mutate(data: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..=rng.below(4) {
        if d.is_empty() {
            d.push(0x80);
        }
        let i = rng.below(d.len());
        match rng.below(6) {
            0 => d[i] ^= 1 << rng.below(8),
            1 => d.truncate(i),
            2 => d.insert(i, u8::try_from(rng.below(256)).unwrap()),
            3 => {
                // A length field: 4 or 8 bytes of 0xff or a big value.
                let v = if rng.below(2) == 0 {
                    u64::MAX
                } else {
                    1 << rng.below(63)
                };
                for (k, b) in v
                    .to_le_bytes()
                    .iter()
                    .enumerate()
                    .take(4 + 4 * rng.below(2))
                {
                    if i + k < d.len() {
                        d[i + k] = *b;
                    }
                }
            }
            4 => d[i] = [0x80, b'(', b'.', 0x93, b'R', b'b', 0x94, b'h', 0x95, 0x8c][rng.below(10)],
            _ => {
                let j = rng.below(d.len());
                let (a, b) = (i.min(j), i.max(j));
                d.drain(a..b);
            }
        }
    }
    d
}

#[test]
fn mutated_fixtures_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    for dir in ["benign", "malicious"] {
        for e in walk(&root.join(dir)) {
            let data = std::fs::read(&e).unwrap();
            if data.len() <= 64 * 1024 {
                files.push(data);
            }
        }
    }
    assert!(files.len() > 100);
    let opts = Options {
        limits: Limits {
            max_stack: 4096,
            max_memo: 4096,
            ..Limits::default()
        },
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..40 {
        for f in &files {
            let m = mutate(f, &mut rng);
            let _ = scan_bytes(&m, &opts);
            if round == 0 {
                let _ = scan_bytes(f, &opts);
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

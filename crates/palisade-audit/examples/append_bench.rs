//! Append throughput with and without group commit.
//!
//! `cargo run --release -p palisade-audit --example append_bench -- DIR THREADS PER_THREAD`
//! prints one line per mode: entries/s with every append synced alone
//! (`max_batch = 1`) and with group commit (the default), THREADS appenders
//! each appending PER_THREAD 200-byte records and waiting for each ack.
#![allow(clippy::unwrap_used, clippy::disallowed_macros)] // a benchmark program prints its table

use palisade_audit::log::{AuditWriter, Sink, WriterOptions};
use std::sync::Arc;
use std::time::Instant;

fn run(dir: &std::path::Path, threads: u64, per: u64, opts: WriterOptions) -> f64 {
    let _ = std::fs::remove_dir_all(dir);
    let w = Arc::new(AuditWriter::open(dir, opts).unwrap());
    let t0 = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let w = w.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    let rec = format!(
                        "{{\"thread\":{t},\"i\":{i},\"pad\":\"{}\"}}",
                        "p".repeat(170)
                    );
                    w.append(rec.as_bytes()).unwrap();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let dt = t0.elapsed().as_secs_f64();
    drop(w);
    #[allow(clippy::cast_precision_loss)]
    let rate = (threads * per) as f64 / dt;
    rate
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(a.get(1).map_or("bench/out/audit-append", String::as_str));
    let threads: u64 = a.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let per: u64 = a.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let single = run(
        &dir,
        threads,
        per.min(50),
        WriterOptions {
            max_batch: 1,
            ..WriterOptions::default()
        },
    );
    let group = run(&dir, threads, per, WriterOptions::default());
    println!("| mode | appenders | entries/s |");
    println!("|---|---|---|");
    println!("| fsync per append (max_batch=1) | {threads} | {single:.0} |");
    println!("| group commit (default) | {threads} | {group:.0} |");
    println!("ratio: {:.1}x", group / single);
}

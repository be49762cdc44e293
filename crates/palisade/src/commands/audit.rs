//! `palisade audit ...`: the tamper-evident log.

use crate::{EXIT_FINDINGS, EXIT_OK};
use anyhow::{Context as _, Result, bail};
use palisade_audit::log::{
    AuditWriter, Key, Log, Problem, Ticket, VerifyOptions, WriterOptions, generate_key, verify,
};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade audit keygen --name audit.acme.example/prod --out audit-key
  palisade audit append /var/lib/palisade/audit '{\"event\":\"model-deployed\"}'
  tail -F events.jsonl | palisade audit append /var/lib/palisade/audit --lines -
  palisade audit checkpoint /var/lib/palisade/audit --key audit-key.key
  palisade audit verify /var/lib/palisade/audit --vkey audit-key.pub
  palisade audit prove /var/lib/palisade/audit --index 41
  palisade audit prove /var/lib/palisade/audit --from 100
  palisade audit tail /var/lib/palisade/audit -n 5

The log is a folder: an append-only entries file, its index, the RFC 6962
Merkle tree's hashes and signed checkpoints (C2SP tlog-checkpoint notes, Ed25519).")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Verb,
}

#[derive(Debug, clap::Subcommand)]
enum Verb {
    /// Generate an Ed25519 checkpoint key pair (signed-note key format).
    Keygen(Keygen),
    /// Append records; each is acknowledged (its index printed) once on disk.
    Append(Append),
    /// Recompute the tree from the entries and check the index, hashes and every checkpoint.
    Verify(VerifyArgs),
    /// Print an inclusion proof for an entry, or a consistency proof between two tree sizes.
    Prove(Prove),
    /// Sign a checkpoint of the current tree and store it in the log.
    Checkpoint(CheckpointArgs),
    /// Print the last entries.
    Tail(Tail),
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade audit keygen --name audit.acme.example/prod --out audit-key
    writes audit-key.key (the signer key, mode 0600) and audit-key.pub (the verifier key)")]
struct Keygen {
    /// Key name: the checkpoints' origin line, e.g. audit.acme.example/prod.
    #[arg(long)]
    name: String,
    /// Path prefix of the two files written: PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade audit append ./audit '{\"event\":\"login\"}' '{\"event\":\"logout\"}'
  tail -F events.jsonl | palisade audit append ./audit --lines -
  palisade audit append ./audit --lines events.jsonl --key audit-key.key

Prints the index of each record once it is synced to disk, in order.")]
struct Append {
    /// The log folder (created if missing).
    dir: PathBuf,
    /// Records to append.
    records: Vec<String>,
    /// Append each line of FILE (`-`: standard input) as a record, pipelined
    /// through group commit.
    #[arg(long, value_name = "FILE")]
    lines: Option<PathBuf>,
    /// Sign a checkpoint with this signer key file after appending.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade audit verify ./audit --vkey audit-key.pub
  palisade audit verify ./audit --vkey 'audit.acme.example/prod+1a2b3c4d+AQ...'

Exit codes: 0 intact, 1 tampering or damage found (each problem is located by
entry index and byte offset), 2 the log cannot be read.")]
struct VerifyArgs {
    /// The log folder.
    dir: PathBuf,
    /// A trusted verifier key, or a file holding one (repeatable). Required
    /// when the log has checkpoints.
    #[arg(long, value_name = "KEY|FILE", env = "PALISADE_AUDIT_VKEY")]
    vkey: Vec<String>,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade audit prove ./audit --index 41              # entry 41 in the current tree
  palisade audit prove ./audit --index 41 --size 100   # in the tree of the first 100 entries
  palisade audit prove ./audit --from 100              # tree 100 is a prefix of the current tree

Hashes are base64, as in checkpoints; the inclusion proof is the RFC 9162
audit path from the leaf up, the consistency proof as in RFC 9162 §2.1.4.")]
struct Prove {
    /// The log folder.
    dir: PathBuf,
    /// Entry to prove included.
    #[arg(long, conflicts_with = "from", required_unless_present = "from")]
    index: Option<u64>,
    /// Older tree size to prove consistent with the newer one.
    #[arg(long)]
    from: Option<u64>,
    /// Tree size [default: the whole log].
    #[arg(long)]
    size: Option<u64>,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade audit checkpoint ./audit --key audit-key.key")]
struct CheckpointArgs {
    /// The log folder.
    dir: PathBuf,
    /// Signer key file (from `palisade audit keygen`).
    #[arg(long, value_name = "FILE", env = "PALISADE_AUDIT_KEY_FILE")]
    key: PathBuf,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade audit tail ./audit
  palisade audit tail ./audit -n 100")]
struct Tail {
    /// The log folder.
    dir: PathBuf,
    /// How many entries.
    #[arg(short = 'n', long, default_value_t = 10)]
    lines: u64,
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    match &args.command {
        Verb::Keygen(a) => keygen(a),
        Verb::Append(a) => append(a),
        Verb::Verify(a) => verify_cmd(a),
        Verb::Prove(a) => prove(a),
        Verb::Checkpoint(a) => checkpoint(a),
        Verb::Tail(a) => tail(a),
    }
}

fn with_ext(prefix: &Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

fn keygen(a: &Keygen) -> Result<u8> {
    let (skey, vkey) = generate_key(&a.name)?;
    let (kp, vp) = (with_ext(&a.out, ".key"), with_ext(&a.out, ".pub"));
    for p in [&kp, &vp] {
        if p.exists() {
            bail!("{} exists; refusing to overwrite a key", p.display());
        }
    }
    write_private(&kp, format!("{skey}\n").as_bytes())?;
    std::fs::write(&vp, format!("{vkey}\n"))
        .with_context(|| format!("cannot write {}", vp.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "signer key:   {} (keep it secret)", kp.display())?;
    writeln!(out, "verifier key: {} ({vkey})", vp.display())?;
    Ok(EXIT_OK)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

fn read_key(path: &Path) -> Result<Key> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key {}", path.display()))?;
    Key::from_skey(&text).with_context(|| format!("{}", path.display()))
}

fn append(a: &Append) -> Result<u8> {
    if a.records.is_empty() && a.lines.is_none() {
        bail!("nothing to append: give records or --lines FILE");
    }
    let key = a.key.as_deref().map(read_key).transpose()?;
    let writer = AuditWriter::open(&a.dir, WriterOptions::default())
        .with_context(|| format!("cannot open the log {}", a.dir.display()))?;
    let r = writer.repair();
    if r.truncated_bytes > 0 {
        eprintln!(
            "palisade: repaired a torn tail: cut {} bytes at byte {} (an interrupted, unacknowledged append)",
            r.truncated_bytes, r.truncated_at
        );
    }
    // Tickets are printed in order by another thread as they are acknowledged,
    // while this one keeps submitting: group commit batches them.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Ticket>(65_536);
    let printer = std::thread::spawn(move || -> Result<()> {
        let mut out = std::io::stdout().lock();
        for t in rx {
            let i = t.wait()?;
            writeln!(out, "{i}")?;
            out.flush()?;
        }
        Ok(())
    });
    for r in &a.records {
        if tx.send(writer.submit(r.clone().into_bytes())).is_err() {
            break;
        }
    }
    if let Some(p) = &a.lines {
        let input: Box<dyn BufRead> = if p.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?,
            ))
        };
        for line in input.split(b'\n') {
            let mut line = line?;
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                continue;
            }
            if tx.send(writer.submit(line)).is_err() {
                break;
            }
        }
    }
    drop(tx);
    let print_result = printer
        .join()
        .map_err(|_| anyhow::anyhow!("printer thread panicked"))?;
    writer.close();
    print_result?;
    if let Some(k) = key {
        let (log, _) = Log::open(&a.dir)?;
        log.checkpoint(&k)?;
    }
    Ok(EXIT_OK)
}

fn vkeys(given: &[String]) -> Result<Vec<String>> {
    given
        .iter()
        .map(|v| {
            if Path::new(v).is_file() {
                std::fs::read_to_string(v)
                    .map(|s| s.trim().to_owned())
                    .with_context(|| format!("cannot read {v}"))
            } else {
                Ok(v.trim().to_owned())
            }
        })
        .collect()
}

fn verify_cmd(a: &VerifyArgs) -> Result<u8> {
    let opts = VerifyOptions {
        vkeys: vkeys(&a.vkey)?,
    };
    let rep =
        verify(&a.dir, &opts).with_context(|| format!("cannot verify {}", a.dir.display()))?;
    let mut out = std::io::stdout().lock();
    for p in &rep.problems {
        let tag = match p {
            Problem::TornTail { .. } => "warning ",
            Problem::NoTrustedKey { .. } => "error   ",
            _ => "TAMPERED",
        };
        writeln!(out, "{tag}  {p}")?;
    }
    let root = rep.root.map(|h| h.to_string()).unwrap_or_default();
    let checked: Vec<String> = rep.checkpoints.iter().map(|(s, _)| s.to_string()).collect();
    if rep.ok() {
        writeln!(
            out,
            "OK: {} entries ({} bytes), root {root}; {} checkpoints verified{}",
            rep.entries,
            rep.bytes,
            rep.checkpoints.len(),
            if checked.is_empty() {
                String::new()
            } else {
                format!(" (sizes {})", checked.join(", "))
            }
        )?;
        Ok(EXIT_OK)
    } else {
        let n = rep.problems.iter().filter(|p| p.is_error()).count();
        let cp = rep
            .problems
            .iter()
            .filter(|p| matches!(p, Problem::NoTrustedKey { .. }))
            .count();
        writeln!(
            out,
            "FAILED: {n} problems in {} entries{}",
            rep.entries,
            if cp > 0 {
                "; pass --vkey to check the checkpoints"
            } else {
                ""
            }
        )?;
        Ok(EXIT_FINDINGS)
    }
}

fn prove(a: &Prove) -> Result<u8> {
    let log = Log::open_read(&a.dir)
        .with_context(|| format!("cannot open the log {}", a.dir.display()))?;
    let size = a.size.unwrap_or(log.len());
    let b64 = |v: Vec<palisade_audit::log::Hash>| -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    };
    let doc = if let Some(i) = a.index {
        serde_json::json!({
            "type": "inclusion",
            "index": i,
            "tree_size": size,
            "leaf_hash": log.leaf_hash(i)?.to_string(),
            "root_hash": log.root(size)?.to_string(),
            "proof": b64(log.prove_inclusion(i, size)?),
        })
    } else {
        let old = a.from.unwrap_or_default();
        serde_json::json!({
            "type": "consistency",
            "old_size": old,
            "old_root_hash": log.root(old)?.to_string(),
            "tree_size": size,
            "root_hash": log.root(size)?.to_string(),
            "proof": b64(log.prove_consistency(old, size)?),
        })
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    Ok(EXIT_OK)
}

fn checkpoint(a: &CheckpointArgs) -> Result<u8> {
    let key = read_key(&a.key)?;
    let (log, _) =
        Log::open(&a.dir).with_context(|| format!("cannot open the log {}", a.dir.display()))?;
    let note = log.checkpoint(&key)?;
    std::io::stdout().lock().write_all(&note)?;
    Ok(EXIT_OK)
}

fn tail(a: &Tail) -> Result<u8> {
    let log = Log::open_read(&a.dir)
        .with_context(|| format!("cannot open the log {}", a.dir.display()))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in log.len().saturating_sub(a.lines)..log.len() {
        let e = log.entry(i)?;
        let text = String::from_utf8_lossy(&e);
        let shown: String = text
            .chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect();
        writeln!(out, "{i}\t{shown}")?;
    }
    out.flush()?;
    Ok(EXIT_OK)
}

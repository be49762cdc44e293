//! `palisade audit`: the real binary, killed with SIGKILL mid-append in a
//! loop; tampering found and located through the CLI.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

use palisade_audit::log::{Log, VerifyOptions, verify};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileExt, PermissionsExt as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("palisade")
}

/// xorshift: random delays without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn line(iter: u64, k: u64) -> String {
    format!(
        "{{\"iter\":{iter},\"k\":{k},\"pad\":\"{}\"}}",
        "x".repeat(usize::try_from(k % 97).unwrap())
    )
}

/// Spawns `palisade audit append DIR --lines -`, feeds it lines as fast as
/// it takes them, reads the acknowledged indexes it prints, and SIGKILLs it
/// after a random delay. Then: reopen (repairing a torn tail), verify, and
/// check that every acknowledged entry is there with its content, and that
/// the log holds exactly a prefix of what was sent.
#[test]
fn sigkill_mid_append_loses_no_acknowledged_entry() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("log");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    let started = Instant::now();
    let (mut iterations, mut acked_total, mut repaired) = (0u64, 0usize, 0u64);
    let mut base = 0u64;
    while iterations < 25 {
        let mut child = Command::new(bin())
            .args(["audit", "append"])
            .arg(&dir)
            .args(["--lines", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let iter = iterations;
        let feeder = std::thread::spawn(move || {
            let mut k = 0u64;
            loop {
                let mut chunk = String::new();
                for _ in 0..64 {
                    chunk.push_str(&line(iter, k));
                    chunk.push('\n');
                    k += 1;
                }
                if stdin.write_all(chunk.as_bytes()).is_err() {
                    return;
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .map(|l| l.trim().parse::<u64>().unwrap())
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(20 + rng.next() % 150));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let acked = reader.join().unwrap();
        feeder.join().unwrap();

        // Reopen as the next writer would: the torn tail is cut.
        let (log, repair) = Log::open(&dir).unwrap();
        repaired += u64::from(repair.truncated_bytes > 0);
        let size = log.len();
        for (n, &i) in acked.iter().enumerate() {
            assert_eq!(
                i,
                base + n as u64,
                "iteration {iter}: acknowledgements out of order"
            );
            assert!(
                i < size,
                "iteration {iter}: acknowledged entry {i} lost (log has {size})"
            );
        }
        for i in base..size {
            let want = line(iter, i - base);
            assert_eq!(
                log.entry(i).unwrap(),
                want.as_bytes(),
                "iteration {iter}: entry {i}"
            );
        }
        drop(log);
        // The full recomputation is linear in the log: every few rounds and at the end.
        if iter % 8 == 7 {
            let rep = verify(&dir, &VerifyOptions::default()).unwrap();
            assert!(
                rep.problems.is_empty(),
                "iteration {iter}: {:?}",
                rep.problems
            );
        }
        acked_total += acked.len();
        base = size;
        iterations += 1;
    }
    let rep = verify(&dir, &VerifyOptions::default()).unwrap();
    assert!(rep.problems.is_empty(), "at the end: {:?}", rep.problems);
    assert_eq!(rep.entries, base);
    assert!(acked_total > 0, "nothing was ever acknowledged");
    eprintln!(
        "kill loop: {iterations} SIGKILLs in {:?}, {acked_total} acknowledged entries, {base} in the log, {repaired} torn tails repaired (seed {seed})",
        started.elapsed()
    );
}

fn palisade(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

#[test]
fn cli_verify_locates_a_flipped_byte_and_a_forged_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("log");
    let key = d.path().join("k");
    let (dir_s, key_s) = (dir.to_str().unwrap(), key.to_str().unwrap());
    assert!(
        palisade(&["audit", "keygen", "--name", "audit.test/x", "--out", key_s])
            .status
            .success()
    );
    let keyfile = format!("{key_s}.key");
    let pubfile = format!("{key_s}.pub");
    let out = palisade(&[
        "audit", "append", dir_s, "a", "bb", "ccc", "dddd", "--key", &keyfile,
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n1\n2\n3\n");
    let ok = palisade(&["audit", "verify", dir_s, "--vkey", &pubfile]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("OK: 4 entries"));

    // Entry 2 ("ccc") starts at byte 16 + 1 + 16 + 2 = 35; flip its first payload byte.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("entries"))
        .unwrap();
    f.write_all_at(b"C", 35 + 16).unwrap();
    let bad = palisade(&["audit", "verify", dir_s, "--vkey", &pubfile]);
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(
        text.contains("TAMPERED  entry 2 at byte 35: checksum mismatch"),
        "{text}"
    );
    assert!(text.contains("an entry in 0..4 was changed"), "{text}");
    f.write_all_at(b"c", 35 + 16).unwrap();

    // A checkpoint edited to claim a different size.
    let cp = std::fs::read_dir(dir.join("checkpoints"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let note = std::fs::read_to_string(&cp).unwrap();
    std::fs::write(&cp, note.replacen("\n4\n", "\n3\n", 1)).unwrap();
    let bad = palisade(&["audit", "verify", dir_s, "--vkey", &pubfile]);
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains("signature not valid"), "{text}");

    // Keys are never overwritten; the private key is 0600.
    assert_eq!(
        palisade(&["audit", "keygen", "--name", "x", "--out", key_s])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        std::fs::metadata(&keyfile).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn cli_prove_output_verifies() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("log");
    let dir_s = dir.to_str().unwrap();
    let recs: Vec<String> = (0..11).map(|i| format!("r{i}")).collect();
    let mut args = vec!["audit", "append", dir_s];
    args.extend(recs.iter().map(String::as_str));
    assert!(palisade(&args).status.success());
    let out = palisade(&["audit", "prove", dir_s, "--index", "6"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let h = |s: &serde_json::Value| tlog_tiles::Hash::parse_hash(s.as_str().unwrap()).unwrap();
    let proof: Vec<_> = v["proof"].as_array().unwrap().iter().map(h).collect();
    tlog_tiles::check_record(
        &proof,
        11,
        h(&v["root_hash"]),
        6,
        tlog_tiles::record_hash(b"r6"),
    )
    .unwrap();
    let out = palisade(&["audit", "prove", dir_s, "--from", "4"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let proof: Vec<_> = v["proof"].as_array().unwrap().iter().map(h).collect();
    tlog_tiles::check_tree(&proof, 11, h(&v["root_hash"]), 4, h(&v["old_root_hash"])).unwrap();
    let out = palisade(&["audit", "prove", dir_s, "--index", "11"]);
    assert_eq!(out.status.code(), Some(2));
    let out = palisade(&["audit", "tail", dir_s, "-n", "2"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "9\tr9\n10\tr10\n");
}

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn detect(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut c = Command::new(bin());
    c.arg("detect")
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn detect_example_matches_the_readme() {
    let out = detect(&["k8s-audit", "examples/k8s-audit/audit.log"], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with("Summary: 7 findings in 7 events (7 lines); 0 input errors\n"),
        "{text}"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(text.trim_end()),
        "README.md is stale: its detect excerpt differs:\n{text}"
    );
}

#[test]
fn detect_reports_bad_lines_and_keeps_going() {
    let log = std::fs::read_to_string(repo().join("examples/k8s-audit/audit.log")).unwrap();
    let first = log.lines().next().unwrap();
    let input =
        format!("{first}\nnot json at all\n{{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}}\n{first}\n");
    let out = detect(&["k8s-audit", "-", "--format", "jsonl"], Some(&input));
    assert_eq!(out.status.code(), Some(2), "input errors exit 2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<stdin>:2:0: not a JSON object"), "{err}");
    assert!(err.contains("<stdin>:3:0: not an audit event"), "{err}");
    let findings: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[1]["location"]["line"], 4);
    assert_eq!(findings[0]["event"]["user"], "alice@acme.example");
}

#[test]
fn detect_writes_sarif_and_lists_rules() {
    let out = detect(
        &[
            "k8s-audit",
            "examples/k8s-audit/audit.log",
            "--format",
            "sarif",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 7);
    let out = detect(&["rules"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PLS-KA-021") && text.contains("Falco: Attach/Exec Pod"),
        "{text}"
    );
    let out = detect(
        &[
            "k8s-audit",
            "examples/k8s-audit/audit.log",
            "--min-severity",
            "critical",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
}

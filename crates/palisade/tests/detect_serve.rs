//! `palisade detect serve` end to end: the real binary receives the API
//! server's audit webhook (an `audit.k8s.io/v1` EventList POST), prints
//! findings as JSON lines, delivers them through the spool to a file sink,
//! refuses garbage with 400, and stops cleanly on SIGTERM.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One HTTP/1.1 request over a plain socket; returns (status, body).
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split(' ').nth(1).unwrap().parse().unwrap();
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

#[test]
fn serve_receives_event_lists_and_delivers_findings_to_a_sink() {
    let dir = tempfile::tempdir().unwrap();
    let sink_file = dir.path().join("siem.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["detect", "serve", "--listen", "127.0.0.1:0", "--sink"])
        .arg(format!("file:{}?format=ocsf", sink_file.display()))
        .arg("--spool")
        .arg(dir.path().join("spool"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first stderr line names the address it listens on.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .rsplit("http://")
        .next()
        .unwrap()
        .trim_end_matches("/k8s-audit")
        .to_owned();
    assert!(first.contains("receiving audit events"), "{first}");

    assert_eq!(http(&addr, "GET", "/healthz", b"").0, 200);
    let log = std::fs::read_to_string(repo().join("examples/k8s-audit/audit.log")).unwrap();
    let items: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let list = serde_json::json!({
        "kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": items
    });
    let (code, body) = http(&addr, "POST", "/k8s-audit", list.to_string().as_bytes());
    assert_eq!(code, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["events"], 7, "{reply}");
    assert_eq!(reply["findings"], 7, "{reply}");
    // Garbage is refused, and the server keeps serving.
    let (code, body) = http(
        &addr,
        "POST",
        "/k8s-audit",
        b"{\"kind\": \"EventList\", \"items\": [",
    );
    assert_eq!(code, 400, "{body}");
    assert_eq!(http(&addr, "GET", "/readyz", b"").0, 200);
    assert_eq!(http(&addr, "GET", "/k8s-audit", b"").0, 405);

    // Findings arrive on stdout as JSON lines, each with its event's identity.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut findings = Vec::new();
    for _ in 0..7 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        findings.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    assert!(
        findings
            .iter()
            .any(|f| f.to_string().contains("PLS-KA-007") && f.to_string().contains("203.0.113.7")),
        "{findings:?}"
    );

    // SIGTERM: the server drains and the sinks take everything.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "detect serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let delivered: Vec<Value> = std::fs::read_to_string(&sink_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(delivered.len(), 7);
    assert!(
        delivered.iter().all(|d| d["class_uid"] == 2004),
        "{delivered:?}"
    );
    let mut ids: Vec<&str> = delivered
        .iter()
        .map(|d| d["metadata"]["uid"].as_str().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 7, "idempotency keys are unique: {ids:?}");
}

/// Runs `palisade ARGS --format json --sink file:F` and returns the JSON
/// report's findings and the records the sink received.
fn report_and_sink(args: &[&str], path: &Path) -> (Vec<Value>, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let sink_file = dir.path().join("siem.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .arg(path)
        .args(["--format", "json", "--sink"])
        .arg(format!("file:{}", sink_file.display()))
        .arg("--spool")
        .arg(dir.path().join("spool"))
        .env("NO_COLOR", "1")
        .env_remove("PALISADE_CONFIG")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let delivered = std::fs::read_to_string(&sink_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (report["findings"].as_array().unwrap().clone(), delivered)
}

#[test]
fn scan_and_model_scan_deliver_their_findings_to_a_sink() {
    let (findings, delivered) =
        report_and_sink(&["scan"], &repo().join("examples/vulnerable-ai-cluster"));
    assert!(findings.len() > 100);
    assert_eq!(delivered.len(), findings.len());
    for (f, d) in findings.iter().zip(&delivered) {
        assert_eq!(d["recordType"], "finding");
        assert_eq!(d["fingerprint"], f["fingerprint"]);
        assert!(d["deliveryId"].as_str().is_some());
    }
    let (findings, delivered) = report_and_sink(
        &["model", "scan"],
        &repo().join("crates/palisade-model/tests/fixtures/malicious/torch_zip_os_system.pt"),
    );
    assert!(!findings.is_empty());
    assert_eq!(delivered.len(), findings.len());
    assert!(
        delivered.iter().any(|d| d["severity"] == "critical"),
        "{delivered:?}"
    );
}

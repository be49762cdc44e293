//! Audit records into the tamper-evident log through `tlog:DIR` sinks, run
//! as a user would: `scan`, `model scan` and `detect k8s-audit` with
//! `--sink tlog:DIR`, and `palisade gateway` with `audit.sinks: [tlog:...]`,
//! killed with SIGKILL mid-run and started again; `palisade audit verify`
//! accepts the log every time, and no request is recorded twice.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use palisade_audit::log::Log;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_palisade"));
    c.env("NO_COLOR", "1").env_remove("PALISADE_CONFIG");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The log's entries as JSON.
fn entries(dir: &Path) -> Vec<Value> {
    let log = Log::open_read(dir).unwrap();
    (0..log.len())
        .map(|i| serde_json::from_slice(&log.entry(i).unwrap()).unwrap())
        .collect()
}

fn verify(dir: &Path) {
    let out = bin().args(["audit", "verify"]).arg(dir).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "palisade audit verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn scan_model_scan_and_detect_append_to_a_tlog_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let tlog = dir.path().join("audit");
    let sink = format!("tlog:{}", tlog.display());
    let mut total = 0;
    for (args, path) in [
        (vec!["scan"], repo().join("examples/vulnerable-ai-cluster")),
        (
            vec!["model", "scan"],
            repo().join("crates/palisade-model/tests/fixtures/malicious/torch_zip_os_system.pt"),
        ),
        (
            vec!["detect", "k8s-audit"],
            repo().join("examples/k8s-audit/audit.log"),
        ),
    ] {
        let out = bin()
            .args(&args)
            .arg(&path)
            .args(["--format", "json", "--sink", &sink, "--spool"])
            .arg(dir.path().join("spool"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let findings = report["findings"].as_array().unwrap();
        assert!(!findings.is_empty(), "{args:?}");
        // Acknowledged only after the group commit: on disk when the command exits.
        let got = entries(&tlog);
        assert_eq!(got.len(), total + findings.len(), "{args:?}");
        for (f, e) in findings.iter().zip(&got[total..]) {
            assert_eq!(e["recordType"], "finding");
            assert_eq!(e["fingerprint"], f["fingerprint"]);
        }
        total = got.len();
        verify(&tlog);
    }
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 exchange; returns (status, head).
fn http(port: u16, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let auth = key
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let head = text
        .split_once("\r\n\r\n")
        .map_or(&*text, |(h, _)| h)
        .to_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head)
}

fn wait_ready(port: u16, path: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok()
            && http(port, "GET", path, None, "").0 == 200
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("port {port} never became ready");
}

fn request_id(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-request-id")
                .then(|| v.trim().to_owned())
        })
        .unwrap()
}

fn start_gateway(config: &Path, key: &str) -> Proc {
    Proc(
        bin()
            .args(["gateway", "--config"])
            .arg(config)
            .env("SINK_TEST_KEY", key)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Chat requests; returns their request IDs.
fn requests(port: u16, key: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let body = format!(
                r#"{{"model":"demo-model","max_tokens":8,"messages":[{{"role":"user","content":"Count to {i}"}}]}}"#
            );
            let (status, head) = http(port, "POST", "/v1/chat/completions", Some(key), &body);
            assert_eq!(status, 200, "{head}");
            request_id(&head)
        })
        .collect()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn recorded(tlog: &Path) -> Vec<String> {
    if !tlog.join("index").exists() {
        return Vec::new();
    }
    entries(tlog)
        .iter()
        .filter(|e| e["recordType"] == "gateway-request")
        .map(|e| e["request_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_gateway_appends_to_a_tlog_across_a_sigkill_and_it_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (up, gp) = (common::free_port(), common::free_port());
    let _upstream = Proc(
        bin()
            .args(["gateway", "stand-in", "--chunk-delay-ms", "0", "--listen"])
            .arg(format!("127.0.0.1:{up}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Relative paths in the sinks resolve against the configuration's folder.
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{gp}\nupstreams:\n  - name: local\n    url: http://127.0.0.1:{up}\n    models: [\"*\"]\ntenants:\n  - id: demo\n    apiKeys: [{{env: SINK_TEST_KEY}}]\n    models: [\"*\"]\naudit:\n  path: 'off'\n  sinks: [\"tlog:audit\"]\n  spool: spool\n"
        ),
    )
    .unwrap();
    let tlog = dir.path().join("audit");
    let key = format!("sk-sinks-{}", std::process::id());
    wait_ready(up, "/health");

    let mut gw = start_gateway(&config, &key);
    wait_ready(gp, "/readyz");
    let mut ids = requests(gp, &key, 5);
    wait_for("the first 5 requests in the tlog", || {
        recorded(&tlog).len() == 5
    });
    // SIGKILL: no chance to flush anything.
    gw.0.kill().unwrap();
    gw.0.wait().unwrap();
    verify(&tlog);

    let mut gw = start_gateway(&config, &key);
    wait_ready(gp, "/readyz");
    ids.extend(requests(gp, &key, 3));
    let (status, head) = http(
        gp,
        "POST",
        "/v1/chat/completions",
        Some("sk-wrong-key-0000"),
        "{}",
    );
    assert_eq!(status, 401);
    ids.push(request_id(&head));
    // SIGTERM: the gateway drains, writes out its queue and waits for delivery.
    Command::new("kill")
        .arg("-TERM")
        .arg(gw.0.id().to_string())
        .status()
        .unwrap();
    assert!(gw.0.wait().unwrap().success());
    verify(&tlog);
    let got = recorded(&tlog);
    assert_eq!(got, ids, "every request once, in order");
    let all = entries(&tlog);
    let f = all.iter().find(|e| e["recordType"] == "finding").unwrap();
    assert_eq!(f["rule"], "PLS-GW-001");
    assert_eq!(f["request"]["request_id"], ids[8].as_str());
    let bytes = std::fs::read(tlog.join("entries")).unwrap();
    assert!(
        !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
        "the API key is never recorded"
    );
}

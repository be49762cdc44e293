//! SIEM sinks against real local receivers: a TCP and a TLS syslog
//! listener and HTTP receivers, started here. The receivers are stopped
//! while records keep coming and started again: nothing is lost or
//! reordered (repeats are allowed: delivery is at least once, and every
//! record carries its idempotency key).
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use palisade_audit::sink::{Forwarder, ForwarderOptions, SinkRecord, open};
use serde_json::{Value, json};
use std::io::BufReader;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::receivers::{
    HttpReceiver, Seen, SyslogReceiver, assert_complete_in_order, delivery_id, frames, free_port,
    wait_until,
};

fn finding(i: usize) -> SinkRecord {
    SinkRecord::Finding(json!({
        "rule": "PLS-KA-007", "title": "Binding to cluster-admin created", "severity": "high", "category": "audit-rbac",
        "resource": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "name": format!("b{i}")},
        "location": {"file": "webhook", "line": 1, "column": 0, "path": "requestObject.roleRef.name"},
        "message": format!("ClusterRoleBinding b{i} binds cluster-admin | = \\ test"),
        "remediation": "Remove it.", "references": {"mitre": ["T1098"]}, "fingerprint": format!("fp{i}"),
        "event": {"auditID": format!("a-{i}"), "stage": "ResponseComplete", "verb": "create", "requestURI": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                  "user": "alice", "groups": ["system:authenticated"], "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.31.2", "responseCode": 201, "time": "2026-11-30T10:00:00.125256Z"}
    }))
}

fn opts() -> ForwarderOptions {
    ForwarderOptions {
        batch: 8,
        retry_min: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
    }
}

#[test]
fn syslog_tcp_survives_a_receiver_restart() {
    let port = free_port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let spool = tempfile::tempdir().unwrap();
    let rx = SyslogReceiver::start(port, got.clone());
    let fwd = Forwarder::start(
        spool.path(),
        open(&format!("syslog+tcp://127.0.0.1:{port}")).unwrap(),
        opts(),
    )
    .unwrap();
    for i in 0..30 {
        fwd.send(&finding(i)).unwrap();
    }
    wait_until("the first 30", Duration::from_secs(30), || {
        got.lock().unwrap().len() >= 30
    });
    rx.stop();
    for i in 30..60 {
        fwd.send(&finding(i)).unwrap();
    }
    wait_until(
        "failed attempts while the receiver is down",
        Duration::from_secs(30),
        || fwd.failures().0 > 0,
    );
    assert!(fwd.delivered() < 60);
    let rx = SyslogReceiver::start(port, got.clone());
    assert!(
        fwd.flush(Duration::from_secs(30), 60),
        "not delivered: {:?}",
        fwd.failures()
    );
    wait_until("all 60", Duration::from_secs(30), || {
        let mut s: Vec<u64> = got.lock().unwrap().iter().map(|m| delivery_id(m)).collect();
        s.sort_unstable();
        s.dedup();
        s.len() == 60
    });
    rx.stop();
    fwd.stop();
    let msgs = got.lock().unwrap().clone();
    let ids: Vec<u64> = msgs.iter().map(|m| delivery_id(m)).collect();
    assert_complete_in_order(&ids, 60);
    // RFC 5424 with a CEF message: facility 13 (log audit), severity 3 (high).
    let m = &msgs[0];
    assert!(m.starts_with("<107>1 "), "{m}");
    assert!(
        m.contains(" palisade ") && m.contains(" PLS-KA-007 [palisade@32473 deliveryId=\""),
        "{m}"
    );
    let cef = &m[m.find("CEF:0|").unwrap()..];
    assert!(cef.starts_with("CEF:0|Palisade|palisade|"), "{cef}");
    assert!(
        cef.contains("|PLS-KA-007|Binding to cluster-admin created|8|"),
        "{cef}"
    );
    assert!(
        cef.contains("suser=alice")
            && cef.contains("src=203.0.113.7")
            && cef.contains("externalId=a-0"),
        "{cef}"
    );
    assert!(
        cef.contains("msg=ClusterRoleBinding b0 binds cluster-admin | \\= \\\\ test"),
        "{cef}"
    );
}

#[test]
fn spool_survives_a_forwarder_restart() {
    let port = free_port();
    let spool = tempfile::tempdir().unwrap();
    // Nothing listens: records stay in the spool.
    let fwd = Forwarder::start(
        spool.path(),
        open(&format!("syslog+tcp://127.0.0.1:{port}")).unwrap(),
        opts(),
    )
    .unwrap();
    for i in 0..10 {
        fwd.send(&finding(i)).unwrap();
    }
    fwd.stop();
    let got = Arc::new(Mutex::new(Vec::new()));
    let rx = SyslogReceiver::start(port, got.clone());
    let fwd = Forwarder::start(
        spool.path(),
        open(&format!("syslog+tcp://127.0.0.1:{port}")).unwrap(),
        opts(),
    )
    .unwrap();
    fwd.send(&finding(10)).unwrap();
    assert!(fwd.flush(Duration::from_secs(30), 11));
    wait_until("11 messages", Duration::from_secs(30), || {
        got.lock().unwrap().len() >= 11
    });
    rx.stop();
    let ids: Vec<u64> = got.lock().unwrap().iter().map(|m| delivery_id(m)).collect();
    assert_complete_in_order(&ids, 11);
}

/// A test CA and a `localhost` server certificate it issued: (CA PEM, leaf PEM, leaf key PEM).
/// (webpki does not accept a self-signed end-entity certificate as its own anchor.)
fn test_pki() -> (String, String, String) {
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "palisade test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca, rcgen::KeyPair::generate().unwrap()).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    (ca.pem(), leaf.pem(), leaf_key.serialize_pem())
}

#[test]
fn syslog_tls_delivers_to_a_tls_listener() {
    let (ca, cert, key) = test_pki();
    let dir = tempfile::tempdir().unwrap();
    let (cap, cp, kp) = (
        dir.path().join("ca.pem"),
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
    );
    std::fs::write(&cap, &ca).unwrap();
    std::fs::write(&cp, &cert).unwrap();
    std::fs::write(&kp, &key).unwrap();
    let cfg = palisade_audit::webhook::tls::server_config(&cp, &kp, None).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let server_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let errs = server_errors.clone();
    std::thread::spawn(move || {
        // Keep accepting: the client reconnects after a failed batch.
        while let Ok((tcp, _)) = listener.accept() {
            let (cfg, g, errs) = (cfg.clone(), g.clone(), errs.clone());
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(cfg).unwrap();
                let mut stream = rustls::StreamOwned::new(conn, tcp);
                while stream.conn.is_handshaking() {
                    if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
                        errs.lock().unwrap().push(e.to_string());
                        return;
                    }
                }
                frames(&mut BufReader::new(stream), &g);
            });
        }
    });
    let spool = tempfile::tempdir().unwrap();
    let fwd = Forwarder::start(
        spool.path(),
        open(&format!(
            "syslog+tls://localhost:{port}?ca={}",
            cap.display()
        ))
        .unwrap(),
        opts(),
    )
    .unwrap();
    for i in 0..5 {
        fwd.send(&finding(i)).unwrap();
    }
    assert!(
        fwd.flush(Duration::from_secs(30), 5),
        "{:?} server: {:?}",
        fwd.failures(),
        server_errors.lock().unwrap()
    );
    wait_until("5 TLS messages", Duration::from_secs(30), || {
        got.lock().unwrap().len() >= 5
    });
    let ids: Vec<u64> = got.lock().unwrap().iter().map(|m| delivery_id(m)).collect();
    assert_complete_in_order(&ids, 5);
    // An untrusted certificate is refused (fail closed).
    let other = tempfile::tempdir().unwrap();
    let (c2, _, _) = test_pki();
    let c2p = other.path().join("other.pem");
    std::fs::write(&c2p, c2).unwrap();
    let mut bad = open(&format!(
        "syslog+tls://localhost:{port}?ca={}",
        c2p.display()
    ))
    .unwrap();
    let rec = finding(0);
    assert!(
        bad.send(&[palisade_audit::sink::Delivery {
            id: "x:0",
            record: &rec
        }])
        .is_err()
    );
}

#[test]
fn webhook_ocsf_survives_a_receiver_restart() {
    let port = free_port();
    let seen: Seen = Arc::default();
    let rx = HttpReceiver::start(port, seen.clone());
    let spool = tempfile::tempdir().unwrap();
    let fwd = Forwarder::start(
        spool.path(),
        open(&format!(
            "webhook+http://127.0.0.1:{port}/ingest?format=ocsf"
        ))
        .unwrap(),
        opts(),
    )
    .unwrap();
    for i in 0..20 {
        fwd.send(&finding(i)).unwrap();
    }
    assert!(
        fwd.flush(Duration::from_secs(30), 20),
        "{:?}",
        fwd.failures()
    );
    rx.stop();
    for i in 20..40 {
        fwd.send(&finding(i)).unwrap();
    }
    fwd.send(&SinkRecord::AuditEvent(json!({"auditID": "raw-1", "stage": "ResponseComplete", "verb": "get", "requestURI": "/api/v1/namespaces/llm/secrets/hf-token",
        "user": "bob", "groups": [], "sourceIPs": ["10.0.0.9"], "responseCode": 200, "time": "2026-11-30T10:00:01Z",
        "objectRef": {"resource": "secrets", "namespace": "llm", "name": "hf-token"}}))).unwrap();
    wait_until("failures while down", Duration::from_secs(30), || {
        fwd.failures().0 > 0
    });
    let rx = HttpReceiver::start(port, seen.clone());
    assert!(
        fwd.flush(Duration::from_secs(30), 41),
        "{:?}",
        fwd.failures()
    );
    rx.stop();
    fwd.stop();
    let mut ids = Vec::new();
    let mut docs = Vec::new();
    for (h, body) in seen.lock().unwrap().iter() {
        assert!(h.get("idempotency-key").is_some());
        let v: Value = serde_json::from_slice(body).unwrap();
        for d in v["deliveries"].as_array().unwrap() {
            ids.push(
                d["id"]
                    .as_str()
                    .unwrap()
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap(),
            );
            docs.push(d["data"].clone());
        }
    }
    assert_complete_in_order(&ids, 41);
    let f = &docs[0];
    assert_eq!(f["class_uid"], 2004);
    assert_eq!(f["type_uid"], 200_401);
    assert_eq!(f["severity_id"], 4);
    assert_eq!(f["finding_info"]["analytic"]["uid"], "PLS-KA-007");
    assert_eq!(f["actor"]["user"]["name"], "alice");
    assert_eq!(f["src_endpoint"]["ip"], "203.0.113.7");
    assert_eq!(f["resources"][0]["type"], "ClusterRoleBinding");
    assert!(f["metadata"]["uid"].as_str().unwrap().ends_with(":0"));
    let raw = docs.iter().find(|d| d["class_uid"] == 6003).unwrap();
    assert_eq!(raw["activity_id"], 2);
    assert_eq!(raw["type_uid"], 600_302);
    assert_eq!(raw["api"]["operation"], "get");
    assert_eq!(raw["api"]["request"]["uid"], "raw-1");
    assert_eq!(raw["resources"][0]["name"], "hf-token");
}

#[test]
fn splunk_hec_posts_events_with_the_token() {
    let port = free_port();
    let seen: Seen = Arc::default();
    let rx = HttpReceiver::start(port, seen.clone());
    let spool = tempfile::tempdir().unwrap();
    let token = "0f6d6a3c-hec-test-token".to_owned();
    let sink = palisade_audit::sink::HecSink::new(
        &format!("http://127.0.0.1:{port}"),
        token.clone(),
        Some("security"),
        palisade_audit::sink::PayloadFormat::Native,
        None,
    )
    .unwrap();
    let fwd = Forwarder::start(spool.path(), Box::new(sink), opts()).unwrap();
    for i in 0..3 {
        fwd.send(&finding(i)).unwrap();
    }
    assert!(
        fwd.flush(Duration::from_secs(30), 3),
        "{:?}",
        fwd.failures()
    );
    rx.stop();
    let seen = seen.lock().unwrap();
    // The forwarder may split the three records over several requests.
    let mut evs: Vec<Value> = Vec::new();
    for (h, body) in seen.iter() {
        assert_eq!(
            h["authorization"].to_str().unwrap(),
            format!("Splunk {token}")
        );
        evs.extend(
            serde_json::Deserializer::from_slice(body)
                .into_iter::<Value>()
                .map(Result::unwrap),
        );
    }
    assert_eq!(evs.len(), 3);
    assert_eq!(evs[0]["sourcetype"], "palisade:finding");
    assert_eq!(evs[0]["index"], "security");
    assert_eq!(evs[0]["event"]["rule"], "PLS-KA-007");
    assert!(
        evs[0]["fields"]["delivery_id"]
            .as_str()
            .unwrap()
            .ends_with(":0")
    );
}

#[test]
fn bad_addresses_are_refused() {
    assert!(open("nonsense").is_err());
    assert!(open("syslog+tcp://nohost").is_err());
    assert!(open("file:/tmp/x?colour=red").is_err());
    assert!(open("splunk-hec+https://h:8088?token-env=PALISADE_SURELY_UNSET_VAR").is_err());
    assert!(open("tlog:").is_err());
    assert!(open("tlog:/var/lib/audit?ca=/etc/ca.pem").is_err());
    let Err(e) = open("webhook+https://user:hunter2@siem.example/in") else {
        panic!("credentials in a URL are refused")
    };
    let e = e.to_string();
    assert!(
        e.contains("credentials in the URL") && !e.contains("hunter2"),
        "{e}"
    );
    assert!(open("webhook+https://siem.example/in/a@b").is_ok());
}

#[test]
fn tlog_sink_appends_durably_and_the_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let tlog = dir.path().join("audit");
    let addr = format!("tlog:{}?format=ocsf", tlog.display());
    let fwd = Forwarder::start(&dir.path().join("spool"), open(&addr).unwrap(), opts()).unwrap();
    let recs: Vec<SinkRecord> = (0..20).map(finding).collect();
    assert_eq!(fwd.send_all(&recs).unwrap(), Some(19));
    assert_eq!(fwd.spooled(), 20);
    assert!(
        fwd.flush(Duration::from_secs(30), 20),
        "{:?}",
        fwd.failures()
    );
    fwd.stop();
    let log = palisade_audit::log::Log::open_read(&tlog).unwrap();
    assert_eq!(log.len(), 20);
    for i in 0..20 {
        let v: Value = serde_json::from_slice(&log.entry(i).unwrap()).unwrap();
        assert_eq!(v["class_uid"], 2004);
        assert!(
            v["metadata"]["uid"]
                .as_str()
                .unwrap()
                .ends_with(&format!(":{i}"))
        );
    }
    let report =
        palisade_audit::log::verify(&tlog, &palisade_audit::log::VerifyOptions::default()).unwrap();
    assert!(report.ok(), "{report:?}");

    // A batch delivered again (the cursor move lost in a crash) is not
    // appended twice: the sink skips the delivery IDs at the log's tail.
    let mut sink = open(&addr).unwrap();
    let again: Vec<(String, SinkRecord)> = (0..20)
        .map(|i| {
            let v: Value = serde_json::from_slice(&log.entry(i).unwrap()).unwrap();
            (
                v["metadata"]["uid"].as_str().unwrap().to_owned(),
                finding(i as usize),
            )
        })
        .collect();
    let batch: Vec<palisade_audit::sink::Delivery<'_>> = again
        .iter()
        .map(|(id, record)| palisade_audit::sink::Delivery { id, record })
        .collect();
    sink.send(&batch[15..]).unwrap();
    let new = finding(99);
    sink.send(&[palisade_audit::sink::Delivery {
        id: "other:0",
        record: &new,
    }])
    .unwrap();
    // Another writer holds the lock while this sink is open: its batches fail (and are retried).
    let mut second = open(&addr).unwrap();
    assert!(
        second
            .send(&[palisade_audit::sink::Delivery {
                id: "other:1",
                record: &new
            }])
            .is_err()
    );
    drop(sink);
    let log = palisade_audit::log::Log::open_read(&tlog).unwrap();
    assert_eq!(log.len(), 21);
}

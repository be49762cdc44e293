//! End-to-end tests of the real binary: loading, exit codes, suppressions,
//! baselines, configuration errors, and the rule commands.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

mod common;

use common::palisade;
use serde_json::Value;

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn rules_of(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

const PRIVILEGED_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: gpu-debug
  namespace: llm
spec:
  containers:
    - name: shell
      image: ubuntu:24.04
      securityContext:
        privileged: true
";

#[test]
fn vulnerable_example_has_findings_and_exits_1() {
    let out = palisade()
        .args(["scan", "examples/vulnerable-ai-cluster", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert!(rules_of(&v).contains(&"PLS-POD-001".to_owned()));
    assert!(v["diagnostics"].as_array().unwrap().is_empty());
}

#[test]
fn hardened_example_has_nothing_at_medium_or_above() {
    let out = palisade()
        .args([
            "scan",
            "examples/hardened-ai-cluster",
            "--format",
            "json",
            "--severity-threshold",
            "medium",
        ])
        .output()
        .unwrap();
    let v = json_of(&out);
    let bad: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("medium" | "high" | "critical")))
        .collect();
    assert!(bad.is_empty(), "hardened example has findings: {bad:#?}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn stdin_is_read_with_dash() {
    let out = palisade()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(PRIVILEGED_POD)
        .output()
        .unwrap();
    let v = json_of(&out);
    let f = &v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "PLS-POD-001")
        .unwrap()
        .clone();
    assert_eq!(f["location"]["file"], "<stdin>");
    assert_eq!(f["location"]["line"], 11);
    assert_eq!(f["location"]["column"], 9);
    assert_eq!(
        f["location"]["path"],
        "spec.containers[0].securityContext.privileged"
    );
}

#[test]
fn broken_document_is_diagnosed_and_the_rest_scanned_exit_2() {
    let input = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ok}}\n---\nkind: [oops\n---\n{PRIVILEGED_POD}---\nreplicas: 3\n"
    );
    let out = palisade()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    assert!(
        rules_of(&v).contains(&"PLS-POD-001".to_owned()),
        "other documents still scanned"
    );
    let d = v["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(d[0]["line"], 5);
    assert!(
        d[1]["message"]
            .as_str()
            .unwrap()
            .contains("not a Kubernetes object")
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("<stdin>:5:"), "{stderr}");
}

#[test]
fn missing_file_is_an_input_error() {
    let out = palisade().args(["scan", "no/such/dir"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));
}

#[test]
fn helm_template_output_points_at_templates() {
    let input = format!("---\n# Source: llm-chart/templates/pod.yaml\n{PRIVILEGED_POD}");
    let out = palisade()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(input)
        .output()
        .unwrap();
    let v = json_of(&out);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "PLS-POD-001")
        .unwrap()
        .clone();
    assert_eq!(f["location"]["file"], "llm-chart/templates/pod.yaml");
    assert_eq!(f["location"]["line"], 11);
    assert_eq!(f["location"]["rendered"]["line"], 13);
}

#[test]
fn annotation_suppresses_with_reason_and_counts() {
    let pod = PRIVILEGED_POD.replace(
        "  namespace: llm\n",
        "  namespace: llm\n  annotations:\n    palisade.dev/ignore: \"PLS-POD-001 container=shell reason=GPU driver debugging, time-boxed\"\n",
    );
    let out = palisade()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(pod)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(!rules_of(&v).contains(&"PLS-POD-001".to_owned()));
    let s = v["suppressed"].as_array().unwrap();
    assert!(
        s.iter()
            .any(|s| s["rule"] == "PLS-POD-001" && s["suppressed_by"]["kind"] == "annotation")
    );

    // another container name: not suppressed, and the annotation is reported as unmatched
    let pod = PRIVILEGED_POD.replace(
        "  namespace: llm\n",
        "  namespace: llm\n  annotations:\n    palisade.dev/ignore: \"PLS-POD-001 container=other reason=x\"\n",
    );
    let out = palisade()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(pod)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(rules_of(&v).contains(&"PLS-POD-001".to_owned()));
    assert!(
        v["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "unmatched")
    );
}

#[test]
fn expired_annotation_no_longer_suppresses() {
    let pod = PRIVILEGED_POD.replace(
        "  namespace: llm\n",
        "  namespace: llm\n  annotations:\n    palisade.dev/ignore: \"PLS-POD-001 reason=until the fix ships expires=2020-01-01\"\n",
    );
    let out = palisade()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(pod)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(rules_of(&v).contains(&"PLS-POD-001".to_owned()));
    assert!(
        v["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "expired")
    );
}

#[test]
fn config_exceptions_disable_and_override_severity() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(
        &cfg,
        "exceptions:\n  - rules: [PLS-POD-001]\n    namespace: llm\n    name: gpu-*\n    reason: driver debugging pod\n  - rules: [PLS-POD-001]\n    namespace: nothing-here\n    reason: stale\n",
    )
    .unwrap();
    let out = palisade()
        .args(["scan", "-", "--format", "json", "--config"])
        .arg(&cfg)
        .write_stdin(PRIVILEGED_POD)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(!rules_of(&v).contains(&"PLS-POD-001".to_owned()));
    let notices = v["notices"].as_array().unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n["kind"] == "unmatched" && n["line"] == 6),
        "{notices:#?}"
    );

    std::fs::write(&cfg, "rules:\n  severity:\n    PLS-POD-001: low\n").unwrap();
    let out = palisade()
        .args([
            "scan",
            "-",
            "--format",
            "json",
            "--severity-threshold",
            "medium",
            "--config",
        ])
        .arg(&cfg)
        .write_stdin(PRIVILEGED_POD)
        .output()
        .unwrap();
    let v = json_of(&out);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "PLS-POD-001")
        .unwrap()
        .clone();
    assert_eq!(f["severity"], "low");
}

#[test]
fn config_errors_point_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(
        &cfg,
        "rules:\n  disable:\n    - PLS-POD-001\n    - PLS-TYPO-999\n",
    )
    .unwrap();
    let out = palisade()
        .args(["scan", "examples/hardened-ai-cluster", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("palisade.yaml:4:7") && err.contains("unknown rule"),
        "{err}"
    );
}

#[test]
fn baseline_survives_line_moves() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("baseline.json");
    let manifest = dir.path().join("pod.yaml");
    std::fs::write(&manifest, PRIVILEGED_POD).unwrap();
    let out = palisade()
        .arg("scan")
        .arg(&manifest)
        .arg("--write-baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Move every line down; the baseline still matches.
    std::fs::write(&manifest, format!("# a comment\n\n{PRIVILEGED_POD}")).unwrap();
    let out = palisade()
        .arg("scan")
        .arg(&manifest)
        .args(["--format", "json", "--baseline"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = json_of(&out);
    assert!(v["findings"].as_array().unwrap().is_empty());
    assert!(
        v["suppressed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["suppressed_by"]["kind"] == "baseline")
    );
    // A fixed finding leaves a stale baseline entry, which is reported.
    std::fs::write(
        &manifest,
        PRIVILEGED_POD.replace("privileged: true", "privileged: false"),
    )
    .unwrap();
    let out = palisade()
        .arg("scan")
        .arg(&manifest)
        .args(["--format", "json", "--baseline"])
        .arg(&base)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(
        v["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["message"].as_str().unwrap().contains("baseline"))
    );
}

#[test]
fn output_file_and_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("r.json");
    let out = palisade()
        .args([
            "scan",
            "-",
            "--format",
            "json",
            "--severity-threshold",
            "critical",
            "--output",
        ])
        .arg(&out_file)
        .write_stdin(PRIVILEGED_POD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert!(!v["findings"].as_array().unwrap().is_empty());
}

#[test]
fn rules_and_explain() {
    let out = palisade()
        .args(["rules", "--search", "KSV-0017"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("PLS-POD-001"));
    let out = palisade().args(["explain", "KSV-0017"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PLS-POD-001") && text.contains("How to fix"),
        "{text}"
    );
    let out = palisade()
        .args(["explain", "PLS-NOPE-999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = palisade()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v.as_array().unwrap().is_empty());
}

#[test]
fn every_subcommand_has_help_with_examples() {
    for sub in ["scan", "rules", "explain", "completions"] {
        let out = palisade().args([sub, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Examples:"),
            "{sub} --help has no examples"
        );
    }
}

#[test]
fn pod_template_annotation_suppresses_only_its_template() {
    let deploy = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: dcgm
  namespace: ml-platform
spec:
  selector: {matchLabels: {app: dcgm}}
  template:
    metadata:
      labels: {app: dcgm}
      annotations:
        palisade.dev/ignore: \"PLS-POD-001 reason=profiling metrics need it\"
    spec:
      containers:
        - name: exporter
          image: nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5
          securityContext: {privileged: true}
";
    let out = palisade()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(deploy)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(!rules_of(&v).contains(&"PLS-POD-001".to_owned()));
    assert_eq!(
        v["suppressed"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["rule"] == "PLS-POD-001")
            .count(),
        1
    );
}

#[test]
fn rbac_fingerprints_survive_subject_reordering() {
    let binding = |subjects: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ml-admins
subjects:
{subjects}roleRef:
  kind: ClusterRole
  name: cluster-admin
  apiGroup: rbac.authorization.k8s.io
"
        )
    };
    let a = "  - {kind: Group, name: ml-engineers, apiGroup: rbac.authorization.k8s.io}\n";
    let b = "  - {kind: User, name: alice@example.com, apiGroup: rbac.authorization.k8s.io}\n";
    let fps = |text: String| {
        let out = palisade()
            .args(["scan", "-", "--format", "json", "--only", "PLS-RBAC-001"])
            .write_stdin(text)
            .output()
            .unwrap();
        let mut v: Vec<String> = json_of(&out)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let first = fps(binding(&format!("{a}{b}")));
    assert_eq!(first.len(), 2);
    assert_eq!(first, fps(binding(&format!("{b}{a}"))));
}

#[test]
fn min_severity_hides_lower_findings_from_report_and_exit_code() {
    let out = palisade()
        .args([
            "scan",
            "examples/vulnerable-ai-cluster",
            "--format",
            "json",
            "--min-severity",
            "critical",
        ])
        .output()
        .unwrap();
    let v = json_of(&out);
    let sev: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert!(
        !sev.is_empty() && sev.iter().all(|s| *s == "critical"),
        "{sev:?}"
    );
    let out = palisade()
        .args([
            "scan",
            "examples/hardened-ai-cluster",
            "--min-severity",
            "low",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// The `THP_enabled` line of a running process's status (Linux 6.x), or
/// `None` where the kernel does not report it.
#[cfg(target_os = "linux")]
fn thp_enabled(child: &std::process::Child) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map(|v| v.trim().to_owned())
}

/// A scan keeps transparent huge pages (fewer page faults for its trees);
/// every other command, the long-running servers above all, turns them off
/// before it allocates (a huge page is resident whole).
#[cfg(target_os = "linux")]
#[test]
fn huge_pages_for_scans_only() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let bin = assert_cmd::cargo::cargo_bin("palisade");
    // Both wait: the scan for its stdin, the stand-in for connections.
    let scan = Command::new(&bin)
        .args(["scan", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Command::new(&bin)
        .args(["gateway", "stand-in", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut children = [scan, server];
    // The flag is set right after argument parsing: wait for it, not for a fixed time.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = [None, None];
    while Instant::now() < deadline {
        seen = [thp_enabled(&children[0]), thp_enabled(&children[1])];
        if seen[0].is_none() || seen[1].as_deref() == Some("0") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for c in &mut children {
        let _ = c.kill();
        let _ = c.wait();
    }
    if seen[0].is_none() {
        eprintln!("SKIPPED: this kernel does not report THP_enabled");
        return;
    }
    assert_eq!(seen[0].as_deref(), Some("1"), "scan");
    assert_eq!(seen[1].as_deref(), Some("0"), "gateway stand-in");
}

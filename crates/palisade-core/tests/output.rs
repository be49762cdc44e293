//! The report writers: a snapshot of every format for one realistic report,
//! SARIF validated against the OASIS schema and GitHub's rules, JSON
//! round-tripped, JUnit parsed and counted, and colour checked.

// Test helpers unwrap and panic; a skipped check says so loudly.
#![allow(clippy::disallowed_macros, clippy::unwrap_used, clippy::panic)]

use palisade_core::finding::{FindingReferences, RenderedLocation, fingerprint};
use palisade_core::output::{Format, RenderOptions, render};
use palisade_core::report::{
    InferenceService, NoticeKind, Suppressed, SuppressedBy, SuppressionNotice,
};
use palisade_core::{
    Diagnostic, Finding, Location, References, Report, ResourceRef, RuleMeta, Severity,
};
use serde_json::Value;
use std::path::PathBuf;

static PRIVILEGED: RuleMeta = RuleMeta {
    id: "PLS-POD-001",
    title: "Container runs privileged",
    severity: Severity::Critical,
    category: "pod-security",
    rationale: "A privileged container gets every Linux capability and access to all host devices, so a compromise of the process is a compromise of the node.",
    remediation: "Remove `securityContext.privileged` (or set it to false). Grant only the capabilities the process needs.",
    references: References {
        trivy: &["KSV-0017"],
        kubescape: &["C-0057"],
        checkov: &["CKV_K8S_16"],
        polaris: &["runAsPrivileged"],
        kube_linter: &["privileged-container"],
        pss: &["baseline:privileged"],
        cis: &["5.2.1"],
        mitre: &["T1611"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"],
        ..References::NONE
    },
};

static ESCALATION: RuleMeta = RuleMeta {
    id: "PLS-POD-002",
    title: "Container allows privilege escalation",
    severity: Severity::High,
    category: "pod-security",
    rationale: "Without allowPrivilegeEscalation: false a process can gain more privileges than its parent through setuid binaries.",
    remediation: "Set `securityContext.allowPrivilegeEscalation: false` on every container.",
    references: References {
        pss: &["restricted:allowPrivilegeEscalation"],
        ..References::NONE
    },
};

static LATEST: RuleMeta = RuleMeta {
    id: "PLS-IMG-001",
    title: "Image is not pinned",
    severity: Severity::Medium,
    category: "images",
    rationale: "A mutable tag such as latest can point at a different image tomorrow; what runs is not what was reviewed.",
    remediation: "Pin the image by digest (`image: repo@sha256:...`), e.g. with a tag kept for readers. Rebuild to update.",
    references: References::NONE,
};

static NETPOL: RuleMeta = RuleMeta {
    id: "PLS-NET-001",
    title: "Namespace has no NetworkPolicy",
    severity: Severity::Low,
    category: "network",
    rationale: "Pods in a namespace without any NetworkPolicy accept traffic from every pod in the cluster.",
    remediation: "Add a default-deny NetworkPolicy to the namespace and allow the flows the workloads need.",
    references: References::NONE,
};

static PROBE: RuleMeta = RuleMeta {
    id: "PLS-WKL-010",
    title: "Liveness probe missing",
    severity: Severity::Info,
    category: "reliability",
    rationale: "Without a liveness probe a hung server keeps its pod and never restarts.",
    remediation: "Add `livenessProbe` to the container.",
    references: References::NONE,
};

static WILDCARD: RuleMeta = RuleMeta {
    id: "PLS-RBAC-001",
    title: "Role grants wildcard verbs",
    severity: Severity::High,
    category: "rbac",
    rationale: "A `*` verb grants every action, including escalate and bind.",
    remediation: "List the verbs the subject needs.",
    references: References {
        kubescape: &["C-0187"],
        ..References::NONE
    },
};

fn res(kind: &str, ns: Option<&str>, name: &str) -> ResourceRef {
    ResourceRef {
        api_version: if kind == "Namespace" { "v1" } else { "apps/v1" }.to_owned(),
        kind: kind.to_owned(),
        namespace: ns.map(str::to_owned),
        name: name.to_owned(),
    }
}

fn finding(
    meta: &RuleMeta,
    resource: ResourceRef,
    file: &str,
    line: u32,
    column: u32,
    path: &str,
    message: &str,
) -> Finding {
    Finding {
        rule: meta.id.into(),
        title: meta.title.into(),
        severity: meta.severity,
        category: meta.category.into(),
        fingerprint: fingerprint(meta.id, &resource, path, ""),
        resource,
        location: Location {
            file: file.to_owned(),
            line,
            column,
            path: path.to_owned(),
            rendered: None,
        },
        message: message.to_owned(),
        remediation: meta.remediation.into(),
        references: FindingReferences::from(&meta.references),
    }
}

/// A scan of a small AI platform: a vLLM Deployment, a Helm-rendered Triton
/// StatefulSet, namespaces (one from stdin), a suppressed device plugin, a
/// baselined legacy app, a broken chart file and an expired exception.
fn report() -> Report {
    let vllm = res("Deployment", Some("llm"), "vllm");
    let sc = "spec.template.spec.containers[0].securityContext";
    let mut triton = finding(
        &ESCALATION,
        res("StatefulSet", Some("llm"), "triton"),
        "charts/inference/templates/statefulset.yaml",
        31,
        13,
        "spec.template.spec.containers[0].securityContext",
        "container \"triton\" does not set securityContext.allowPrivilegeEscalation: false",
    );
    triton.location.rendered = Some(RenderedLocation {
        file: "rendered.yaml".to_owned(),
        line: 142,
    });
    let mut r = Report {
        findings: vec![
            finding(
                &PRIVILEGED,
                vllm.clone(),
                "deploy/vllm.yaml",
                27,
                11,
                &format!("{sc}.privileged"),
                "container \"server\" sets securityContext.privileged: true",
            ),
            finding(
                &ESCALATION,
                vllm.clone(),
                "deploy/vllm.yaml",
                26,
                9,
                sc,
                "container \"server\" does not set securityContext.allowPrivilegeEscalation: false",
            ),
            finding(
                &LATEST,
                vllm.clone(),
                "deploy/vllm.yaml",
                21,
                16,
                "spec.template.spec.containers[0].image",
                "container \"server\" uses image \"vllm/vllm-openai:latest\" with tag <latest> & no digest ('pinned' images don't move)",
            ),
            finding(
                &PROBE,
                vllm.clone(),
                "deploy/vllm.yaml",
                20,
                9,
                "spec.template.spec.containers[0].livenessProbe",
                "container \"server\" has no livenessProbe",
            ),
            triton,
            finding(
                &NETPOL,
                res("Namespace", None, "llm"),
                "namespaces.yaml",
                4,
                9,
                "metadata.name",
                "namespace \"llm\" has no NetworkPolicy; its 2 workloads accept traffic from any pod",
            ),
            finding(
                &NETPOL,
                res("Namespace", None, "batch"),
                "<stdin>",
                0,
                0,
                "",
                "namespace \"batch\" has no NetworkPolicy",
            ),
        ],
        suppressed: vec![
            Suppressed {
                finding: finding(
                    &PRIVILEGED,
                    res("DaemonSet", Some("kube-system"), "nvidia-device-plugin"),
                    "gpu/device-plugin.yaml",
                    40,
                    15,
                    &format!("{sc}.privileged"),
                    "container \"nvidia-device-plugin-ctr\" sets securityContext.privileged: true",
                ),
                suppressed_by: SuppressedBy::Annotation {
                    reason: "device plugin needs /dev; approved in \"SEC-123\" <gpu> & reviewed".to_owned(),
                },
            },
            Suppressed {
                finding: finding(
                    &LATEST,
                    res("Deployment", Some("legacy"), "billing"),
                    "legacy/billing.yaml",
                    18,
                    16,
                    "spec.template.spec.containers[0].image",
                    "container \"billing\" uses image \"billing:latest\" with no digest",
                ),
                suppressed_by: SuppressedBy::Baseline,
            },
        ],
        diagnostics: vec![Diagnostic {
            file: "charts/broken.yaml".to_owned(),
            line: 12,
            column: 3,
            message: "did not find expected key while parsing a block mapping".to_owned(),
        }],
        notices: vec![SuppressionNotice {
            kind: NoticeKind::Expired,
            file: "palisade.yaml".to_owned(),
            line: 14,
            message: "exception PLS-POD-002 (namespace: batch) expired on 2026-01-31; its findings are reported again"
                .to_owned(),
        }],
        files: 6,
        resources: 9,
        rules: vec![PRIVILEGED, ESCALATION, LATEST, NETPOL, PROBE, WILDCARD],
        inference_services: vec![InferenceService {
            name: "llm/vllm".to_owned(),
            engine: "vLLM".to_owned(),
            resource: vllm,
            related: vec![res("Service", Some("llm"), "vllm")],
            exposed_by: vec!["LoadBalancer Service llm/vllm".to_owned()],
        }],
    };
    r.sort();
    r
}

fn opts(color: bool) -> RenderOptions {
    RenderOptions {
        color,
        tool_version: "0.1.0".to_owned(),
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte
            assert_eq!(chars.next(), Some('['));
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------- table

#[test]
fn table_snapshot() {
    let out = render(&report(), Format::Table, &opts(false));
    insta::assert_snapshot!("table", out);
}

#[test]
fn table_without_colour_has_no_escapes_and_no_trailing_whitespace() {
    let mut r = report();
    // Input that tries to drive the terminal is shown escaped.
    r.findings[0].message = "name \u{1b}[2J\u{1b}]0;pwned\u{7} here".to_owned();
    for color in [false, true] {
        let out = render(&r, Format::Table, &opts(color));
        let visible = if color { strip_ansi(&out) } else { out.clone() };
        assert!(!visible.contains('\u{1b}'), "{visible}");
        assert!(visible.contains("name \\u{1b}[2J\\u{1b}]0;pwned\\u{7} here"));
        for line in out.lines() {
            assert_eq!(line, line.trim_end(), "trailing whitespace in {line:?}");
        }
    }
}

#[test]
fn table_colour_only_adds_escapes() {
    let r = report();
    let plain = render(&r, Format::Table, &opts(false));
    let coloured = render(&r, Format::Table, &opts(true));
    assert!(
        coloured.contains("\u{1b}["),
        "colour requested but none written"
    );
    assert_eq!(strip_ansi(&coloured), plain);
}

#[test]
fn table_groups_an_inference_service_first_with_its_services() {
    let mut r = report();
    // The Service of the endpoint gets a finding too: it joins the group.
    let mut svc = r.findings[0].clone();
    svc.resource = res("Service", Some("llm"), "vllm");
    svc.location.file = "deploy/zz-service.yaml".to_owned();
    svc.severity = Severity::Low;
    r.findings.push(svc);
    r.sort();
    let out = render(&r, Format::Table, &opts(false));
    let header = out
        .find("== Inference service llm/vllm (vLLM): 5 findings (1 critical, 1 high, 1 medium, 1 low, 1 info)")
        .expect(&out);
    let deployment = out.find("Deployment/llm/vllm  deploy/vllm.yaml").unwrap();
    let service = out
        .find("Service/llm/vllm  deploy/zz-service.yaml")
        .unwrap();
    let others = out.find("== Other resources").unwrap();
    let triton = out.find("StatefulSet/llm/triton").unwrap();
    assert!(
        header < deployment && deployment < service && service < others && others < triton,
        "{out}"
    );
    assert!(out.contains("reachable from outside through LoadBalancer Service llm/vllm"));
    // Without services the table has no headers at all.
    r.inference_services.clear();
    let plain = render(&r, Format::Table, &opts(false));
    assert!(!plain.contains("=="), "{plain}");
}

#[test]
fn table_of_a_clean_scan() {
    let r = Report {
        files: 1,
        resources: 1,
        rules: vec![PRIVILEGED],
        ..Report::default()
    };
    let out = render(&r, Format::Table, &opts(false));
    assert_eq!(
        out,
        "No findings.\n\nSummary: 0 findings; 0 suppressed; 1 file, 1 resource scanned\n"
    );
}

// ---------------------------------------------------------------- json

#[test]
fn json_snapshot() {
    let out = render(&report(), Format::Json, &opts(false));
    insta::assert_snapshot!("json", out);
}

#[test]
fn json_round_trips_and_counts_agree() {
    let r = report();
    let out = render(&r, Format::Json, &opts(false));
    let doc: Value = serde_json::from_str(&out).unwrap();

    // Round trip: parsing and writing again loses nothing.
    let again: Value = serde_json::from_str(&serde_json::to_string(&doc).unwrap()).unwrap();
    assert_eq!(doc, again);

    assert_eq!(
        doc["schemaVersion"],
        palisade_core::report::JSON_SCHEMA_VERSION
    );
    assert_eq!(doc["tool"]["name"], "palisade");
    assert_eq!(doc["tool"]["version"], "0.1.0");
    // Every finding, suppressed finding, diagnostic and notice is exactly its
    // serde form: the document is the report.
    assert_eq!(doc["findings"], serde_json::to_value(&r.findings).unwrap());
    assert_eq!(
        doc["suppressed"],
        serde_json::to_value(&r.suppressed).unwrap()
    );
    assert_eq!(
        doc["diagnostics"],
        serde_json::to_value(&r.diagnostics).unwrap()
    );
    assert_eq!(doc["notices"], serde_json::to_value(&r.notices).unwrap());

    let s = &doc["summary"];
    assert_eq!(s["total"], r.findings.len());
    assert_eq!(s["files"], 6);
    assert_eq!(s["resources"], 9);
    assert_eq!(s["input_errors"], 1);
    assert_eq!(s["notices"], 1);
    for sev in Severity::ALL {
        let n = r.findings.iter().filter(|f| f.severity == sev).count();
        assert_eq!(s["findings"][sev.as_str()], n, "{sev}");
    }
    assert_eq!(s["suppressed"]["annotation"], 1);
    assert_eq!(s["suppressed"]["config"], 0);
    assert_eq!(s["suppressed"]["baseline"], 1);
    assert_eq!(doc["suppressed"][0]["suppressed_by"]["kind"], "annotation");
    let helm = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"].get("rendered").is_some());
    assert_eq!(helm.unwrap()["location"]["rendered"]["line"], 142);
}

#[test]
fn json_of_an_empty_report_has_every_key() {
    let out = render(&Report::default(), Format::Json, &opts(false));
    let doc: Value = serde_json::from_str(&out).unwrap();
    for key in [
        "schemaVersion",
        "tool",
        "summary",
        "findings",
        "suppressed",
        "diagnostics",
        "notices",
    ] {
        assert!(doc.get(key).is_some(), "{key} missing");
    }
    assert_eq!(doc["summary"]["findings"]["critical"], 0);
}

#[test]
fn json_keys_are_all_documented() {
    let doc_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/json-report.md");
    let docs = std::fs::read_to_string(&doc_path).unwrap();
    assert!(docs.contains(&format!(
        "**`{}`**",
        palisade_core::report::JSON_SCHEMA_VERSION
    )));
    let mut r = report();
    r.suppressed[1].suppressed_by = SuppressedBy::Config {
        reason: "legacy".to_owned(),
        line: 3,
    };
    let out: Value = serde_json::from_str(&render(&r, Format::Json, &opts(false))).unwrap();
    let mut missing = Vec::new();
    let mut stack = vec![&out];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    if !docs.contains(&format!("`{k}`")) && !docs.contains(&format!(".{k}`")) {
                        missing.push(k.clone());
                    }
                    stack.push(child);
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "keys missing from docs/json-report.md: {missing:?}"
    );
}

// ---------------------------------------------------------------- sarif

#[test]
fn sarif_snapshot() {
    let out = render(&report(), Format::Sarif, &opts(false));
    insta::assert_snapshot!("sarif", out);
}

fn sarif_schema() -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/schemas/sarif/sarif-schema-2.1.0.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(e) if std::env::var_os("CI").is_some() => panic!("{}: {e}", path.display()),
        Err(_) => {
            eprintln!("SKIPPED: {} not found beside the checkout", path.display());
            None
        }
    }
}

/// Schema errors of a SARIF document, or `None` when the schema is absent.
fn sarif_errors(doc: &Value) -> Option<Vec<String>> {
    let schema = sarif_schema()?;
    // jsonschema is built without its network and file resolvers: the
    // schema's references are all internal, and a remote one would fail
    // here rather than fetch.
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    Some(
        validator
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect(),
    )
}

fn assert_valid_sarif(out: &str) -> Value {
    let doc: Value = serde_json::from_str(out).unwrap();
    if let Some(errors) = sarif_errors(&doc) {
        assert!(
            errors.is_empty(),
            "SARIF schema errors:\n{}",
            errors.join("\n")
        );
    }
    doc
}

#[test]
fn sarif_schema_check_is_not_vacuous() {
    let mut doc: Value =
        serde_json::from_str(&render(&report(), Format::Sarif, &opts(false))).unwrap();
    let result = &mut doc["runs"][0]["results"][0];
    result["level"] = "critical".into();
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    if let Some(errors) = sarif_errors(&doc) {
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}

#[test]
fn sarif_validates_against_the_oasis_schema() {
    assert_valid_sarif(&render(&report(), Format::Sarif, &opts(false)));
    assert_valid_sarif(&render(&Report::default(), Format::Sarif, &opts(false)));
}

#[test]
fn sarif_meets_github_code_scanning_rules() {
    let r = report();
    let doc = assert_valid_sarif(&render(&r, Format::Sarif, &opts(false)));
    assert_eq!(doc["version"], "2.1.0");
    assert!(
        doc["$schema"]
            .as_str()
            .unwrap()
            .ends_with("sarif-schema-2.1.0.json")
    );
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "palisade");
    assert_eq!(driver["version"], "0.1.0");
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );

    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), r.rules.len(), "every rule that ran, each once");
    for rule in rules {
        for key in ["id", "name"] {
            assert!(!rule[key].as_str().unwrap().is_empty());
        }
        assert!(
            !rule["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        assert!(rule["fullDescription"]["text"].as_str().unwrap().len() <= 1024);
        assert!(
            rule["help"]["text"]
                .as_str()
                .unwrap()
                .contains("Remediation")
        );
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("**Remediation:**")
        );
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["error", "warning", "note"].contains(&level));
        let props = &rule["properties"];
        let tags: Vec<&str> = props["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"security"));
        assert!(tags.len() <= 10);
        let score: f64 = props["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
        assert!(
            ["very-high", "high", "medium", "low"].contains(&props["precision"].as_str().unwrap())
        );
    }
    let privileged = rules.iter().find(|x| x["id"] == "PLS-POD-001").unwrap();
    assert_eq!(privileged["properties"]["security-severity"], "9.5");
    assert_eq!(
        privileged["properties"]["tags"],
        serde_json::json!(["pod-security", "security"])
    );
    assert!(
        privileged["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("Trivy: `KSV-0017`")
    );
    assert_eq!(
        privileged["helpUri"],
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"
    );

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len() + r.suppressed.len());
    for res in results {
        let idx = usize::try_from(res["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(
            rules[idx]["id"], res["ruleId"],
            "ruleIndex points at its rule"
        );
        assert!(["error", "warning", "note"].contains(&res["level"].as_str().unwrap()));
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
        let phys = &res["locations"][0]["physicalLocation"];
        let uri = phys["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.is_empty() && !uri.starts_with('/') && !uri.contains('\\'),
            "{uri}"
        );
        assert_eq!(phys["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(phys["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(phys["region"]["startColumn"].as_u64().unwrap() >= 1);
        assert_eq!(
            res["partialFingerprints"]["palisade/v1"]
                .as_str()
                .unwrap()
                .len(),
            32
        );
        let logical = res["locations"][0]["logicalLocations"].as_array().unwrap();
        assert_eq!(logical[0]["kind"], "resource");
    }

    // Line 0 (unknown) is clamped, `<stdin>` is percent-encoded.
    let stdin = results
        .iter()
        .find(|x| x["message"]["text"].as_str().unwrap().contains("\"batch\""))
        .unwrap();
    let phys = &stdin["locations"][0]["physicalLocation"];
    assert_eq!(phys["artifactLocation"]["uri"], "%3Cstdin%3E");
    assert_eq!(
        phys["region"],
        serde_json::json!({"startLine": 1, "startColumn": 1})
    );

    // Helm: the template is the location, the rendered stream a related one.
    let helm = results
        .iter()
        .find(|x| {
            x["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("StatefulSet/llm/triton")
        })
        .unwrap();
    assert_eq!(
        helm["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "charts/inference/templates/statefulset.yaml"
    );
    assert_eq!(
        helm["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "rendered.yaml"
    );
    assert_eq!(
        helm["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        142
    );

    // Suppressed findings carry their suppression.
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|x| x.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 2);
    let kinds: Vec<&str> = suppressed
        .iter()
        .map(|x| x["suppressions"][0]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["inSource", "external"]);
    assert!(
        suppressed[0]["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("SEC-123")
    );

    // Diagnostics and notices.
    let inv = &run["invocations"][0];
    // An input error must not make GitHub drop the whole upload.
    assert_eq!(inv["executionSuccessful"], true);
    assert_eq!(
        inv["toolExecutionNotifications"].as_array().unwrap().len(),
        1
    );
    assert_eq!(inv["toolExecutionNotifications"][0]["level"], "error");
    assert_eq!(
        inv["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        12
    );
    assert_eq!(
        inv["toolConfigurationNotifications"][0]["descriptor"]["id"],
        "suppression-expired"
    );
}

#[test]
fn sarif_of_a_clean_scan_succeeds() {
    let r = Report {
        rules: vec![PRIVILEGED],
        ..Report::default()
    };
    let doc = assert_valid_sarif(&render(&r, Format::Sarif, &opts(false)));
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn sarif_describes_rules_missing_from_the_rule_list() {
    let mut r = report();
    r.rules.retain(|m| m.id != "PLS-NET-001");
    let doc = assert_valid_sarif(&render(&r, Format::Sarif, &opts(false)));
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|x| x["id"] == "PLS-NET-001"));
    for res in doc["runs"][0]["results"].as_array().unwrap() {
        let idx = usize::try_from(res["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[idx]["id"], res["ruleId"]);
    }
}

// ---------------------------------------------------------------- junit

#[test]
fn junit_snapshot() {
    let out = render(&report(), Format::Junit, &opts(false));
    insta::assert_snapshot!("junit", out);
}

#[test]
fn junit_is_well_formed_and_counts_agree() {
    let r = report();
    let out = render(&r, Format::Junit, &opts(false));
    let root = xml::parse(&out).unwrap_or_else(|e| panic!("malformed XML: {e}\n{out}"));
    assert_eq!(root.name, "testsuites");

    let suites: Vec<&xml::Element> = root
        .children
        .iter()
        .filter(|e| e.name == "testsuite")
        .collect();
    // six rules, then input errors and suppression notices
    assert_eq!(suites.len(), r.rules.len() + 2);
    let count = |e: &xml::Element, child: &str| {
        e.children
            .iter()
            .filter(|c| c.name == "testcase" && c.children.iter().any(|x| x.name == child))
            .count()
    };
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for s in &suites {
        let cases = s.children.iter().filter(|c| c.name == "testcase").count();
        assert_eq!(s.attr("tests"), cases.to_string(), "{}", s.attr("name"));
        assert_eq!(s.attr("failures"), count(s, "failure").to_string());
        assert_eq!(s.attr("errors"), count(s, "error").to_string());
        assert_eq!(s.attr("skipped"), count(s, "skipped").to_string());
        tests += cases;
        failures += count(s, "failure");
        errors += count(s, "error");
        skipped += count(s, "skipped");
    }
    assert_eq!(root.attr("tests"), tests.to_string());
    assert_eq!(failures, r.findings.len());
    assert_eq!(root.attr("failures"), failures.to_string());
    assert_eq!(errors, r.diagnostics.len());
    assert_eq!(root.attr("errors"), errors.to_string());
    assert_eq!(skipped, r.suppressed.len() + r.notices.len());
    assert_eq!(root.attr("skipped"), skipped.to_string());

    // A rule without findings still shows as one passing test.
    let rbac = suites
        .iter()
        .find(|s| s.attr("name").starts_with("PLS-RBAC-001"))
        .unwrap();
    assert_eq!(rbac.attr("tests"), "1");
    assert_eq!(rbac.children[0].attr("name"), "no findings (9 resources)");

    // Every finding is a testcase named after its resource and path, and
    // what went in comes out, escaping undone, byte for byte.
    let img = suites
        .iter()
        .find(|s| s.attr("name").starts_with("PLS-IMG-001"))
        .unwrap();
    let case = &img.children[0];
    assert_eq!(case.attr("classname"), "PLS-IMG-001");
    assert_eq!(
        case.attr("name"),
        "Deployment/llm/vllm spec.template.spec.containers[0].image"
    );
    let failure = &case.children[0];
    let message = &r
        .findings
        .iter()
        .find(|f| f.rule == "PLS-IMG-001")
        .unwrap()
        .message;
    assert!(message.contains(['<', '&', '>', '"', '\'']));
    assert_eq!(failure.attr("message"), message.as_str());
    assert_eq!(failure.attr("type"), "medium");
    assert!(failure.text.starts_with(message.as_str()));
    let skip = &img.children[1].children[0];
    assert_eq!(skip.name, "skipped");
    let pod = suites
        .iter()
        .find(|s| s.attr("name").starts_with("PLS-POD-001"))
        .unwrap();
    let skip = pod
        .children
        .iter()
        .find_map(|c| c.children.iter().find(|x| x.name == "skipped"))
        .unwrap();
    assert_eq!(
        skip.attr("message"),
        "suppressed by annotation: device plugin needs /dev; approved in \"SEC-123\" <gpu> & reviewed"
    );
    // Raw markup never leaks into the document.
    assert!(!out.contains("<gpu>") && !out.contains("<latest>"));
}

#[test]
fn junit_keeps_control_characters_out() {
    let mut r = report();
    r.findings[0].message = "bad\u{0}\u{1b}byte\r\nnext".to_owned();
    let out = render(&r, Format::Junit, &opts(false));
    assert!(!out.contains(['\u{0}', '\u{1b}']));
    xml::parse(&out).unwrap();
}

#[test]
fn junit_of_an_empty_report_is_well_formed() {
    let out = render(&Report::default(), Format::Junit, &opts(false));
    let root = xml::parse(&out).unwrap();
    assert_eq!(root.attr("tests"), "0");
    assert!(root.children.is_empty());
}

// ---------------------------------------------------------------- all

#[test]
fn every_format_ends_with_one_newline() {
    for f in Format::ALL {
        let out = render(&report(), f, &opts(false));
        assert!(out.ends_with('\n') && !out.ends_with("\n\n"), "{f}");
    }
}

/// A strict little XML 1.0 reader, enough to prove the JUnit writer's output
/// well-formed: one root, matched tags, quoted unique attributes, only the
/// five predefined entities and character references, no stray markup.
mod xml {
    #[derive(Debug, Default)]
    pub(crate) struct Element {
        pub(crate) name: String,
        pub(crate) attrs: Vec<(String, String)>,
        pub(crate) children: Vec<Element>,
        pub(crate) text: String,
    }

    impl Element {
        pub(crate) fn attr(&self, name: &str) -> &str {
            self.attrs
                .iter()
                .find(|(k, _)| k == name)
                .map_or("", |(_, v)| v.as_str())
        }
    }

    pub(crate) fn parse(doc: &str) -> Result<Element, String> {
        let rest = doc
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
            .ok_or("missing XML declaration")?;
        let mut p = Parser {
            s: rest,
            stack: Vec::new(),
        };
        let mut root = None;
        loop {
            let text = p.take_until('<');
            if !text.trim().is_empty() {
                return Err(format!("text outside the root: {text:?}"));
            }
            if p.s.is_empty() {
                break;
            }
            if root.is_some() {
                return Err("second root element".into());
            }
            root = Some(p.element()?);
        }
        root.ok_or_else(|| "no root element".into())
    }

    struct Parser<'a> {
        s: &'a str,
        stack: Vec<String>,
    }

    impl Parser<'_> {
        fn take_until(&mut self, c: char) -> &str {
            let i = self.s.find(c).unwrap_or(self.s.len());
            let (head, tail) = self.s.split_at(i);
            self.s = tail;
            head
        }

        fn name(&mut self) -> Result<String, String> {
            let end = self
                .s
                .find(|c: char| !(c.is_alphanumeric() || "-_:.".contains(c)))
                .unwrap_or(self.s.len());
            if end == 0 {
                return Err(format!(
                    "expected a name at {:?}",
                    &self.s[..self.s.len().min(20)]
                ));
            }
            let n = self.s[..end].to_owned();
            self.s = &self.s[end..];
            Ok(n)
        }

        fn element(&mut self) -> Result<Element, String> {
            self.s = self.s.strip_prefix('<').ok_or("expected <")?;
            let mut el = Element {
                name: self.name()?,
                ..Element::default()
            };
            loop {
                self.s = self.s.trim_start_matches([' ', '\n', '\t', '\r']);
                if let Some(rest) = self.s.strip_prefix("/>") {
                    self.s = rest;
                    return Ok(el);
                }
                if let Some(rest) = self.s.strip_prefix('>') {
                    self.s = rest;
                    break;
                }
                let key = self.name()?;
                self.s = self
                    .s
                    .strip_prefix("=\"")
                    .ok_or(format!("attribute {key} not quoted"))?;
                let raw = self.take_until('"');
                if raw.contains('<') {
                    return Err(format!("< in attribute {key}"));
                }
                let value = unescape(raw)?;
                self.s = self.s.strip_prefix('"').ok_or("unterminated attribute")?;
                if el.attrs.iter().any(|(k, _)| *k == key) {
                    return Err(format!("duplicate attribute {key}"));
                }
                el.attrs.push((key, value));
            }
            self.stack.push(el.name.clone());
            loop {
                let text = self.take_until('<').to_owned();
                el.text.push_str(&unescape(&text)?);
                if self.s.is_empty() {
                    return Err(format!("unclosed <{}>", el.name));
                }
                if let Some(rest) = self.s.strip_prefix("</") {
                    self.s = rest;
                    let n = self.name()?;
                    self.s = self.s.strip_prefix('>').ok_or("bad end tag")?;
                    if self.stack.pop().as_deref() != Some(n.as_str()) || n != el.name {
                        return Err(format!("</{n}> closes <{}>", el.name));
                    }
                    return Ok(el);
                }
                el.children.push(self.element()?);
            }
        }
    }

    fn unescape(s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            let end = rest[i..].find(';').ok_or("unterminated entity")? + i;
            let ent = &rest[i + 1..end];
            let c = match ent {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(h) = ent.strip_prefix("#x") {
                        u32::from_str_radix(h, 16)
                    } else if let Some(d) = ent.strip_prefix('#') {
                        d.parse()
                    } else {
                        return Err(format!("unknown entity &{ent};"));
                    };
                    let code = code.map_err(|e| format!("&{ent};: {e}"))?;
                    let c = char::from_u32(code).ok_or("bad character reference")?;
                    if !valid_xml_char(c) {
                        return Err(format!("&{ent}; is not an XML character"));
                    }
                    c
                }
            };
            out.push(c);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        if let Some(c) = out.chars().find(|c| !valid_xml_char(*c)) {
            return Err(format!("character {c:?} is not allowed in XML 1.0"));
        }
        Ok(out)
    }

    fn valid_xml_char(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
    }
}

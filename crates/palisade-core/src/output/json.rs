//! The JSON report, version [`JSON_SCHEMA_VERSION`]; every field is described
//! in `docs/json-report.md`. Field order is fixed by these structs (not by a
//! map), so the bytes are stable whatever serde_json features are enabled.

use super::{RenderOptions, TOOL_NAME};
use crate::finding::{Finding, FindingReferences, Severity};
use crate::report::{JSON_SCHEMA_VERSION, Report, SuppressedBy};
use serde::Serialize;
use std::collections::HashMap;

/// The document `write` streams, field by field (kept for the test that
/// compares the two).
#[cfg(test)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    schema_version: &'static str,
    tool: Tool<'a>,
    summary: Summary,
    findings: &'a [crate::finding::Finding],
    suppressed: &'a [crate::report::Suppressed],
    diagnostics: &'a [crate::report::Diagnostic],
    notices: &'a [crate::report::SuppressionNotice],
    inference_services: &'a [crate::report::InferenceService],
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

/// Every count is always present, zero included, so consumers never need a
/// default.
#[derive(Serialize)]
struct Summary {
    files: usize,
    resources: usize,
    findings: SeverityCounts,
    total: usize,
    suppressed: SuppressedCounts,
    input_errors: usize,
    notices: usize,
}

#[derive(Serialize, Default)]
struct SeverityCounts {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    info: usize,
}

#[derive(Serialize, Default)]
struct SuppressedCounts {
    annotation: usize,
    config: usize,
    baseline: usize,
}

pub(super) fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail; serialisation of these types cannot either.
    let _ = write(report, opts, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the report to `w` without building it in memory first.
pub(super) fn write(
    report: &Report,
    opts: &RenderOptions,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut findings = SeverityCounts::default();
    for f in &report.findings {
        *match f.severity {
            Severity::Critical => &mut findings.critical,
            Severity::High => &mut findings.high,
            Severity::Medium => &mut findings.medium,
            Severity::Low => &mut findings.low,
            Severity::Info => &mut findings.info,
        } += 1;
    }
    let mut suppressed = SuppressedCounts::default();
    for s in &report.suppressed {
        *match s.suppressed_by {
            SuppressedBy::Annotation { .. } => &mut suppressed.annotation,
            SuppressedBy::Config { .. } => &mut suppressed.config,
            SuppressedBy::Baseline => &mut suppressed.baseline,
        } += 1;
    }
    let summary = Summary {
        files: report.files,
        resources: report.resources,
        findings,
        total: report.findings.len(),
        suppressed,
        input_errors: report.diagnostics.len(),
        notices: report.notices.len(),
    };
    // The bytes `serde_json::to_writer_pretty` writes for a `Document`,
    // with the findings (most of a big report) rendered in parallel, a
    // bounded batch at a time.
    w.write_all(b"{")?;
    field(w, true, "schemaVersion", &JSON_SCHEMA_VERSION)?;
    let tool = Tool {
        name: TOOL_NAME,
        version: &opts.tool_version,
    };
    field(w, false, "tool", &tool)?;
    field(w, false, "summary", &summary)?;
    let parts = rule_parts(&report.findings)?;
    list(w, "findings", &report.findings, |f, out| {
        finding_into(f, &parts, out)
    })?;
    list(w, "suppressed", &report.suppressed, |s, out| {
        pretty_into(s, 2, out)
    })?;
    field(w, false, "diagnostics", &report.diagnostics)?;
    field(w, false, "notices", &report.notices)?;
    field(w, false, "inferenceServices", &report.inference_services)?;
    w.write_all(b"\n}\n")
}

/// serde_json's `PrettyFormatter` (two spaces per level), starting `level`
/// levels deep: a value nested in the document is written in one pass,
/// with the bytes `to_writer_pretty` gives it in place.
struct Nested {
    level: usize,
    has_value: bool,
}

impl Nested {
    fn at(level: usize) -> Self {
        Nested {
            level,
            has_value: false,
        }
    }
}

fn indent<W: ?Sized + std::io::Write>(w: &mut W, level: usize) -> std::io::Result<()> {
    const SPACES: &[u8; 64] = b"                                                                ";
    let mut n = level * 2;
    while n > 0 {
        let k = n.min(SPACES.len());
        w.write_all(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

impl Nested {
    /// `[` or `{`: one level deeper, nothing in it yet.
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// `]` or `}`, on a line of its own when something came before it.
    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            indent(w, self.level)?;
        }
        w.write_all(bracket)
    }

    /// The start of an item or a key: a comma after the first, a new line,
    /// the indentation.
    fn item<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        indent(w, self.level)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Appends `value` as pretty JSON to `out`, as `to_writer_pretty` would
/// write it `level` levels deep in the document.
fn pretty_into<T: Serialize + ?Sized>(
    value: &T,
    level: usize,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Nested::at(level));
    value.serialize(&mut ser).map_err(std::io::Error::from)
}

/// One member of the top-level object.
fn field<T: Serialize>(
    w: &mut dyn std::io::Write,
    first: bool,
    key: &str,
    value: &T,
) -> std::io::Result<()> {
    let mut out = Vec::new();
    out.extend_from_slice(if first { b"\n  \"" } else { b",\n  \"" });
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\": ");
    pretty_into(value, 1, &mut out)?;
    w.write_all(&out)
}

/// The `remediation` and `references` members of a rule's findings, rendered
/// once per rule: every finding of a rule shares them, and they are most of
/// a finding's bytes (a report of 339,000 findings is 457 MB).
struct RuleParts<'a> {
    remediation: &'a str,
    references: FindingReferences,
    /// `,\n      "remediation": ...,\n      "references": {...}` at the
    /// depth of a finding in the `findings` list.
    json: Vec<u8>,
}

/// Depth of the members of a finding in the `findings` list.
const FINDING_MEMBER_LEVEL: usize = 3;

fn rule_parts(findings: &[Finding]) -> std::io::Result<HashMap<&str, RuleParts<'_>>> {
    let mut parts: HashMap<&str, RuleParts<'_>> = HashMap::new();
    for f in findings {
        if parts.contains_key(f.rule.as_ref()) {
            continue;
        }
        let mut json = Vec::new();
        member(&mut json, "remediation", &f.remediation)?;
        member(&mut json, "references", &f.references)?;
        parts.insert(
            f.rule.as_ref(),
            RuleParts {
                remediation: &f.remediation,
                references: f.references,
                json,
            },
        );
    }
    Ok(parts)
}

/// `,\n` and a member of a finding (not the first).
fn member<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &str, value: &T) -> std::io::Result<()> {
    out.extend_from_slice(b",\n");
    indent(out, FINDING_MEMBER_LEVEL)?;
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\": ");
    pretty_into(value, FINDING_MEMBER_LEVEL, out)
}

/// A finding of the `findings` list: the bytes serde's derived `Serialize`
/// gives it (the test below holds the two together), with the rule's shared
/// members copied from `parts` when they are the rule's.
fn finding_into(
    f: &Finding,
    parts: &HashMap<&str, RuleParts<'_>>,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    out.extend_from_slice(b"{\n");
    indent(out, FINDING_MEMBER_LEVEL)?;
    out.extend_from_slice(b"\"rule\": ");
    pretty_into(f.rule.as_ref(), FINDING_MEMBER_LEVEL, out)?;
    member(out, "title", f.title.as_ref())?;
    member(out, "severity", &f.severity)?;
    member(out, "category", f.category.as_ref())?;
    member(out, "resource", &f.resource)?;
    member(out, "location", &f.location)?;
    member(out, "message", &f.message)?;
    match parts.get(f.rule.as_ref()) {
        Some(p) if p.remediation == f.remediation && p.references == f.references => {
            out.extend_from_slice(&p.json);
        }
        _ => {
            member(out, "remediation", f.remediation.as_ref())?;
            member(out, "references", &f.references)?;
        }
    }
    member(out, "fingerprint", &f.fingerprint)?;
    out.push(b'\n');
    indent(out, FINDING_MEMBER_LEVEL - 1)?;
    out.push(b'}');
    Ok(())
}

/// A top-level list member, its items rendered in parallel on a scoped
/// thread while this one writes the previous batch out.
fn list<T: Sync>(
    w: &mut dyn std::io::Write,
    key: &str,
    items: &[T],
    render: impl Fn(&T, &mut Vec<u8>) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    const BATCH: usize = 2048;
    if items.is_empty() {
        return write!(w, ",\n  \"{key}\": []");
    }
    write!(w, ",\n  \"{key}\": [")?;
    let render = &render;
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<Vec<u8>>>>(2);
    std::thread::scope(|s| {
        s.spawn(move || {
            for batch in items.chunks(BATCH) {
                let rendered: std::io::Result<Vec<Vec<u8>>> = batch
                    .par_chunks(64)
                    .map(|part| {
                        let mut out = Vec::with_capacity(part.len() * 1536);
                        for item in part {
                            out.extend_from_slice(b",\n    ");
                            render(item, &mut out)?;
                        }
                        Ok(out)
                    })
                    .collect();
                let failed = rendered.is_err();
                // The writer stopped (an error): nothing more to render.
                if tx.send(rendered).is_err() || failed {
                    return;
                }
            }
        });
        let mut first = true;
        for rendered in rx {
            for part in rendered? {
                // The very first item follows the bracket without a comma.
                let skip = usize::from(first);
                first = false;
                w.write_all(&part[skip..])?;
            }
        }
        Ok::<(), std::io::Error>(())
    })?;
    w.write_all(b"\n  ]")
}

/// Pretty JSON with a final newline. The report types hold only strings,
/// numbers, lists and string-keyed maps, which serde_json always serialises;
/// the error arm exists only so that no `unwrap` does.
pub(super) fn to_pretty<T: Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!(
            "{{\"error\": {}}}\n",
            serde_json::Value::String(e.to_string())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, FindingReferences, Location, RenderedLocation, ResourceRef};
    use crate::report::Suppressed;
    use std::borrow::Cow;

    const REFS: FindingReferences = FindingReferences {
        trivy: &["KSV-0017"],
        kubescape: &[],
        checkov: &["CKV_K8S_16", "CKV_K8S_x"],
        polaris: &["privilegeEscalationAllowed"],
        kube_linter: &[],
        kube_score: &[],
        pss: &["baseline"],
        cis: &[],
        owasp_llm: &[],
        mitre: &["T1611"],
    };

    /// Findings of a few rules: shared members the same for most, another
    /// remediation under the same ID for some (a custom rule), every
    /// optional field both ways, and text that needs escaping.
    fn finding(i: usize) -> Finding {
        let rule = ["PLS-POD-001", "PLS-SEC-002", "PLS-IMG-001"][i % 3];
        Finding {
            rule: Cow::Borrowed(rule),
            title: Cow::Borrowed("Privileged \"container\""),
            severity: [Severity::High, Severity::Low, Severity::Critical][i % 3],
            category: Cow::Borrowed("pod"),
            resource: ResourceRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: i.is_multiple_of(2).then(|| "llm".to_owned()),
                name: format!("vllm-{i}"),
            },
            location: Location {
                file: "deploy/vllm.yaml".into(),
                line: 10 + u32::try_from(i).unwrap_or(0),
                column: 7,
                path: "spec.template.spec.containers[0]".into(),
                rendered: i.is_multiple_of(5).then(|| RenderedLocation {
                    file: "chart/templates/vllm.yaml".into(),
                    line: 3,
                }),
            },
            message: format!("line one\nline \"two\" \u{e9} {i}"),
            remediation: if i % 7 == 3 {
                Cow::Owned(format!("Drop it ({i})."))
            } else {
                Cow::Borrowed("Drop it.\tNow \u{1F680}")
            },
            references: if i % 3 == 1 {
                FindingReferences::default()
            } else {
                REFS
            },
            fingerprint: format!("{i:032x}"),
        }
    }

    fn expected(report: &Report, opts: &RenderOptions) -> String {
        let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
        let doc_findings = SeverityCounts {
            critical: count(Severity::Critical),
            high: count(Severity::High),
            medium: count(Severity::Medium),
            low: count(Severity::Low),
            info: count(Severity::Info),
        };
        let suppressed = SuppressedCounts {
            baseline: report.suppressed.len(),
            ..SuppressedCounts::default()
        };
        let doc = Document {
            schema_version: JSON_SCHEMA_VERSION,
            tool: Tool {
                name: TOOL_NAME,
                version: &opts.tool_version,
            },
            summary: Summary {
                files: report.files,
                resources: report.resources,
                findings: doc_findings,
                total: report.findings.len(),
                suppressed,
                input_errors: report.diagnostics.len(),
                notices: report.notices.len(),
            },
            findings: &report.findings,
            suppressed: &report.suppressed,
            diagnostics: &report.diagnostics,
            notices: &report.notices,
            inference_services: &report.inference_services,
        };
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }

    #[test]
    fn streamed_bytes_equal_serde_json_pretty_output() {
        let opts = RenderOptions {
            color: false,
            tool_version: "1.2.3".into(),
        };
        // Empty, small, and more findings than one batch.
        for n in [0usize, 1, 3, 2 * 2048 + 5] {
            let report = Report {
                files: 2,
                resources: n,
                findings: (0..n).map(finding).collect(),
                suppressed: (0..n.min(70))
                    .map(|i| Suppressed {
                        finding: finding(i),
                        suppressed_by: SuppressedBy::Baseline,
                    })
                    .collect(),
                ..Report::default()
            };
            assert_eq!(
                render(&report, &opts),
                expected(&report, &opts),
                "{n} findings"
            );
        }
    }
}

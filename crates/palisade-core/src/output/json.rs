//! The JSON report, version [`JSON_SCHEMA_VERSION`]; every field is described
//! in `docs/json-report.md`. Field order is fixed by these structs (not by a
//! map), so the bytes are stable whatever serde_json features are enabled.

use super::{RenderOptions, TOOL_NAME};
use crate::finding::Severity;
use crate::report::{JSON_SCHEMA_VERSION, Report, SuppressedBy};
use serde::Serialize;

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
    list(w, "findings", &report.findings)?;
    list(w, "suppressed", &report.suppressed)?;
    field(w, false, "diagnostics", &report.diagnostics)?;
    field(w, false, "notices", &report.notices)?;
    field(w, false, "inferenceServices", &report.inference_services)?;
    w.write_all(b"\n}\n")
}

/// Appends `value` as pretty JSON to `out`, every line after the first
/// indented by `indent` more spaces (JSON strings hold no raw newline, so
/// this is the nesting `to_writer_pretty` would give it).
fn pretty_into<T: Serialize>(value: &T, indent: usize, out: &mut Vec<u8>) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(value).map_err(std::io::Error::from)?;
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
            out.resize(out.len() + indent, b' ');
        }
        out.extend_from_slice(line);
    }
    Ok(())
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
    pretty_into(value, 2, &mut out)?;
    w.write_all(&out)
}

/// A top-level list member, its items rendered in parallel.
fn list<T: Serialize + Sync>(
    w: &mut dyn std::io::Write,
    key: &str,
    items: &[T],
) -> std::io::Result<()> {
    use rayon::prelude::*;
    const BATCH: usize = 2048;
    if items.is_empty() {
        return field(w, false, key, &items);
    }
    write!(w, ",\n  \"{key}\": [")?;
    for batch in items.chunks(BATCH) {
        let rendered: Vec<std::io::Result<Vec<u8>>> = batch
            .par_chunks(64)
            .map(|part| {
                let mut out = Vec::with_capacity(part.len() * 2048);
                for item in part {
                    out.extend_from_slice(b",\n    ");
                    pretty_into(item, 4, &mut out)?;
                }
                Ok(out)
            })
            .collect();
        for (i, part) in rendered.into_iter().enumerate() {
            let part = part?;
            // The very first item follows the bracket without a comma.
            let skip = usize::from(i == 0 && std::ptr::eq(batch.as_ptr(), items.as_ptr()));
            w.write_all(&part[skip..])?;
        }
    }
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
    use crate::finding::{Finding, FindingReferences, Location, ResourceRef};
    use crate::report::Suppressed;
    use std::borrow::Cow;

    fn finding(i: usize) -> Finding {
        Finding {
            rule: Cow::Borrowed("PLS-POD-001"),
            title: Cow::Borrowed("Privileged container"),
            severity: Severity::High,
            category: Cow::Borrowed("pod"),
            resource: ResourceRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: (i % 2 == 0).then(|| "llm".to_owned()),
                name: format!("vllm-{i}"),
            },
            location: Location {
                file: "deploy/vllm.yaml".into(),
                line: 10 + u32::try_from(i).unwrap_or(0),
                column: 7,
                path: "spec.template.spec.containers[0]".into(),
                rendered: None,
            },
            message: format!("line one\nline \"two\" \u{e9} {i}"),
            remediation: Cow::Borrowed("Drop it."),
            references: FindingReferences::default(),
            fingerprint: format!("{i:032x}"),
        }
    }

    fn expected(report: &Report, opts: &RenderOptions) -> String {
        let doc_findings = SeverityCounts {
            high: report.findings.len(),
            ..SeverityCounts::default()
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

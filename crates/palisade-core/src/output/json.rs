//! The JSON report, version [`JSON_SCHEMA_VERSION`]; every field is described
//! in `docs/json-report.md`. Field order is fixed by these structs (not by a
//! map), so the bytes are stable whatever serde_json features are enabled.

use super::{RenderOptions, TOOL_NAME};
use crate::finding::{Finding, Severity};
use crate::report::{
    Diagnostic, InferenceService, JSON_SCHEMA_VERSION, Report, Suppressed, SuppressedBy,
    SuppressionNotice,
};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    schema_version: &'static str,
    tool: Tool<'a>,
    summary: Summary,
    findings: &'a [Finding],
    suppressed: &'a [Suppressed],
    diagnostics: &'a [Diagnostic],
    notices: &'a [SuppressionNotice],
    inference_services: &'a [InferenceService],
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
    let doc = Document {
        schema_version: JSON_SCHEMA_VERSION,
        tool: Tool {
            name: TOOL_NAME,
            version: &opts.tool_version,
        },
        summary: Summary {
            files: report.files,
            resources: report.resources,
            findings,
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
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(std::io::Error::from)?;
    w.write_all(b"\n")
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

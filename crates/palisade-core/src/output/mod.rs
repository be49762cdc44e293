//! Report writers: one [`Report`], four formats.
//!
//! - [`Format::Table`]: for a person at a terminal. Findings grouped per
//!   resource, a short fix hint, then input errors, suppressions and a summary.
//! - [`Format::Json`]: Palisade's own versioned document, described field by
//!   field in `docs/json-report.md`.
//! - [`Format::Sarif`]: SARIF 2.1.0 for GitHub code scanning and other SARIF
//!   viewers.
//! - [`Format::Junit`]: JUnit XML for the test-report views of GitLab,
//!   Jenkins and Azure DevOps.
//!
//! Writers are pure: they return a `String` and never print. Every format ends
//! with a newline, and none depends on the time, the machine or the order of
//! `report.rules`, so two runs over the same input give the same bytes.

mod json;
mod junit;
mod sarif;
mod table;

use crate::finding::{RuleMeta, Severity};
use crate::report::Report;
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Human-readable text grouped per resource.
    #[default]
    Table,
    /// The versioned JSON report (`docs/json-report.md`).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 4] = [Format::Table, Format::Json, Format::Sarif, Format::Junit];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of table, json, sarif, junit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?} (expected table, json, sarif or junit)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// What a writer needs besides the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Colour the table with ANSI escapes. Ignored by the other formats. The
    /// caller decides (terminal, `NO_COLOR`, `--color`); writers never look.
    pub color: bool,
    /// The Palisade version written into JSON and SARIF.
    pub tool_version: String,
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    match format {
        Format::Table => table::render(report, opts),
        Format::Json => json::render(report, opts),
        Format::Sarif => sarif::render(report, opts),
        Format::Junit => junit::render(report),
    }
}

/// Writes a report to `w`. JSON is streamed; the other formats are rendered
/// first. Use this for large reports: it never holds a JSON report in memory.
pub fn write(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(report, opts, w),
        Format::Table => table::write(report, opts, w),
        _ => w.write_all(render(report, format, opts).as_bytes()),
    }
}

/// The tool's name in every format.
const TOOL_NAME: &str = "palisade";

/// A rule as the writers see it: the metadata of a rule that ran, or, for a
/// finding whose rule is missing from `report.rules`, what the finding itself
/// says about it (so that SARIF's `ruleIndex` and JUnit's suites never dangle).
#[derive(Debug, Clone)]
struct RuleInfo<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    category: &'a str,
    rationale: &'a str,
    remediation: &'a str,
    /// Peer display name and IDs.
    peers: Vec<(&'static str, Vec<&'a str>)>,
    links: Vec<&'a str>,
}

impl<'a> RuleInfo<'a> {
    fn from_meta(m: &'a RuleMeta) -> Self {
        Self {
            id: m.id,
            title: m.title,
            severity: m.severity,
            category: m.category,
            rationale: m.rationale,
            remediation: m.remediation,
            peers: m
                .references
                .peers()
                .into_iter()
                .map(|(name, ids)| (peer_display(name), ids.to_vec()))
                .collect(),
            links: m.references.links.to_vec(),
        }
    }
}

/// Every rule that ran plus every rule a finding names, sorted by ID, each once.
fn rules(report: &Report) -> Vec<RuleInfo<'_>> {
    let mut out: Vec<RuleInfo<'_>> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for m in &report.rules {
        if seen.insert(m.id) {
            out.push(RuleInfo::from_meta(m));
        }
    }
    let all = report
        .findings
        .iter()
        .chain(report.suppressed.iter().map(|s| &s.finding));
    for f in all {
        if seen.insert(f.rule.as_ref()) {
            let r = &f.references;
            let peers = [
                ("trivy", &r.trivy),
                ("kubescape", &r.kubescape),
                ("checkov", &r.checkov),
                ("polaris", &r.polaris),
                ("kube-linter", &r.kube_linter),
                ("kube-score", &r.kube_score),
                ("pss", &r.pss),
                ("cis", &r.cis),
                ("owasp-llm", &r.owasp_llm),
                ("mitre", &r.mitre),
            ]
            .into_iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(name, ids)| (peer_display(name), ids.to_vec()))
            .collect();
            out.push(RuleInfo {
                id: &f.rule,
                title: &f.title,
                severity: f.severity,
                category: &f.category,
                rationale: &f.title,
                remediation: &f.remediation,
                peers,
                links: Vec::new(),
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(b.id));
    out
}

/// The name a person knows a peer list by.
fn peer_display(name: &'static str) -> &'static str {
    match name {
        "trivy" => "Trivy",
        "kubescape" => "Kubescape",
        "checkov" => "Checkov",
        "polaris" => "Polaris",
        "kube-linter" => "kube-linter",
        "kube-score" => "kube-score",
        "pss" => "Pod Security Standards",
        "cis" => "CIS Kubernetes Benchmark",
        "owasp-llm" => "OWASP Top 10 for LLM Applications",
        "mitre" => "MITRE ATT&CK",
        other => other,
    }
}

/// Text from the scanned input, made safe for a terminal: control characters
/// (an ESC in an object name would otherwise drive the terminal) and the
/// bidirectional overrides of "Trojan Source" are shown escaped.
fn printable(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `file:line:col`, leaving out what is unknown (0).
fn position(file: &str, line: u32, column: u32) -> String {
    match (line, column) {
        (0, _) => file.to_owned(),
        (l, 0) => format!("{file}:{l}"),
        (l, c) => format!("{file}:{l}:{c}"),
    }
}

/// `n word` or `n words`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
        }
        assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("table, json, sarif or junit"));
    }

    #[test]
    fn printable_escapes_terminal_controls_and_bidi() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(printable("x\ny"), "x\\ny");
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn position_leaves_out_unknown_parts() {
        assert_eq!(position("a.yaml", 0, 0), "a.yaml");
        assert_eq!(position("a.yaml", 3, 0), "a.yaml:3");
        assert_eq!(position("a.yaml", 3, 7), "a.yaml:3:7");
    }
}

//! JUnit XML, in the common subset that GitLab, Jenkins and Azure DevOps read:
//!
//! ```xml
//! <testsuites name="palisade" tests=".." failures=".." errors=".." skipped="..">
//!   <testsuite name="PLS-POD-001 Container runs privileged" tests=".." failures=".." ..>
//!     <testcase classname="PLS-POD-001" name="Deployment/llm/vllm spec.template..." file=".." line="..">
//!       <failure message="..." type="critical">details</failure>
//!     </testcase>
//!     <testcase classname="PLS-POD-001" name="no findings in the other 5 resources"/>
//! ```
//!
//! - one `<testsuite>` per rule that ran (and per rule a finding names), sorted
//!   by ID; each finding is a failing `<testcase>`; a suppressed finding is a
//!   `<testcase>` with `<skipped>` and the reason; one passing `<testcase>`
//!   stands for the resources the rule did not flag (`tests` is therefore
//!   findings + suppressed + 1 while some resource was not flagged);
//! - input errors, when any, form a `palisade.input` suite of `<error>`s;
//!   suppression notices a `palisade.suppressions` suite of `<skipped>`s;
//! - every count attribute equals the children it counts.
//!
//! No timestamps or durations beyond `time="0"`: output is byte-stable.

use super::{RuleInfo, plural, position, rules};
use crate::finding::Finding;
use crate::report::{NoticeKind, Report, SuppressedBy};
use std::collections::BTreeSet;
use std::fmt::Write;

/// One `<testcase>`.
struct Case {
    classname: String,
    name: String,
    file: Option<String>,
    line: Option<u32>,
    outcome: Outcome,
}

enum Outcome {
    Pass,
    /// `<failure>`: message, type, body.
    Failure(String, String, String),
    /// `<error>`: message, type.
    Error(String, String),
    /// `<skipped>`: message.
    Skipped(String),
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

impl Suite {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.outcome)).count()
    }
}

pub(super) fn render(report: &Report) -> String {
    let mut suites: Vec<Suite> = rules(report)
        .iter()
        .map(|r| rule_suite(report, r))
        .collect();
    if !report.diagnostics.is_empty() {
        suites.push(Suite {
            name: "palisade.input".to_owned(),
            cases: report
                .diagnostics
                .iter()
                .map(|d| Case {
                    classname: "palisade.input".to_owned(),
                    name: position(&d.file, d.line, d.column),
                    file: Some(d.file.clone()),
                    line: (d.line > 0).then_some(d.line),
                    outcome: Outcome::Error(d.message.clone(), "input-error".to_owned()),
                })
                .collect(),
        });
    }
    if !report.notices.is_empty() {
        suites.push(Suite {
            name: "palisade.suppressions".to_owned(),
            cases: report
                .notices
                .iter()
                .map(|n| {
                    let kind = match n.kind {
                        NoticeKind::Expired => "expired",
                        NoticeKind::Unmatched => "unmatched",
                        NoticeKind::Invalid => "invalid",
                    };
                    Case {
                        classname: "palisade.suppressions".to_owned(),
                        name: format!("{kind} {}", position(&n.file, n.line, 0)),
                        file: Some(n.file.clone()),
                        line: (n.line > 0).then_some(n.line),
                        outcome: Outcome::Skipped(format!("{kind}: {}", n.message)),
                    }
                })
                .collect(),
        });
    }

    let total = |f: fn(&Outcome) -> bool| suites.iter().map(|s| s.count(f)).sum::<usize>();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"palisade\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">",
        total(|_| true),
        total(|o| matches!(o, Outcome::Failure(..))),
        total(|o| matches!(o, Outcome::Error(..))),
        total(|o| matches!(o, Outcome::Skipped(..))),
    );
    for s in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">",
            attr(&s.name),
            s.cases.len(),
            s.count(|o| matches!(o, Outcome::Failure(..))),
            s.count(|o| matches!(o, Outcome::Error(..))),
            s.count(|o| matches!(o, Outcome::Skipped(..))),
        );
        for c in &s.cases {
            write_case(&mut out, c);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn rule_suite(report: &Report, rule: &RuleInfo<'_>) -> Suite {
    let mut cases = Vec::new();
    let mut flagged = BTreeSet::new();
    for f in report.findings.iter().filter(|f| f.rule == rule.id) {
        flagged.insert(&f.resource);
        cases.push(finding_case(
            f,
            Outcome::Failure(f.message.clone(), f.severity.to_string(), failure_body(f)),
        ));
    }
    for s in report
        .suppressed
        .iter()
        .filter(|s| s.finding.rule == rule.id)
    {
        flagged.insert(&s.finding.resource);
        let why = match &s.suppressed_by {
            SuppressedBy::Annotation { reason } => format!("suppressed by annotation: {reason}"),
            SuppressedBy::Config { reason, line } => {
                format!("suppressed by config (line {line}): {reason}")
            }
            SuppressedBy::Baseline => "suppressed by the baseline".to_owned(),
        };
        cases.push(finding_case(&s.finding, Outcome::Skipped(why)));
    }
    let others = report.resources.saturating_sub(flagged.len());
    if cases.is_empty() || others > 0 {
        cases.push(Case {
            classname: rule.id.to_owned(),
            name: if flagged.is_empty() {
                format!("no findings ({})", plural(report.resources, "resource"))
            } else {
                format!("no findings in the other {}", plural(others, "resource"))
            },
            file: None,
            line: None,
            outcome: Outcome::Pass,
        });
    }
    Suite {
        name: format!("{} {}", rule.id, rule.title),
        cases,
    }
}

fn finding_case(f: &Finding, outcome: Outcome) -> Case {
    Case {
        classname: f.rule.to_string(),
        name: if f.location.path.is_empty() {
            f.resource.to_string()
        } else {
            format!("{} {}", f.resource, f.location.path)
        },
        file: Some(f.location.file.clone()),
        line: (f.location.line > 0).then_some(f.location.line),
        outcome,
    }
}

fn failure_body(f: &Finding) -> String {
    let l = &f.location;
    let mut body = format!(
        "{}\n\nresource: {}\nlocation: {}",
        f.message,
        f.resource,
        position(&l.file, l.line, l.column)
    );
    if !l.path.is_empty() {
        let _ = write!(body, "\npath: {}", l.path);
    }
    if let Some(r) = &l.rendered {
        let _ = write!(body, "\nrendered: {}", position(&r.file, r.line, 0));
    }
    let _ = write!(
        body,
        "\nfix: {}\nfingerprint: {}",
        f.remediation, f.fingerprint
    );
    body
}

fn write_case(out: &mut String, c: &Case) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        attr(&c.classname),
        attr(&c.name)
    );
    if let Some(file) = &c.file {
        let _ = write!(out, " file=\"{}\"", attr(file));
    }
    if let Some(line) = c.line {
        let _ = write!(out, " line=\"{line}\"");
    }
    out.push_str(" time=\"0\"");
    match &c.outcome {
        Outcome::Pass => out.push_str("/>\n"),
        Outcome::Failure(message, kind, body) => {
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                attr(message),
                attr(kind),
                text(body)
            );
        }
        Outcome::Error(message, kind) => {
            let _ = writeln!(
                out,
                ">\n      <error message=\"{}\" type=\"{}\"/>\n    </testcase>",
                attr(message),
                attr(kind)
            );
        }
        Outcome::Skipped(message) => {
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                attr(message)
            );
        }
    }
}

/// Escapes an attribute value: markup characters, both quotes, and the
/// whitespace that attribute normalisation would otherwise turn into spaces.
fn attr(s: &str) -> String {
    escape(s, true)
}

/// Escapes element text (quotes stay as they are: only markup needs escaping).
fn text(s: &str) -> String {
    escape(s, false)
}

/// XML 1.0 escaping. Characters XML 1.0 cannot carry at all (most C0
/// controls, U+FFFE, U+FFFF), even as references, become U+FFFD.
fn escape(s: &str, in_attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attr => out.push_str("&quot;"),
            '\'' if in_attr => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if in_attr => out.push_str("&#10;"),
            '\t' if in_attr => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_quotes_and_invalid_chars() {
        assert_eq!(
            attr(r#"<a & "b" 'c'>"#),
            "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;"
        );
        assert_eq!(attr("a\nb\tc\rd"), "a&#10;b&#9;c&#13;d");
        assert_eq!(text("a\nb\tc"), "a\nb\tc");
        assert_eq!(text(r#"<"x" & 'y'>"#), r#"&lt;"x" &amp; 'y'&gt;"#);
        assert_eq!(text("bell\u{7}esc\u{1b}"), "bell\u{fffd}esc\u{fffd}");
        assert_eq!(text("]]>"), "]]&gt;");
    }
}

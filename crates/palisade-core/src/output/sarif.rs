//! SARIF 2.1.0, valid against the OASIS schema and shaped for GitHub code
//! scanning:
//!
//! - one run; `tool.driver.rules` holds every rule that ran (and any rule a
//!   finding names), each with descriptions, help (text and Markdown:
//!   rationale, remediation, peer references), `helpUri`, the default level
//!   and the properties GitHub reads: `tags` (with `security`),
//!   `security-severity` and `precision`;
//! - one result per finding, suppressed ones included with a `suppressions`
//!   entry (`inSource` for an annotation in the manifest, `external` for
//!   `palisade.yaml` and the baseline, status `accepted`, the reason as
//!   justification), which SARIF viewers show as suppressed. GitHub code
//!   scanning is reported not to honour `suppressions` by itself (it opens
//!   alerts for them unless dismissed by other means); a caller that uploads
//!   to GitHub and wants suppressed findings left out clears
//!   `report.suppressed` before rendering;
//! - locations relative to the checkout (`%SRCROOT%`) with forward slashes
//!   and percent-encoding, lines and columns clamped to at least 1 (GitHub
//!   rejects 0), the resource and JSON path as logical locations, and for Helm
//!   output the rendered position as a related location;
//! - `partialFingerprints["palisade/v1"]`, Palisade's line-independent
//!   fingerprint, so alerts survive edits;
//! - input errors as error-level `toolExecutionNotifications`, suppression
//!   notices as `toolConfigurationNotifications`. `executionSuccessful` stays
//!   true even then: the scan ran to the end over every document it could
//!   read, and GitHub's code scanning API does not process the results of an
//!   upload marked unsuccessful (it answers `failed`, "unsuccessful
//!   execution": github/codeql-action#1393, #1732), so one unparsable
//!   template would hide every other result. The CLI's exit code still
//!   reports the input errors.
//!
//! Field order is fixed by these structs, so output is byte-stable.

use super::json::to_pretty;
use super::{RenderOptions, RuleInfo, TOOL_NAME, rules};
use crate::finding::{Finding, Severity};
use crate::report::{NoticeKind, Report, SuppressedBy};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The project's home: the package's `repository`, when the manifest sets it.
const INFORMATION_URI: &str = if env!("CARGO_PKG_REPOSITORY").is_empty() {
    "https://github.com/palisade-dev/palisade"
} else {
    env!("CARGO_PKG_REPOSITORY")
};
/// GitHub's cap on `shortDescription` and `fullDescription`.
const DESCRIPTION_MAX: usize = 1024;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation<'a>; 1],
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    default_configuration: Configuration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

fn text(s: impl Into<String>) -> Text {
    Text { text: s.into() }
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    tags: Vec<&'a str>,
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: [Location<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location<'a>>,
    partial_fingerprints: Fingerprints<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
    properties: ResultProperties,
}

/// `partialFingerprints`: Palisade's fingerprint under a versioned key (bump
/// the version if the fingerprint's recipe ever changes).
#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "palisade/v1")]
    v1: &'a str,
}

#[derive(Serialize)]
struct ResultProperties {
    /// The effective severity (after configuration overrides), which may
    /// differ from the rule's default.
    severity: Severity,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    #[serde(rename = "physicalLocation")]
    physical: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    status: &'static str,
    justification: &'a str,
    properties: SuppressionProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SuppressionProperties {
    /// `annotation`, `config` or `baseline`.
    suppressed_by: &'static str,
    /// For `config`: the line of the exception in the configuration file.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_configuration_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    descriptor: Descriptor,
    level: &'static str,
    message: Text,
    locations: [Location<'a>; 1],
}

#[derive(Serialize)]
struct Descriptor {
    id: &'static str,
}

pub(super) fn render(report: &Report, opts: &RenderOptions) -> String {
    let rules = rules(report);
    let index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id, i)).collect();

    let mut results: Vec<SarifResult<'_>> = report
        .findings
        .iter()
        .map(|f| result(f, index.get(f.rule.as_ref()).copied(), None))
        .collect();
    results.extend(report.suppressed.iter().map(|s| {
        result(
            &s.finding,
            index.get(s.finding.rule.as_ref()).copied(),
            Some(&s.suppressed_by),
        )
    }));

    let execution = report
        .diagnostics
        .iter()
        .map(|d| Notification {
            descriptor: Descriptor { id: "input-error" },
            level: "error",
            message: text(&d.message),
            locations: [file_location(&d.file, d.line, d.column)],
        })
        .collect();
    let configuration = report
        .notices
        .iter()
        .map(|n| Notification {
            descriptor: Descriptor {
                id: match n.kind {
                    NoticeKind::Expired => "suppression-expired",
                    NoticeKind::Unmatched => "suppression-unmatched",
                    NoticeKind::Invalid => "suppression-invalid",
                },
            },
            level: "warning",
            message: text(&n.message),
            locations: [file_location(&n.file, n.line, 0)],
        })
        .collect();

    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: TOOL_NAME,
                    version: &opts.tool_version,
                    information_uri: INFORMATION_URI,
                    rules: rules.iter().map(rule).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: execution,
                tool_configuration_notifications: configuration,
            }],
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    to_pretty(&log)
}

fn rule<'a>(r: &RuleInfo<'a>) -> Rule<'a> {
    let mut tags = vec![r.category, "security"];
    tags.dedup();
    tags.retain(|t| !t.is_empty());
    Rule {
        id: r.id,
        name: pascal_case(r.title),
        short_description: text(truncate(r.title)),
        full_description: text(truncate(r.rationale)),
        help: help(r),
        help_uri: r.links.first().copied(),
        default_configuration: Configuration {
            level: level(r.severity),
        },
        properties: RuleProperties {
            tags,
            // Rules read declared configuration, not heuristics: what they
            // report is there.
            precision: "very-high",
            security_severity: security_severity(r.severity),
        },
    }
}

fn help(r: &RuleInfo<'_>) -> Help {
    let mut text = format!("{}\n\nRemediation: {}", r.rationale, r.remediation);
    let mut md = format!("{}\n\n**Remediation:** {}", r.rationale, r.remediation);
    if !r.peers.is_empty() || !r.links.is_empty() {
        text.push_str("\n\nReferences:");
        md.push_str("\n\n**References**\n");
        for (peer, ids) in &r.peers {
            let _ = write!(text, "\n- {peer}: {}", ids.join(", "));
            let ids: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
            let _ = write!(md, "\n- {peer}: {}", ids.join(", "));
        }
        for link in &r.links {
            let _ = write!(text, "\n- {link}");
            let _ = write!(md, "\n- <{link}>");
        }
    }
    Help { text, markdown: md }
}

fn result<'a>(
    f: &'a Finding,
    rule_index: Option<usize>,
    suppressed_by: Option<&'a SuppressedBy>,
) -> SarifResult<'a> {
    let loc = &f.location;
    let mut primary = file_location(&loc.file, loc.line.max(1), loc.column.max(1));
    let resource = f.resource.to_string();
    primary.logical_locations = vec![
        LogicalLocation {
            name: &f.resource.name,
            fully_qualified_name: resource.clone(),
            kind: "resource",
        },
        LogicalLocation {
            name: loc.path.rsplit('.').next().unwrap_or(&loc.path),
            fully_qualified_name: format!("{resource}:{}", loc.path),
            kind: "property",
        },
    ];
    primary.logical_locations.retain(|l| !l.name.is_empty());
    let related = loc
        .rendered
        .iter()
        .map(|r| Location {
            id: Some(1),
            message: Some(text("rendered output")),
            ..file_location(&r.file, r.line.max(1), 0)
        })
        .collect();
    let suppressions = suppressed_by
        .map(|by| {
            let (kind, justification, suppressed_by, line) = match by {
                SuppressedBy::Annotation { reason } => {
                    ("inSource", reason.as_str(), "annotation", None)
                }
                SuppressedBy::Config { reason, line } => {
                    ("external", reason.as_str(), "config", Some(*line))
                }
                SuppressedBy::Baseline => {
                    ("external", "listed in the baseline file", "baseline", None)
                }
            };
            Suppression {
                kind,
                status: "accepted",
                justification,
                properties: SuppressionProperties {
                    suppressed_by,
                    line,
                },
            }
        })
        .into_iter()
        .collect();
    SarifResult {
        rule_id: &f.rule,
        rule_index,
        level: level(f.severity),
        message: text(format!("{resource}: {}", f.message)),
        locations: [primary],
        related_locations: related,
        partial_fingerprints: Fingerprints { v1: &f.fingerprint },
        suppressions,
        properties: ResultProperties {
            severity: f.severity,
        },
    }
}

/// A location in a file; the region is left out when the line is unknown.
fn file_location(file: &str, line: u32, column: u32) -> Location<'static> {
    Location {
        id: None,
        physical: PhysicalLocation {
            artifact_location: artifact(file),
            region: (line > 0).then_some(Region {
                start_line: line,
                start_column: (column > 0).then_some(column),
            }),
        },
        logical_locations: Vec::new(),
        message: None,
    }
}

/// SARIF level: GitHub shows error, warning and note.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's score: over 9.0 is critical, 7.0-8.9 high, 4.0-6.9 medium, below low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The file as a URI reference: relative paths (the norm: the CLI reports
/// paths as given) against `%SRCROOT%`, absolute ones as `file:` URIs.
/// Backslashes become slashes; anything outside RFC 3986's path characters is
/// percent-encoded.
fn artifact(file: &str) -> ArtifactLocation {
    let path = file.replace('\\', "/");
    let b = path.as_bytes();
    let drive = b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b.len() == 2 || b[2] == b'/');
    if let Some(unc) = path.strip_prefix("//") {
        ArtifactLocation {
            uri: format!("file://{}", encode(unc, true)),
            uri_base_id: None,
        }
    } else if path.starts_with('/') {
        ArtifactLocation {
            uri: format!("file://{}", encode(&path, true)),
            uri_base_id: None,
        }
    } else if drive {
        ArtifactLocation {
            uri: format!("file:///{}", encode(&path, true)),
            uri_base_id: None,
        }
    } else {
        let mut rel = path.as_str();
        while let Some(rest) = rel.strip_prefix("./") {
            rel = rest.trim_start_matches('/');
        }
        ArtifactLocation {
            // A relative reference may not hold a colon in its first segment
            // (it would read as a scheme): encode colons.
            uri: if rel.is_empty() {
                "unknown".to_owned()
            } else {
                encode(rel, false)
            },
            uri_base_id: Some("%SRCROOT%"),
        }
    }
}

fn encode(path: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for &byte in path.as_bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=@/".contains(&byte)
            || (keep_colon && byte == b':');
        if keep {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `Container runs privileged` -> `ContainerRunsPrivileged`: SARIF's `name`
/// is an identifier-like form of the title.
fn pascal_case(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_uppercase().chain(cs).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= DESCRIPTION_MAX {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(DESCRIPTION_MAX - 3).collect();
    t.push_str("...");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(uri: &str) -> ArtifactLocation {
        ArtifactLocation {
            uri: uri.to_owned(),
            uri_base_id: Some("%SRCROOT%"),
        }
    }

    fn abs(uri: &str) -> ArtifactLocation {
        ArtifactLocation {
            uri: uri.to_owned(),
            uri_base_id: None,
        }
    }

    #[test]
    fn artifact_uris_are_relative_with_forward_slashes() {
        assert_eq!(artifact("deploy/vllm.yaml"), rel("deploy/vllm.yaml"));
        assert_eq!(artifact("./deploy/vllm.yaml"), rel("deploy/vllm.yaml"));
        assert_eq!(
            artifact(r"charts\llm\templates\d.yaml"),
            rel("charts/llm/templates/d.yaml")
        );
        assert_eq!(artifact("my dir/a#1.yaml"), rel("my%20dir/a%231.yaml"));
        assert_eq!(artifact("<stdin>"), rel("%3Cstdin%3E"));
        assert_eq!(artifact("c:onfig.yaml"), rel("c%3Aonfig.yaml"));
        assert_eq!(artifact("naïve.yaml"), rel("na%C3%AFve.yaml"));
        assert_eq!(artifact(""), rel("unknown"));
    }

    #[test]
    fn absolute_paths_become_file_uris() {
        assert_eq!(artifact("/srv/k8s/a.yaml"), abs("file:///srv/k8s/a.yaml"));
        assert_eq!(artifact(r"C:\k8s\a.yaml"), abs("file:///C:/k8s/a.yaml"));
        assert_eq!(
            artifact(r"\\server\share\a.yaml"),
            abs("file://server/share/a.yaml")
        );
    }

    #[test]
    fn names_and_scores() {
        assert_eq!(
            pascal_case("Container runs privileged"),
            "ContainerRunsPrivileged"
        );
        assert_eq!(
            pascal_case("hostPath mount (read-write)"),
            "HostPathMountReadWrite"
        );
        for s in Severity::ALL {
            let v: f64 = security_severity(s).parse().unwrap();
            assert!((0.0..=10.0).contains(&v));
        }
        assert_eq!(truncate(&"x".repeat(2000)).chars().count(), DESCRIPTION_MAX);
    }
}

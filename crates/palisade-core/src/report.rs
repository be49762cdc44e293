//! A scan's result: findings, what was suppressed and why, and input problems.

use crate::finding::{Finding, ResourceRef, RuleMeta, Severity};
use rayon::slice::ParallelSliceMut;
use serde::Serialize;
use std::collections::BTreeMap;

/// The version of the JSON report format. Bumped on any incompatible change;
/// documented in `docs/json-report.md`.
pub const JSON_SCHEMA_VERSION: &str = "1.1";

/// A problem with the input or the configuration, not with the scanned objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    /// File the problem is in (`<stdin>` for standard input).
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// What silenced a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SuppressedBy {
    /// A `palisade.dev/ignore` annotation.
    Annotation {
        /// The reason given.
        reason: String,
    },
    /// An exception in `palisade.yaml`.
    Config {
        /// The reason given.
        reason: String,
        /// Line of the exception in the configuration file.
        line: u32,
    },
    /// A fingerprint in the baseline file.
    Baseline,
}

/// A finding that a suppression silenced: kept, and counted in every summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// What silenced it.
    pub suppressed_by: SuppressedBy,
}

/// A suppression that did nothing or no longer applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SuppressionNotice {
    /// `expired`, `unmatched` or `invalid`.
    pub kind: NoticeKind,
    /// Where the suppression is written (config file or object).
    pub file: String,
    /// Line of the suppression.
    pub line: u32,
    /// What it says.
    pub message: String,
}

/// The kind of a [`SuppressionNotice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeKind {
    /// Its expiry date has passed; it no longer suppresses anything.
    Expired,
    /// It matched no finding.
    Unmatched,
    /// It could not be read (no reason, bad date, unknown rule).
    Invalid,
}

/// Counts shown in every summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Kubernetes objects scanned.
    pub resources: usize,
    /// Unsuppressed findings by severity.
    pub findings: BTreeMap<Severity, usize>,
    /// Total unsuppressed findings.
    pub total: usize,
    /// Suppressed findings, by what suppressed them.
    pub suppressed: BTreeMap<String, usize>,
    /// Input diagnostics.
    pub input_errors: usize,
}

/// The result of a scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Unsuppressed findings, sorted by file, line, rule.
    pub findings: Vec<Finding>,
    /// Suppressed findings.
    pub suppressed: Vec<Suppressed>,
    /// Input and configuration problems.
    pub diagnostics: Vec<Diagnostic>,
    /// Expired or unmatched suppressions.
    pub notices: Vec<SuppressionNotice>,
    /// Files read.
    pub files: usize,
    /// Objects scanned.
    pub resources: usize,
    /// Metadata of the rules that ran (for SARIF and JUnit).
    #[serde(skip)]
    pub rules: Vec<RuleMeta>,
    /// The model servers found, each with the objects on its paths, so
    /// findings can be grouped per endpoint.
    pub inference_services: Vec<InferenceService>,
}

/// A model server and the objects that make up its endpoint: the serving
/// workload, the Services that select it and the routes that reach it from
/// outside the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InferenceService {
    /// `namespace/name` of the serving object.
    pub name: String,
    /// What serves it, e.g. `vLLM`, `vLLM on KServe`, `Triton`.
    pub engine: String,
    /// The serving object (Deployment, InferenceService, ...).
    pub resource: ResourceRef,
    /// Services and routes on its paths (without `resource`).
    pub related: Vec<ResourceRef>,
    /// Each path from outside the cluster, described.
    pub exposed_by: Vec<String>,
}

impl Report {
    /// Sorts findings into their stable order: file, line, column, rule,
    /// fingerprint (compared in place, without copying keys).
    pub fn sort(&mut self) {
        fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
            (
                &a.location.file,
                a.location.line,
                a.location.column,
                &a.rule,
                &a.fingerprint,
            )
                .cmp(&(
                    &b.location.file,
                    b.location.line,
                    b.location.column,
                    &b.rule,
                    &b.fingerprint,
                ))
        }
        // In parallel: a live scan sorts hundreds of thousands of findings.
        // The order is total (the fingerprint breaks ties), so an unstable
        // sort gives the same report every time.
        self.findings.par_sort_unstable_by(order);
        self.suppressed
            .par_sort_unstable_by(|a, b| order(&a.finding, &b.finding));
        self.diagnostics.sort();
        self.notices.sort();
    }

    /// The summary counts.
    pub fn summary(&self) -> Summary {
        let mut findings = BTreeMap::new();
        for f in &self.findings {
            *findings.entry(f.severity).or_insert(0) += 1;
        }
        let mut suppressed = BTreeMap::new();
        for s in &self.suppressed {
            let k = match s.suppressed_by {
                SuppressedBy::Annotation { .. } => "annotation",
                SuppressedBy::Config { .. } => "config",
                SuppressedBy::Baseline => "baseline",
            };
            *suppressed.entry(k.to_owned()).or_insert(0) += 1;
        }
        Summary {
            files: self.files,
            resources: self.resources,
            total: self.findings.len(),
            findings,
            suppressed,
            input_errors: self.diagnostics.len(),
        }
    }

    /// Whether an unsuppressed finding at or above `threshold` remains.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }
}

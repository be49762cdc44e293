//! Suppressions: `palisade.dev/ignore` annotations, `palisade.yaml`
//! exceptions and baseline files. Nothing is silenced quietly: suppressed
//! findings are kept and counted, and expired, unmatched or malformed
//! suppressions are reported.
//!
//! Annotation syntax (on the object or its pod template):
//!
//! ```text
//! palisade.dev/ignore: "PLS-POD-001,PLS-POD-004 container=server reason=needs NET_ADMIN for CNI expires=2027-01-31"
//! ```
//! Several suppressions may be given in one annotation, separated by `;` or
//! new lines. `reason=` is required; `container=` and `expires=` are optional.

use crate::context::Context;
use crate::engine::Engine;
use crate::rule::RawFinding;
use palisade_core::config::{Config, Date};
use palisade_core::report::{NoticeKind, Suppressed, SuppressedBy, SuppressionNotice};
use palisade_core::{Finding, Path, Report};
use rayon::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// The annotation that suppresses findings on an object.
pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";

/// One parsed `palisade.dev/ignore` suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationSuppression {
    /// Rule IDs (or `*`).
    pub rules: Vec<String>,
    /// Only findings about this container.
    pub container: Option<String>,
    /// Why.
    pub reason: String,
    /// Last day it applies.
    pub expires: Option<Date>,
}

/// Why an annotation could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnnotationError {
    /// No rule IDs before the options.
    #[error("no rule IDs (expected \"PLS-XXX-001[,PLS-...] reason=...\")")]
    NoRules,
    /// `reason=` is missing or empty.
    #[error("a reason is required (reason=...)")]
    NoReason,
    /// `expires=` is not a date.
    #[error("expires={0:?} is not a date (YYYY-MM-DD)")]
    BadDate(String),
    /// A rule ID that does not look like one.
    #[error("{0:?} is not a rule ID")]
    BadRule(String),
}

const KEYS: [&str; 3] = ["reason=", "container=", "expires="];

/// Parses an annotation value into its suppressions.
pub fn parse_annotation(value: &str) -> Vec<Result<AnnotationSuppression, AnnotationError>> {
    value
        .split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_one)
        .collect()
}

fn parse_one(s: &str) -> Result<AnnotationSuppression, AnnotationError> {
    // Rule list: everything up to the first key=.
    let first_key = KEYS
        .iter()
        .filter_map(|k| find_key(s, k))
        .min()
        .unwrap_or(s.len());
    let rules: Vec<String> = s[..first_key]
        .split([',', ' '])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    if rules.is_empty() {
        return Err(AnnotationError::NoRules);
    }
    if let Some(bad) = rules
        .iter()
        .find(|r| !(r.as_str() == "*" || r.starts_with("PLS-")))
    {
        return Err(AnnotationError::BadRule(bad.clone()));
    }
    let value_of = |key: &str| -> Option<String> {
        let at = find_key(s, key)? + key.len();
        let end = KEYS
            .iter()
            .filter_map(|k| find_key(&s[at..], k).map(|i| i + at))
            .min()
            .unwrap_or(s.len());
        Some(s[at..end].trim().to_owned())
    };
    let reason = value_of("reason=")
        .filter(|r| !r.is_empty())
        .ok_or(AnnotationError::NoReason)?;
    let expires = match value_of("expires=") {
        Some(d) => Some(Date::parse(&d).ok_or(AnnotationError::BadDate(d))?),
        None => None,
    };
    Ok(AnnotationSuppression {
        rules,
        container: value_of("container=").filter(|c| !c.is_empty()),
        reason,
        expires,
    })
}

/// Finds `key` at the start of `s` or after whitespace.
fn find_key(s: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find(key) {
        let at = from + i;
        if at == 0 || s[..at].ends_with(char::is_whitespace) {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// A baseline: fingerprints of accepted findings.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    entries: BTreeMap<String, String>,
}

/// Why a baseline file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// Not JSON.
    #[error("baseline is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not a baseline.
    #[error("baseline has no \"fingerprints\" list (write one with --write-baseline)")]
    Shape,
}

impl Baseline {
    /// Reads a baseline written by [`Baseline::to_json`].
    pub fn parse(text: &str) -> Result<Self, BaselineError> {
        let v: serde_json::Value = serde_json::from_str(text)?;
        let list = v
            .get("fingerprints")
            .and_then(|f| f.as_array())
            .ok_or(BaselineError::Shape)?;
        let mut entries = BTreeMap::new();
        for e in list {
            let fp = e
                .get("fingerprint")
                .and_then(|f| f.as_str())
                .ok_or(BaselineError::Shape)?;
            let what = format!(
                "{} {}",
                e.get("rule").and_then(|f| f.as_str()).unwrap_or("?"),
                e.get("resource").and_then(|f| f.as_str()).unwrap_or("?")
            );
            entries.insert(fp.to_owned(), what);
        }
        Ok(Self { entries })
    }

    /// The baseline of a report: every finding not suppressed by an
    /// annotation or an exception (findings already baselined stay in).
    pub fn to_json(report: &Report) -> String {
        let mut items: Vec<(&str, serde_json::Value)> = report
            .findings
            .iter()
            .chain(
                report
                    .suppressed
                    .iter()
                    .filter(|s| s.suppressed_by == SuppressedBy::Baseline)
                    .map(|s| &s.finding),
            )
            .map(|f| {
                (
                    f.fingerprint.as_str(),
                    json!({"fingerprint": f.fingerprint, "rule": f.rule, "resource": f.resource.to_string()}),
                )
            })
            .collect();
        items.sort_by(|a, b| a.0.cmp(b.0));
        items.dedup_by(|a, b| a.0 == b.0);
        let doc = json!({
            "version": 1,
            "tool": "palisade",
            "fingerprints": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

struct Site {
    sup: AnnotationSuppression,
    object: usize,
    /// Findings must lie under this path (the pod template's parent for a
    /// template annotation; the root for the object's own).
    scope: Path,
    file: String,
    line: u32,
    used: bool,
}

fn annotation_sites(
    cx: &Context<'_>,
    notices: &mut Vec<SuppressionNotice>,
) -> HashMap<usize, Vec<Site>> {
    let mut sites: HashMap<usize, Vec<Site>> = HashMap::new();
    for (i, obj) in cx.objects.iter().enumerate() {
        let mut metas = vec![(Path::keys("metadata"), Path::root())];
        for w in &cx.workloads[i] {
            if w.meta_path != Path::keys("metadata") {
                let mut scope = w.meta_path.clone();
                scope.0.pop();
                metas.push((w.meta_path.clone(), scope));
            }
        }
        for (meta_path, scope) in metas {
            let ann_path = meta_path.keys_from(&["annotations", IGNORE_ANNOTATION]);
            let Some(value) = obj.root.at_path(&ann_path).and_then(|n| n.as_str()) else {
                continue;
            };
            let loc = obj.locate(&ann_path);
            for parsed in parse_annotation(value) {
                match parsed {
                    Ok(sup) => sites.entry(i).or_default().push(Site {
                        sup,
                        object: i,
                        scope: scope.clone(),
                        file: loc.file.clone(),
                        line: loc.line,
                        used: false,
                    }),
                    Err(e) => notices.push(SuppressionNotice {
                        kind: NoticeKind::Invalid,
                        file: loc.file.clone(),
                        line: loc.line,
                        message: format!("{IGNORE_ANNOTATION} on {}: {e}", obj.resource_ref()),
                    }),
                }
            }
        }
    }
    sites
}

fn starts_with(path: &Path, prefix: &Path) -> bool {
    path.0.len() >= prefix.0.len() && path.0.iter().zip(&prefix.0).all(|(a, b)| a == b)
}

/// Applies every suppression to `raw` findings and fills `report`.
pub(crate) fn apply(
    engine: &Engine,
    config: &Config,
    cx: &Context<'_>,
    mut raw: Vec<RawFinding>,
    baseline: Option<&Baseline>,
    report: &mut Report,
) {
    let today = Date::today();
    let mut notices = Vec::new();
    let objects = cx.objects;
    let mut sites = annotation_sites(cx, &mut notices);
    let mut ex_used = vec![false; config.exceptions.len()];
    let mut base_used: BTreeMap<&str, bool> = baseline
        .map(|b| b.entries.keys().map(|k| (k.as_str(), false)).collect())
        .unwrap_or_default();

    report.findings.reserve(raw.len());
    // Locations and fingerprints depend on nothing but the finding: work
    // them out in parallel (order kept), then suppress in order.
    let finished: Vec<Finding> = raw
        .par_iter_mut()
        .map(|r| {
            let message = std::mem::take(&mut r.message);
            engine.finish_ref(objects, r, message)
        })
        .collect();
    for (r, finding) in raw.into_iter().zip(finished) {
        let rule = r.meta.id;
        // 1. annotations
        let mut by: Option<SuppressedBy> = None;
        if let Some(list) = sites.get_mut(&r.object) {
            for s in list.iter_mut() {
                let rule_ok = s.sup.rules.iter().any(|x| x == "*" || x == rule);
                let container_ok = s
                    .sup
                    .container
                    .as_ref()
                    .is_none_or(|c| r.container.as_deref() == Some(c.as_str()));
                if rule_ok && container_ok && starts_with(&r.path, &s.scope) && s.object == r.object
                {
                    s.used = true;
                    if s.sup.expires.is_none_or(|d| d >= today) {
                        by = Some(SuppressedBy::Annotation {
                            reason: s.sup.reason.clone(),
                        });
                        break;
                    }
                }
            }
        }
        // 2. config exceptions
        if by.is_none() {
            let obj = &objects[r.object];
            for (i, ex) in config.exceptions.iter().enumerate() {
                if ex.matches(rule, obj.namespace.as_deref(), &obj.kind, &obj.name) {
                    ex_used[i] = true;
                    if ex.expires.is_none_or(|d| d >= today) {
                        by = Some(SuppressedBy::Config {
                            reason: ex.reason.clone(),
                            line: ex.line,
                        });
                        break;
                    }
                }
            }
        }
        // 3. baseline
        if by.is_none()
            && let Some(used) = base_used.get_mut(finding.fingerprint.as_str())
        {
            *used = true;
            by = Some(SuppressedBy::Baseline);
        }
        match by {
            Some(suppressed_by) => report.suppressed.push(Suppressed {
                finding,
                suppressed_by,
            }),
            None => report.findings.push(finding),
        }
    }

    for s in sites.into_values().flatten() {
        let what = format!("{IGNORE_ANNOTATION} {}", s.sup.rules.join(","));
        if let Some(d) = s.sup.expires.filter(|d| *d < today) {
            notices.push(SuppressionNotice {
                kind: NoticeKind::Expired,
                file: s.file,
                line: s.line,
                message: format!("{what} expired on {d}; its findings are reported again"),
            });
        } else if !s.used {
            notices.push(SuppressionNotice {
                kind: NoticeKind::Unmatched,
                file: s.file,
                line: s.line,
                message: format!("{what} matches no finding; remove it"),
            });
        }
    }
    for (ex, used) in config.exceptions.iter().zip(ex_used) {
        if let Some(d) = ex.expires.filter(|d| *d < today) {
            notices.push(SuppressionNotice {
                kind: NoticeKind::Expired,
                file: config.file.clone(),
                line: ex.line,
                message: format!(
                    "exception {} expired on {d}; its findings are reported again",
                    ex.describe()
                ),
            });
        } else if !used {
            notices.push(SuppressionNotice {
                kind: NoticeKind::Unmatched,
                file: config.file.clone(),
                line: ex.line,
                message: format!("exception {} matches no finding; remove it", ex.describe()),
            });
        }
    }
    let stale: Vec<&str> = base_used
        .iter()
        .filter(|(_, u)| !**u)
        .map(|(k, _)| *k)
        .collect();
    if !stale.is_empty() {
        let examples: Vec<&str> = stale
            .iter()
            .take(3)
            .filter_map(|k| baseline.and_then(|b| b.entries.get(*k)).map(String::as_str))
            .collect();
        notices.push(SuppressionNotice {
            kind: NoticeKind::Unmatched,
            file: "baseline".into(),
            line: 0,
            message: format!(
                "{} baseline entr{} no longer match a finding (fixed?), e.g. {}; rewrite it with --write-baseline",
                stale.len(),
                if stale.len() == 1 { "y" } else { "ies" },
                examples.join("; ")
            ),
        });
    }
    report.notices = notices;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_with_all_options() {
        let v = parse_annotation(
            "PLS-POD-001,PLS-POD-004 container=server reason=needs NET_ADMIN for the CNI expires=2027-01-31",
        );
        let s = v[0].as_ref().unwrap();
        assert_eq!(s.rules, ["PLS-POD-001", "PLS-POD-004"]);
        assert_eq!(s.container.as_deref(), Some("server"));
        assert_eq!(s.reason, "needs NET_ADMIN for the CNI");
        assert_eq!(s.expires.unwrap().to_string(), "2027-01-31");
    }

    #[test]
    fn several_suppressions_and_errors() {
        let v = parse_annotation("PLS-A-1 reason=a; PLS-B-2 reason=b\nPLS-C-3");
        assert_eq!(v.len(), 3);
        assert!(v[0].is_ok() && v[1].is_ok());
        assert_eq!(v[2], Err(AnnotationError::NoReason));
        assert_eq!(
            parse_annotation("reason=x")[0],
            Err(AnnotationError::NoRules)
        );
        assert!(matches!(
            parse_annotation("PLS-A-1 reason=x expires=soon")[0],
            Err(AnnotationError::BadDate(_))
        ));
        assert!(matches!(
            parse_annotation("KSV-0017 reason=x")[0],
            Err(AnnotationError::BadRule(_))
        ));
    }

    #[test]
    fn reason_may_contain_equals_signs_not_keys() {
        let v = parse_annotation("PLS-A-1 reason=ratio=2 is fine");
        assert_eq!(v[0].as_ref().unwrap().reason, "ratio=2 is fine");
    }
}

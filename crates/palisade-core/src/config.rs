//! `palisade.yaml`: rule selection, severity overrides, image policy and
//! exceptions. Parsed in two steps (cargo-deny style): read with positions,
//! then validated into types that cannot be wrong; every mistake points at
//! its line in the file.
//!
//! ```yaml
//! rules:
//!   disable: [PLS-RES-005]
//!   severity: {PLS-IMG-002: low}
//! images:
//!   allowedRegistries: [registry.example.com, ghcr.io/acme]
//! exceptions:
//!   - rules: [PLS-POD-001]          # or ["*"]
//!     namespace: "gpu-*"            # globs; all optional, at least one
//!     kind: DaemonSet
//!     name: "nvidia-*"
//!     reason: the device plugin needs privileged access   # required
//!     expires: 2027-01-31           # optional
//! customRules:                      # CEL rules; see `CustomRule`
//!   - id: ACME-001
//!     title: Deployments run at least two replicas
//!     severity: medium
//!     match: {kinds: [Deployment]}
//!     expression: "has(object.spec.replicas) && object.spec.replicas >= 2"
//!     message: a single replica is an outage on every node drain
//! ```

use crate::finding::Severity;
use crate::node::{Node, Pos, Value};
use crate::yaml;
use globset::{Glob, GlobMatcher};
use std::collections::BTreeMap;

/// A mistake in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
#[non_exhaustive]
pub struct ConfigError {
    /// The configuration file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// What is wrong.
    pub message: String,
}

/// A calendar date (`YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month 1–12.
    pub month: u8,
    /// Day 1–31.
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD`, checking that the day exists.
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.trim().splitn(3, '-');
        let (y, m, d) = (it.next()?, it.next()?, it.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
        let d = time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
        Some(Date {
            year: d.year(),
            month: u8::from(d.month()),
            day: d.day(),
        })
    }

    /// Today, in UTC.
    pub fn today() -> Date {
        let d = time::OffsetDateTime::now_utc().date();
        Date {
            year: d.year(),
            month: u8::from(d.month()),
            day: d.day(),
        }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An exception: findings of `rules` on objects matching the globs are
/// suppressed, with a reason, until `expires`.
#[derive(Debug, Clone)]
pub struct Exception {
    /// Rule IDs, or `*`.
    pub rules: Vec<String>,
    /// Namespace glob.
    pub namespace: Option<GlobMatcher>,
    /// Kind glob.
    pub kind: Option<GlobMatcher>,
    /// Name glob.
    pub name: Option<GlobMatcher>,
    /// Why.
    pub reason: String,
    /// Last day it applies.
    pub expires: Option<Date>,
    /// Line in the configuration file.
    pub line: u32,
}

impl Exception {
    /// Whether this exception covers a finding of `rule` on the object.
    pub fn matches(&self, rule: &str, namespace: Option<&str>, kind: &str, name: &str) -> bool {
        let rule_ok = self.rules.iter().any(|r| r == "*" || r == rule);
        let g = |m: &Option<GlobMatcher>, v: &str| m.as_ref().is_none_or(|m| m.is_match(v));
        rule_ok
            && g(&self.namespace, namespace.unwrap_or(""))
            && g(&self.kind, kind)
            && g(&self.name, name)
    }

    /// A short description for notices.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("rules={}", self.rules.join(","))];
        for (k, m) in [
            ("namespace", &self.namespace),
            ("kind", &self.kind),
            ("name", &self.name),
        ] {
            if let Some(m) = m {
                parts.push(format!("{k}={}", m.glob().glob()));
            }
        }
        parts.join(" ")
    }
}

/// The validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from (for notices).
    pub file: String,
    /// Disabled rule IDs.
    pub disabled: Vec<String>,
    /// Severity overrides.
    pub severity: BTreeMap<String, Severity>,
    /// Registries images may come from (empty: no policy). A registry entry
    /// matches an image whose name starts with it followed by `/`, or equals it.
    pub allowed_registries: Vec<String>,
    /// Exceptions.
    pub exceptions: Vec<Exception>,
    /// Default severity threshold for the exit code.
    pub severity_threshold: Option<Severity>,
    /// User rules written in CEL (compiled by `palisade-rules`).
    pub custom_rules: Vec<CustomRule>,
}

/// A text from the configuration and where it was written (the value's
/// position), so errors inside it can point at the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned {
    /// The text.
    pub text: String,
    /// 1-based line of the value.
    pub line: u32,
    /// 1-based column of the value.
    pub col: u32,
}

/// A custom rule from `customRules`: a CEL expression evaluated against
/// every matching object, with the variables of a ValidatingAdmissionPolicy
/// (`object`, `oldObject` = null, `request`, `namespaceObject`). Like a
/// ValidatingAdmissionPolicy validation, the rule **fires when the
/// expression is false** (or cannot be evaluated, e.g. a missing field read
/// without `has()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRule {
    /// Rule ID, e.g. `ACME-001` (upper case, at least one `-`; `PLS-` is reserved).
    pub id: String,
    /// Short title.
    pub title: String,
    /// Severity (default medium).
    pub severity: Severity,
    /// Message of a finding (default: the title).
    pub message: Option<String>,
    /// A CEL expression giving the message (a string), evaluated like the
    /// rule's expression.
    pub message_expression: Option<Spanned>,
    /// How to fix.
    pub remediation: String,
    /// Kinds matched (`*` or empty: every kind).
    pub kinds: Vec<String>,
    /// API groups matched (`*` or empty: every group; `""` is core).
    pub api_groups: Vec<String>,
    /// The expression that must hold.
    pub expression: Spanned,
    /// JSON path the finding points at (default: the object).
    pub path: Option<String>,
    /// Line of the rule in the file.
    pub line: u32,
}

fn is_custom_rule_id(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    !s.starts_with("PLS-")
        && s.len() <= 64
        && first.starts_with(|c: char| c.is_ascii_uppercase())
        && s.contains('-')
        && s.split('-').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
}

fn custom_rule_ids(root: &Node) -> Vec<String> {
    root.get("customRules")
        .map_or(&[][..], Node::items)
        .iter()
        .filter_map(|r| r.get("id").and_then(Node::as_str))
        .filter(|id| is_custom_rule_id(id))
        .map(str::to_owned)
        .collect()
}

fn parse_custom_rule(cx: &Ctx<'_>, item: &Node) -> Result<CustomRule, ConfigError> {
    let spanned = |n: &Node, what: &str| -> Result<Spanned, ConfigError> {
        Ok(Spanned {
            text: cx.string(n, what)?,
            line: n.pos.line,
            col: n.pos.col,
        })
    };
    let mut id = None;
    let mut title = None;
    let mut severity = Severity::Medium;
    let mut message = None;
    let mut message_expression = None;
    let mut remediation = String::new();
    let mut kinds = Vec::new();
    let mut api_groups = Vec::new();
    let mut expression = None;
    let mut path = None;
    for e in cx.map(item, "a custom rule")? {
        match e.key.as_str() {
            "id" => {
                let v = cx.string(&e.value, "id")?;
                if !is_custom_rule_id(&v) {
                    return Err(cx.err(
                        e.value.pos,
                        format!("custom rule id {v:?} must be upper-case words joined by `-` (e.g. ACME-001); `PLS-` is reserved for built-in rules"),
                    ));
                }
                id = Some(v);
            }
            "title" => title = Some(cx.string(&e.value, "title")?),
            "severity" => {
                let v = cx.string(&e.value, "severity")?;
                severity = v
                    .parse::<Severity>()
                    .map_err(|err| cx.err(e.value.pos, err.to_string()))?;
            }
            "message" => message = Some(cx.string(&e.value, "message")?),
            "messageExpression" => {
                message_expression = Some(spanned(&e.value, "messageExpression")?);
            }
            "remediation" => remediation = cx.string(&e.value, "remediation")?,
            "expression" => expression = Some(spanned(&e.value, "expression")?),
            "path" => path = Some(cx.string(&e.value, "path")?),
            "match" => {
                for m in cx.map(&e.value, "match")? {
                    match m.key.as_str() {
                        "kinds" => kinds = cx.strings(&m.value, "match.kinds")?,
                        "apiGroups" => api_groups = cx.strings(&m.value, "match.apiGroups")?,
                        other => {
                            return Err(cx.err(
                                m.key_pos,
                                format!("unknown key match.{other} (expected kinds, apiGroups)"),
                            ));
                        }
                    }
                }
            }
            other => {
                return Err(cx.err(
                    e.key_pos,
                    format!("unknown key {other:?} in custom rule (expected id, title, severity, message, messageExpression, remediation, match, expression, path)"),
                ));
            }
        }
    }
    let id = id.ok_or_else(|| cx.err(item.pos, "custom rule needs an `id`"))?;
    let expression = expression
        .ok_or_else(|| cx.err(item.pos, format!("custom rule {id} needs an `expression`")))?;
    Ok(CustomRule {
        title: title.unwrap_or_else(|| format!("custom rule {id}")),
        id,
        severity,
        message,
        message_expression,
        remediation,
        kinds,
        api_groups,
        expression,
        path,
        line: item.pos.line,
    })
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, pos: Pos, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            line: pos.line,
            col: pos.col,
            message: message.into(),
        }
    }

    fn string(&self, n: &Node, what: &str) -> Result<String, ConfigError> {
        match &n.value {
            Value::Scalar(s) => Ok(s.text.to_string()),
            _ => Err(self.err(n.pos, format!("{what} must be a string"))),
        }
    }

    fn strings(&self, n: &Node, what: &str) -> Result<Vec<String>, ConfigError> {
        match &n.value {
            Value::Seq(items) => items.iter().map(|i| self.string(i, what)).collect(),
            Value::Scalar(_) => Ok(vec![self.string(n, what)?]),
            Value::Null => Ok(Vec::new()),
            Value::Map(_) => Err(self.err(n.pos, format!("{what} must be a list of strings"))),
        }
    }

    fn map<'n>(&self, n: &'n Node, what: &str) -> Result<&'n [crate::node::Entry], ConfigError> {
        match &n.value {
            Value::Map(e) => Ok(e),
            Value::Null => Ok(&[]),
            _ => Err(self.err(n.pos, format!("{what} must be a mapping"))),
        }
    }

    fn glob(&self, n: &Node, what: &str) -> Result<GlobMatcher, ConfigError> {
        let s = self.string(n, what)?;
        Glob::new(&s)
            .map(|g| g.compile_matcher())
            .map_err(|e| self.err(n.pos, format!("{what}: invalid glob {s:?}: {e}")))
    }
}

fn is_rule_id(s: &str) -> bool {
    s.starts_with("PLS-") && s.len() > 4
}

impl Config {
    /// Parses and validates a configuration text. `known_rule` says whether a
    /// rule ID exists, so that typos are caught.
    pub fn parse(
        file: &str,
        text: &str,
        known_rule: &dyn Fn(&str) -> bool,
    ) -> Result<Config, ConfigError> {
        let cx = Ctx { file };
        let root = yaml::parse_one(text).map_err(|e| ConfigError {
            file: file.to_owned(),
            line: e.line,
            col: e.col,
            message: format!("YAML error: {}", e.message),
        })?;
        let mut cfg = Config {
            file: file.to_owned(),
            ..Config::default()
        };
        let Some(root) = root else { return Ok(cfg) };
        // Custom rule IDs may be disabled, re-rated and excepted like built-in ones.
        let custom_ids = custom_rule_ids(&root);
        let check_rule = |n: &Node, id: &str, allow_star: bool| -> Result<(), ConfigError> {
            if (allow_star && id == "*")
                || (is_rule_id(id) && known_rule(id))
                || custom_ids.iter().any(|c| c == id)
            {
                Ok(())
            } else {
                Err(cx.err(n.pos, format!("unknown rule {id:?} (see `palisade rules`)")))
            }
        };
        for top in cx.map(&root, "the configuration")? {
            match top.key.as_str() {
                "rules" => {
                    for e in cx.map(&top.value, "rules")? {
                        match e.key.as_str() {
                            "disable" => {
                                for (i, id) in cx
                                    .strings(&e.value, "rules.disable")?
                                    .into_iter()
                                    .enumerate()
                                {
                                    let n = e.value.items().get(i).unwrap_or(&e.value);
                                    check_rule(n, &id, false)?;
                                    cfg.disabled.push(id);
                                }
                            }
                            "severity" => {
                                for s in cx.map(&e.value, "rules.severity")? {
                                    check_rule(&Node::null(s.key_pos), &s.key, false)?;
                                    let v = cx.string(&s.value, "a severity")?;
                                    let sev = v
                                        .parse::<Severity>()
                                        .map_err(|err| cx.err(s.value.pos, err.to_string()))?;
                                    cfg.severity.insert(s.key.to_string(), sev);
                                }
                            }
                            other => {
                                return Err(cx.err(
                                    e.key_pos,
                                    format!(
                                        "unknown key rules.{other} (expected disable, severity)"
                                    ),
                                ));
                            }
                        }
                    }
                }
                "images" => {
                    for e in cx.map(&top.value, "images")? {
                        match e.key.as_str() {
                            "allowedRegistries" => {
                                cfg.allowed_registries = cx
                                    .strings(&e.value, "images.allowedRegistries")?
                                    .into_iter()
                                    .map(|r| r.trim_end_matches('/').to_owned())
                                    .collect();
                            }
                            other => {
                                return Err(cx.err(
                                    e.key_pos,
                                    format!(
                                        "unknown key images.{other} (expected allowedRegistries)"
                                    ),
                                ));
                            }
                        }
                    }
                }
                "severityThreshold" => {
                    let v = cx.string(&top.value, "severityThreshold")?;
                    cfg.severity_threshold = Some(
                        v.parse::<Severity>()
                            .map_err(|err| cx.err(top.value.pos, err.to_string()))?,
                    );
                }
                "customRules" => {
                    let Some(items) = top.value.as_seq() else {
                        return Err(cx.err(top.value.pos, "customRules must be a list"));
                    };
                    for item in items {
                        let rule = parse_custom_rule(&cx, item)?;
                        if cfg.custom_rules.iter().any(|r| r.id == rule.id) {
                            return Err(cx.err(
                                item.pos,
                                format!("custom rule id {} is used twice", rule.id),
                            ));
                        }
                        cfg.custom_rules.push(rule);
                    }
                }
                "exceptions" => {
                    let Some(items) = top.value.as_seq() else {
                        return Err(cx.err(top.value.pos, "exceptions must be a list"));
                    };
                    for item in items {
                        cfg.exceptions
                            .push(parse_exception(&cx, item, &check_rule)?);
                    }
                }
                // Read by `palisade secrets` (palisade_secrets::policy::PolicySet).
                "secrets" => {}
                other => {
                    return Err(cx.err(
                        top.key_pos,
                        format!("unknown key {other:?} (expected rules, images, exceptions, severityThreshold, customRules, secrets)"),
                    ));
                }
            }
        }
        Ok(cfg)
    }
}

fn parse_exception(
    cx: &Ctx<'_>,
    item: &Node,
    check_rule: &dyn Fn(&Node, &str, bool) -> Result<(), ConfigError>,
) -> Result<Exception, ConfigError> {
    let mut ex = Exception {
        rules: Vec::new(),
        namespace: None,
        kind: None,
        name: None,
        reason: String::new(),
        expires: None,
        line: item.pos.line,
    };
    for e in cx.map(item, "an exception")? {
        match e.key.as_str() {
            "rules" | "rule" => {
                let ids = cx.strings(&e.value, "rules")?;
                for (i, id) in ids.iter().enumerate() {
                    check_rule(e.value.items().get(i).unwrap_or(&e.value), id, true)?;
                }
                ex.rules = ids;
            }
            "namespace" => ex.namespace = Some(cx.glob(&e.value, "namespace")?),
            "kind" => ex.kind = Some(cx.glob(&e.value, "kind")?),
            "name" => ex.name = Some(cx.glob(&e.value, "name")?),
            "reason" => cx
                .string(&e.value, "reason")?
                .trim()
                .clone_into(&mut ex.reason),
            "expires" => {
                let v = cx.string(&e.value, "expires")?;
                ex.expires = Some(Date::parse(&v).ok_or_else(|| {
                    cx.err(
                        e.value.pos,
                        format!("expires: {v:?} is not a date (YYYY-MM-DD)"),
                    )
                })?);
            }
            other => {
                return Err(cx.err(
                    e.key_pos,
                    format!("unknown key {other:?} in exception (expected rules, namespace, kind, name, reason, expires)"),
                ));
            }
        }
    }
    if ex.rules.is_empty() {
        return Err(cx.err(item.pos, "exception needs `rules` (rule IDs or \"*\")"));
    }
    if ex.reason.is_empty() {
        return Err(cx.err(item.pos, "exception needs a `reason`"));
    }
    if ex.namespace.is_none()
        && ex.kind.is_none()
        && ex.name.is_none()
        && ex.rules.iter().any(|r| r == "*")
    {
        return Err(cx.err(
            item.pos,
            "exception for every rule must name a namespace, kind or name (use rules.disable to turn rules off)",
        ));
    }
    Ok(ex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(id: &str) -> bool {
        id != "PLS-NOPE-001"
    }

    #[test]
    fn parses_a_full_config() {
        let c = Config::parse(
            "p.yaml",
            "rules:\n  disable: [PLS-RES-005]\n  severity: {PLS-IMG-002: low}\nimages:\n  allowedRegistries: [ghcr.io/acme/]\nexceptions:\n- rules: [PLS-POD-001]\n  namespace: gpu-*\n  reason: device plugin\n  expires: 2027-01-31\n",
            &known,
        )
        .unwrap();
        assert_eq!(c.disabled, ["PLS-RES-005"]);
        assert_eq!(c.severity["PLS-IMG-002"], Severity::Low);
        assert_eq!(c.allowed_registries, ["ghcr.io/acme"]);
        let e = &c.exceptions[0];
        assert!(e.matches("PLS-POD-001", Some("gpu-a"), "DaemonSet", "x"));
        assert!(!e.matches("PLS-POD-001", Some("llm"), "DaemonSet", "x"));
        assert_eq!(e.expires.unwrap().to_string(), "2027-01-31");
        assert_eq!(e.line, 7);
    }

    #[test]
    fn custom_rules_are_read_with_positions() {
        let c = Config::parse(
            "p.yaml",
            "rules:\n  severity: {ACME-001: high}\ncustomRules:\n- id: ACME-001\n  title: two replicas\n  match: {kinds: [Deployment], apiGroups: [apps]}\n  expression: object.spec.replicas >= 2\nexceptions:\n- rules: [ACME-001]\n  name: canary\n  reason: one is enough\n",
            &known,
        )
        .unwrap();
        let r = &c.custom_rules[0];
        assert_eq!((r.id.as_str(), r.line), ("ACME-001", 4));
        assert_eq!((r.expression.line, r.expression.col), (7, 15));
        assert_eq!(r.kinds, ["Deployment"]);
        assert_eq!(c.severity["ACME-001"], Severity::High);
        let err = |t: &str| Config::parse("p.yaml", t, &known).unwrap_err();
        let e = err("customRules:\n- id: PLS-POD-900\n  expression: 'true'\n");
        assert_eq!(e.line, 2, "{e}");
        let e = err("customRules:\n- id: ACME-1\n  title: x\n");
        assert!(e.message.contains("needs an `expression`"), "{e}");
        let e = err(
            "customRules:\n- {id: ACME-1, expression: 'true'}\n- {id: ACME-1, expression: 'true'}\n",
        );
        assert!(e.message.contains("twice"), "{e}");
    }

    #[test]
    fn errors_point_at_lines() {
        let err = |t: &str| Config::parse("p.yaml", t, &known).unwrap_err();
        let e = err("rules:\n  disable: [PLS-NOPE-001]\n");
        assert_eq!((e.line, e.message.contains("unknown rule")), (2, true));
        let e = err("exceptions:\n- rules: [PLS-POD-001]\n  name: x\n");
        assert!(e.message.contains("reason"), "{e}");
        let e = err("exceptions:\n- rules: [PLS-POD-001]\n  reason: r\n  expires: 2027-02-30\n");
        assert_eq!(e.line, 4);
        let e = err("colour: red\n");
        assert!(e.message.contains("unknown key"));
        let e = err("rules:\n  severity: {PLS-POD-001: severe}\n");
        assert_eq!(e.line, 2);
    }
}

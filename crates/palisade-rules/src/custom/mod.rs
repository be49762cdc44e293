//! Rules written by users in CEL, the expression language of Kubernetes'
//! own ValidatingAdmissionPolicy: `customRules` in `palisade.yaml`
//! ([`from_config`]) and existing `admissionregistration.k8s.io/v1`
//! ValidatingAdmissionPolicy objects evaluated offline ([`vap::from_objects`]).
//!
//! Both become a [`CelRule`]: a matcher, optional match conditions,
//! variables and validations. As in admission, a validation that is
//! **false** is a violation, and so is one that cannot be evaluated (reading
//! a missing field without `has()`, a type error) under the default
//! `failurePolicy: Fail`; with `failurePolicy: Ignore` such objects are
//! skipped.
//!
//! The variables are those of a ValidatingAdmissionPolicy for a CREATE
//! request: `object`, `oldObject` (null), `request` (operation `CREATE`,
//! kind, resource, name, namespace, a `palisade` user), `namespaceObject`
//! (the Namespace object when it was loaded, else null), `params` (null) and
//! `variables`. `authorizer` is not available offline. The CEL library is
//! the `cel` crate's standard library with its strings, lists and math
//! extensions; the Kubernetes-specific libraries (quantity, URL, IP/CIDR,
//! `isSorted`, authorizer) are not implemented.

pub mod vap;

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use cel::objects::{Key, Map};
use cel::{Context as CelContext, Env, Program, Value as Cel};
use palisade_core::config::{Config, CustomRule, Spanned};
use palisade_core::node::Value;
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// A CEL expression that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {rule}: {what} does not compile: {message}")]
#[non_exhaustive]
pub struct CelError {
    /// The file the expression is written in.
    pub file: String,
    /// 1-based line in that file.
    pub line: u32,
    /// 1-based column in that file (best effort for block scalars).
    pub col: u32,
    /// The rule (custom rule ID, or policy name).
    pub rule: String,
    /// Which expression (`expression`, `validations[1].expression`...).
    pub what: String,
    /// The parser's message, with the position inside the expression.
    pub message: String,
}

/// The CEL environment shared by every rule: the standard library and the
/// strings, lists and math extensions.
pub(crate) fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        // Extensions register fresh overloads on a fresh Env; failure is a
        // bug in the crate, not input, and the stdlib still works without them.
        let _ = env.add_extension(cel::extensions::strings);
        let _ = env.add_extension(cel::extensions::lists);
        let _ = env.add_extension(cel::extensions::math);
        Arc::new(env)
    })
    .clone()
}

/// Where an expression is written, for errors.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) file: String,
    pub(crate) rule: String,
    pub(crate) what: String,
    pub(crate) line: u32,
    pub(crate) col: u32,
}

/// Compiles `source`, turning a parse error into a [`CelError`] that points
/// into the file: the expression's own line and column are added to where
/// its value starts.
pub(crate) fn compile(source: &str, at: &Origin) -> Result<Program, CelError> {
    env().compile(source).map_err(|e| {
        let first = e.errors.first();
        let (l, c) = first.map_or((1, 0), |e| e.pos);
        let l = u32::try_from(l.max(1)).unwrap_or(1);
        let c = u32::try_from(c.max(0)).unwrap_or(0);
        // A value on one line: the column is the value's plus the offset
        // (plus the opening quote when quoted, which we cannot tell: best
        // effort). A block scalar starts on the next line.
        let (line, col) = if l == 1 {
            (at.line, at.col + c)
        } else {
            (at.line + l - 1, c + 1)
        };
        let message = first.map_or_else(
            || e.to_string(),
            |f| format!("{} (at {}:{} of the expression)", f.msg, l, c + 1),
        );
        CelError {
            file: at.file.clone(),
            line,
            col,
            rule: at.rule.clone(),
            what: at.what.clone(),
            message,
        }
    })
}

/// What a rule applies to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Matcher {
    /// Kinds (empty or `*`: any).
    pub(crate) kinds: Vec<String>,
    /// API groups (empty or `*`: any).
    pub(crate) api_groups: Vec<String>,
    /// For policies: resource rules and exclusions (see [`vap`]).
    pub(crate) resource_rules: Vec<vap::ResourceRule>,
    pub(crate) exclude_rules: Vec<vap::ResourceRule>,
    pub(crate) namespace_selector: Option<Node>,
    pub(crate) object_selector: Option<Node>,
}

impl Matcher {
    fn matches(&self, obj: &Object, cx: &Context<'_>) -> bool {
        let any =
            |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == "*" || x == v);
        if !any(&self.kinds, &obj.kind) || !any(&self.api_groups, obj.group()) {
            return false;
        }
        if !self.resource_rules.is_empty() && !self.resource_rules.iter().any(|r| r.matches(obj)) {
            return false;
        }
        if self.exclude_rules.iter().any(|r| r.matches(obj)) {
            return false;
        }
        if let Some(sel) = &self.object_selector
            && !palisade_k8s::selector::is_empty(Some(sel))
            && palisade_k8s::selector::matches(sel, &|k| obj.label(k), &|k| k.to_owned())
                != Some(true)
        {
            return false;
        }
        if let Some(sel) = &self.namespace_selector
            && !palisade_k8s::selector::is_empty(Some(sel))
        {
            // Cluster-scoped objects are not subject to a namespace selector.
            let Some(ns) = obj
                .namespace
                .as_deref()
                .or_else(|| (!vap::is_cluster_scoped(obj)).then_some("default"))
            else {
                return true;
            };
            let ns_obj = namespace_object(cx, ns);
            let label = |k: &str| -> Option<&str> {
                if k == "kubernetes.io/metadata.name" {
                    return Some(ns);
                }
                ns_obj.and_then(|n| n.label(k))
            };
            if palisade_k8s::selector::matches(sel, &label, &|k| k.to_owned()) != Some(true) {
                return false;
            }
        }
        true
    }
}

fn namespace_object<'a>(cx: &Context<'a>, ns: &str) -> Option<&'a Object> {
    cx.of_kind("Namespace")
        .find(|n| n.group().is_empty() && n.name == ns)
}

/// A compiled expression and its source text.
#[derive(Debug)]
pub(crate) struct Expr {
    pub(crate) program: Program,
    pub(crate) source: String,
}

impl std::fmt::Debug for CelRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelRule")
            .field("id", &self.meta.id)
            .finish_non_exhaustive()
    }
}

/// One validation.
#[derive(Debug)]
pub(crate) struct Validation {
    pub(crate) expr: Expr,
    pub(crate) message: Option<String>,
    pub(crate) message_expression: Option<Expr>,
}

/// A rule whose checks are CEL expressions.
pub struct CelRule {
    pub(crate) meta: &'static RuleMeta,
    pub(crate) matcher: Matcher,
    pub(crate) conditions: Vec<(String, Expr)>,
    pub(crate) variables: Vec<(String, Expr)>,
    pub(crate) validations: Vec<Validation>,
    /// `failurePolicy: Ignore`: evaluation errors skip the object.
    pub(crate) ignore_errors: bool,
    pub(crate) path: Path,
    /// The message prefix (a policy names itself in its messages).
    pub(crate) prefix: String,
}

/// Rule metadata built at run time lives as long as the process (one per
/// custom rule or policy, read once at start-up).
pub(crate) fn leak_meta(
    id: &str,
    title: &str,
    severity: Severity,
    category: &str,
    rationale: &str,
    remediation: &str,
) -> &'static RuleMeta {
    let s = |t: &str| -> &'static str { Box::leak(t.to_owned().into_boxed_str()) };
    Box::leak(Box::new(RuleMeta {
        id: s(id),
        title: s(title),
        severity,
        category: s(category),
        rationale: s(rationale),
        remediation: s(remediation),
        references: References::NONE,
    }))
}

/// Node to CEL: typed scalars as the Kubernetes decoder reads them.
pub(crate) fn to_cel(n: &Node) -> Cel {
    match &n.value {
        Value::Null => Cel::Null,
        Value::Scalar(s) => {
            if !s.plain {
                return Cel::String(Arc::new(s.text.to_string()));
            }
            if n.is_null() {
                return Cel::Null;
            }
            if let Some(b) = n.as_bool() {
                return Cel::Bool(b);
            }
            if let Some(i) = n.as_i64() {
                return Cel::Int(i);
            }
            match n.to_json() {
                serde_json::Value::Number(f) if f.as_f64().is_some() => {
                    Cel::Float(f.as_f64().unwrap_or_default())
                }
                _ => Cel::String(Arc::new(s.text.to_string())),
            }
        }
        Value::Seq(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Map(entries) => {
            let map: HashMap<Key, Cel> = entries
                .iter()
                .map(|e| (Key::String(Arc::new(e.key.to_string())), to_cel(&e.value)))
                .collect();
            Cel::Map(Map { map: Arc::new(map) })
        }
    }
}

fn str_map(pairs: &[(&str, Cel)]) -> Cel {
    let map: HashMap<Key, Cel> = pairs
        .iter()
        .map(|(k, v)| (Key::String(Arc::new((*k).to_owned())), v.clone()))
        .collect();
    Cel::Map(Map { map: Arc::new(map) })
}

fn text(s: &str) -> Cel {
    Cel::String(Arc::new(s.to_owned()))
}

/// The `request` variable of a CREATE admission request for `obj`.
fn request(obj: &Object) -> Cel {
    let (group, version) = obj
        .api_version
        .split_once('/')
        .unwrap_or(("", obj.api_version.as_str()));
    let resource = vap::plural(&obj.kind);
    str_map(&[
        (
            "kind",
            str_map(&[
                ("group", text(group)),
                ("version", text(version)),
                ("kind", text(&obj.kind)),
            ]),
        ),
        (
            "resource",
            str_map(&[
                ("group", text(group)),
                ("version", text(version)),
                ("resource", text(&resource)),
            ]),
        ),
        ("name", text(&obj.name)),
        (
            "namespace",
            obj.namespace.as_deref().map_or(Cel::Null, text),
        ),
        ("operation", text("CREATE")),
        (
            "userInfo",
            str_map(&[
                ("username", text("palisade-offline")),
                (
                    "groups",
                    Cel::List(Arc::new(vec![text("system:authenticated")])),
                ),
            ]),
        ),
        ("dryRun", Cel::Bool(true)),
    ])
}

/// Evaluates to a boolean; `Err` holds a short reason.
fn eval_bool(e: &Expr, cx: &CelContext<'_, '_>) -> Result<bool, String> {
    match e.program.execute(cx) {
        Ok(Cel::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("it returned {other:?}, not a bool")),
        Err(err) => Err(err.to_string()),
    }
}

impl CelRule {
    /// The rule's message for a failed validation.
    fn message(&self, v: &Validation, cx: &CelContext<'_, '_>, error: Option<&str>) -> String {
        let base = if let Some(err) = error {
            format!("{} could not be evaluated ({err})", v.expr.source)
        } else if let Some(me) = &v.message_expression
            && let Ok(Cel::String(s)) = me.program.execute(cx)
            && !s.trim().is_empty()
        {
            s.to_string()
        } else if let Some(m) = &v.message {
            m.clone()
        } else {
            format!("failed expression: {}", v.expr.source)
        };
        format!("{}{base}", self.prefix)
    }
}

impl Rule for CelRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !self.matcher.matches(obj, cx) {
            return;
        }
        let mut ctx = CelContext::with_env(env());
        ctx.add_variable_from_value("object", to_cel(&obj.root));
        ctx.add_variable_from_value("oldObject", Cel::Null);
        ctx.add_variable_from_value("params", Cel::Null);
        ctx.add_variable_from_value("request", request(obj));
        // The Namespace the object lands in: the loaded one, else what the
        // API server would have (name and its automatic name label).
        let ns_name = obj
            .namespace
            .as_deref()
            .or_else(|| (!vap::is_cluster_scoped(obj)).then_some("default"));
        let ns_obj = ns_name.map_or(Cel::Null, |ns| match namespace_object(cx, ns) {
            Some(n) => to_cel(&n.root),
            None => str_map(&[
                ("apiVersion", text("v1")),
                ("kind", text("Namespace")),
                (
                    "metadata",
                    str_map(&[
                        ("name", text(ns)),
                        (
                            "labels",
                            str_map(&[("kubernetes.io/metadata.name", text(ns))]),
                        ),
                    ]),
                ),
            ]),
        });
        ctx.add_variable_from_value("namespaceObject", ns_obj);
        // Variables in order; later ones may read earlier ones. One that
        // fails is left out (admission evaluates them lazily, so it only
        // matters where it is read, which then fails in turn).
        let mut vars: HashMap<Key, Cel> = HashMap::new();
        ctx.add_variable_from_value(
            "variables",
            Cel::Map(Map {
                map: Arc::new(vars.clone()),
            }),
        );
        for (name, e) in &self.variables {
            if let Ok(v) = e.program.execute(&ctx) {
                vars.insert(Key::String(Arc::new(name.clone())), v);
                ctx.add_variable_from_value(
                    "variables",
                    Cel::Map(Map {
                        map: Arc::new(vars.clone()),
                    }),
                );
            }
        }
        for (name, c) in &self.conditions {
            match eval_bool(c, &ctx) {
                Ok(true) => {}
                Ok(false) => return,
                Err(err) => {
                    if !self.ignore_errors {
                        out.report_keyed(
                            obj,
                            self.path.clone(),
                            &format!("matchCondition/{name}"),
                            format!(
                                "{}matchCondition {name:?} could not be evaluated ({err})",
                                self.prefix
                            ),
                        );
                    }
                    return;
                }
            }
        }
        for (i, v) in self.validations.iter().enumerate() {
            let msg = match eval_bool(&v.expr, &ctx) {
                Ok(true) => continue,
                Ok(false) => self.message(v, &ctx, None),
                Err(_) if self.ignore_errors => continue,
                Err(err) => self.message(v, &ctx, Some(&err)),
            };
            if self.validations.len() == 1 {
                out.report(obj, self.path.clone(), msg);
            } else {
                out.report_keyed(obj, self.path.clone(), &format!("validation/{i}"), msg);
            }
        }
    }
}

/// Compiles the `customRules` of a configuration. The file name is used in
/// error positions.
pub fn from_config(config: &Config) -> Result<Vec<Box<dyn Rule>>, CelError> {
    config
        .custom_rules
        .iter()
        .map(|r| compile_custom(&config.file, r).map(|r| Box::new(r) as Box<dyn Rule>))
        .collect()
}

fn compile_custom(file: &str, r: &CustomRule) -> Result<CelRule, CelError> {
    let origin = |what: &str, at: &Spanned| Origin {
        file: file.to_owned(),
        rule: format!("custom rule {}", r.id),
        what: what.to_owned(),
        line: at.line,
        col: at.col,
    };
    let expr = Expr {
        program: compile(&r.expression.text, &origin("expression", &r.expression))?,
        source: r.expression.text.trim().to_owned(),
    };
    let message_expression = match &r.message_expression {
        Some(m) => Some(Expr {
            program: compile(&m.text, &origin("messageExpression", m))?,
            source: m.text.trim().to_owned(),
        }),
        None => None,
    };
    let meta = leak_meta(
        &r.id,
        &r.title,
        r.severity,
        "custom",
        &format!(
            "Custom rule from {file} (line {}): `{}` must hold.",
            r.line, expr.source
        ),
        if r.remediation.is_empty() {
            "Change the object so that the rule's expression holds."
        } else {
            &r.remediation
        },
    );
    Ok(CelRule {
        meta,
        matcher: Matcher {
            kinds: r.kinds.clone(),
            api_groups: r.api_groups.clone(),
            ..Matcher::default()
        },
        conditions: Vec::new(),
        variables: Vec::new(),
        validations: vec![Validation {
            expr,
            message: Some(r.message.clone().unwrap_or_else(|| r.title.clone())),
            message_expression,
        }],
        ignore_errors: false,
        path: r.path.as_deref().map_or_else(Path::root, Path::keys),
        prefix: String::new(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Engine;
    use palisade_k8s::load::load_str;

    fn config(text: &str) -> Config {
        Config::parse("palisade.yaml", text, &|_| true).unwrap()
    }

    fn scan(cfg: &Config, manifests: &str) -> Vec<(String, String)> {
        let rules = from_config(cfg).unwrap();
        let engine = Engine::with_rules(rules, cfg.clone());
        let report = engine.scan(load_str("m.yaml", manifests), None);
        report
            .findings
            .into_iter()
            .map(|f| {
                (
                    f.rule.to_string(),
                    format!("{}: {}", f.resource.name, f.message),
                )
            })
            .collect()
    }

    const DEPLOYMENTS: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: one, namespace: a}\nspec:\n  replicas: 1\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: three, namespace: a}\nspec:\n  replicas: 3\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: unset, namespace: a}\nspec: {}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec: {}\n";

    #[test]
    fn a_custom_rule_fires_when_its_expression_is_false() {
        let cfg = config(
            "customRules:\n- id: ACME-001\n  title: at least two replicas\n  severity: high\n  match: {kinds: [Deployment], apiGroups: [apps]}\n  expression: object.spec.replicas >= 2\n  path: spec.replicas\n",
        );
        let found = scan(&cfg, DEPLOYMENTS);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0],
            ("ACME-001".into(), "one: at least two replicas".into())
        );
        // Reading a missing field fails the expression, as admission would.
        assert!(
            found[1]
                .1
                .starts_with("unset: object.spec.replicas >= 2 could not be evaluated"),
            "{found:?}"
        );
    }

    #[test]
    fn has_guards_and_message_expressions() {
        let cfg = config(
            "customRules:\n- id: ACME-002\n  match: {kinds: [Deployment]}\n  expression: '!has(object.spec.replicas) || object.spec.replicas >= 2'\n  messageExpression: \"'replicas is ' + string(object.spec.replicas)\"\n",
        );
        let found = scan(&cfg, DEPLOYMENTS);
        assert_eq!(found, [("ACME-002".into(), "one: replicas is 1".into())]);
    }

    #[test]
    fn macros_and_extensions_work_on_manifests() {
        let pods = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {team: ML}}\nspec:\n  containers:\n  - {name: a, image: 'ghcr.io/acme/a:1'}\n  - {name: b, image: 'docker.io/b:latest'}\n";
        let cfg = config(
            "customRules:\n- id: ACME-003\n  match: {kinds: [Pod]}\n  expression: object.spec.containers.all(c, c.image.startsWith('ghcr.io/acme/'))\n- id: ACME-004\n  match: {kinds: ['*']}\n  expression: object.metadata.labels.team.lowerAscii() == 'ml'\n- id: ACME-005\n  expression: object.spec.containers.exists(c, c.image.endsWith(':latest')) == false\n  match: {kinds: [Pod]}\n",
        );
        let found = scan(&cfg, pods);
        let ids: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(ids, ["ACME-003", "ACME-005"], "{found:?}");
    }

    #[test]
    fn bad_expressions_name_the_rule_and_the_line() {
        let cfg = config(
            "customRules:\n- id: ACME-009\n  title: broken\n  expression: object.spec.replicas >=\n",
        );
        let Err(err) = from_config(&cfg) else {
            panic!("compiled")
        };
        assert_eq!(err.line, 4, "{err}");
        assert!(err.to_string().starts_with("palisade.yaml:4:"), "{err}");
        assert!(err.to_string().contains("custom rule ACME-009"), "{err}");
        let cfg = config(
            "customRules:\n- id: ACME-010\n  expression: |\n    object.spec.replicas >= 2 &&\n    object.spec.(\n",
        );
        let Err(err) = from_config(&cfg) else {
            panic!("compiled")
        };
        assert_eq!(err.line, 5, "{err}");
    }

    #[test]
    fn yaml_typing_reaches_cel() {
        let n = palisade_core::yaml::parse_one("a: 1\nb: '1'\nc: true\nd: 1.5\ne: null\n")
            .unwrap()
            .unwrap();
        let Cel::Map(m) = to_cel(&n) else { panic!() };
        let get = |k: &str| {
            m.map
                .get(&Key::String(Arc::new(k.to_owned())))
                .unwrap()
                .clone()
        };
        assert_eq!(get("a"), Cel::Int(1));
        assert_eq!(get("b"), text("1"));
        assert_eq!(get("c"), Cel::Bool(true));
        assert_eq!(get("d"), Cel::Float(1.5));
        assert_eq!(get("e"), Cel::Null);
    }
}

//! `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy objects,
//! evaluated offline (`palisade scan --policy FILE`).
//!
//! Supported: `matchConstraints` (`resourceRules` and
//! `excludeResourceRules` by API group, version and plural resource name;
//! `namespaceSelector`, `objectSelector`), `matchConditions`, `variables`
//! (in order; later ones may read earlier ones), `validations` with
//! `message` or `messageExpression`, and `failurePolicy`. Each object is
//! evaluated as a CREATE request (rules whose `operations` leave CREATE out
//! do not apply). When the file also holds a ValidatingAdmissionPolicyBinding
//! for the policy, its `matchResources` selectors narrow the match and its
//! `validationActions` set the severity (Deny high, Warn medium, Audit low);
//! without one the policy is evaluated as if bound with Deny.
//!
//! Not supported, and said so: `paramKind`/`paramRef` (parameters live in the
//! cluster; such policies are skipped with a warning), `authorizer`,
//! `auditAnnotations` (ignored), the Kubernetes CEL libraries beyond the
//! `cel` crate's (see [`super`]). Each violated validation is a finding of
//! rule `VAP-<policy name>`.

use super::{CelError, CelRule, Expr, Matcher, Origin, Validation, compile, leak_meta};
use crate::context::is_cluster_scoped as cluster_scoped;
use palisade_core::{Node, Path, Severity};
use palisade_k8s::Object;

/// The lower-case plural resource name of a kind, as in `resourceRules`.
pub fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    match lower.as_str() {
        "endpoints" | "podsecuritypolicies" => lower,
        _ if lower.ends_with("ss") || lower.ends_with("sh") || lower.ends_with('x') => {
            format!("{lower}es")
        }
        _ if lower.ends_with('y')
            && !lower.ends_with("ay")
            && !lower.ends_with("ey")
            && !lower.ends_with("oy") =>
        {
            format!("{}ies", &lower[..lower.len() - 1])
        }
        _ => format!("{lower}s"),
    }
}

/// Whether a kind is cluster-scoped.
pub(crate) fn is_cluster_scoped(obj: &Object) -> bool {
    cluster_scoped(obj)
}

/// One entry of `resourceRules`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResourceRule {
    api_groups: Vec<String>,
    api_versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    resource_names: Vec<String>,
    scope: String,
}

impl ResourceRule {
    fn from_node(n: &Node) -> Self {
        let strs = |k: &str| -> Vec<String> {
            n.list(k)
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_owned)
                .collect()
        };
        Self {
            api_groups: strs("apiGroups"),
            api_versions: strs("apiVersions"),
            resources: strs("resources"),
            operations: strs("operations"),
            resource_names: strs("resourceNames"),
            scope: n
                .get("scope")
                .and_then(Node::as_str)
                .unwrap_or("*")
                .to_owned(),
        }
    }

    /// Whether a CREATE of `obj` matches this rule.
    pub(crate) fn matches(&self, obj: &Object) -> bool {
        let any = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
        let (group, version) = obj
            .api_version
            .split_once('/')
            .unwrap_or(("", obj.api_version.as_str()));
        let resource = plural(&obj.kind);
        let resource_ok = self.resources.iter().any(|r| {
            // Subresources (`deployments/scale`) are other requests.
            r == "*" || *r == resource || r == "*/*" || r.strip_suffix("/*") == Some(&resource)
        });
        let scope_ok = match self.scope.as_str() {
            "Cluster" => is_cluster_scoped(obj),
            "Namespaced" => !is_cluster_scoped(obj),
            _ => true,
        };
        let ops_ok = self.operations.is_empty() || any(&self.operations, "CREATE");
        any(&self.api_groups, group)
            && any(&self.api_versions, version)
            && resource_ok
            && ops_ok
            && scope_ok
            && (self.resource_names.is_empty() || self.resource_names.contains(&obj.name))
    }
}

/// The rules built from the policies among `objects`, and warnings about
/// policies skipped or features ignored.
#[derive(Default)]
pub struct Policies {
    /// One rule per policy.
    pub rules: Vec<Box<dyn crate::Rule>>,
    /// What was skipped or ignored, with file and line.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field("rules", &self.rules.len())
            .field("warnings", &self.warnings)
            .finish()
    }
}

fn loc(obj: &Object, n: &Node) -> (String, u32, u32) {
    (obj.source.file.to_string(), n.pos.line, n.pos.col)
}

/// Builds one rule per ValidatingAdmissionPolicy in `objects` (other
/// objects, bindings aside, are ignored).
pub fn from_objects(objects: &[Object]) -> Result<Policies, CelError> {
    let mut out = Policies::default();
    let bindings: Vec<&Object> = objects
        .iter()
        .filter(|o| {
            o.is(
                "admissionregistration.k8s.io",
                "ValidatingAdmissionPolicyBinding",
            )
        })
        .collect();
    for obj in objects {
        if obj.is(
            "admissionregistration.k8s.io",
            "ValidatingAdmissionPolicyBinding",
        ) {
            continue;
        }
        if !obj.is("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") {
            let (f, l, _) = loc(obj, &obj.root);
            out.warnings.push(format!(
                "{f}:{l}: {} {} is not a ValidatingAdmissionPolicy; ignored",
                obj.kind, obj.name
            ));
            continue;
        }
        if !obj.api_version.ends_with("/v1") {
            let (f, l, _) = loc(obj, &obj.root);
            out.warnings.push(format!(
                "{f}:{l}: policy {} is {}; read as admissionregistration.k8s.io/v1",
                obj.name, obj.api_version
            ));
        }
        let spec = obj.spec();
        if let Some(pk) = spec.entry("paramKind").filter(|e| !e.value.is_null()) {
            let (f, l) = (&obj.source.file, pk.key_pos.line);
            out.warnings.push(format!(
                "{f}:{l}: policy {} uses paramKind (parameters are read from the cluster), which offline evaluation does not support; skipped",
                obj.name
            ));
            continue;
        }
        if let Some(aa) = spec.entry("auditAnnotations") {
            let (f, l) = (&obj.source.file, aa.key_pos.line);
            out.warnings.push(format!(
                "{f}:{l}: policy {}: auditAnnotations are ignored offline",
                obj.name
            ));
        }
        let binding = bindings
            .iter()
            .copied()
            .find(|b| b.spec().get("policyName").and_then(Node::as_str) == Some(obj.name.as_str()));
        out.rules.push(Box::new(policy_rule(obj, binding)?));
    }
    Ok(out)
}

fn policy_rule(obj: &Object, binding: Option<&Object>) -> Result<CelRule, CelError> {
    let spec = obj.spec();
    let origin = |what: String, n: &Node| {
        let (file, line, col) = loc(obj, n);
        Origin {
            file,
            rule: format!("policy {}", obj.name),
            what,
            line,
            col,
        }
    };
    let expr = |what: String, n: &Node| -> Result<Expr, CelError> {
        let src = n.as_str().unwrap_or("");
        Ok(Expr {
            program: compile(src, &origin(what, n))?,
            source: src.trim().to_owned(),
        })
    };
    let mc = spec.get("matchConstraints").unwrap_or(Node::missing());
    let mut matcher = Matcher {
        resource_rules: mc
            .list("resourceRules")
            .iter()
            .map(ResourceRule::from_node)
            .collect(),
        exclude_rules: mc
            .list("excludeResourceRules")
            .iter()
            .map(ResourceRule::from_node)
            .collect(),
        namespace_selector: mc.get("namespaceSelector").cloned(),
        object_selector: mc.get("objectSelector").cloned(),
        ..Matcher::default()
    };
    if matcher.resource_rules.is_empty() {
        // A policy without resource rules matches nothing in a cluster.
        matcher.kinds = vec!["\u{0}none".into()];
    }
    let mut severity = Severity::High;
    if let Some(b) = binding {
        let mr = b.spec().get("matchResources").unwrap_or(Node::missing());
        // The binding narrows the policy's match: both must hold, so keep
        // the policy's selectors and add the binding's as extra rules.
        if let Some(sel) = mr.get("namespaceSelector")
            && !palisade_k8s::selector::is_empty(Some(sel))
        {
            matcher.namespace_selector =
                Some(merge_selectors(matcher.namespace_selector.as_ref(), sel));
        }
        if let Some(sel) = mr.get("objectSelector")
            && !palisade_k8s::selector::is_empty(Some(sel))
        {
            matcher.object_selector = Some(merge_selectors(matcher.object_selector.as_ref(), sel));
        }
        let actions: Vec<&str> = b
            .spec()
            .list("validationActions")
            .iter()
            .filter_map(Node::as_str)
            .collect();
        severity = if actions.contains(&"Deny") {
            Severity::High
        } else if actions.contains(&"Warn") {
            Severity::Medium
        } else if actions.contains(&"Audit") {
            Severity::Low
        } else {
            Severity::High
        };
    }
    let mut conditions = Vec::new();
    for (i, c) in spec.list("matchConditions").iter().enumerate() {
        let name = c
            .get("name")
            .and_then(Node::as_str)
            .map_or_else(|| format!("matchConditions[{i}]"), str::to_owned);
        let e = c.get("expression").unwrap_or(c);
        conditions.push((name, expr(format!("matchConditions[{i}].expression"), e)?));
    }
    let mut variables = Vec::new();
    for (i, v) in spec.list("variables").iter().enumerate() {
        let name = v
            .get("name")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned();
        let e = v.get("expression").unwrap_or(v);
        variables.push((name, expr(format!("variables[{i}].expression"), e)?));
    }
    let mut validations = Vec::new();
    for (i, v) in spec.list("validations").iter().enumerate() {
        let e = v.get("expression").unwrap_or(v);
        validations.push(Validation {
            expr: expr(format!("validations[{i}].expression"), e)?,
            message: v.get("message").and_then(Node::as_str).map(str::to_owned),
            message_expression: match v.get("messageExpression") {
                Some(m) => Some(expr(format!("validations[{i}].messageExpression"), m)?),
                None => None,
            },
        });
    }
    let ignore = spec.get("failurePolicy").and_then(Node::as_str) == Some("Ignore");
    let (file, line, _) = loc(obj, &obj.root);
    let id = format!("VAP-{}", obj.name);
    let meta = leak_meta(
        &id,
        &format!("ValidatingAdmissionPolicy {}", obj.name),
        severity,
        "admission-policy",
        &format!(
            "ValidatingAdmissionPolicy {} ({file}:{line}) evaluated offline: an object that violates it would be refused (Deny), warned about (Warn) or audited (Audit) when applied.",
            obj.name
        ),
        "Change the object so that the policy's validations hold, or exempt it in the policy's binding.",
    );
    Ok(CelRule {
        meta,
        matcher,
        conditions,
        variables,
        validations,
        ignore_errors: ignore,
        path: Path::root(),
        prefix: format!("ValidatingAdmissionPolicy '{}' denied request: ", obj.name),
    })
}

/// Both selectors must hold: their requirements concatenated.
fn merge_selectors(a: Option<&Node>, b: &Node) -> Node {
    use palisade_core::node::{Entry, Value};
    let Some(a) = a.filter(|a| !palisade_k8s::selector::is_empty(Some(a))) else {
        return b.clone();
    };
    let mut labels: Vec<Entry> = Vec::new();
    let mut exprs: Vec<Node> = Vec::new();
    for s in [a, b] {
        labels.extend(
            s.get("matchLabels")
                .map_or(&[][..], Node::entries)
                .iter()
                .cloned(),
        );
        exprs.extend(s.list("matchExpressions").iter().cloned());
    }
    // Two different values for one matchLabels key can never both hold:
    // keep both as `In` requirements, which then select nothing, correctly.
    for l in labels {
        exprs.push(Node {
            value: Value::Map(vec![
                entry("key", scalar(&l.key)),
                entry("operator", scalar("In")),
                entry(
                    "values",
                    Node {
                        value: Value::Seq(vec![l.value]),
                        pos: l.key_pos,
                    },
                ),
            ]),
            pos: l.key_pos,
        });
    }
    Node {
        value: Value::Map(vec![entry(
            "matchExpressions",
            Node {
                value: Value::Seq(exprs),
                pos: b.pos,
            },
        )]),
        pos: b.pos,
    }
}

fn entry(k: &str, value: Node) -> palisade_core::node::Entry {
    palisade_core::node::Entry {
        key: k.into(),
        key_pos: value.pos,
        value,
    }
}

fn scalar(t: &str) -> Node {
    Node {
        value: palisade_core::node::Value::Scalar(palisade_core::node::Scalar {
            text: t.into(),
            plain: false,
        }),
        pos: palisade_core::Pos::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn plurals_follow_the_api_names() {
        for (k, p) in [
            ("Deployment", "deployments"),
            ("NetworkPolicy", "networkpolicies"),
            ("Ingress", "ingresses"),
            ("Endpoints", "endpoints"),
            ("Gateway", "gateways"),
            ("PodDisruptionBudget", "poddisruptionbudgets"),
            ("IngressClass", "ingressclasses"),
            ("InferenceService", "inferenceservices"),
        ] {
            assert_eq!(plural(k), p);
        }
    }
}

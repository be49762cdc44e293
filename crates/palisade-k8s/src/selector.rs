//! Label selectors (`metav1.LabelSelector`): `matchLabels` and
//! `matchExpressions` evaluated as `LabelSelectorAsSelector` does. What a
//! missing or empty selector means depends on the field (a NetworkPolicy's
//! empty `podSelector` selects every pod; a policy/v1beta1 PDB's selects
//! none), so callers decide that with [`is_empty`]; [`matches`] only
//! evaluates the requirements.

use palisade_core::Node;

/// Whether a selector has no requirements (missing, null, or neither
/// `matchLabels` nor `matchExpressions` entries).
pub fn is_empty(sel: Option<&Node>) -> bool {
    let Some(sel) = sel.filter(|s| s.is_map()) else {
        return true;
    };
    sel.list("matchExpressions").is_empty()
        && sel
            .get("matchLabels")
            .map_or(&[][..], Node::entries)
            .is_empty()
}

/// Evaluates the selector's requirements against an object's labels, given
/// as a lookup. `key` maps a selector key before lookup (Cilium strips its
/// `k8s:`/`any:` label-source prefixes). Returns `None` when the selector is
/// invalid (the API server would refuse it: a non-string value, an unknown
/// operator, `In`/`NotIn` without values, `Exists` with values), which
/// selects nothing. An empty selector returns `Some(true)`.
pub fn matches<'l>(
    sel: &Node,
    label: &dyn Fn(&str) -> Option<&'l str>,
    key: &dyn Fn(&str) -> String,
) -> Option<bool> {
    let mut ok = true;
    for e in sel.get("matchLabels").map_or(&[][..], Node::entries) {
        let want = e.value.as_str()?;
        if label(&key(&e.key)) != Some(want) {
            ok = false;
        }
    }
    for req in sel.list("matchExpressions") {
        let k = key(req.get("key").and_then(Node::as_str)?);
        let values: Vec<&str> = req.list("values").iter().filter_map(Node::as_str).collect();
        let have = label(&k);
        ok &= match req.get("operator").and_then(Node::as_str)? {
            "In" if !values.is_empty() => have.is_some_and(|v| values.contains(&v)),
            "NotIn" if !values.is_empty() => have.is_none_or(|v| !values.contains(&v)),
            "Exists" if values.is_empty() => have.is_some(),
            "DoesNotExist" if values.is_empty() => have.is_none(),
            _ => return None,
        };
    }
    Some(ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::yaml::parse_one;

    fn eval(sel: &str, labels: &[(&str, &str)]) -> Option<bool> {
        let n = parse_one(sel).unwrap().unwrap();
        matches(
            &n,
            &|k| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v),
            &str::to_owned,
        )
    }

    #[test]
    fn match_labels_and_expressions() {
        let l = [("app", "vllm"), ("tier", "gpu")];
        assert_eq!(eval("matchLabels: {app: vllm}", &l), Some(true));
        assert_eq!(eval("matchLabels: {app: tgi}", &l), Some(false));
        assert_eq!(
            eval(
                "matchExpressions: [{key: tier, operator: In, values: [gpu, cpu]}]",
                &l
            ),
            Some(true)
        );
        assert_eq!(
            eval(
                "matchExpressions: [{key: tier, operator: NotIn, values: [gpu]}]",
                &l
            ),
            Some(false)
        );
        assert_eq!(
            eval("matchExpressions: [{key: x, operator: DoesNotExist}]", &l),
            Some(true)
        );
        assert_eq!(
            eval("matchExpressions: [{key: app, operator: Exists}]", &l),
            Some(true)
        );
        assert_eq!(eval("{}", &l), Some(true));
    }

    #[test]
    fn invalid_selectors_select_nothing() {
        assert_eq!(
            eval("matchExpressions: [{key: a, operator: In}]", &[]),
            None
        );
        assert_eq!(
            eval(
                "matchExpressions: [{key: a, operator: Exists, values: [x]}]",
                &[]
            ),
            None
        );
        assert_eq!(
            eval("matchExpressions: [{key: a, operator: Near}]", &[]),
            None
        );
        assert_eq!(eval("matchLabels: {a: [x]}", &[]), None);
    }

    #[test]
    fn emptiness() {
        assert!(is_empty(None));
        assert!(is_empty(Some(&parse_one("{}").unwrap().unwrap())));
        assert!(!is_empty(Some(
            &parse_one("matchLabels: {a: b}").unwrap().unwrap()
        )));
    }
}

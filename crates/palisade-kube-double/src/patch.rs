//! The three patch types of the Kubernetes API: JSON Patch (RFC 6902),
//! JSON Merge Patch (RFC 7386) and strategic merge patch (a subset: maps
//! merge as in a merge patch, lists of objects that all carry `name` merge
//! by name, `null` deletes, `$patch` directives are refused).

use serde_json::{Map, Value};

/// Why a patch does not apply (the API server answers 422 or 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// The patch body is not what its type expects.
    #[error("{0}")]
    Malformed(String),
    /// A JSON Patch operation failed (missing path, failed test).
    #[error("{0}")]
    Failed(String),
}

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn split(pointer: &str) -> Result<Vec<String>, PatchError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(PatchError::Malformed(format!(
            "invalid JSON pointer {pointer:?}: must start with /"
        )));
    };
    Ok(rest.split('/').map(unescape).collect())
}

fn get<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut v = doc;
    for t in path {
        v = match v {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

fn parent<'a>(
    doc: &'a mut Value,
    path: &[String],
    pointer: &str,
) -> Result<(&'a mut Value, String), PatchError> {
    let Some((last, init)) = path.split_last() else {
        return Err(PatchError::Failed(format!(
            "cannot operate on the document root ({pointer:?})"
        )));
    };
    let mut v = doc;
    for t in init {
        v = match v {
            Value::Object(m) => m.get_mut(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| PatchError::Failed(format!("doc is missing path: {pointer:?}")))?;
    }
    Ok((v, last.clone()))
}

fn add(doc: &mut Value, pointer: &str, value: Value) -> Result<(), PatchError> {
    let path = split(pointer)?;
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (p, last) = parent(doc, &path, pointer)?;
    match p {
        Value::Object(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= a.len())
                    .ok_or_else(|| PatchError::Failed(format!("invalid index in {pointer:?}")))?
            };
            a.insert(i, value);
            Ok(())
        }
        _ => Err(PatchError::Failed(format!(
            "doc is missing path: {pointer:?}"
        ))),
    }
}

fn remove(doc: &mut Value, pointer: &str) -> Result<Value, PatchError> {
    let path = split(pointer)?;
    let (p, last) = parent(doc, &path, pointer)?;
    let missing = || PatchError::Failed(format!("doc is missing path: {pointer:?}"));
    match p {
        Value::Object(m) => m.remove(&last).ok_or_else(missing),
        Value::Array(a) => {
            let i = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < a.len())
                .ok_or_else(missing)?;
            Ok(a.remove(i))
        }
        _ => Err(missing()),
    }
}

/// Applies a JSON Patch (RFC 6902) to `doc`, all or nothing.
pub fn json_patch(doc: &Value, ops: &Value) -> Result<Value, PatchError> {
    let Some(ops) = ops.as_array() else {
        return Err(PatchError::Malformed(
            "a JSON patch must be an array of operations".into(),
        ));
    };
    let mut out = doc.clone();
    for op in ops {
        let field = |k: &str| {
            op.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| PatchError::Malformed(format!("operation lacks {k:?}: {op}")))
        };
        let path = field("path")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| PatchError::Malformed(format!("operation lacks \"value\": {op}")))
        };
        match field("op")? {
            "add" => add(&mut out, path, value()?)?,
            "remove" => {
                remove(&mut out, path)?;
            }
            "replace" => {
                remove(&mut out, path)?;
                add(&mut out, path, value()?)?;
            }
            "move" => {
                let from = field("from")?;
                let v = remove(&mut out, from)?;
                add(&mut out, path, v)?;
            }
            "copy" => {
                let from = field("from")?;
                let v = get(&out, &split(from)?).cloned().ok_or_else(|| {
                    PatchError::Failed(format!("doc is missing from path: {from:?}"))
                })?;
                add(&mut out, path, v)?;
            }
            "test" => {
                let want = value()?;
                if get(&out, &split(path)?) != Some(&want) {
                    return Err(PatchError::Failed(format!(
                        "testing value {path} failed: test failed"
                    )));
                }
            }
            other => {
                return Err(PatchError::Malformed(format!(
                    "unexpected operation {other:?}"
                )));
            }
        }
    }
    Ok(out)
}

/// Applies a JSON Merge Patch (RFC 7386).
pub fn merge_patch(doc: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(p) => {
            let mut out = match doc {
                Value::Object(m) => m.clone(),
                _ => Map::new(),
            };
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let cur = out.get(k).cloned().unwrap_or(Value::Null);
                    out.insert(k.clone(), merge_patch(&cur, v));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn named(a: &[Value]) -> bool {
    !a.is_empty()
        && a.iter()
            .all(|v| v.get("name").and_then(Value::as_str).is_some())
}

/// Applies a strategic merge patch (the subset described above).
pub fn strategic_merge_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    match patch {
        Value::Object(p) => {
            if p.keys().any(|k| k.starts_with('$')) {
                return Err(PatchError::Malformed(
                    "the double does not implement $patch/$retainKeys/$setElementOrder directives"
                        .into(),
                ));
            }
            let mut out = match doc {
                Value::Object(m) => m.clone(),
                _ => Map::new(),
            };
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                    continue;
                }
                let cur = out.get(k).cloned().unwrap_or(Value::Null);
                let merged = match (&cur, v) {
                    (Value::Array(have), Value::Array(add)) if named(have) && named(add) => {
                        let mut list = have.clone();
                        for item in add {
                            let name = item.get("name");
                            match list.iter_mut().find(|x| x.get("name") == name) {
                                Some(x) => *x = strategic_merge_patch(x, item)?,
                                None => list.push(item.clone()),
                            }
                        }
                        Value::Array(list)
                    }
                    _ => strategic_merge_patch(&cur, v)?,
                };
                out.insert(k.clone(), merged);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc6902_appendix_a_examples() {
        // A.1 add an object member
        let d = json_patch(
            &json!({"foo": "bar"}),
            &json!([{"op": "add", "path": "/baz", "value": "qux"}]),
        )
        .unwrap();
        assert_eq!(d, json!({"baz": "qux", "foo": "bar"}));
        // A.2 add an array element
        let d = json_patch(
            &json!({"foo": ["bar", "baz"]}),
            &json!([{"op": "add", "path": "/foo/1", "value": "qux"}]),
        )
        .unwrap();
        assert_eq!(d, json!({"foo": ["bar", "qux", "baz"]}));
        // A.6 move
        let d = json_patch(
            &json!({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}),
            &json!([{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}]),
        )
        .unwrap();
        assert_eq!(
            d,
            json!({"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}})
        );
        // A.9 failed test
        let e = json_patch(
            &json!({"baz": "qux"}),
            &json!([{"op": "test", "path": "/baz", "value": "bar"}]),
        )
        .unwrap_err();
        assert!(matches!(e, PatchError::Failed(_)));
        // A.12 adding to a nonexistent target
        assert!(
            json_patch(
                &json!({"foo": "bar"}),
                &json!([{"op": "add", "path": "/baz/bat", "value": "qux"}])
            )
            .is_err()
        );
        // A.14 ~ escaping
        let d = json_patch(&json!({"/": 9, "~1": 10}), &json!([{"op": "test", "path": "/~01", "value": 10}, {"op": "copy", "from": "/~1", "path": "/a~1b"}])).unwrap();
        assert_eq!(d["a/b"], 9);
        // All or nothing.
        let doc = json!({"a": 1});
        assert!(
            json_patch(
                &doc,
                &json!([{"op": "add", "path": "/b", "value": 2}, {"op": "remove", "path": "/zz"}])
            )
            .is_err()
        );
        assert!(json_patch(&doc, &json!({"op": "add"})).is_err());
    }

    #[test]
    fn rfc7386_examples() {
        for (doc, patch, want) in [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ] {
            assert_eq!(merge_patch(&doc, &patch), want, "{doc} + {patch}");
        }
    }

    #[test]
    fn strategic_merges_named_lists() {
        let doc = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        let d = strategic_merge_patch(
            &doc,
            &json!({"spec": {"containers": [{"name": "b", "image": "y:2"}]}}),
        )
        .unwrap();
        assert_eq!(d["spec"]["containers"][0]["image"], "x:1");
        assert_eq!(d["spec"]["containers"][1]["image"], "y:2");
        assert!(strategic_merge_patch(&doc, &json!({"$patch": "replace"})).is_err());
    }
}

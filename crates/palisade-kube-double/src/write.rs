//! Writes: create, replace, patch, delete, with the API server's checks and
//! Status answers.

use crate::patch::{PatchError, json_patch, merge_patch, strategic_merge_patch};
use crate::{Shared, Store, not_found, status_body, to_vec, with_type_meta};
use axum::http::{HeaderMap, Method, StatusCode, header};
use palisade_core::clock::now_rfc3339;
use serde_json::{Value, json};
use std::sync::PoisonError;

type Answer = (StatusCode, Vec<u8>);

fn status(code: StatusCode, reason: &str, message: &str, details: Option<Value>) -> Answer {
    (code, status_body(code, reason, message, details))
}

fn random_suffix(store: &Store) -> String {
    // Deterministic per write, like the server's 5 random characters.
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = store.resource_version.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5bd1_e995;
    (0..5)
        .map(|_| {
            let c = ALPHA[(n % 27) as usize] as char;
            n /= 27;
            c
        })
        .collect()
}

pub(crate) fn write(
    state: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    let mut store = state.store.write().unwrap_or_else(PoisonError::into_inner);
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return not_found(path),
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural, tail @ ..] => (Some(*ns), *plural, tail.first().copied()),
        [plural, tail @ ..] => (None, *plural, tail.first().copied()),
        [] => return not_found(path),
    };
    let Some(res) = store.resource(group, version, plural).cloned() else {
        return not_found(path);
    };
    let key = (group.to_owned(), plural.to_owned());
    let gr = if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    };
    if store.forbidden.contains(&key) {
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{gr} is forbidden: User \"system:serviceaccount:palisade:scanner\" cannot {} resource \"{plural}\" in API group \"{group}\"",
                method.as_str().to_lowercase()
            ),
            Some(json!({"group": group, "kind": plural})),
        );
    }
    let dry_run = crate::query_param(query, "dryRun") == Some("All");
    let ns = namespace.unwrap_or("");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let parse_body = || -> Result<Value, Answer> {
        serde_json::from_slice::<Value>(body).map_err(|e| {
            status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("the body of the request was in an unknown format: {e}"),
                None,
            )
        })
    };
    let details = |n: &str| json!({"name": n, "group": group, "kind": plural});
    let conflict_once = |store: &mut Store, n: &str| -> bool {
        let want = (group.to_owned(), plural.to_owned(), n.to_owned());
        if let Some(i) = store.conflicts.iter().position(|c| *c == want) {
            store.conflicts.remove(i);
            true
        } else {
            false
        }
    };
    let conflict = |n: &str| {
        status(
            StatusCode::CONFLICT,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {gr} \"{n}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            Some(details(n)),
        )
    };
    let check_namespace = |obj: &mut Value| -> Result<(), Answer> {
        if !res.namespaced {
            return Ok(());
        }
        let m = obj
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| {
                status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid",
                    "metadata is required",
                    None,
                )
            })?;
        match m.get("namespace").and_then(Value::as_str) {
            Some(n) if !n.is_empty() && n != ns => Err(status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
                None,
            )),
            _ => {
                m.insert("namespace".into(), Value::String(ns.to_owned()));
                Ok(())
            }
        }
    };
    let stored = |store: &Store, n: &str| store.get(group, plural, ns, n).cloned();
    match (method.as_str(), name) {
        ("POST", None) => {
            let mut obj = match parse_body() {
                Ok(o) => o,
                Err(a) => return a,
            };
            if let Some(m) = obj.as_object_mut() {
                m.insert("apiVersion".into(), Value::String(res.api_version()));
                m.insert("kind".into(), Value::String(res.kind.clone()));
            }
            if let Err(a) = check_namespace(&mut obj) {
                return a;
            }
            let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
                return status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid",
                    "metadata is required",
                    None,
                );
            };
            meta.remove("resourceVersion");
            let n = match (
                meta.get("name").and_then(Value::as_str),
                meta.get("generateName").and_then(Value::as_str),
            ) {
                (Some(n), _) if !n.is_empty() => n.to_owned(),
                (_, Some(g)) if !g.is_empty() => {
                    let n = format!("{g}{}", random_suffix(&store));
                    meta.insert("name".into(), Value::String(n.clone()));
                    n
                }
                _ => {
                    return status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid",
                        &format!(
                            "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                            res.kind
                        ),
                        None,
                    );
                }
            };
            if stored(&store, &n).is_some() {
                return status(
                    StatusCode::CONFLICT,
                    "AlreadyExists",
                    &format!("{gr} \"{n}\" already exists"),
                    Some(details(&n)),
                );
            }
            if dry_run {
                return (StatusCode::CREATED, to_vec(&obj));
            }
            if let Err(e) = store.store_object(obj, Some(now_rfc3339())) {
                return status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid",
                    &e.to_string(),
                    None,
                );
            }
            let o = stored(&store, &n).unwrap_or_default();
            (StatusCode::CREATED, to_vec(&with_type_meta(&o, &res)))
        }
        ("PUT", Some(n)) => {
            let mut obj = match parse_body() {
                Ok(o) => o,
                Err(a) => return a,
            };
            let Some(old) = stored(&store, n) else {
                return status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("{gr} \"{n}\" not found"),
                    Some(details(n)),
                );
            };
            if let Err(a) = check_namespace(&mut obj) {
                return a;
            }
            if obj.pointer("/metadata/name").and_then(Value::as_str) != Some(n) {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "the name of the object does not match the name on the URL",
                    None,
                );
            }
            let want = obj
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let have = old
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if conflict_once(&mut store, n)
                || want.as_ref().is_some_and(|w| Some(w) != have.as_ref())
            {
                return conflict(n);
            }
            if let Some(m) = obj.as_object_mut() {
                m.insert("apiVersion".into(), Value::String(res.api_version()));
                m.insert("kind".into(), Value::String(res.kind.clone()));
            }
            finish(&mut store, obj, &res, n, dry_run, StatusCode::OK)
        }
        ("PATCH", Some(n)) => {
            let body_patch = match parse_body() {
                Ok(o) => o,
                Err(a) => return a,
            };
            let Some(old) = stored(&store, n) else {
                return status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("{gr} \"{n}\" not found"),
                    Some(details(n)),
                );
            };
            if conflict_once(&mut store, n) {
                return conflict(n);
            }
            let patched = match content_type.as_str() {
                "application/json-patch+json" => json_patch(&old, &body_patch),
                "application/merge-patch+json" => {
                    // A resourceVersion in a merge patch is a precondition.
                    if let Some(want) = body_patch
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        && old
                            .pointer("/metadata/resourceVersion")
                            .and_then(Value::as_str)
                            != Some(want)
                    {
                        return conflict(n);
                    }
                    Ok(merge_patch(&old, &body_patch))
                }
                "application/strategic-merge-patch+json" if res.custom => {
                    return status(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "UnsupportedMediaType",
                        &format!(
                            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (strategic merge patch is not supported for {gr})"
                        ),
                        None,
                    );
                }
                "application/strategic-merge-patch+json" => {
                    strategic_merge_patch(&old, &body_patch)
                }
                other => {
                    return status(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "UnsupportedMediaType",
                        &format!(
                            "the double does not implement patch type {other:?} (accepted: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json)"
                        ),
                        None,
                    );
                }
            };
            let mut obj = match patched {
                Ok(o) => o,
                Err(PatchError::Malformed(m)) => {
                    return status(StatusCode::BAD_REQUEST, "BadRequest", &m, None);
                }
                Err(PatchError::Failed(m)) => {
                    return status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid",
                        &format!(
                            "the server rejected our request due to an error in our request: {m}"
                        ),
                        Some(details(n)),
                    );
                }
            };
            for k in ["name", "namespace", "uid"] {
                if obj.pointer(&format!("/metadata/{k}")) != old.pointer(&format!("/metadata/{k}"))
                {
                    return status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid",
                        &format!(
                            "{} \"{n}\" is invalid: metadata.{k}: Invalid value: field is immutable",
                            res.kind
                        ),
                        Some(details(n)),
                    );
                }
            }
            if let Some(m) = obj.as_object_mut() {
                m.insert("apiVersion".into(), Value::String(res.api_version()));
                m.insert("kind".into(), Value::String(res.kind.clone()));
            }
            finish(&mut store, obj, &res, n, dry_run, StatusCode::OK)
        }
        ("DELETE", Some(n)) => {
            let Some(old) = stored(&store, n) else {
                return status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("{gr} \"{n}\" not found"),
                    Some(details(n)),
                );
            };
            if !dry_run {
                store.delete(group, plural, ns, n);
            }
            (StatusCode::OK, to_vec(&with_type_meta(&old, &res)))
        }
        _ => status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!(
                "the server does not allow this method on the requested resource ({method} {path})"
            ),
            None,
        ),
    }
}

fn finish(
    store: &mut Store,
    obj: Value,
    res: &crate::Resource,
    name: &str,
    dry_run: bool,
    code: StatusCode,
) -> Answer {
    if dry_run {
        return (code, to_vec(&obj));
    }
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Err(e) = store.store_object(obj, None) {
        return status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            &e.to_string(),
            None,
        );
    }
    let o = store
        .get(&res.group, &res.plural, &ns, name)
        .cloned()
        .unwrap_or_default();
    (code, to_vec(&with_type_meta(&o, res)))
}

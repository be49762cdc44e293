//! What the secrets rules share: judging one field, embedded configuration
//! and Secret data, walking an object's strings, and wording findings.
//! Every function here returns [`Found`]s; each rule reports the part of an
//! object it owns (see the table in `mod.rs`), so one value is reported once.

use palisade_core::node::{Entry, Scalar};
use palisade_core::secrets::{self, SecretMatch};
use palisade_core::{Node, Path, Pos, Seg, Value};
use palisade_k8s::{Object, Workload};
use std::collections::HashSet;

/// The annotation `kubectl apply` keeps a copy of the applied object in.
pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// One secret found in a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// What inside the field held it: an embedded key (`REDIS_PASSWORD`) or
    /// a path inside a copied object (`data.password`); empty for the field
    /// itself.
    pub(crate) key: String,
    /// Detector ID.
    pub(crate) detector: &'static str,
    /// Detector description.
    pub(crate) description: &'static str,
    /// `secrets::redact` of the secret, never the secret.
    pub(crate) preview: String,
}

/// The secrets found in one field.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The field.
    pub(crate) path: Path,
    /// What to call the field in a message: the env var name, data key,
    /// annotation key; empty when the path says it all.
    pub(crate) label: String,
    /// The container it belongs to, if any.
    pub(crate) container: Option<String>,
    /// What it holds (never empty).
    pub(crate) hits: Vec<Hit>,
}

fn hit(m: &SecretMatch, text: &str, key: &str) -> Hit {
    Hit {
        key: key.to_owned(),
        detector: m.detector,
        description: m.description,
        preview: secrets::redact(text.get(m.span.clone()).unwrap_or("")),
    }
}

fn push_unique(out: &mut Vec<Hit>, h: Hit) {
    if !out
        .iter()
        .any(|o| o.detector == h.detector && o.preview == h.preview && o.key == h.key)
    {
        out.push(h);
    }
}

/// `PEM private key [private-key] (----…[redacted 1704 chars])`, several
/// joined with `; `, at most five then a count.
pub(crate) fn describe(hits: &[Hit]) -> String {
    const SHOWN: usize = 5;
    let mut parts: Vec<String> = hits
        .iter()
        .take(SHOWN)
        .map(|h| {
            let what = format!("{} [{}] ({})", h.description, h.detector, h.preview);
            if h.key.is_empty() {
                what
            } else {
                format!("{}: {what}", h.key)
            }
        })
        .collect();
    if hits.len() > SHOWN {
        parts.push(format!("and {} more", hits.len() - SHOWN));
    }
    parts.join("; ")
}

/// Format detectors only.
pub(crate) fn detected(text: &str) -> Vec<Hit> {
    let mut out = Vec::new();
    for m in secrets::detect(text) {
        push_unique(&mut out, hit(&m, text, ""));
    }
    out
}

/// A value under a key: format detectors, the key name (for a single-line
/// value), and the names of `KEY=value` pairs embedded in the value.
pub(crate) fn keyed_value(name: &str, value: &str) -> Vec<Hit> {
    let mut out = detected(value);
    if out.is_empty()
        && !value.trim().contains('\n')
        && let Some(m) = secrets::named_secret(name, value)
    {
        out.push(hit(&m, value, ""));
    }
    merge_embedded(&mut out, embedded(value));
    out
}

/// Name-judged embedded pairs whose values no format detector claims (those
/// are already found over the whole text).
fn embedded(text: &str) -> Vec<Hit> {
    let mut out = Vec::new();
    for a in secrets::assignments(text) {
        if !secrets::detect(&a.value).is_empty() {
            continue;
        }
        if let Some(m) = secrets::named_secret(&a.key, &a.value) {
            push_unique(&mut out, hit(&m, &a.value, &a.key));
        }
    }
    out
}

/// Adds name-judged hits unless a detector already reported the same
/// secret (same preview) over the whole text.
fn merge_embedded(out: &mut Vec<Hit>, extra: Vec<Hit>) {
    for h in extra {
        if !out.iter().any(|o| o.preview == h.preview) {
            out.push(h);
        }
    }
}

// ---------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------

/// Literal `env[].value`s of every container (PLS-SEC-001).
pub(crate) fn env_literals(w: &Workload<'_>) -> Vec<Found> {
    let mut out = Vec::new();
    for c in &w.containers {
        for (i, e) in c.get("env").map_or(&[][..], Node::items).iter().enumerate() {
            let Some(value) = e
                .get("value")
                .filter(|v| !v.is_null())
                .and_then(Node::as_str)
            else {
                continue;
            };
            let name = e.get("name").and_then(Node::as_str).unwrap_or("");
            let hits = keyed_value(name, value);
            if !hits.is_empty() {
                out.push(Found {
                    label: name.to_owned(),
                    path: c.path.key("env").index(i).key("value"),
                    container: Some(c.name.to_owned()),
                    hits,
                });
            }
        }
    }
    out
}

/// Secrets on the command line of every container (PLS-SEC-005): format
/// detectors over each element, and secret-named flags with a literal
/// value (`--api-key=...`, `--hf-token VALUE`, `DB_PASSWORD=... cmd`).
pub(crate) fn container_args(w: &Workload<'_>) -> Vec<Found> {
    let mut out = Vec::new();
    for c in &w.containers {
        for field in ["command", "args"] {
            let items: Vec<Option<&str>> = c
                .get(field)
                .map_or(&[][..], Node::items)
                .iter()
                .map(|n| if n.is_null() { None } else { n.as_str() })
                .collect();
            let mut per: Vec<Vec<Hit>> = items
                .iter()
                .map(|a| a.map(detected).unwrap_or_default())
                .collect();
            for (i, a) in items.iter().enumerate() {
                let Some(a) = a else { continue };
                let tokens = shell_tokens(a);
                // `--flag value` across list items.
                if tokens.len() == 1
                    && let Some(flag) = flag_name(a)
                    && !a.contains('=')
                    && let Some(Some(next)) = items.get(i + 1)
                    && !next.starts_with('-')
                    && per.get(i + 1).is_some_and(Vec::is_empty)
                    && let Some(m) = secrets::named_secret(flag, next)
                {
                    per[i + 1].push(hit(&m, next, &format!("--{flag}")));
                }
                if !per[i].is_empty() {
                    continue;
                }
                let mut hits = Vec::new();
                for (t, tok) in tokens.iter().enumerate() {
                    let pair = if let Some(flag) = flag_name(tok) {
                        match flag.split_once('=') {
                            Some((f, v)) => Some((format!("--{f}"), v)),
                            // `--flag value` inside one shell string.
                            None => tokens
                                .get(t + 1)
                                .filter(|n| !n.starts_with('-') && tokens.len() > 1)
                                .map(|n| (format!("--{flag}"), *n)),
                        }
                    } else {
                        tok.split_once('=').map(|(k, v)| (k.to_owned(), v))
                    };
                    if let Some((k, v)) = pair
                        && secrets::detect(v).is_empty()
                        && let Some(m) = secrets::named_secret(&k, v)
                    {
                        push_unique(&mut hits, hit(&m, v, &k));
                    }
                }
                per[i] = hits;
            }
            for (i, hits) in per.into_iter().enumerate() {
                if !hits.is_empty() {
                    out.push(Found {
                        label: format!("{field}[{i}]"),
                        path: c.path.key(field).index(i),
                        container: Some(c.name.to_owned()),
                        hits,
                    });
                }
            }
        }
    }
    out
}

/// `--api-key` → `api-key`; not a flag → None.
fn flag_name(a: &str) -> Option<&str> {
    let f = a.strip_prefix("--").or_else(|| a.strip_prefix('-'))?;
    f.chars()
        .next()
        .filter(char::is_ascii_alphabetic)
        .map(|_| f)
}

/// Whitespace-separated words with surrounding quotes removed.
fn shell_tokens(a: &str) -> Vec<&str> {
    a.split_whitespace()
        .take(4096)
        .map(|t| t.trim_matches(|c| matches!(c, '"' | '\'' | ';')))
        .filter(|t| !t.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------
// ConfigMaps and Secrets
// ---------------------------------------------------------------------------

/// `data` and `binaryData` of a ConfigMap (PLS-SEC-002).
pub(crate) fn configmap(obj: &Object) -> Vec<Found> {
    let mut out = Vec::new();
    for e in obj.root.get("data").map_or(&[][..], Node::entries) {
        let Some(value) = e.value.as_str() else {
            continue;
        };
        let hits = keyed_value(&e.key, value);
        if !hits.is_empty() {
            out.push(Found {
                label: e.key.to_string(),
                path: Path::keys("data").key(&e.key),
                container: None,
                hits,
            });
        }
    }
    for e in obj.root.get("binaryData").map_or(&[][..], Node::entries) {
        let Some(decoded) = e.value.as_str().and_then(secrets::decode_base64) else {
            continue;
        };
        let hits = match String::from_utf8(decoded) {
            Ok(text) => keyed_value(&e.key, &text),
            Err(_) => key_store(&e.key).into_iter().collect(),
        };
        if !hits.is_empty() {
            out.push(Found {
                label: e.key.to_string(),
                path: Path::keys("binaryData").key(&e.key),
                container: None,
                hits,
            });
        }
    }
    out
}

/// A binary file whose name says it holds private keys (PKCS#12).
fn key_store(name: &str) -> Option<Hit> {
    let ext = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    (ext.eq_ignore_ascii_case("p12") || ext.eq_ignore_ascii_case("pfx")).then(|| Hit {
        key: String::new(),
        detector: "pkcs12-file",
        description: "PKCS#12 key store (holds private keys)",
        preview: "[binary]".to_owned(),
    })
}

/// Secret types whose values are not kept in the manifest in a form this
/// scanner can read (Helm release records are gzip inside base64).
const OPAQUE_TYPES: &[&str] = &["helm.sh/release.v1"];

/// Keys of a Secret that hold public or non-secret material.
fn public_key_name(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        ".crt",
        ".cert",
        ".cer",
        ".pub",
        "-crt",
        "_crt",
        "ca-bundle",
        "cabundle",
    ]
    .iter()
    .any(|s| k.ends_with(s))
        || matches!(
            k.as_str(),
            "ca" | "namespace"
                | "username"
                | "user"
                | "user_name"
                | "login"
                | "host"
                | "hostname"
                | "port"
                | "database"
                | "dbname"
                | "db"
                | "region"
                | "email"
                | "endpoint"
                | "bucket"
                | "account"
                | "accountname"
                | "account_name"
                | "client_id"
                | "clientid"
                | "client-id"
                | "tenant_id"
                | "tenantid"
                | "tenant-id"
                | "aws_access_key_id"
        )
}

/// The values of a Secret that are real credentials (PLS-SEC-004), keyed by
/// field. `data` is base64-decoded; placeholders, public material
/// (certificates, `username`, `host`...) and values neither a detector nor
/// the key name nor randomness call secret are left out.
pub(crate) fn secret_values(obj: &Object) -> Vec<Found> {
    let ty = obj
        .root
        .get("type")
        .and_then(Node::as_str)
        .unwrap_or("Opaque");
    if OPAQUE_TYPES.contains(&ty) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for field in ["data", "stringData"] {
        for e in obj.root.get(field).map_or(&[][..], Node::entries) {
            let Some(raw) = e.value.as_str() else {
                continue;
            };
            let path = Path::keys(field).key(&e.key);
            let text = if field == "data" {
                // The API server refuses invalid base64; not a value.
                let Some(bytes) = secrets::decode_base64(raw) else {
                    continue;
                };
                if let Ok(t) = String::from_utf8(bytes) {
                    t
                } else {
                    if let Some(h) = key_store(&e.key) {
                        out.push(Found {
                            label: path.to_string(),
                            path,
                            container: None,
                            hits: vec![h],
                        });
                    }
                    continue;
                }
            } else {
                raw.to_owned()
            };
            let hits = secret_value(ty, &e.key, &text);
            if !hits.is_empty() {
                out.push(Found {
                    label: path.to_string(),
                    path,
                    container: None,
                    hits,
                });
            }
        }
    }
    out
}

fn secret_value(ty: &str, key: &str, text: &str) -> Vec<Hit> {
    match (ty, key) {
        ("kubernetes.io/dockerconfigjson", ".dockerconfigjson")
        | ("kubernetes.io/dockercfg", ".dockercfg") => {
            return registry_auths(text);
        }
        ("kubernetes.io/service-account-token", k) if k != "token" => return Vec::new(),
        _ => {}
    }
    if public_key_name(key) {
        return detected(text);
    }
    let mut hits = keyed_value(key, text);
    let single = !text.trim().contains('\n');
    if hits.is_empty()
        && single
        && !secrets::is_placeholder(text)
        && secrets::looks_random(text.trim())
    {
        hits.push(Hit {
            key: String::new(),
            detector: "high-entropy-value",
            description: "random-looking value",
            preview: secrets::redact(text.trim()),
        });
    }
    // The well-known keys of typed Secrets are secret by definition.
    let typed = matches!(
        (ty, key),
        ("kubernetes.io/basic-auth", "password")
            | ("kubernetes.io/ssh-auth", "ssh-privatekey")
            | ("kubernetes.io/tls", "tls.key")
            | ("bootstrap.kubernetes.io/token", "token-secret")
            | ("kubernetes.io/service-account-token", "token")
    );
    if hits.is_empty() && typed && !secrets::is_placeholder(text) {
        hits.push(Hit {
            key: String::new(),
            detector: secrets::NAMED_SECRET,
            description: "value of a well-known secret key",
            preview: secrets::redact(text.trim()),
        });
    }
    hits
}

/// Registry credentials in a Docker config: `auths.<registry>.auth`
/// (base64 `user:password`), `password`, `identitytoken`, `registrytoken`.
fn registry_auths(text: &str) -> Vec<Hit> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return detected(text);
    };
    let registries = json.get("auths").unwrap_or(&json);
    let mut out = Vec::new();
    for (registry, entry) in registries.as_object().into_iter().flatten() {
        let field = |k: &str| {
            entry
                .get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
        };
        let secret = if let Some(pass) = secrets::decode_base64(field("auth"))
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|a| a.split_once(':').map(|(_, p)| p.to_owned()))
            .filter(|p| !secrets::is_placeholder(p))
        {
            Some(pass)
        } else {
            ["password", "identitytoken", "registrytoken"]
                .iter()
                .map(|k| field(k))
                .find(|v| !secrets::is_placeholder(v))
                .map(str::to_owned)
        };
        if let Some(s) = secret {
            out.push(Hit {
                key: format!("auths[{registry:?}]"),
                detector: "registry-credential",
                description: "container registry credential",
                preview: secrets::redact(&s),
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Walking objects
// ---------------------------------------------------------------------------

/// Calls `f` with every string scalar below `node` and its path, skipping
/// subtrees for which `skip` says so.
pub(crate) fn walk_strings<'n>(
    node: &'n Node,
    path: &mut Path,
    skip: &dyn Fn(&Path) -> bool,
    f: &mut dyn FnMut(&Path, &'n str),
) {
    if path.0.len() > 200 || skip(path) {
        return;
    }
    match &node.value {
        Value::Scalar(s) => f(path, &s.text),
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.0.push(Seg::Index(i));
                walk_strings(item, path, skip, f);
                path.0.pop();
            }
        }
        Value::Map(entries) => {
            for e in entries {
                path.0.push(Seg::Key(e.key.clone()));
                walk_strings(&e.value, path, skip, f);
                path.0.pop();
            }
        }
        Value::Null => {}
    }
}

/// `…metadata.annotations` or `…metadata.labels`: which of the two, if the
/// path is one of those maps.
pub(crate) fn metadata_map(path: &[Seg]) -> Option<&'static str> {
    let n = path.len();
    if n < 2 || !matches!(&path[n - 2], Seg::Key(k) if k == "metadata") {
        return None;
    }
    match &path[n - 1] {
        Seg::Key(k) if k == "annotations" => Some("annotations"),
        Seg::Key(k) if k == "labels" => Some("labels"),
        _ => None,
    }
}

/// Every string field of a non-Secret object that no other secrets rule
/// owns, through the format detectors only (PLS-SEC-006). Owned elsewhere:
/// container `env`, `command` and `args` (PLS-SEC-001/005), ConfigMap
/// `data`/`binaryData` (PLS-SEC-002), annotations and labels (PLS-SEC-003),
/// whole Secrets (PLS-SEC-004).
pub(crate) fn object_fields(obj: &Object, workloads: &[Workload<'_>]) -> Vec<Found> {
    if is_secret(obj) {
        return Vec::new();
    }
    // The container paths whose env, command and args other rules own.
    let owned: HashSet<&[Seg]> = workloads
        .iter()
        .flat_map(|w| w.containers.iter().map(|c| c.path.0.as_slice()))
        .collect();
    let configmap = obj.kind == "ConfigMap";
    let skip = |p: &Path| {
        metadata_map(&p.0).is_some()
            || (configmap
                && p.0.len() == 1
                && matches!(&p.0[0], Seg::Key(k) if k == "data" || k == "binaryData"))
            // Looked up only at an `env`, `command` or `args` key, not at
            // every node of the object.
            || matches!(p.0.last(), Some(Seg::Key(k)) if k == "env" || k == "command" || k == "args")
                && owned.contains(&p.0[..p.0.len() - 1])
    };
    let mut out = Vec::new();
    walk_strings(&obj.root, &mut Path::root(), &skip, &mut |p, text| {
        let hits = detected(text);
        if !hits.is_empty() {
            out.push(Found {
                label: p.to_string(),
                path: p.clone(),
                container: None,
                hits,
            });
        }
    });
    out
}

fn is_secret(obj: &Object) -> bool {
    obj.kind == "Secret" && obj.group().is_empty()
}

/// Annotations and labels anywhere in the object (PLS-SEC-003): format
/// detectors over each value; the last-applied-configuration annotation is
/// parsed and the object it copies judged as every rule of this family
/// would judge it (a Secret's copy holds its data in plain text).
pub(crate) fn metadata(obj: &Object) -> Vec<Found> {
    let mut out = Vec::new();
    walk_strings(&obj.root, &mut Path::root(), &|_| false, &mut |p, text| {
        let n = p.0.len();
        if n < 3 {
            return;
        }
        let Some(which) = metadata_map(&p.0[..n - 1]) else {
            return;
        };
        let Seg::Key(key) = &p.0[n - 1] else { return };
        let what = if which == "annotations" {
            "annotation"
        } else {
            "label"
        };
        let (label, hits) = if which == "annotations" && key == LAST_APPLIED {
            let (kind, hits) = last_applied(obj, text);
            (
                format!("{what} {key:?} (the copy of the applied {kind})"),
                hits,
            )
        } else {
            (format!("{what} {key:?}"), detected(text))
        };
        if !hits.is_empty() {
            out.push(Found {
                label,
                path: p.clone(),
                container: None,
                hits,
            });
        }
    });
    out
}

/// Everything this family finds in the object copied into a
/// last-applied-configuration annotation, each hit keyed by its path inside
/// the copy, with the copy's kind. Text that is not JSON is scanned with
/// the format detectors.
fn last_applied(outer: &Object, text: &str) -> (String, Vec<Hit>) {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return ("object".to_owned(), detected(text));
    };
    let root = json_to_node(&json);
    let field = |k: &str| root.get(k).and_then(Node::as_str).unwrap_or("").to_owned();
    let inner = Object {
        api_version: field("apiVersion"),
        kind: field("kind"),
        namespace: None,
        name: root
            .at(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned(),
        root,
        source: outer.source.clone(),
    };
    let workloads = palisade_k8s::workload::workloads(&inner);
    let mut found: Vec<Found> = Vec::new();
    if is_secret(&inner) {
        found.extend(secret_values(&inner));
    } else {
        if inner.kind == "ConfigMap" {
            found.extend(configmap(&inner));
        }
        for w in &workloads {
            found.extend(env_literals(w));
            found.extend(container_args(w));
        }
        found.extend(object_fields(&inner, &workloads));
        // Annotations of the copy, except a nested copy.
        walk_strings(&inner.root, &mut Path::root(), &|_| false, &mut |p, t| {
            let n = p.0.len();
            if n >= 3
                && metadata_map(&p.0[..n - 1]).is_some()
                && p.0[n - 1] != Seg::Key(LAST_APPLIED.into())
            {
                let hits = detected(t);
                if !hits.is_empty() {
                    found.push(Found {
                        label: String::new(),
                        path: p.clone(),
                        container: None,
                        hits,
                    });
                }
            }
        });
    }
    let mut out = Vec::new();
    for f in found {
        for mut h in f.hits {
            h.key = if h.key.is_empty() {
                f.path.to_string()
            } else {
                format!("{} {}", f.path, h.key)
            };
            push_unique(&mut out, h);
        }
    }
    let kind = if inner.kind.is_empty() {
        "object".to_owned()
    } else {
        inner.kind
    };
    (kind, out)
}

fn json_to_node(v: &serde_json::Value) -> Node {
    let pos = Pos::default();
    let value = match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Scalar(Scalar {
            text: b.to_string().into(),
            plain: true,
        }),
        serde_json::Value::Number(n) => Value::Scalar(Scalar {
            text: n.to_string().into(),
            plain: true,
        }),
        serde_json::Value::String(s) => Value::Scalar(Scalar {
            text: s.as_str().into(),
            plain: false,
        }),
        serde_json::Value::Array(items) => Value::Seq(items.iter().map(json_to_node).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| Entry {
                    key: k.as_str().into(),
                    key_pos: pos,
                    value: json_to_node(v),
                })
                .collect(),
        ),
    };
    Node { value, pos }
}

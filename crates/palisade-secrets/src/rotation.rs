//! What to rotate now: a pure function of the Secrets' metadata, the
//! policies and the clock ([`decide`], [`plan`]), and the patch that applies
//! a rotation ([`rotation_patch`]) and the one that drops expired previous
//! values ([`expire_patch`]).
//!
//! A rotation writes the new value under each key, copies the current value
//! to `<key>.previous` (server-side, with JSON Patch `copy`: the current
//! value is never read), and records `palisade.dev/rotated-at`,
//! `palisade.dev/version` and `palisade.dev/previous-expires-at`. The patch
//! starts with a `test` of `metadata.resourceVersion`, so a concurrent
//! writer makes it fail instead of being overwritten.

use crate::ROTATED_AT;
use crate::generate::SecretBytes;
use crate::policy::{PREVIOUS_EXPIRES_AT, PREVIOUS_SUFFIX, Policy, PolicySet, VERSION};
use base64::Engine as _;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the decision needs to know about a Secret: metadata only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretMeta {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `type` (`Opaque` when unset).
    pub kind: String,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// `metadata.creationTimestamp`.
    pub created: Option<String>,
    /// Data key names, when known (manifests); `None` from a metadata-only read.
    pub keys: Option<Vec<String>>,
    /// The controlling owner, `Kind/name` (an ExternalSecret, a SealedSecret).
    pub owner: Option<String>,
    /// `metadata.resourceVersion` (empty for manifests).
    pub resource_version: String,
    /// `metadata.uid` (empty for manifests).
    pub uid: String,
}

impl SecretMeta {
    /// From a loaded object (manifest or cluster), values not kept.
    pub fn from_object(o: &palisade_k8s::Object) -> Self {
        let meta = o.metadata();
        let annotations = meta
            .get("annotations")
            .map(|a| {
                a.entries()
                    .iter()
                    .filter_map(|e| Some((e.key.to_string(), e.value.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let keys = ["data", "stringData"]
            .iter()
            .filter_map(|k| o.root.get(k))
            .flat_map(|m| m.entries().iter().map(|e| e.key.to_string()))
            .collect::<Vec<_>>();
        let has_data = o.root.get("data").is_some() || o.root.get("stringData").is_some();
        let from_cluster = o.source.file.starts_with("cluster://");
        let owner = meta.list("ownerReferences").iter().find_map(|r| {
            (r.get("controller").and_then(palisade_core::Node::as_bool) == Some(true)).then(|| {
                format!(
                    "{}/{}",
                    r.get("kind").and_then(|k| k.as_str()).unwrap_or("?"),
                    r.get("name").and_then(|k| k.as_str()).unwrap_or("?")
                )
            })
        });
        let text = |k: &str| meta.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        SecretMeta {
            namespace: o.effective_namespace().to_owned(),
            name: o.name.clone(),
            kind: o
                .root
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("Opaque")
                .to_owned(),
            annotations,
            created: text("creationTimestamp"),
            keys: if from_cluster && !has_data {
                None
            } else {
                Some(keys)
            },
            owner,
            resource_version: text("resourceVersion").unwrap_or_default(),
            uid: text("uid").unwrap_or_default(),
        }
    }
}

/// What to do with one Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Write new values now.
    Rotate {
        /// Why now.
        reason: String,
        /// The version the rotation records.
        version: u64,
        /// The keys written.
        keys: Vec<String>,
        /// Keys whose current value is kept as `<key>.previous`.
        keep_previous: Vec<String>,
    },
    /// The grace period is over: remove `<key>.previous`.
    ExpirePrevious {
        /// The `.previous` keys removed.
        keys: Vec<String>,
    },
    /// Nothing to do until `next`.
    Wait,
    /// The policy cannot be applied; nothing is done.
    Invalid {
        /// Why.
        message: String,
    },
}

/// A decision about one Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// What to do.
    #[serde(flatten)]
    pub action: Action,
    /// The generator, described (never a value).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub generator: String,
    /// The rotation period.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub every: String,
    /// Where the policy came from.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub origin: String,
    /// When the next rotation is due (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub due: Option<OffsetDateTime>,
    /// When to look at this Secret again.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub next_check: Option<OffsetDateTime>,
    /// The policy, for applying (not serialized).
    #[serde(skip)]
    pub policy: Option<Policy>,
}

mod opt_time {
    use serde::Serializer;
    use time::OffsetDateTime;
    #[allow(clippy::ref_option)]
    pub(super) fn serialize<S: Serializer>(
        t: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::rfc3339(*t)),
            None => s.serialize_none(),
        }
    }
}

pub use palisade_core::clock::rfc3339;

fn parse_time(v: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v.trim(), &Rfc3339).ok()
}

/// Secret types Kubernetes or Helm own: never rotated by Palisade.
const NOT_ROTATED_TYPES: &[&str] = &[
    "kubernetes.io/service-account-token",
    "bootstrap.kubernetes.io/token",
    "helm.sh/release.v1",
];

fn to_time(d: crate::Duration) -> time::Duration {
    time::Duration::milliseconds(i64::try_from(d.millis).unwrap_or(i64::MAX))
}

/// Decides what to do with one Secret now. `None`: it has no rotation policy.
pub fn decide(s: &SecretMeta, policies: &PolicySet, now: OffsetDateTime) -> Option<Decision> {
    let mut d = Decision {
        namespace: s.namespace.clone(),
        name: s.name.clone(),
        action: Action::Wait,
        generator: String::new(),
        every: String::new(),
        origin: String::new(),
        due: None,
        next_check: None,
        policy: None,
    };
    let invalid = |mut d: Decision, message: String| {
        d.action = Action::Invalid { message };
        Some(d)
    };
    let policy = match policies.resolve(&s.namespace, &s.name, &s.annotations) {
        Ok(Some(p)) => p,
        Ok(None) => return None,
        Err(e) => return invalid(d, e.to_string()),
    };
    d.generator = policy.generator.describe();
    d.every = policy.every.to_string();
    d.origin.clone_from(&policy.origin);
    if NOT_ROTATED_TYPES.contains(&s.kind.as_str()) {
        return invalid(
            d,
            format!("type {} is managed by Kubernetes or Helm", s.kind),
        );
    }
    if let Some(owner) = &s.owner {
        return invalid(
            d,
            format!(
                "controlled by {owner}: rotate at the source, the owner would overwrite a rotation"
            ),
        );
    }
    let mut last: Option<OffsetDateTime> = None;
    for (label, v) in [
        ("creationTimestamp", s.created.as_deref()),
        (
            ROTATED_AT,
            s.annotations.get(ROTATED_AT).map(String::as_str),
        ),
    ] {
        if let Some(v) = v {
            match parse_time(v) {
                Some(t) => last = Some(last.map_or(t, |l| l.max(t))),
                None => {
                    return invalid(d, format!("{label} {v:?} is not an RFC 3339 time"));
                }
            }
        }
    }
    let version = match s.annotations.get(VERSION) {
        None => 0,
        Some(v) => match v.parse::<u64>() {
            Ok(n) => n,
            Err(_) => return invalid(d, format!("{VERSION} {v:?} is not a whole number")),
        },
    };
    let previous_expiry = match s.annotations.get(PREVIOUS_EXPIRES_AT) {
        None => None,
        Some(v) => match parse_time(v) {
            Some(t) => Some(t),
            None => {
                return invalid(
                    d,
                    format!("{PREVIOUS_EXPIRES_AT} {v:?} is not an RFC 3339 time"),
                );
            }
        },
    };
    let every = to_time(policy.every);
    let keys = policy.generator.keys();
    let missing: Vec<&String> = match &s.keys {
        Some(have) => keys.iter().filter(|k| !have.contains(k)).collect(),
        None => Vec::new(),
    };
    // Manifests have no creationTimestamp: never rotated, so due now.
    let due = last.map(|l| l + every);
    d.due = due;
    let reason = if missing.is_empty() {
        match (due, last) {
            (None, _) => Some("never rotated and no creation time".to_owned()),
            (Some(due), Some(l)) if now >= due => Some(format!(
                "due since {} (last {} {}, every {})",
                rfc3339(due),
                if s.annotations.contains_key(ROTATED_AT) {
                    "rotation"
                } else {
                    "creation"
                },
                rfc3339(l),
                policy.every
            )),
            _ => None,
        }
    } else {
        Some(format!(
            "{} missing",
            missing
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    if let Some(reason) = reason {
        // Keep the current values of the keys present now: known from the
        // data (manifests); from metadata only, every key is tried (the
        // server-side copy fails cleanly when one is absent).
        let keep_previous = match &s.keys {
            Some(have) => keys.iter().filter(|k| have.contains(k)).cloned().collect(),
            None => keys.clone(),
        };
        d.action = Action::Rotate {
            reason,
            version: version + 1,
            keys,
            keep_previous,
        };
        d.due = Some(now + every);
        d.next_check = Some((now + every).min(now + to_time(policy.grace)));
        d.policy = Some(policy);
        return Some(d);
    }
    if let Some(exp) = previous_expiry
        && now >= exp
    {
        d.action = Action::ExpirePrevious {
            keys: keys
                .iter()
                .map(|k| format!("{k}{PREVIOUS_SUFFIX}"))
                .collect(),
        };
        d.next_check = due;
        d.policy = Some(policy);
        return Some(d);
    }
    d.next_check = match (due, previous_expiry) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    d.policy = Some(policy);
    Some(d)
}

/// Decides for every Secret with a policy, sorted by namespace and name.
pub fn plan(secrets: &[SecretMeta], policies: &PolicySet, now: OffsetDateTime) -> Vec<Decision> {
    let mut out: Vec<Decision> = secrets
        .iter()
        .filter_map(|s| decide(s, policies, now))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

/// A JSON Pointer token (RFC 6901).
fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The JSON Patch (RFC 6902) that keeps the current values: a `test` of
/// the resourceVersion, then `copy` of each key to `<key>.previous`, done by
/// the API server (the current values are never read).
pub fn keep_previous_patch(resource_version: &str, keys: &[String]) -> Value {
    let mut ops =
        vec![json!({"op": "test", "path": "/metadata/resourceVersion", "value": resource_version})];
    for k in keys {
        let t = pointer_token(k);
        ops.push(json!({"op": "copy", "from": format!("/data/{t}"), "path": format!("/data/{t}{PREVIOUS_SUFFIX}")}));
    }
    Value::Array(ops)
}

/// What a rotation writes.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// The resourceVersion the write is conditional on.
    pub resource_version: &'a str,
    /// The new values.
    pub values: &'a BTreeMap<String, SecretBytes>,
    /// The version recorded.
    pub version: u64,
    /// The rotation time.
    pub now: OffsetDateTime,
    /// How long the previous values stay, when some were kept.
    pub grace: Option<crate::Duration>,
}

/// The JSON merge patch (RFC 7386) that writes the new values and the
/// annotations, conditional on the resourceVersion (a stale one gets 409
/// Conflict). It holds the new values (base64): send it to the API server,
/// never print it.
pub fn write_patch(w: &Write<'_>) -> Value {
    let data: serde_json::Map<String, Value> = w
        .values
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(v.expose())),
            )
        })
        .collect();
    let mut ann = serde_json::Map::new();
    ann.insert(ROTATED_AT.into(), Value::String(rfc3339(w.now)));
    ann.insert(VERSION.into(), Value::String(w.version.to_string()));
    ann.insert(
        PREVIOUS_EXPIRES_AT.into(),
        w.grace
            .map_or(Value::Null, |g| Value::String(rfc3339(w.now + to_time(g)))),
    );
    let mut meta = serde_json::Map::new();
    if !w.resource_version.is_empty() {
        meta.insert(
            "resourceVersion".into(),
            Value::String(w.resource_version.to_owned()),
        );
    }
    meta.insert("annotations".into(), Value::Object(ann));
    json!({"metadata": meta, "data": data})
}

/// The JSON merge patch (RFC 7386) that removes expired previous values
/// (absent keys are no error).
pub fn expire_patch(previous_keys: &[String]) -> Value {
    let data: serde_json::Map<String, Value> = previous_keys
        .iter()
        .map(|k| (k.clone(), Value::Null))
        .collect();
    json!({"data": data, "metadata": {"annotations": {PREVIOUS_EXPIRES_AT: null}}})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::policy::GENERATOR;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn secret(ann: &[(&str, &str)], created: Option<&str>, keys: Option<&[&str]>) -> SecretMeta {
        SecretMeta {
            namespace: "llm".into(),
            name: "db".into(),
            kind: "Opaque".into(),
            annotations: ann
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            created: created.map(str::to_owned),
            keys: keys.map(|k| k.iter().map(|s| (*s).to_owned()).collect()),
            ..SecretMeta::default()
        }
    }

    const EVERY: (&str, &str) = ("palisade.dev/rotate-every", "30d");
    const PW: (&str, &str) = (GENERATOR, "password length=24");

    fn action(s: &SecretMeta, now: OffsetDateTime) -> Action {
        decide(s, &PolicySet::default(), now).unwrap().action
    }

    #[test]
    fn no_policy_no_decision() {
        let s = secret(&[EVERY], Some("2026-01-01T00:00:00Z"), None);
        assert!(decide(&s, &PolicySet::default(), NOW).is_none());
    }

    #[test]
    fn due_after_the_period_since_the_last_rotation() {
        let s = secret(
            &[EVERY, PW, (ROTATED_AT, "2026-11-01T12:00:00Z")],
            Some("2026-01-01T00:00:00Z"),
            Some(&["password"]),
        );
        // Exactly 30 days after: due.
        assert!(matches!(action(&s, NOW), Action::Rotate { .. }));
        // One second earlier: wait, and the next check is the due time.
        let d = decide(&s, &PolicySet::default(), NOW - time::Duration::seconds(1)).unwrap();
        assert_eq!(d.action, Action::Wait);
        assert_eq!(d.next_check, Some(NOW));
        assert_eq!(d.due, Some(NOW));
    }

    #[test]
    fn never_rotated_counts_from_creation() {
        let s = secret(&[EVERY, PW], Some("2026-10-01T00:00:00Z"), None);
        let Action::Rotate {
            reason,
            version,
            keep_previous,
            ..
        } = action(&s, NOW)
        else {
            panic!()
        };
        assert!(reason.contains("last creation"), "{reason}");
        assert_eq!(version, 1);
        // Metadata only: every key is tried.
        assert_eq!(keep_previous, ["password"]);
        let fresh = secret(
            &[EVERY, PW],
            Some("2026-11-30T00:00:00Z"),
            Some(&["password"]),
        );
        assert_eq!(action(&fresh, NOW), Action::Wait);
    }

    #[test]
    fn missing_keys_rotate_at_once_and_present_ones_are_kept() {
        let s = secret(
            &[EVERY, (GENERATOR, "ed25519")],
            Some("2026-11-30T00:00:00Z"),
            Some(&["private.pem"]),
        );
        let Action::Rotate {
            reason,
            keep_previous,
            keys,
            ..
        } = action(&s, NOW)
        else {
            panic!()
        };
        assert_eq!(reason, "public.pem missing");
        assert_eq!(keys, ["private.pem", "public.pem"]);
        assert_eq!(keep_previous, ["private.pem"]);
    }

    #[test]
    fn manifests_without_times_are_due() {
        let s = secret(&[EVERY, PW], None, Some(&["password"]));
        assert!(matches!(action(&s, NOW), Action::Rotate { .. }));
    }

    #[test]
    fn versions_count_up_and_previous_values_are_kept_for_palisade_written_secrets() {
        let s = secret(
            &[
                EVERY,
                PW,
                (ROTATED_AT, "2026-10-01T00:00:00Z"),
                (VERSION, "7"),
            ],
            Some("2026-01-01T00:00:00Z"),
            None,
        );
        let Action::Rotate {
            version,
            keep_previous,
            ..
        } = action(&s, NOW)
        else {
            panic!()
        };
        assert_eq!(
            (version, keep_previous.as_slice()),
            (8, &["password".to_owned()][..])
        );
    }

    #[test]
    fn previous_values_expire_after_the_grace_period() {
        let s = secret(
            &[
                EVERY,
                PW,
                (ROTATED_AT, "2026-11-30T12:00:00Z"),
                (VERSION, "2"),
                (PREVIOUS_EXPIRES_AT, "2026-12-01T12:00:00Z"),
            ],
            Some("2026-01-01T00:00:00Z"),
            None,
        );
        assert_eq!(
            action(&s, NOW),
            Action::ExpirePrevious {
                keys: vec!["password.previous".into()]
            }
        );
        let before = decide(&s, &PolicySet::default(), NOW - time::Duration::minutes(1)).unwrap();
        assert_eq!(before.action, Action::Wait);
        assert_eq!(before.next_check, Some(NOW));
    }

    #[test]
    fn refuses_what_it_must_not_rotate() {
        let mut token = secret(&[EVERY, PW], Some("2026-01-01T00:00:00Z"), None);
        token.kind = "kubernetes.io/service-account-token".into();
        assert!(matches!(action(&token, NOW), Action::Invalid { .. }));
        let mut owned = secret(&[EVERY, PW], Some("2026-01-01T00:00:00Z"), None);
        owned.owner = Some("ExternalSecret/db".into());
        let Action::Invalid { message } = action(&owned, NOW) else {
            panic!()
        };
        assert!(message.contains("ExternalSecret/db"));
        for bad in [
            secret(&[EVERY, PW, (ROTATED_AT, "yesterday")], None, None),
            secret(&[EVERY, PW, (VERSION, "x")], None, None),
            secret(&[EVERY, PW, (PREVIOUS_EXPIRES_AT, "x")], None, None),
            secret(&[EVERY, (GENERATOR, "password length=0")], None, None),
            secret(&[("palisade.dev/rotate-every", "0x"), PW], None, None),
        ] {
            assert!(
                matches!(action(&bad, NOW), Action::Invalid { .. }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn config_rules_apply_and_plan_sorts() {
        let set = PolicySet::parse(
            "palisade.yaml",
            "secrets:\n  rotation:\n    - name: 'api-*'\n      every: 7d\n      generator: bytes\n",
        )
        .unwrap();
        let mut a = secret(&[], Some("2026-11-20T00:00:00Z"), None);
        a.name = "api-b".into();
        let mut b = a.clone();
        b.name = "api-a".into();
        b.created = Some("2026-11-30T00:00:00Z".into());
        let c = secret(&[], Some("2026-01-01T00:00:00Z"), None);
        let p = plan(&[a, b, c], &set, NOW);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "api-a");
        assert_eq!(p[0].action, Action::Wait);
        assert!(matches!(p[1].action, Action::Rotate { .. }));
        assert_eq!(p[1].origin, "palisade.yaml:3");
    }

    #[test]
    fn patches_test_the_version_copy_and_record() {
        let keep = keep_previous_patch("41", &["password".into()]);
        assert_eq!(
            keep,
            json!([{"op": "test", "path": "/metadata/resourceVersion", "value": "41"},
                {"op": "copy", "from": "/data/password", "path": "/data/password.previous"}])
        );
        let mut values = BTreeMap::new();
        values.insert("password".to_owned(), SecretBytes::new(b"n3w".to_vec()));
        let p = write_patch(&Write {
            resource_version: "42",
            values: &values,
            version: 3,
            now: NOW,
            grace: Some(crate::Duration::days(1)),
        });
        assert_eq!(p["data"]["password"], "bjN3");
        assert_eq!(p["metadata"]["resourceVersion"], "42");
        let a = &p["metadata"]["annotations"];
        assert_eq!(a[VERSION], "3");
        assert_eq!(a[ROTATED_AT], "2026-12-01T12:00:00Z");
        assert_eq!(a[PREVIOUS_EXPIRES_AT], "2026-12-02T12:00:00Z");
        let none = write_patch(&Write {
            grace: None,
            ..Write {
                resource_version: "",
                values: &values,
                version: 1,
                now: NOW,
                grace: None,
            }
        });
        assert_eq!(
            none["metadata"]["annotations"][PREVIOUS_EXPIRES_AT],
            Value::Null
        );
        assert!(none["metadata"].get("resourceVersion").is_none());
        let e = expire_patch(&["password.previous".into()]);
        assert_eq!(e["data"]["password.previous"], Value::Null);
    }
}

//! The audit event as the API server writes it, borrowed from the input
//! where possible. `requestObject` and `responseObject` stay raw JSON until
//! a rule asks for them, so most events are parsed once and shallowly.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Who made the request (`authentication.k8s.io/v1` UserInfo).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UserInfo<'a> {
    /// User name (`system:serviceaccount:ns:name` for service accounts).
    #[serde(borrow)]
    pub username: Cow<'a, str>,
    /// UID.
    #[serde(borrow)]
    pub uid: Option<Cow<'a, str>>,
    /// Groups.
    #[serde(borrow)]
    pub groups: Vec<Cow<'a, str>>,
    /// Extra attributes (left raw).
    #[serde(borrow)]
    pub extra: Option<&'a RawValue>,
}

/// What the request was about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectRef<'a> {
    /// Resource (plural, lowercase: `pods`).
    #[serde(borrow)]
    pub resource: Cow<'a, str>,
    /// Namespace.
    #[serde(borrow)]
    pub namespace: Option<Cow<'a, str>>,
    /// Name.
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    /// UID.
    #[serde(borrow)]
    pub uid: Option<Cow<'a, str>>,
    /// API group (empty for the core group).
    #[serde(borrow)]
    pub api_group: Option<Cow<'a, str>>,
    /// API version.
    #[serde(borrow)]
    pub api_version: Option<Cow<'a, str>>,
    /// Subresource (`exec`, `attach`, `portforward`, `ephemeralcontainers`, `token`...).
    #[serde(borrow)]
    pub subresource: Option<Cow<'a, str>>,
}

/// The response status (a `meta/v1` Status, only the parts rules need).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Status<'a> {
    /// HTTP status code.
    pub code: Option<i64>,
    /// Machine-readable reason.
    #[serde(borrow)]
    pub reason: Option<Cow<'a, str>>,
    /// Status (`Success`, `Failure`).
    #[serde(borrow)]
    pub status: Option<Cow<'a, str>>,
}

/// One audit event, or (when `kind` is `EventList`) a list of them in `items`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Event<'a> {
    /// `Event` or `EventList`.
    #[serde(borrow)]
    pub kind: Option<Cow<'a, str>>,
    /// `audit.k8s.io/v1` or `audit.k8s.io/v1beta1`.
    #[serde(borrow)]
    pub api_version: Option<Cow<'a, str>>,
    /// Audit level.
    #[serde(borrow)]
    pub level: Option<Cow<'a, str>>,
    /// Unique per request (shared by the request's stages).
    #[serde(borrow, rename = "auditID")]
    pub audit_id: Cow<'a, str>,
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete` or `Panic`.
    #[serde(borrow)]
    pub stage: Cow<'a, str>,
    /// The request URI as sent.
    #[serde(borrow, rename = "requestURI")]
    pub request_uri: Cow<'a, str>,
    /// Kubernetes verb (`get`, `list`, `create`, `patch`...).
    #[serde(borrow)]
    pub verb: Cow<'a, str>,
    /// The authenticated user.
    #[serde(borrow)]
    pub user: UserInfo<'a>,
    /// The user impersonated, if any.
    #[serde(borrow)]
    pub impersonated_user: Option<UserInfo<'a>>,
    /// Client addresses, the original client first.
    #[serde(borrow, rename = "sourceIPs")]
    pub source_ips: Vec<Cow<'a, str>>,
    /// The client's user agent.
    #[serde(borrow)]
    pub user_agent: Option<Cow<'a, str>>,
    /// The object.
    #[serde(borrow)]
    pub object_ref: Option<ObjectRef<'a>>,
    /// The response status.
    #[serde(borrow)]
    pub response_status: Option<Status<'a>>,
    /// The request body (at level Request and above), raw.
    #[serde(borrow)]
    pub request_object: Option<&'a RawValue>,
    /// The response body (at level RequestResponse), raw.
    #[serde(borrow)]
    pub response_object: Option<&'a RawValue>,
    /// When the request was received.
    #[serde(borrow)]
    pub request_received_timestamp: Option<Cow<'a, str>>,
    /// When this stage was reached.
    #[serde(borrow)]
    pub stage_timestamp: Option<Cow<'a, str>>,
    /// `v1beta1` only: the event time.
    #[serde(borrow)]
    pub timestamp: Option<Cow<'a, str>>,
    /// Annotations (`authorization.k8s.io/decision`, `authorization.k8s.io/reason`, ...).
    #[serde(borrow)]
    pub annotations: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    /// `EventList` items.
    #[serde(borrow)]
    pub items: Option<Vec<Event<'a>>>,
}

impl Event<'_> {
    /// The object's resource, or "".
    pub fn resource(&self) -> &str {
        self.object_ref.as_ref().map_or("", |o| &o.resource)
    }

    /// The subresource, or "".
    pub fn subresource(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.subresource.as_deref())
            .unwrap_or("")
    }

    /// The namespace, or "".
    pub fn namespace(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.namespace.as_deref())
            .unwrap_or("")
    }

    /// The object's name, or "".
    pub fn name(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.name.as_deref())
            .unwrap_or("")
    }

    /// The API group, or "" (core).
    pub fn api_group(&self) -> &str {
        self.object_ref
            .as_ref()
            .and_then(|o| o.api_group.as_deref())
            .unwrap_or("")
    }

    /// HTTP response code, when recorded.
    pub fn code(&self) -> Option<i64> {
        self.response_status.as_ref().and_then(|s| s.code)
    }

    /// Whether the request succeeded (2xx; 101 for upgraded exec/attach streams).
    pub fn succeeded(&self) -> bool {
        self.code()
            .is_some_and(|c| (200..300).contains(&c) || c == 101)
    }

    /// `authorization.k8s.io/decision` (`allow`, `forbid`).
    pub fn decision(&self) -> Option<&str> {
        self.annotations
            .get("authorization.k8s.io/decision")
            .map(AsRef::as_ref)
    }

    /// `authorization.k8s.io/reason`.
    pub fn reason(&self) -> Option<&str> {
        self.annotations
            .get("authorization.k8s.io/reason")
            .map(AsRef::as_ref)
    }

    /// The first source IP, or "".
    pub fn source_ip(&self) -> &str {
        self.source_ips.first().map_or("", AsRef::as_ref)
    }

    /// Whether the event is in the final stage (most rules look only there).
    pub fn complete(&self) -> bool {
        self.stage == "ResponseComplete"
    }

    /// The stage's time: `stageTimestamp`, else `timestamp` (v1beta1), else
    /// `requestReceivedTimestamp`, as microseconds since the epoch.
    pub fn time_micros(&self) -> Option<i64> {
        self.stage_timestamp
            .as_deref()
            .or(self.timestamp.as_deref())
            .or(self.request_received_timestamp.as_deref())
            .and_then(parse_timestamp)
    }

    /// The request body parsed as JSON (`None` when absent or not JSON).
    pub fn request(&self) -> Option<serde_json::Value> {
        self.request_object
            .and_then(|r| serde_json::from_str(r.get()).ok())
    }

    /// The response body parsed as JSON.
    pub fn response(&self) -> Option<serde_json::Value> {
        self.response_object
            .and_then(|r| serde_json::from_str(r.get()).ok())
    }
}

/// Parses an RFC 3339 UTC timestamp as Kubernetes writes it
/// (`2024-05-01T10:00:00.123456Z`, `2024-05-01T10:00:00Z`) into
/// microseconds since the epoch.
#[allow(clippy::many_single_char_names)] // calendar arithmetic: y, m, d, h
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(r)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b[i] == b'.' {
        i += 1;
        let mut digits = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            if digits < 6 {
                micros = micros * 10 + i64::from(b[i] - b'0');
            }
            digits += 1;
            i += 1;
        }
        for _ in digits..6 {
            micros *= 10;
        }
    }
    let offset = match b.get(i..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            let oh =
                i64::from(rest[0].wrapping_sub(b'0')) * 10 + i64::from(rest[1].wrapping_sub(b'0'));
            let om =
                i64::from(rest[3].wrapping_sub(b'0')) * 10 + i64::from(rest[4].wrapping_sub(b'0'));
            let o = (oh * 60 + om) * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) - offset) * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp("2024-05-01T10:00:00.5Z"),
            Some(1_714_557_600_500_000)
        );
        assert_eq!(
            parse_timestamp("2024-05-01T12:00:00.5+02:00"),
            Some(1_714_557_600_500_000)
        );
        assert_eq!(parse_timestamp("2024-05-01 10:00:00Z"), None);
        assert_eq!(parse_timestamp("garbage"), None);
        assert_eq!(parse_timestamp("2024-13-01T10:00:00Z"), None);
    }
}

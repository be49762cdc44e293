//! Timestamps in the one shape every Palisade record carries: RFC 3339 in UTC
//! with a `Z` suffix (`2026-12-01T12:00:00Z`), as Kubernetes writes
//! `creationTimestamp` and as SIEMs parse without configuration.

use time::{OffsetDateTime, UtcOffset};

/// `t` in UTC at whole seconds: `2026-12-01T12:00:00Z`.
#[must_use]
pub fn rfc3339(t: OffsetDateTime) -> String {
    format!("{}Z", date_time(t))
}

/// `t` in UTC with microseconds: `2026-12-01T12:00:00.123456Z`, for event
/// streams where the order of records within one second matters.
#[must_use]
pub fn rfc3339_micros(t: OffsetDateTime) -> String {
    // (The fraction of a second does not depend on the offset.)
    format!("{}.{:06}Z", date_time(t), t.microsecond())
}

/// `t` in UTC to the second, without a zone: `2026-12-01T12:00:00`.
fn date_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The current time, [`rfc3339`].
#[must_use]
pub fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

/// The current time, [`rfc3339_micros`].
#[must_use]
pub fn now_rfc3339_micros() -> String {
    rfc3339_micros(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::format_description::well_known::Rfc3339;

    #[test]
    fn utc_at_seconds_and_micros() {
        let t = OffsetDateTime::parse("2026-12-01T13:04:05.123456789+01:00", &Rfc3339).unwrap();
        assert_eq!(rfc3339(t), "2026-12-01T12:04:05Z");
        assert_eq!(rfc3339_micros(t), "2026-12-01T12:04:05.123456Z");
        let epoch = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(rfc3339(epoch), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_micros(epoch), "1970-01-01T00:00:00.000000Z");
        // Round trip through the parser every consumer uses.
        let now = now_rfc3339_micros();
        assert!(OffsetDateTime::parse(&now, &Rfc3339).is_ok(), "{now}");
        assert!(OffsetDateTime::parse(&now_rfc3339(), &Rfc3339).is_ok());
    }
}

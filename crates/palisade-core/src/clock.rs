//! Timestamps in the one shape every Palisade record carries: RFC 3339 in UTC
//! with a `Z` suffix (`2026-12-01T12:00:00Z`), as Kubernetes writes
//! `creationTimestamp` and as SIEMs parse without configuration.

use time::{OffsetDateTime, UtcOffset};

/// `t` in UTC at whole seconds: `2026-12-01T12:00:00Z`.
#[must_use]
pub fn rfc3339(t: OffsetDateTime) -> String {
    let mut s = date_time(t);
    s.push('Z');
    s
}

/// `t` in UTC with microseconds: `2026-12-01T12:00:00.123456Z`, for event
/// streams where the order of records within one second matters.
#[must_use]
pub fn rfc3339_micros(t: OffsetDateTime) -> String {
    let mut s = date_time(t);
    // (The fraction of a second does not depend on the offset.)
    let mut frac = *b".000000Z";
    digits(&mut frac[1..7], t.microsecond());
    push_ascii(&mut s, &frac);
    s
}

/// `t` in UTC to the second, without a zone: `2026-12-01T12:00:00`.
///
/// Written digit by digit: every audit record carries one, and `format!`
/// with padded fields cost a gateway request more than its own SHA-256.
fn date_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let year = t.year();
    let Ok(y) = u32::try_from(year) else {
        // Years before 1 (the `time` crate allows -9999): as `format!` pads them.
        return format!(
            "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    };
    let mut b = *b"0000-00-00T00:00:00";
    digits(&mut b[0..4], y);
    digits(&mut b[5..7], u32::from(u8::from(t.month())));
    digits(&mut b[8..10], u32::from(t.day()));
    digits(&mut b[11..13], u32::from(t.hour()));
    digits(&mut b[14..16], u32::from(t.minute()));
    digits(&mut b[17..19], u32::from(t.second()));
    let mut s = String::with_capacity(28);
    push_ascii(&mut s, &b);
    s
}

/// `v`'s last `out.len()` decimal digits, zero-padded.
fn digits(out: &mut [u8], mut v: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn push_ascii(s: &mut String, b: &[u8]) {
    s.extend(b.iter().map(|&c| char::from(c)));
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
        // Every field's padding, against the formatter the `time` crate uses.
        for (text, want) in [
            ("0001-02-03T04:05:06.000007Z", "0001-02-03T04:05:06.000007Z"),
            ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"),
            ("2024-02-29T00:00:00.5Z", "2024-02-29T00:00:00.500000Z"),
        ] {
            let t = OffsetDateTime::parse(text, &Rfc3339).unwrap();
            assert_eq!(rfc3339_micros(t), want);
            assert_eq!(rfc3339(t), format!("{}Z", &want[..19]));
            assert_eq!(
                OffsetDateTime::parse(&rfc3339_micros(t), &Rfc3339).unwrap(),
                t.replace_nanosecond(t.microsecond() * 1000).unwrap()
            );
        }
        // Round trip through the parser every consumer uses.
        let now = now_rfc3339_micros();
        assert!(OffsetDateTime::parse(&now, &Rfc3339).is_ok(), "{now}");
        assert!(OffsetDateTime::parse(&now_rfc3339(), &Rfc3339).is_ok());
    }
}

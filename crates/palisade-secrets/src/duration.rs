//! Durations as people and Go write them: `90d`, `2w`, `12h`, `1h30m`,
//! `0`, `500ms` (Go's `time.Duration` strings, plus days and weeks).

use crate::Error;

/// A duration in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    /// Milliseconds.
    pub millis: u64,
}

impl Duration {
    /// Whole seconds.
    pub fn seconds(self) -> i64 {
        i64::try_from(self.millis / 1000).unwrap_or(i64::MAX)
    }

    /// Whether it is zero.
    pub fn is_zero(self) -> bool {
        self.millis == 0
    }

    /// From whole days.
    pub fn days(d: u64) -> Self {
        Self {
            millis: d.saturating_mul(86_400_000),
        }
    }
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.millis / 1000;
        if !self.millis.is_multiple_of(1000) {
            write!(f, "{}ms", self.millis)
        } else if s == 0 {
            f.write_str("0s")
        } else if s.is_multiple_of(86_400) {
            write!(f, "{}d", s / 86_400)
        } else if s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl std::str::FromStr for Duration {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        parse(s)
    }
}

/// Parses a duration: one or more `<digits><unit>` with unit `ms`, `s`,
/// `m`, `h`, `d` or `w`, or a bare `0`.
pub fn parse(text: &str) -> Result<Duration, Error> {
    let bad = || Error::Duration(text.chars().take(64).collect());
    let s = text.trim();
    if s == "0" {
        return Ok(Duration { millis: 0 });
    }
    if s.is_empty() || s.len() > 64 {
        return Err(bad());
    }
    let mut millis: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        millis = n
            .checked_mul(unit)
            .and_then(|v| millis.checked_add(v))
            .ok_or_else(bad)?;
    }
    Ok(Duration { millis })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_and_day_forms() {
        assert_eq!(parse("90d").map(Duration::seconds).ok(), Some(90 * 86_400));
        assert_eq!(parse("1h30m").map(Duration::seconds).ok(), Some(5400));
        assert_eq!(parse("1h0m0s").map(Duration::seconds).ok(), Some(3600));
        assert_eq!(parse("2w").map(Duration::seconds).ok(), Some(14 * 86_400));
        assert!(parse("0").is_ok_and(Duration::is_zero));
        assert!(parse("0s").is_ok_and(Duration::is_zero));
        assert_eq!(parse("500ms").map(|d| d.millis).ok(), Some(500));
    }

    #[test]
    fn refuses_garbage() {
        for s in [
            "",
            "d",
            "90",
            "9x",
            "-1h",
            "1.5h",
            "h1",
            "99999999999999999999d",
            "1d ",
            "１d",
        ] {
            assert!(parse(s).is_err() || s.trim() != s, "{s:?} parsed");
        }
        assert!(parse("99999999999999999w").is_err());
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Duration::days(90).to_string(), "90d");
        assert_eq!(
            parse("90m").map(|d| d.to_string()).ok().as_deref(),
            Some("90m")
        );
        assert_eq!(
            parse("0").map(|d| d.to_string()).ok().as_deref(),
            Some("0s")
        );
    }
}

use std::fmt;
use std::str::FromStr;

use time::{Date, Duration, Month, OffsetDateTime};

use crate::PolicyError;

/// How long something stays valid after it is issued.
///
/// Calendar years are not a fixed number of days: a one-year SLC issued on 29 February ends on
/// 28 February of the next year, and one issued on 1 March 2027 ends on 1 March 2028.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// Whole calendar years; the same day and time of day, `n` years later (28 February when the
    /// start is 29 February and the end year is not a leap year).
    Years(u16),
    /// An exact duration (must be positive).
    Exact(Duration),
}

impl Lifetime {
    /// The end of a lifetime that starts at `start`.
    pub fn end_from(self, start: OffsetDateTime) -> Result<OffsetDateTime, PolicyError> {
        let overflow = || PolicyError::LifetimeOverflow {
            start,
            lifetime: self,
        };
        match self {
            Lifetime::Years(years) => {
                let year = start
                    .year()
                    .checked_add(i32::from(years))
                    .ok_or_else(overflow)?;
                let date = same_day_in_year(start.date(), year).ok_or_else(overflow)?;
                Ok(start.replace_date(date))
            }
            Lifetime::Exact(duration) => start.checked_add(duration).ok_or_else(overflow),
        }
    }
}

impl Lifetime {
    /// The start of a lifetime that ends at `end` (the inverse of [`Lifetime::end_from`]).
    pub fn start_before(self, end: OffsetDateTime) -> Result<OffsetDateTime, PolicyError> {
        let overflow = || PolicyError::LifetimeOverflow {
            start: end,
            lifetime: self,
        };
        match self {
            Lifetime::Years(years) => {
                let year = end
                    .year()
                    .checked_sub(i32::from(years))
                    .ok_or_else(overflow)?;
                let date = same_day_in_year(end.date(), year).ok_or_else(overflow)?;
                Ok(end.replace_date(date))
            }
            Lifetime::Exact(duration) => end.checked_sub(duration).ok_or_else(overflow),
        }
    }
}

/// The same month and day in `year`, with 29 February becoming 28 February in common years.
fn same_day_in_year(date: Date, year: i32) -> Option<Date> {
    let day =
        if date.month() == Month::February && date.day() == 29 && !time::util::is_leap_year(year) {
            28
        } else {
            date.day()
        };
    Date::from_calendar_date(year, date.month(), day).ok()
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lifetime::Years(years) => write!(f, "{years}y"),
            Lifetime::Exact(duration) => {
                let seconds = duration.whole_seconds();
                for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
                    if seconds != 0 && seconds % size == 0 {
                        return write!(f, "{}{unit}", seconds / size);
                    }
                }
                write!(f, "{seconds}s")
            }
        }
    }
}

impl FromStr for Lifetime {
    type Err = PolicyError;

    /// Reads `7y`, `365d`, `12h`, `30m` or `90s`.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let refuse = |reason| PolicyError::InvalidLifetime {
            input: input.to_owned(),
            reason,
        };
        let trimmed = input.trim();
        let split = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| refuse("no unit"))?;
        let (digits, unit) = trimmed.split_at(split);
        if digits.is_empty() {
            return Err(refuse("no number before the unit"));
        }
        let count: i64 = digits.parse().map_err(|_| refuse("number too large"))?;
        if count == 0 {
            return Err(refuse("a lifetime must be longer than zero"));
        }
        let seconds_per_unit = match unit {
            "y" => {
                let years = u16::try_from(count).map_err(|_| refuse("number too large"))?;
                return Ok(Lifetime::Years(years));
            }
            "d" => 86_400,
            "h" => 3_600,
            "m" => 60,
            "s" => 1,
            _ => return Err(refuse("unknown unit")),
        };
        let seconds = count
            .checked_mul(seconds_per_unit)
            .ok_or_else(|| refuse("number too large"))?;
        Ok(Lifetime::Exact(Duration::seconds(seconds)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    #[test]
    fn leap_day_plus_one_year_is_28_february() {
        let end = Lifetime::Years(1)
            .end_from(datetime!(2028-02-29 10:00 UTC))
            .unwrap();
        assert_eq!(end, datetime!(2029-02-28 10:00 UTC));
    }

    #[test]
    fn leap_day_plus_four_years_stays_29_february() {
        let end = Lifetime::Years(4)
            .end_from(datetime!(2028-02-29 10:00 UTC))
            .unwrap();
        assert_eq!(end, datetime!(2032-02-29 10:00 UTC));
    }

    #[test]
    fn seven_years_crosses_leap_days_by_calendar() {
        let end = Lifetime::Years(7)
            .end_from(datetime!(2026-11-25 21:54:11 UTC))
            .unwrap();
        assert_eq!(end, datetime!(2033-11-25 21:54:11 UTC));
    }

    #[test]
    fn parses_and_prints_units() {
        for (text, lifetime) in [
            ("1y", Lifetime::Years(1)),
            ("30d", Lifetime::Exact(Duration::days(30))),
            ("12h", Lifetime::Exact(Duration::hours(12))),
            ("5m", Lifetime::Exact(Duration::minutes(5))),
            ("61s", Lifetime::Exact(Duration::seconds(61))),
        ] {
            assert_eq!(text.parse::<Lifetime>().unwrap(), lifetime);
            assert_eq!(lifetime.to_string(), text);
        }
    }

    #[test]
    fn refuses_bad_lifetimes() {
        for text in [
            "",
            "y",
            "0d",
            "12",
            "3w",
            "-1d",
            "99999999999999999999d",
            "70000y",
        ] {
            assert!(text.parse::<Lifetime>().is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let start = datetime!(9999-01-01 00:00 UTC);
        assert!(Lifetime::Years(1).end_from(start).is_err());
        assert!(
            Lifetime::Exact(Duration::days(400))
                .end_from(start)
                .is_err()
        );
    }
}

#[cfg(test)]
mod start_before_tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn start_before_inverts_end_from() {
        let end = datetime!(2027-11-25 10:00 UTC);
        assert_eq!(
            Lifetime::Years(1).start_before(end).ok(),
            Some(datetime!(2026-11-25 10:00 UTC))
        );
        assert_eq!(
            Lifetime::Exact(Duration::days(30)).start_before(end).ok(),
            Some(datetime!(2027-10-26 10:00 UTC))
        );
        // 29 February has no counterpart in a common year.
        assert_eq!(
            Lifetime::Years(1)
                .start_before(datetime!(2028-02-29 00:00 UTC))
                .ok(),
            Some(datetime!(2027-02-28 00:00 UTC))
        );
    }
}

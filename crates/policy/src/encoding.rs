//! Conversions between `time` values and the X.509 time types.

use der::DateTime;
use der::asn1::{GeneralizedTime, UtcTime};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use x509_cert::time::Time;

use crate::validity::whole_seconds_utc;
use crate::{PolicyError, Validity};

/// The last year RFC 5280 encodes as UTCTime; later years use GeneralizedTime.
pub const LAST_UTC_TIME_YEAR: i32 = 2049;

/// Encodes `t` as RFC 5280 requires for certificate validity: UTCTime through 2049,
/// GeneralizedTime from 2050 on. Sub-second precision is dropped.
pub fn to_x509_time(t: OffsetDateTime) -> Result<Time, PolicyError> {
    let t = whole_seconds_utc(t);
    let datetime = to_der_datetime(t)?;
    if t.year() <= LAST_UTC_TIME_YEAR {
        UtcTime::from_date_time(datetime)
            .map(Time::UtcTime)
            .map_err(|_| PolicyError::UnencodableTime { time: t })
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(datetime)))
    }
}

/// Encodes `t` as a GeneralizedTime (whole seconds, `Z`), as our license format does for every
/// date regardless of year.
pub fn to_generalized_time(t: OffsetDateTime) -> Result<GeneralizedTime, PolicyError> {
    let t = whole_seconds_utc(t);
    Ok(GeneralizedTime::from_date_time(to_der_datetime(t)?))
}

/// Reads an X.509 time back into a UTC `OffsetDateTime`.
#[must_use]
pub fn from_x509_time(t: &Time) -> OffsetDateTime {
    from_der_datetime(t.to_date_time())
}

/// Reads a GeneralizedTime back into a UTC `OffsetDateTime`.
#[must_use]
pub fn from_generalized_time(t: &GeneralizedTime) -> OffsetDateTime {
    from_der_datetime(t.to_date_time())
}

/// The validity of an X.509 certificate, as a [`Validity`].
pub fn from_x509_validity(v: &x509_cert::time::Validity) -> Result<Validity, PolicyError> {
    Validity::new(from_x509_time(&v.not_before), from_x509_time(&v.not_after))
}

/// A [`Validity`] encoded for an X.509 certificate.
pub fn to_x509_validity(v: &Validity) -> Result<x509_cert::time::Validity, PolicyError> {
    Ok(x509_cert::time::Validity::new(
        to_x509_time(v.not_before())?,
        to_x509_time(v.not_after())?,
    ))
}

fn to_der_datetime(t: OffsetDateTime) -> Result<DateTime, PolicyError> {
    let naive = PrimitiveDateTime::new(t.date(), t.time());
    DateTime::try_from(naive).map_err(|_| PolicyError::UnencodableTime { time: t })
}

fn from_der_datetime(d: DateTime) -> OffsetDateTime {
    // A der::DateTime is always a valid calendar time from 1970 on, which `time` can represent.
    match PrimitiveDateTime::try_from(d) {
        Ok(naive) => naive.assume_offset(UtcOffset::UTC),
        Err(_) => {
            let seconds = i64::try_from(d.unix_duration().as_secs()).unwrap_or(i64::MAX);
            OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use der::Encode;
    use time::macros::datetime;

    #[test]
    fn utc_time_through_2049_generalized_from_2050() {
        let before = to_x509_time(datetime!(2049-12-31 23:59:59 UTC)).unwrap();
        assert!(matches!(before, Time::UtcTime(_)));
        let after = to_x509_time(datetime!(2050-01-01 00:00:00 UTC)).unwrap();
        assert!(matches!(after, Time::GeneralTime(_)));
        // Tag 0x17 is UTCTime, 0x18 GeneralizedTime.
        assert_eq!(before.to_der().unwrap()[0], 0x17);
        assert_eq!(after.to_der().unwrap()[0], 0x18);
    }

    #[test]
    fn round_trips_and_drops_fractions() {
        let t = datetime!(2045-06-01 12:34:56.789 UTC);
        let back = from_x509_time(&to_x509_time(t).unwrap());
        assert_eq!(back, datetime!(2045-06-01 12:34:56 UTC));
        let far = datetime!(2052-06-01 12:34:56 UTC);
        assert_eq!(from_x509_time(&to_x509_time(far).unwrap()), far);
    }

    #[test]
    fn non_utc_offsets_are_normalised() {
        let t = datetime!(2030-01-01 01:00 +01:00);
        assert_eq!(
            from_x509_time(&to_x509_time(t).unwrap()),
            datetime!(2030-01-01 00:00 UTC)
        );
    }

    #[test]
    fn times_before_1970_are_refused() {
        assert!(to_x509_time(datetime!(1969-12-31 23:59:59 UTC)).is_err());
    }
}

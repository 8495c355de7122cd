//! Validity policy: lifetimes, renewal, time encoding and both validation models, from outside the crate.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rms_policy::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn policy() -> ValidityPolicy {
    ValidityPolicy::default()
}

#[test]
fn defaults_are_one_year_slc_and_seven_year_license() {
    let issued = datetime!(2026-11-25 10:00 UTC);
    let slc = policy()
        .validity(Issued::ServerLicensorCertificate, issued)
        .unwrap();
    assert_eq!(slc.not_before(), issued);
    assert_eq!(slc.not_after(), datetime!(2027-11-25 10:00 UTC));
    let license = policy().validity(Issued::License, issued).unwrap();
    assert_eq!(license.not_after(), datetime!(2033-11-25 10:00 UTC));
    let authority = policy()
        .validity(Issued::EnrollmentAuthority, issued)
        .unwrap();
    assert_eq!(authority.not_after(), datetime!(2046-11-25 10:00 UTC));
}

#[test]
fn slc_issued_on_29_february_ends_on_28_february() {
    let slc = policy()
        .validity(
            Issued::ServerLicensorCertificate,
            datetime!(2032-02-29 23:30 UTC),
        )
        .unwrap();
    assert_eq!(slc.not_after(), datetime!(2033-02-28 23:30 UTC));
}

#[test]
fn license_issued_in_2045_encodes_its_expiry_as_generalized_time() {
    let license = policy()
        .validity(Issued::License, datetime!(2045-03-01 00:00 UTC))
        .unwrap();
    assert_eq!(license.not_after(), datetime!(2052-03-01 00:00 UTC));
    let encoded = to_x509_validity(&license).unwrap();
    assert!(matches!(
        encoded.not_before,
        x509_cert::time::Time::UtcTime(_)
    ));
    assert!(matches!(
        encoded.not_after,
        x509_cert::time::Time::GeneralTime(_)
    ));
    assert_eq!(from_x509_validity(&encoded).unwrap(), license);
    // And it validates in 2051, after the UTCTime range.
    check_path(
        ValidationModel::Shell,
        &[license],
        datetime!(2051-01-01 00:00 UTC),
        Duration::ZERO,
    )
    .unwrap();
}

/// An authority, a root SLC, a licensing SLC signed early in the root's year, and a license
/// signed late in the licensing SLC's year.
fn license_path() -> Vec<Validity> {
    let p = policy();
    let authority = p
        .validity(Issued::EnrollmentAuthority, datetime!(2026-01-01 00:00 UTC))
        .unwrap();
    let root = p
        .validity(
            Issued::ServerLicensorCertificate,
            datetime!(2026-01-02 00:00 UTC),
        )
        .unwrap();
    let licensing = p
        .validity(
            Issued::ServerLicensorCertificate,
            datetime!(2026-03-01 00:00 UTC),
        )
        .unwrap();
    let license = p
        .validity(Issued::License, datetime!(2027-02-01 00:00 UTC))
        .unwrap();
    vec![license, licensing, root, authority]
}

#[test]
fn chain_model_accepts_license_at_several_times() {
    let path = license_path();
    for at in [
        datetime!(2027-02-01 00:00 UTC),
        datetime!(2028-06-01 00:00 UTC),
        datetime!(2033-12-31 00:00 UTC),
        datetime!(2034-02-01 00:00 UTC),
    ] {
        check_path(ValidationModel::Chain, &path, at, Duration::ZERO)
            .unwrap_or_else(|e| panic!("refused at {at}: {e}"));
    }
}

#[test]
fn chain_model_refuses_expired_license_and_unborn_license() {
    let path = license_path();
    let err = check_path(
        ValidationModel::Chain,
        &path,
        datetime!(2034-02-01 00:00:01 UTC),
        Duration::ZERO,
    )
    .unwrap_err();
    assert!(
        matches!(err, ValidityError::Expired { index: 0, .. }),
        "{err}"
    );
    let err = check_path(
        ValidationModel::Chain,
        &path,
        datetime!(2027-01-31 23:00 UTC),
        Duration::ZERO,
    )
    .unwrap_err();
    assert!(
        matches!(err, ValidityError::NotYetValid { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn shell_model_refuses_what_chain_model_accepts() {
    let path = license_path();
    let two_years_on = datetime!(2029-02-01 00:00 UTC);
    check_path(ValidationModel::Chain, &path, two_years_on, Duration::ZERO).unwrap();
    let err = check_path(ValidationModel::Shell, &path, two_years_on, Duration::ZERO).unwrap_err();
    assert!(
        matches!(err, ValidityError::Expired { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn chain_model_refuses_license_signed_outside_its_signers_validity() {
    let p = policy();
    let licensing = p
        .validity(
            Issued::ServerLicensorCertificate,
            datetime!(2026-03-01 00:00 UTC),
        )
        .unwrap();
    // Claims an issue time after the SLC expired.
    let late = p
        .validity(Issued::License, datetime!(2027-03-02 00:00 UTC))
        .unwrap();
    let err = check_path(
        ValidationModel::Chain,
        &[late, licensing],
        datetime!(2028-01-01 00:00 UTC),
        Duration::ZERO,
    )
    .unwrap_err();
    assert!(
        matches!(err, ValidityError::Expired { index: 1, .. }),
        "{err}"
    );
    // Claims an issue time before the SLC existed.
    let early = p
        .validity(Issued::License, datetime!(2026-02-01 00:00 UTC))
        .unwrap();
    let err = check_path(
        ValidationModel::Chain,
        &[early, licensing],
        datetime!(2028-01-01 00:00 UTC),
        Duration::ZERO,
    )
    .unwrap_err();
    assert!(
        matches!(err, ValidityError::NotYetValid { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn clock_skew_widens_both_ends() {
    let window = Validity::new(
        datetime!(2030-01-01 00:00 UTC),
        datetime!(2031-01-01 00:00 UTC),
    )
    .unwrap();
    let skew = Duration::minutes(5);
    assert!(window.contains(datetime!(2029-12-31 23:56 UTC), skew));
    assert!(!window.contains(datetime!(2029-12-31 23:54 UTC), skew));
    assert!(window.contains(datetime!(2031-01-01 00:04 UTC), skew));
    assert!(!window.contains(datetime!(2031-01-01 00:06 UTC), skew));
}

#[test]
fn renewal_window_and_grace() {
    let p = policy();
    let slc = p
        .validity(
            Issued::ServerLicensorCertificate,
            datetime!(2027-01-01 00:00 UTC),
        )
        .unwrap();
    assert_eq!(
        p.renewal_status(&slc, datetime!(2026-12-31 00:00 UTC)),
        RenewalStatus::NotYetValid
    );
    let early = p.renewal_status(&slc, datetime!(2027-06-01 00:00 UTC));
    assert!(matches!(early, RenewalStatus::TooEarly { .. }) && !early.renewable());
    let due = p.renewal_status(&slc, datetime!(2027-12-15 00:00 UTC));
    assert_eq!(
        due,
        RenewalStatus::Due {
            expires_in: Duration::days(17)
        }
    );
    assert!(due.renewable());
    let grace = p.renewal_status(&slc, datetime!(2028-01-20 00:00 UTC));
    assert_eq!(
        grace,
        RenewalStatus::ExpiredInGrace {
            expired_for: Duration::days(19)
        }
    );
    assert!(grace.renewable());
    let gone = p.renewal_status(&slc, datetime!(2028-03-01 00:00 UTC));
    assert!(matches!(gone, RenewalStatus::ExpiredBeyondGrace { .. }) && !gone.renewable());
}

#[test]
fn inverted_window_is_refused() {
    assert!(
        Validity::new(
            datetime!(2030-01-02 00:00 UTC),
            datetime!(2030-01-01 00:00 UTC)
        )
        .is_err()
    );
}

#[test]
fn empty_path_is_an_error() {
    assert_eq!(
        check_path(
            ValidationModel::Chain,
            &[],
            OffsetDateTime::UNIX_EPOCH,
            Duration::ZERO
        ),
        Err(ValidityError::EmptyPath)
    );
}

proptest! {
    #[test]
    fn lifetime_parser_never_panics(s in "\\PC{0,24}") {
        let _ = s.parse::<Lifetime>();
    }

    #[test]
    fn calendar_years_keep_month_and_time(days in 0i64..40_000, years in 1u16..30) {
        let start = datetime!(1970-01-01 00:00 UTC) + Duration::days(days) + Duration::seconds(days * 37 % 86_400);
        let end = Lifetime::Years(years).end_from(start).unwrap();
        prop_assert_eq!(end.year(), start.year() + i32::from(years));
        prop_assert_eq!(end.month(), start.month());
        prop_assert_eq!(end.time(), start.time());
        prop_assert!(end.day() == start.day() || (start.day() == 29 && end.day() == 28));
    }
}

use time::{Duration, OffsetDateTime};

use crate::{Lifetime, PolicyError};

/// A validity window: from `not_before` to `not_after`, both inclusive, as in RFC 5280.
///
/// Times are whole seconds in UTC, because that is all X.509 and our license format can carry;
/// the constructor truncates and refuses windows that end before they start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Validity {
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Validity {
    /// A window from `not_before` to `not_after` (inclusive), truncated to whole seconds in UTC.
    pub fn new(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Result<Self, PolicyError> {
        let not_before = whole_seconds_utc(not_before);
        let not_after = whole_seconds_utc(not_after);
        if not_after < not_before {
            return Err(PolicyError::InvertedValidity {
                not_before,
                not_after,
            });
        }
        Ok(Self {
            not_before,
            not_after,
        })
    }

    /// The window that starts at `start` and lasts `lifetime`.
    pub fn starting(start: OffsetDateTime, lifetime: Lifetime) -> Result<Self, PolicyError> {
        let start = whole_seconds_utc(start);
        Self::new(start, lifetime.end_from(start)?)
    }

    /// First instant of validity.
    #[must_use]
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// Last instant of validity.
    #[must_use]
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Whether `at` lies inside the window widened by `skew` on both sides.
    #[must_use]
    pub fn contains(&self, at: OffsetDateTime, skew: Duration) -> bool {
        self.position(at, skew) == WindowPosition::Inside
    }

    /// Where `at` lies relative to the window widened by `skew` on both sides.
    #[must_use]
    pub fn position(&self, at: OffsetDateTime, skew: Duration) -> WindowPosition {
        let skew = skew.abs();
        if at < self.not_before.saturating_sub(skew) {
            WindowPosition::Before
        } else if at > self.not_after.saturating_add(skew) {
            WindowPosition::After
        } else {
            WindowPosition::Inside
        }
    }

    /// Time left until `not_after`, negative once expired.
    #[must_use]
    pub fn remaining(&self, at: OffsetDateTime) -> Duration {
        self.not_after - at
    }
}

/// Where a time lies relative to a validity window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowPosition {
    /// Before `not_before`: not yet valid.
    Before,
    /// Within the window.
    Inside,
    /// After `not_after`: expired.
    After,
}

/// `t` without its fraction of a second, in UTC: what certificates, licenses, signed lists and
/// the configuration database keep.
#[must_use]
pub fn whole_seconds_utc(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0).unwrap_or(t)
}

/// What is being issued, which decides its lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Issued {
    /// The self-signed certificate of an enrollment authority (the trust anchor).
    EnrollmentAuthority,
    /// A server licensor certificate, of a root certification server or a licensing server.
    ServerLicensorCertificate,
    /// A publishing license or a use license.
    License,
}

/// Where an SLC stands with respect to renewal at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalStatus {
    /// Not yet valid: an SLC issued for the future cannot be renewed.
    NotYetValid,
    /// Valid and not yet inside the renewal window.
    TooEarly {
        /// Time left until the window opens.
        window_opens_in: Duration,
    },
    /// Valid, inside the renewal window before expiry: renew now.
    Due {
        /// Time left until expiry.
        expires_in: Duration,
    },
    /// Expired, but inside the grace period in which renewal is still allowed.
    ExpiredInGrace {
        /// How long ago it expired.
        expired_for: Duration,
    },
    /// Expired for longer than the grace period: it must be enrolled anew.
    ExpiredBeyondGrace {
        /// How long ago it expired.
        expired_for: Duration,
    },
}

impl RenewalStatus {
    /// Whether a renewal request for the certificate may be granted in this state.
    #[must_use]
    pub fn renewable(self) -> bool {
        matches!(
            self,
            RenewalStatus::Due { .. } | RenewalStatus::ExpiredInGrace { .. }
        )
    }
}

/// The validity policy: how long each kind of item lives, how much clock skew is tolerated, and
/// when an SLC may be renewed. [`ValidityPolicy::default`] is the product's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidityPolicy {
    /// Lifetime of an enrollment authority's self-signed certificate. Default: 20 years.
    pub authority: Lifetime,
    /// Lifetime of a server licensor certificate. Default: 1 calendar year.
    pub slc: Lifetime,
    /// Lifetime of the licenses a server issues. Default: 7 calendar years.
    pub license: Lifetime,
    /// Tolerated difference between clocks, applied on both sides of every window when
    /// validating. Default: 5 minutes.
    pub clock_skew: Duration,
    /// How long before expiry an SLC may be renewed. Default: 30 days.
    pub renewal_window: Duration,
    /// How long after expiry an SLC may still be renewed. Default: 30 days.
    pub renewal_grace: Duration,
}

impl Default for ValidityPolicy {
    fn default() -> Self {
        Self {
            authority: Lifetime::Years(20),
            slc: Lifetime::Years(1),
            license: Lifetime::Years(7),
            clock_skew: Duration::minutes(5),
            renewal_window: Duration::days(30),
            renewal_grace: Duration::days(30),
        }
    }
}

impl ValidityPolicy {
    /// The lifetime this policy gives to `item`.
    #[must_use]
    pub fn lifetime(&self, item: Issued) -> Lifetime {
        match item {
            Issued::EnrollmentAuthority => self.authority,
            Issued::ServerLicensorCertificate => self.slc,
            Issued::License => self.license,
        }
    }

    /// The validity window of `item` issued at `issued_at`.
    pub fn validity(
        &self,
        item: Issued,
        issued_at: OffsetDateTime,
    ) -> Result<Validity, PolicyError> {
        Validity::starting(issued_at, self.lifetime(item))
    }

    /// Where an SLC with window `slc` stands at `at` with respect to renewal.
    #[must_use]
    pub fn renewal_status(&self, slc: &Validity, at: OffsetDateTime) -> RenewalStatus {
        if at < slc.not_before() {
            return RenewalStatus::NotYetValid;
        }
        let expires_in = slc.remaining(at);
        if expires_in >= Duration::ZERO {
            if expires_in > self.renewal_window {
                RenewalStatus::TooEarly {
                    window_opens_in: expires_in - self.renewal_window,
                }
            } else {
                RenewalStatus::Due { expires_in }
            }
        } else {
            let expired_for = -expires_in;
            if expired_for <= self.renewal_grace {
                RenewalStatus::ExpiredInGrace { expired_for }
            } else {
                RenewalStatus::ExpiredBeyondGrace { expired_for }
            }
        }
    }
}

use time::OffsetDateTime;

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A lifetime string such as `1y` or `90d` could not be read.
    #[error(
        "invalid lifetime {input:?}: {reason} (expected a whole number followed by y, d, h, m or s, e.g. \"1y\" or \"30d\")"
    )]
    InvalidLifetime {
        /// The text given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A validity window whose end lies before its start.
    #[error(
        "validity window ends ({}) before it starts ({})",
        rfc3339(not_after),
        rfc3339(not_before)
    )]
    InvertedValidity {
        /// Start of the window.
        not_before: OffsetDateTime,
        /// End of the window.
        not_after: OffsetDateTime,
    },
    /// A time outside what X.509 can encode (years 1970 to 9999 here).
    #[error(
        "time {} cannot be encoded in a certificate (supported years: 1970 to 9999)",
        rfc3339(time)
    )]
    UnencodableTime {
        /// The time that could not be encoded.
        time: OffsetDateTime,
    },
    /// Adding a lifetime to a time overflowed the calendar.
    #[error("{} plus {lifetime} is beyond the supported calendar", rfc3339(start))]
    LifetimeOverflow {
        /// The start time.
        start: OffsetDateTime,
        /// The lifetime that was added.
        lifetime: crate::Lifetime,
    },
}

/// Why a chain of validity windows is not acceptable at a time, under a validation model.
///
/// `index` counts from the leaf (0) towards the trust anchor, in the order the windows were given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidityError {
    /// Element `index` is not yet valid at the time it was checked against.
    #[error(
        "element {index} of the path is not valid before {}, checked at {}",
        rfc3339(not_before),
        rfc3339(at)
    )]
    NotYetValid {
        /// Position in the path, leaf = 0.
        index: usize,
        /// Start of its validity.
        not_before: OffsetDateTime,
        /// The time it was checked at.
        at: OffsetDateTime,
    },
    /// Element `index` had expired at the time it was checked against.
    #[error(
        "element {index} of the path expired at {}, checked at {}",
        rfc3339(not_after),
        rfc3339(at)
    )]
    Expired {
        /// Position in the path, leaf = 0.
        index: usize,
        /// End of its validity.
        not_after: OffsetDateTime,
        /// The time it was checked at.
        at: OffsetDateTime,
    },
    /// The path holds nothing to check.
    #[error("empty path: nothing to validate")]
    EmptyPath,
}

/// `t` as RFC 3339 (`2027-12-01T05:43:11Z`), the form every message writes times in.
fn rfc3339(t: &OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_write_times_in_rfc3339() {
        let error = ValidityError::Expired {
            index: 0,
            not_after: time::macros::datetime!(2027-12-01 05:43:11 UTC),
            at: time::macros::datetime!(2028-01-01 00:00 UTC),
        };
        assert_eq!(
            error.to_string(),
            "element 0 of the path expired at 2027-12-01T05:43:11Z, checked at 2028-01-01T00:00:00Z"
        );
    }
}

//! The two validation models: when must each element of a path be valid?

use time::{Duration, OffsetDateTime};

use crate::{Validity, ValidityError, WindowPosition};

/// When each element of a certification path must be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ValidationModel {
    /// RFC 5280's model: every element must be valid at the validation time. What OpenSSL and
    /// web PKI validators do; right for SLCs and for anything that signs *now*.
    Shell,
    /// Each signer must have been valid when it signed its child (at the child's issue time,
    /// its `not_before`); only the leaf must be valid at the validation time. Right for
    /// licenses, which live seven years while the SLC that signed them lives one.
    #[default]
    Chain,
}

/// Checks the validity windows of a path, leaf first and trust anchor last, at time `at` under
/// `model`, tolerating `skew` on both sides of every window.
///
/// Under the chain model the moment element `i + 1` signed element `i` is element `i`'s
/// `not_before`; a leaf that is a license passes its validity with `not_before` = issue time.
pub fn check_path(
    model: ValidationModel,
    path: &[Validity],
    at: OffsetDateTime,
    skew: Duration,
) -> Result<(), ValidityError> {
    if path.is_empty() {
        return Err(ValidityError::EmptyPath);
    }
    let mut checked_at = at;
    for (index, window) in path.iter().enumerate() {
        check_one(index, window, checked_at, skew)?;
        if model == ValidationModel::Chain {
            // The parent must have been valid when it signed this element.
            checked_at = window.not_before();
        }
    }
    Ok(())
}

fn check_one(
    index: usize,
    window: &Validity,
    at: OffsetDateTime,
    skew: Duration,
) -> Result<(), ValidityError> {
    match window.position(at, skew) {
        WindowPosition::Inside => Ok(()),
        WindowPosition::Before => Err(ValidityError::NotYetValid {
            index,
            not_before: window.not_before(),
            at,
        }),
        WindowPosition::After => Err(ValidityError::Expired {
            index,
            not_after: window.not_after(),
            at,
        }),
    }
}

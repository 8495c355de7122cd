//! Why and when a certificate was revoked: the reasons of RFC 5280 §5.3.1 that apply to our
//! certificates, and the entries of a revocation list.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;
use x509_cert::ext::pkix::CrlReason;

use crate::{CertError, SerialNumber};

/// Why a certificate was revoked: the RFC 5280 §5.3.1 `CRLReason` values that apply to our
/// certificates.
///
/// `certificateHold` (a suspension that can be lifted) is not supported: a revocation here is
/// final, and a list holding a hold is refused rather than read as either revoked or not.
/// `removeFromCRL` (delta lists only) and `aACompromise` (attribute certificates) are refused
/// the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RevocationReason {
    /// No reason given (the entry carries no reasonCode, as RFC 5280 recommends).
    Unspecified,
    /// The certificate's private key was compromised: nothing it ever signed is trusted.
    KeyCompromise,
    /// The private key of a CA certificate was compromised: nothing it ever signed is trusted.
    CaCompromise,
    /// The subject's name or other information changed.
    AffiliationChanged,
    /// The certificate was replaced (renewed or rekeyed).
    Superseded,
    /// The certificate is no longer needed (the server was retired).
    CessationOfOperation,
    /// A right granted by the certificate was withdrawn.
    PrivilegeWithdrawn,
}

impl RevocationReason {
    /// Every supported reason, in the order of their codes.
    pub const ALL: [RevocationReason; 7] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn,
    ];

    /// The RFC 5280 name: `unspecified`, `keyCompromise`, `cACompromise`,
    /// `affiliationChanged`, `superseded`, `cessationOfOperation`, `privilegeWithdrawn`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "keyCompromise",
            RevocationReason::CaCompromise => "cACompromise",
            RevocationReason::AffiliationChanged => "affiliationChanged",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessationOfOperation",
            RevocationReason::PrivilegeWithdrawn => "privilegeWithdrawn",
        }
    }

    /// The `CRLReason` code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::CaCompromise => 2,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::PrivilegeWithdrawn => 9,
        }
    }

    /// Whether the key was compromised (keyCompromise, cACompromise): then nothing the
    /// certificate's key signed can be trusted, before the revocation time or after, since whoever
    /// holds the key can backdate what they sign.
    #[must_use]
    pub const fn is_compromise(self) -> bool {
        matches!(
            self,
            RevocationReason::KeyCompromise | RevocationReason::CaCompromise
        )
    }

    pub(crate) fn to_x509(self) -> CrlReason {
        match self {
            RevocationReason::Unspecified => CrlReason::Unspecified,
            RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
            RevocationReason::CaCompromise => CrlReason::CaCompromise,
            RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
            RevocationReason::Superseded => CrlReason::Superseded,
            RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
            RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
        }
    }

    pub(crate) fn from_x509(reason: CrlReason) -> Option<Self> {
        Some(match reason {
            CrlReason::Unspecified => RevocationReason::Unspecified,
            CrlReason::KeyCompromise => RevocationReason::KeyCompromise,
            CrlReason::CaCompromise => RevocationReason::CaCompromise,
            CrlReason::AffiliationChanged => RevocationReason::AffiliationChanged,
            CrlReason::Superseded => RevocationReason::Superseded,
            CrlReason::CessationOfOperation => RevocationReason::CessationOfOperation,
            CrlReason::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
            CrlReason::CertificateHold | CrlReason::RemoveFromCRL | CrlReason::AaCompromise => {
                return None;
            }
        })
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RevocationReason {
    type Err = CertError;

    /// Reads the RFC name (`keyCompromise`), in any case (OpenSSL writes `CACompromise`), or
    /// kebab-case (`key-compromise`, `ca-compromise`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let folded: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect();
        Self::ALL
            .into_iter()
            .find(|r| r.name().to_lowercase() == folded)
            .ok_or_else(|| CertError::UnknownRevocationReason {
                input: s.to_owned(),
            })
    }
}

/// One revoked certificate: its serial number, when it was revoked and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RevokedEntry {
    /// Serial number of the revoked certificate (unique for its issuer).
    pub serial: SerialNumber,
    /// When the revocation took effect (whole seconds once encoded).
    pub revoked_at: OffsetDateTime,
    /// Why.
    pub reason: RevocationReason,
}

impl RevokedEntry {
    /// An entry for the certificate with `serial`, revoked at `revoked_at` for `reason`.
    #[must_use]
    pub fn new(serial: SerialNumber, revoked_at: OffsetDateTime, reason: RevocationReason) -> Self {
        Self {
            serial,
            revoked_at,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reasons_print_and_parse() {
        for reason in RevocationReason::ALL {
            assert_eq!(reason.name().parse::<RevocationReason>().unwrap(), reason);
            assert_eq!(RevocationReason::from_x509(reason.to_x509()), Some(reason));
            assert_eq!(reason.to_x509() as u8, reason.code());
        }
        for (text, reason) in [
            ("key-compromise", RevocationReason::KeyCompromise),
            ("CACompromise", RevocationReason::CaCompromise),
            ("ca-compromise", RevocationReason::CaCompromise),
            (
                "cessation-of-operation",
                RevocationReason::CessationOfOperation,
            ),
            ("Superseded", RevocationReason::Superseded),
        ] {
            assert_eq!(text.parse::<RevocationReason>().unwrap(), reason, "{text}");
        }
        for bad in [
            "",
            "hold",
            "certificateHold",
            "certificate-hold",
            "removeFromCRL",
        ] {
            assert!(bad.parse::<RevocationReason>().is_err(), "{bad}");
        }
        assert!(RevocationReason::KeyCompromise.is_compromise());
        assert!(!RevocationReason::Superseded.is_compromise());
    }
}

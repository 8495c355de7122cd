//! [`Revocations`]: verified revocation lists, and what a revocation does to a path.
//!
//! A certificate is identified by its issuer's name and its serial number (RFC 5280
//! §4.1.2.2: serial numbers are unique per issuing CA, which its name identifies), so an entry
//! applies whichever key of that issuer signed the list or the certificate; a renewed CA with a
//! new key still revokes what its old key issued.
//!
//! When a certificate of a path is revoked:
//! - for keyCompromise or cACompromise, it is refused whatever the time: whoever holds the key
//!   can sign anything and date it before the revocation;
//! - for any other reason, it is refused when it is used at or after the revocation time, and
//!   accepted when used before. It is used at the time the validation model checks its validity
//!   at: under the chain model, the signing time of what it signed (a license's issue time, or
//!   the notBefore of the certificate below it); under the shell model, and for the leaf of a
//!   path verified without a license, the validation time.
//!
//! The trust anchor is a trust input and is not looked up.

use std::collections::BTreeMap;

use rms_cert::{RevocationList, RevokedEntry, SerialNumber};
use time::OffsetDateTime;

use crate::build::{key_error, signature_error};
use crate::error::{CertRef, ChainError, Position};
use crate::name::NormalizedName;
use crate::signature::verify_signature;
use crate::{Cert, VerifyOptions};

/// Revocation lists whose signatures were verified, merged into one set of revoked
/// certificates: give it to [`VerifyOptions::with_revocations`] and every path verified with
/// those options (by [`verify_path`](crate::verify_path), [`verify_license`](crate::verify_license)
/// or a [`Verifier`](crate::Verifier), cached or not) has each certificate but the trust anchor
/// checked against it. See the module documentation of the crate for the semantics.
///
/// Lists are taken as given: how fresh they must be (their nextUpdate) is the caller's policy,
/// and the issuer certificate passed to [`add`](Self::add) is trusted to be the real issuer
/// (take it from a verified path). A revocation can only make verification refuse, never
/// accept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Revocations {
    /// Revoked certificates by issuer name, then serial number.
    by_issuer: BTreeMap<NormalizedName, BTreeMap<SerialNumber, RevokedEntry>>,
    lists: usize,
}

impl Revocations {
    /// An empty set: nothing revoked.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the entries of `crl` after checking it against `issuer`, the certificate of the CA
    /// that issued it: the list must name `issuer`'s subject as its issuer, `issuer` must be
    /// allowed to sign lists (keyUsage cRLSign, when keyUsage is present), the list's authority
    /// key identifier (when both are present) must be `issuer`'s subject key identifier, and
    /// the signature must verify with `issuer`'s key (RSA keys of at least 2048 bits).
    ///
    /// A certificate listed more than once (in several lists) keeps the strictest entry: a
    /// compromise over any other reason, else the earliest revocation time.
    pub fn add(&mut self, crl: &RevocationList, issuer: &Cert) -> Result<(), ChainError> {
        let issuer_ref = || issuer.at(Position::Input);
        let list_ref = || CertRef::new(Position::RevocationList, crl.issuer().to_string());
        let name = NormalizedName::new(crl.issuer());
        if &name != issuer.normalized_subject() {
            return Err(ChainError::CrlIssuerMismatch {
                crl_issuer: crl.issuer().to_string(),
                issuer: issuer_ref(),
            });
        }
        if issuer
            .extensions()
            .key_usage
            .is_some_and(|usage| !usage.crl_sign())
        {
            return Err(ChainError::CrlSignNotAllowed { cert: issuer_ref() });
        }
        if let (Some(aki), Some(ski)) = (
            crl.authority_key_id(),
            issuer.extensions().subject_key_id.as_deref(),
        ) && aki != ski
        {
            return Err(ChainError::KeyIdentifierMismatch {
                cert: list_ref(),
                issuer: issuer_ref(),
            });
        }
        let min_rsa_bits = VerifyOptions::default().min_rsa_bits();
        let key = issuer
            .public_key()
            .map_err(|e| key_error(e, issuer_ref(), min_rsa_bits))?;
        verify_signature(
            key,
            crl.signature_algorithm(),
            None,
            crl.tbs_der(),
            crl.signature(),
            min_rsa_bits,
        )
        .map_err(|e| signature_error(e, list_ref(), issuer_ref()))?;

        let revoked = self.by_issuer.entry(name).or_default();
        for entry in crl.entries() {
            revoked
                .entry(entry.serial.clone())
                .and_modify(|kept| *kept = strictest(kept, entry))
                .or_insert_with(|| entry.clone());
        }
        self.lists += 1;
        Ok(())
    }

    /// The revocation of `cert`, if a list added revokes it.
    #[must_use]
    pub fn entry(&self, cert: &Cert) -> Option<&RevokedEntry> {
        let serial =
            SerialNumber::from_x509(cert.certificate().tbs_certificate().serial_number()).ok()?;
        self.by_issuer.get(cert.normalized_issuer())?.get(&serial)
    }

    /// How many revoked certificates the set holds.
    pub fn len(&self) -> usize {
        self.by_issuer.values().map(BTreeMap::len).sum()
    }

    /// Whether no certificate is revoked.
    pub fn is_empty(&self) -> bool {
        self.by_issuer.values().all(BTreeMap::is_empty)
    }

    /// How many lists were added.
    #[must_use]
    pub fn lists(&self) -> usize {
        self.lists
    }
}

/// Of two entries for one certificate, the one that refuses more.
fn strictest(kept: &RevokedEntry, new: &RevokedEntry) -> RevokedEntry {
    let stricter = match (kept.reason.is_compromise(), new.reason.is_compromise()) {
        (false, true) => true,
        (true, false) => false,
        _ => new.revoked_at < kept.revoked_at,
    };
    if stricter { new } else { kept }.clone()
}

/// Refuses `cert`, at `position` in a path, when `revocations` say it cannot be used at
/// `used_at`.
pub(crate) fn check_revocation(
    revocations: Option<&Revocations>,
    cert: &Cert,
    position: Position,
    used_at: OffsetDateTime,
) -> Result<(), ChainError> {
    let Some(entry) = revocations.and_then(|r| r.entry(cert)) else {
        return Ok(());
    };
    if entry.reason.is_compromise() {
        return Err(ChainError::RevokedKeyCompromise {
            cert: cert.at(position),
            serial: entry.serial.to_string(),
            revoked_at: entry.revoked_at,
            reason: entry.reason,
        });
    }
    if used_at >= entry.revoked_at {
        return Err(ChainError::Revoked {
            cert: cert.at(position),
            serial: entry.serial.to_string(),
            revoked_at: entry.revoked_at,
            reason: entry.reason,
            used_at,
        });
    }
    Ok(())
}

//! RFC 5280 §6.3: a certificate's revocation status from the lists of a [`CrlSet`], under
//! [`RevocationPolicy::RequireCurrent`](crate::RevocationPolicy::RequireCurrent).
//!
//! For each certificate of the path but the trust anchor, every complete list whose scope
//! covers it (§6.3.3 (b): issuer, or cRLIssuer with an indirect list; distribution point
//! names; onlyContainsUserCerts, onlyContainsCACerts, onlyContainsAttributeCerts) is used
//! when it is current at the validation time (thisUpdate and nextUpdate, with the clock skew),
//! has no unknown critical extension, and verifies with the key of a certificate named as its
//! issuer that may sign lists (keyUsage cRLSign when present) and whose own path validates to
//! the same trust anchor (§6.3.3 (f)), its revocation checked in turn. A delta list
//! (§5.2.4) of the same issuer and scope, based on a list no newer than the complete one and
//! signed by the same key, updates it: its entries win, and removeFromCRL takes an entry off.
//!
//! The certificate is refused when a list used names it (certificateHold included); it is
//! accepted only when the lists used cover every reason (§6.3.3 (c), onlySomeReasons and the
//! distribution point's reasons), and otherwise its status is unknown, which is a failure.
//! Unlike the loop of §6.3.3, which stops once every reason is covered, every applicable list
//! is used: a certificate that any valid list revokes is refused.
//!
//! The issuer of a list whose own status that same list decides (an indirect list whose
//! issuer's certificate it also covers) is accepted on that list's word while its path is
//! validated as the list's issuer: the path cannot be validated otherwise, and PKITS 4.14.30
//! expects it.

use time::OffsetDateTime;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

use crate::build::{crl_issuer_path, key_error, signature_error};
use crate::crl::{Crl, compare_numbers};
use crate::error::{CertRef, ChainError, Position};
use crate::meter::Meter;
use crate::name::NormalizedName;
use crate::signature::verify_signature;
use rms_cert::RevocationReason;

use crate::{Cert, CrlSet, TrustAnchor, VerifyOptions};

/// Every reason of ReasonFlags (keyCompromise to aACompromise; bit 0 is unused).
const ALL_REASONS: u16 = 0x1fe;

/// What the status checks of one path need.
pub(crate) struct StatusCheck<'a> {
    pub(crate) crls: &'a CrlSet,
    /// The path, leaf first.
    pub(crate) path: &'a [&'a Cert],
    /// When each certificate of the path was used (as the validation model says).
    pub(crate) used_at: &'a [OffsetDateTime],
    pub(crate) anchor: &'a TrustAnchor,
    pub(crate) pool: &'a [Cert],
    pub(crate) at: OffsetDateTime,
    pub(crate) options: &'a VerifyOptions,
}

impl StatusCheck<'_> {
    /// Checks every certificate of the path.
    pub(crate) fn check(&self, meter: &mut Meter) -> Result<(), ChainError> {
        for index in 0..self.path.len() {
            self.check_cert(index, meter)?;
        }
        Ok(())
    }

    fn check_cert(&self, index: usize, meter: &mut Meter) -> Result<(), ChainError> {
        let Some(&cert) = self.path.get(index) else {
            return Ok(());
        };
        let position = Position::Path(index);
        let used_at = self.used_at.get(index).copied().unwrap_or(self.at);
        if let Some(Err(reason)) = &cert.extensions().crl_distribution_points {
            return Err(ChainError::RevocationStatusUnknown {
                cert: cert.at(position),
                reason: format!("its CRL distribution points cannot be read: {reason}"),
            });
        }
        let mut covered: u16 = 0;
        let mut problems: Vec<String> = Vec::new();
        for crl in self.crls.iter().filter(|c| !c.is_delta()) {
            let Some(reasons) = scope(crl, cert) else {
                continue;
            };
            let signer = match self.usable(crl, index, meter) {
                Ok(signer) => signer,
                Err(problem) if problem.is_fatal() => return Err(problem),
                Err(problem) => {
                    problems.push(format!("{}: {}", describe(crl), reason_text(&problem)));
                    continue;
                }
            };
            let delta = match self.delta_for(crl, &signer, meter) {
                Ok(delta) => delta,
                Err(problem) if problem.is_fatal() => return Err(problem),
                Err(problem) => {
                    problems.push(format!("{}: {}", describe(crl), reason_text(&problem)));
                    continue;
                }
            };
            if let Some(entry) = listed(delta.as_ref(), crl, cert) {
                revoked(cert, position, entry, used_at)?;
            }
            covered |= reasons;
        }
        if covered & ALL_REASONS == ALL_REASONS {
            return Ok(());
        }
        let reason = if problems.is_empty() {
            if covered == 0 {
                "no revocation list covers it".to_owned()
            } else {
                "the revocation lists cover only some reasons".to_owned()
            }
        } else {
            problems.join("; ")
        };
        Err(ChainError::RevocationStatusUnknown {
            cert: cert.at(position),
            reason,
        })
    }

    /// Whether `crl` may be used now, and the certificate whose key signed it.
    fn usable(&self, crl: &Crl, index: usize, meter: &mut Meter) -> Result<Cert, ChainError> {
        self.current(crl)?;
        if let Some(why) = crl.unusable() {
            return Err(unknown(why.to_owned()));
        }
        self.signer(crl, index, meter)
    }

    fn current(&self, crl: &Crl) -> Result<(), ChainError> {
        let skew = self.options.clock_skew();
        if crl.this_update().saturating_sub(skew) > self.at {
            return Err(unknown(
                "its thisUpdate is after the validation time".to_owned(),
            ));
        }
        match crl.next_update() {
            None => Err(unknown("it has no nextUpdate".to_owned())),
            Some(next) if next.saturating_add(skew) < self.at => Err(unknown(
                "its nextUpdate is before the validation time".to_owned(),
            )),
            Some(_) => Ok(()),
        }
    }

    /// §6.3.3 (f): a certificate named as the list's issuer whose key verifies it and whose
    /// path validates to the same anchor.
    fn signer(&self, crl: &Crl, index: usize, meter: &mut Meter) -> Result<Cert, ChainError> {
        let mut last: Option<ChainError> = None;
        let anchor = self.anchor.cert();
        if anchor.normalized_subject() == crl.issuer() {
            match self.verify_with(crl, anchor, Position::Anchor, meter) {
                Ok(()) => return Ok(anchor.clone()),
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        // Certificates above `index` in this path are validated with it.
        for (i, cert) in self.path.iter().enumerate().skip(index + 1) {
            if cert.normalized_subject() == crl.issuer() {
                match self.verify_with(crl, cert, Position::Path(i), meter) {
                    Ok(()) => return Ok((*cert).clone()),
                    Err(e) if e.is_fatal() => return Err(e),
                    Err(e) => last = Some(e),
                }
            }
        }
        let mut pool: Vec<Cert> = self.pool.to_vec();
        for cert in self.path {
            if !pool.iter().any(|c| c.fingerprint() == cert.fingerprint()) {
                pool.push((*cert).clone());
            }
        }
        let in_path_above = |c: &Cert| {
            self.path
                .iter()
                .skip(index + 1)
                .any(|p| p.fingerprint() == c.fingerprint())
        };
        let checked = self.path.get(index).map(|c| *c.fingerprint());
        for cert in pool
            .iter()
            .filter(|c| c.normalized_subject() == crl.issuer() && !in_path_above(c))
        {
            if let Err(e) = self.verify_with(crl, cert, Position::Input, meter) {
                if e.is_fatal() {
                    return Err(e);
                }
                last = Some(e);
                continue;
            }
            // A list's issuer whose path is being validated, and whose own status this list
            // decides: it vouches for itself (an indirect list's issuer covering its own
            // certificate, PKITS 4.14.30). Its path is the one being validated above.
            if Some(*cert.fingerprint()) == checked
                && meter.is_crl_issuer_in_progress(cert.fingerprint())
            {
                return Ok(cert.clone());
            }
            match crl_issuer_path(cert, &pool, self.anchor, self.at, self.options, meter) {
                Ok(()) => return Ok(cert.clone()),
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => {
                    last = Some(unknown(format!(
                        "the path of its issuer {} does not validate: {e}",
                        cert.subject()
                    )));
                }
            }
        }
        Err(last.unwrap_or_else(|| unknown("no certificate of its issuer verifies it".to_owned())))
    }

    /// Checks `crl`'s key identifier, `issuer`'s cRLSign and the signature.
    fn verify_with(
        &self,
        crl: &Crl,
        issuer: &Cert,
        position: Position,
        meter: &mut Meter,
    ) -> Result<(), ChainError> {
        let issuer_ref = || issuer.at(position);
        let list_ref = || CertRef::new(Position::RevocationList, crl.issuer_text());
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
        if issuer
            .extensions()
            .key_usage
            .is_some_and(|usage| !usage.crl_sign())
        {
            return Err(ChainError::CrlSignNotAllowed { cert: issuer_ref() });
        }
        meter.signature()?;
        let min_rsa_bits = self.options.min_rsa_bits();
        let key = issuer
            .public_key()
            .map_err(|e| key_error(e, issuer_ref(), min_rsa_bits))?;
        let signature = crl.signature().ok_or_else(|| ChainError::BadSignature {
            cert: list_ref(),
            issuer: issuer_ref(),
        })?;
        verify_signature(
            key,
            crl.signature_algorithm(),
            None,
            crl.tbs_der(),
            signature,
            min_rsa_bits,
        )
        .map_err(|e| signature_error(e, list_ref(), issuer_ref()))
    }

    /// §6.3.3 (a)(2), (g), (h): the newest usable delta list for `complete`, if any. A delta
    /// of the same scope that exists but cannot be used leaves the status undecided.
    fn delta_for(
        &self,
        complete: &Crl,
        signer: &Cert,
        meter: &mut Meter,
    ) -> Result<Option<Crl>, ChainError> {
        let mut best: Option<Crl> = None;
        let mut problem: Option<ChainError> = None;
        for delta in self.crls.iter().filter(|d| {
            d.is_delta() && d.issuer() == complete.issuer() && d.idp_der() == complete.idp_der()
        }) {
            let (Some(base), Some(number)) = (delta.base_number(), complete.number()) else {
                continue;
            };
            // The delta updates a list no newer than the complete list we hold.
            if compare_numbers(base, number).is_gt() {
                continue;
            }
            let checked = self
                .current(delta)
                .and_then(|()| match delta.unusable() {
                    Some(why) => Err(unknown(why.to_owned())),
                    None => Ok(()),
                })
                .and_then(|()| self.verify_with(delta, signer, Position::Input, meter));
            match checked {
                Ok(()) => {
                    let newer = best.as_ref().is_none_or(|b| {
                        compare_numbers(
                            delta.number().unwrap_or_default(),
                            b.number().unwrap_or_default(),
                        )
                        .is_gt()
                    });
                    if newer {
                        best = Some(delta.clone());
                    }
                }
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => problem = Some(e),
            }
        }
        match (best, problem) {
            (Some(best), _) => Ok(Some(best)),
            (None, Some(problem)) => Err(unknown(format!(
                "its delta list cannot be used: {}",
                reason_text(&problem)
            ))),
            (None, None) => Ok(None),
        }
    }
}

/// The reasons `crl` covers for `cert` when its scope includes it (§6.3.3 (b), (c)).
fn scope(crl: &Crl, cert: &Cert) -> Option<u16> {
    let idp = crl.idp();
    if let Some(idp) = idp {
        let is_ca = cert
            .extensions()
            .basic_constraints
            .as_ref()
            .is_some_and(|bc| bc.ca);
        if (idp.only_contains_user_certs && is_ca)
            || (idp.only_contains_ca_certs && !is_ca)
            || idp.only_contains_attribute_certs
        {
            return None;
        }
    }
    let indirect = idp.is_some_and(|i| i.indirect_crl);
    let idp_names: Option<Vec<Named>> = idp
        .and_then(|i| i.distribution_point.as_ref())
        .map(|name| point_names(name, crl.issuer()));
    let idp_reasons = idp
        .and_then(|i| i.only_some_reasons)
        .map_or(ALL_REASONS, |r| r.bits());
    let implicit = [DistributionPoint {
        distribution_point: None,
        reasons: None,
        crl_issuer: None,
    }];
    let points: &[DistributionPoint] = match &cert.extensions().crl_distribution_points {
        Some(Ok(points)) => points,
        // Refused before any list is looked at (see `check_cert`).
        Some(Err(_)) => return None,
        None => &implicit,
    };
    let mut covered: Option<u16> = None;
    for point in points {
        let crl_issuers: Option<Vec<NormalizedName>> = point.crl_issuer.as_ref().map(|names| {
            names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DirectoryName(name) => Some(NormalizedName::new(name)),
                    _ => None,
                })
                .collect()
        });
        // (b)(1): who may issue the list.
        let issuer_ok = match &crl_issuers {
            Some(names) => indirect && names.iter().any(|n| n == crl.issuer()),
            None => crl.issuer() == cert.normalized_issuer(),
        };
        if !issuer_ok {
            continue;
        }
        // (b)(2)(i): distribution point names.
        if let Some(idp_names) = &idp_names {
            let base = crl_issuers
                .as_ref()
                .and_then(|n| n.first())
                .unwrap_or_else(|| cert.normalized_issuer());
            let point_names: Vec<Named> = match (&point.distribution_point, &point.crl_issuer) {
                (Some(name), _) => point_names(name, base),
                (None, Some(names)) => names.iter().map(Named::from).collect(),
                (None, None) => Vec::new(),
            };
            if !point_names.iter().any(|n| idp_names.contains(n)) {
                continue;
            }
        }
        let reasons = idp_reasons & point.reasons.map_or(ALL_REASONS, |r| r.bits());
        covered = Some(covered.unwrap_or(0) | reasons);
    }
    covered
}

/// A general name in the form distribution point names compare.
#[derive(Debug, PartialEq, Eq)]
enum Named {
    Directory(NormalizedName),
    Other(Vec<u8>),
}

impl From<&GeneralName> for Named {
    fn from(name: &GeneralName) -> Self {
        match name {
            GeneralName::DirectoryName(n) => Named::Directory(NormalizedName::new(n)),
            other => Named::Other(crate::crl::der_of(other)),
        }
    }
}

fn point_names(name: &DistributionPointName, base: &NormalizedName) -> Vec<Named> {
    match name {
        DistributionPointName::FullName(names) => names.iter().map(Named::from).collect(),
        DistributionPointName::NameRelativeToCRLIssuer(rdn) => {
            vec![Named::Directory(base.with_rdn(rdn))]
        }
    }
}

/// The entry for `cert`: the delta's when it lists it, else the complete list's; `None` when
/// neither lists it or the delta removes it.
fn listed<'c>(
    delta: Option<&'c Crl>,
    complete: &'c Crl,
    cert: &Cert,
) -> Option<&'c crate::crl::Entry> {
    let serial = cert
        .certificate()
        .tbs_certificate()
        .serial_number()
        .as_bytes();
    let find = |crl: &'c Crl| {
        crl.entries()
            .iter()
            .find(|e| e.serial == serial && &e.issuer == cert.normalized_issuer())
    };
    if let Some(entry) = delta.and_then(find) {
        return (entry.reason != Some(CrlReason::RemoveFromCRL)).then_some(entry);
    }
    find(complete).filter(|e| e.reason != Some(CrlReason::RemoveFromCRL))
}

/// The error for a listed certificate, as [`crate::revocation`] decides for our own lists.
fn revoked(
    cert: &Cert,
    position: Position,
    entry: &crate::crl::Entry,
    used_at: OffsetDateTime,
) -> Result<(), ChainError> {
    let serial = hex(&entry.serial);
    let reason = match entry.reason {
        None | Some(CrlReason::Unspecified) => RevocationReason::Unspecified,
        Some(CrlReason::KeyCompromise) => RevocationReason::KeyCompromise,
        Some(CrlReason::CaCompromise) => RevocationReason::CaCompromise,
        Some(CrlReason::AffiliationChanged) => RevocationReason::AffiliationChanged,
        Some(CrlReason::Superseded) => RevocationReason::Superseded,
        Some(CrlReason::CessationOfOperation) => RevocationReason::CessationOfOperation,
        Some(CrlReason::PrivilegeWithdrawn) => RevocationReason::PrivilegeWithdrawn,
        Some(other) => {
            return Err(ChainError::RevokedOtherReason {
                cert: cert.at(position),
                serial,
                revoked_at: entry.revoked_at,
                reason: match other {
                    CrlReason::CertificateHold => "certificateHold",
                    CrlReason::AaCompromise => "aACompromise",
                    _ => "removeFromCRL in a complete list",
                },
            });
        }
    };
    if reason.is_compromise() {
        return Err(ChainError::RevokedKeyCompromise {
            cert: cert.at(position),
            serial,
            revoked_at: entry.revoked_at,
            reason,
        });
    }
    if used_at >= entry.revoked_at {
        return Err(ChainError::Revoked {
            cert: cert.at(position),
            serial,
            revoked_at: entry.revoked_at,
            reason,
            used_at,
        });
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unknown(reason: String) -> ChainError {
    ChainError::RevocationStatusUnknown {
        cert: CertRef::new(Position::RevocationList, ""),
        reason,
    }
}

/// A problem with a list, as text for the final message.
fn reason_text(error: &ChainError) -> String {
    match error {
        ChainError::RevocationStatusUnknown { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

fn describe(crl: &Crl) -> String {
    let kind = if crl.is_delta() { "delta list" } else { "list" };
    format!("the {kind} of \"{}\"", crl.issuer_text())
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_cert::ext::pkix::crl::dp::Reasons;

    #[test]
    fn all_reasons_are_the_flags_but_unused() {
        let all = (der::flagset::FlagSet::<Reasons>::full() - Reasons::Unused).bits();
        assert_eq!(all, ALL_REASONS);
    }
}

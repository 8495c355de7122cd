//! License verification: the CMS signature, the signer's path and rights, the license's own
//! validity under the model.

use rms_cert::{LicenseBody, LicenseKind, SignedLicense};
use time::OffsetDateTime;

use crate::build::{build, key_error, signature_error};
use crate::error::{CertRef, ChainError, Position};
use crate::name::NormalizedName;
use crate::signature::{HashAlg, verify_signature};
use crate::{Cert, Purpose, TrustAnchors, VerifiedPath, Verifier, VerifyOptions};

/// A license whose signature, signer path, rights and validity were verified.
#[derive(Debug, Clone)]
pub struct VerifiedLicense<'a> {
    license: &'a SignedLicense,
    path: VerifiedPath,
}

impl<'a> VerifiedLicense<'a> {
    /// The license.
    #[must_use]
    pub fn license(&self) -> &'a SignedLicense {
        self.license
    }

    /// Its body.
    #[must_use]
    pub fn body(&self) -> &'a LicenseBody {
        self.license.body()
    }

    /// Publishing or use license.
    #[must_use]
    pub fn kind(&self) -> LicenseKind {
        self.license.kind()
    }

    /// The certificate that signed it (the leaf of [`VerifiedLicense::path`]).
    #[must_use]
    pub fn signer(&self) -> &Cert {
        self.path.leaf()
    }

    /// The signer's verified path.
    #[must_use]
    pub fn path(&self) -> &VerifiedPath {
        &self.path
    }
}

/// Verifies `license` at time `at`: finds its signer among the certificates it carries (or in
/// `pool`) by issuer and serial number, checks the digest of the content against the signed
/// message digest and the signature over the signed attributes with the signer's key, checks
/// that the body names the signer as its issuer, then builds the signer's path to one of
/// `anchors` with the license in front of it.
///
/// The license's window (issue time to expiry) must contain `at`. Under the chain model (the
/// default, and what licenses need) the signer must have been valid at the license's issue
/// time and each issuer when it signed the certificate below it; under the shell model
/// everything must be valid at `at`. The signer must hold the right to issue licenses of the
/// license's kind; the purpose in `options` is not used.
pub fn verify_license<'a>(
    license: &'a SignedLicense,
    pool: &[Cert],
    anchors: &TrustAnchors,
    at: OffsetDateTime,
    options: &VerifyOptions,
) -> Result<VerifiedLicense<'a>, ChainError> {
    let (signer, pool) = check_signature(license, pool, options, &|_| None)?;
    let path = build(
        &signer,
        &pool,
        anchors,
        at,
        options,
        Purpose::SignLicense(license.kind()),
        Some(license.validity()),
    )?;
    Ok(VerifiedLicense { license, path })
}

impl Verifier {
    /// Like [`verify_license`] with this verifier's anchors and options, using the cache: the
    /// signer's path, once verified, is not built again, only its times are re-checked.
    pub fn verify_license<'a>(
        &self,
        license: &'a SignedLicense,
        pool: &[Cert],
        at: OffsetDateTime,
    ) -> Result<VerifiedLicense<'a>, ChainError> {
        let known = |fingerprint: &[u8; 32]| self.known_cert(fingerprint);
        let (signer, pool) = check_signature(license, pool, self.options(), &known)?;
        let path = self.verify_cached(
            &signer,
            &pool,
            at,
            Purpose::SignLicense(license.kind()),
            Some(license.validity()),
        )?;
        Ok(VerifiedLicense { license, path })
    }
}

/// Everything about a license but its signer's path: returns the signer and the pool to build
/// its path from (the certificates the license carries, then `pool`). `known` may supply
/// certificates already read, by fingerprint.
fn check_signature(
    license: &SignedLicense,
    pool: &[Cert],
    options: &VerifyOptions,
    known: &dyn Fn(&[u8; 32]) -> Option<Cert>,
) -> Result<(Cert, Vec<Cert>), ChainError> {
    let view = license.signer();
    let hash = HashAlg::from_identifier(&view.digest_algorithm).ok_or(
        ChainError::UnsupportedDigestAlgorithm {
            algorithm: view.digest_algorithm.oid,
        },
    )?;
    if hash.digest(&view.content) != view.message_digest {
        return Err(ChainError::DigestMismatch);
    }

    let fingerprints = license.certificate_fingerprints();
    let mut candidates = license
        .certificates()
        .iter()
        .enumerate()
        .map(|(i, c)| Cert::from_certificate_or_known(c, fingerprints.get(i), known))
        .collect::<Result<Vec<_>, _>>()?;
    candidates.extend(pool.iter().cloned());
    let issuer = NormalizedName::new(&view.issuer);
    let signer = candidates
        .iter()
        .find(|c| {
            c.normalized_issuer() == &issuer
                && c.certificate().tbs_certificate().serial_number() == &view.serial
        })
        .cloned()
        .ok_or_else(|| ChainError::SignerNotFound {
            issuer: view.issuer.to_string(),
            serial: view.serial.to_string(),
        })?;

    let signer_ref = || signer.at(Position::Path(0));
    let key = signer
        .public_key()
        .map_err(|e| key_error(e, signer_ref(), options.min_rsa_bits()))?;
    verify_signature(
        key,
        &view.signature_algorithm,
        Some(&view.digest_algorithm),
        &view.signed_attributes_der,
        &view.signature,
        options.min_rsa_bits(),
    )
    .map_err(|e| signature_error(e, CertRef::license(), signer_ref()))?;

    let named = match license.body() {
        LicenseBody::Publishing(l) => Some(l.issuer()),
        LicenseBody::Use(l) => Some(l.issuer()),
        _ => None,
    };
    if let Some(named) = named
        && NormalizedName::new(named) != *signer.normalized_subject()
    {
        return Err(ChainError::LicenseIssuerMismatch {
            named: named.to_string(),
            signer: signer_ref(),
        });
    }
    Ok((signer, candidates))
}

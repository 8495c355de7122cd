//! Issuers: an enrollment authority enrolls root certification servers, a root certification
//! server sub-enrolls licensing servers. Both issue SLCs from checked requests.

use std::fmt;
use std::sync::Arc;

use rms_policy::{Issued, Validity, ValidityPolicy, from_x509_validity, to_x509_validity};
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::name::Name;

use crate::license_wire::EncodedCertificates;
use crate::profile::{Kind, Profile, extensions, key_identifier, subject_key_id_of};
use crate::signer::{BuilderSigner, RawSignature};
use crate::{
    CertError, Chain, CheckedRequest, Right, Rights, SerialNumber, ServerIdentity, ServerRole,
    Signer, oid,
};

/// What an issuer is, which decides what it may issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IssuerKind {
    /// The self-signed trust anchor: enrolls root certification servers.
    EnrollmentAuthority,
    /// A root certification server: sub-enrolls licensing servers, issues licenses.
    RootCertificationServer,
    /// A licensing server: issues licenses, never certificates.
    LicensingServer,
}

impl fmt::Display for IssuerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IssuerKind::EnrollmentAuthority => "an enrollment authority",
            IssuerKind::RootCertificationServer => "a root certification server",
            IssuerKind::LicensingServer => "a licensing server",
        })
    }
}

/// A key holder with its certificate chain: the authority (chain = its own certificate) or a
/// server (chain = its SLC up to the authority). Issues SLCs and, through
/// [`issue_publishing_license`](crate::issue_publishing_license) and
/// [`issue_use_license`](crate::issue_use_license), licenses.
///
/// All issuance takes the issue time as a parameter; nothing reads the clock.
#[derive(Clone)]
pub struct Issuer {
    signer: Arc<dyn Signer>,
    chain: Chain,
    kind: IssuerKind,
    rights: Rights,
    validity: Validity,
    key_id: Vec<u8>,
    policy: ValidityPolicy,
    /// The chain as every license it signs carries it, encoded once.
    encoded_certificates: Arc<EncodedCertificates>,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("subject", &self.subject().to_string())
            .field("kind", &self.kind)
            .field("rights", &self.rights)
            .field("validity", &self.validity)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// An issuer holding `signer`, whose certificate is `chain.leaf()`.
    ///
    /// The kind comes from the certificate: an SLC names its role in the server-role extension
    /// and its rights in the rights-granted extension; a self-issued CA certificate with
    /// keyCertSign and no role is an enrollment authority. Refuses a signer whose public key is
    /// not the certificate's.
    pub fn new(signer: Arc<dyn Signer>, chain: Chain) -> Result<Self, CertError> {
        let certificate = chain.leaf();
        let tbs = certificate.tbs_certificate();
        let subject = tbs.subject().to_string();
        let refuse = |reason| CertError::IssuerCertificate {
            subject: subject.clone(),
            reason,
        };
        if signer.public_key() != *tbs.subject_public_key_info() {
            return Err(CertError::SignerMismatch { subject });
        }
        let extensions = tbs.extensions().map(Vec::as_slice).unwrap_or_default();
        let (kind, rights) = if extensions.iter().any(|e| e.extn_id == oid::SERVER_ROLE) {
            let identity = ServerIdentity::from_certificate(certificate)?;
            let rights = Rights::from_extensions(extensions)?.unwrap_or(Rights::NONE);
            let kind = match identity.role() {
                ServerRole::RootCertificationServer => IssuerKind::RootCertificationServer,
                ServerRole::LicensingServer => IssuerKind::LicensingServer,
            };
            (kind, rights)
        } else {
            let ca = tbs
                .get_extension::<BasicConstraints>()
                .map_err(|_| refuse("unreadable basicConstraints"))?
                .is_some_and(|(_, bc)| bc.ca);
            let cert_sign = tbs
                .get_extension::<KeyUsage>()
                .map_err(|_| refuse("unreadable keyUsage"))?
                .is_some_and(|(_, ku)| ku.key_cert_sign());
            if !(ca && cert_sign && tbs.issuer() == tbs.subject()) {
                return Err(refuse(
                    "neither an SLC (no server-role extension) nor a self-issued CA certificate \
                     with keyCertSign (an enrollment authority)",
                ));
            }
            (IssuerKind::EnrollmentAuthority, Rights::NONE)
        };
        let validity = from_x509_validity(tbs.validity())?;
        let key_id = subject_key_id_of(certificate)?;
        // Licenses carry the path from the signer up to, not including, the trust anchor: a
        // verifier must hold the anchor anyway, and it is a fifth of a license's size.
        let carried = match chain.certificates() {
            [only] => std::slice::from_ref(only),
            [path @ .., _anchor] => path,
            [] => return Err(CertError::EmptyChain),
        };
        let encoded_certificates = Arc::new(EncodedCertificates::new(carried)?);
        Ok(Self {
            signer,
            chain,
            encoded_certificates,
            kind,
            rights,
            validity,
            key_id,
            policy: ValidityPolicy::default(),
        })
    }

    /// Creates an enrollment authority: a self-signed trust anchor named `subject`, valid from
    /// `now` for the policy's authority lifetime (20 years by default), CA with pathLen 1,
    /// keyUsage keyCertSign and cRLSign.
    pub fn create_authority(
        subject: Name,
        signer: Arc<dyn Signer>,
        policy: ValidityPolicy,
        now: OffsetDateTime,
    ) -> Result<Self, CertError> {
        let public_key = signer.public_key();
        let key_id = key_identifier(&public_key)?;
        let validity = policy.validity(Issued::EnrollmentAuthority, now)?;
        let profile = Profile {
            issuer: subject.clone(),
            subject,
            extensions: extensions(Kind::Authority, &public_key, &key_id, None)?,
        };
        let certificate = build(profile, &validity, public_key, signer.as_ref())?;
        Ok(Self::new(signer, Chain::new(vec![certificate])?)?.with_policy(policy))
    }

    /// The same issuer with another validity policy (lifetimes of what it issues).
    #[must_use]
    pub fn with_policy(mut self, policy: ValidityPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Issues an SLC for a checked request at time `now`: the authority enrolls a root
    /// certification server, a root sub-enrolls a licensing server. Returns the new SLC's chain,
    /// `[new SLC, this issuer's chain...]`.
    ///
    /// Refuses: an issuer not valid at `now`; an issuer without the sub-enroll right (a
    /// licensing server); a request for the wrong role (an authority enrolls only roots, a root
    /// sub-enrolls only licensing servers); a request for the issuer's own key.
    pub fn issue_slc(
        &self,
        request: &CheckedRequest,
        now: OffsetDateTime,
    ) -> Result<Chain, CertError> {
        self.check_valid_at(now)?;
        let requested = request.identity().role();
        match self.kind {
            IssuerKind::EnrollmentAuthority => {
                if requested != ServerRole::RootCertificationServer {
                    return Err(CertError::WrongRole {
                        issuer: self.kind,
                        requested,
                    });
                }
            }
            IssuerKind::RootCertificationServer | IssuerKind::LicensingServer => {
                self.require(Right::SubEnroll)?;
                if self.kind != IssuerKind::RootCertificationServer
                    || requested != ServerRole::LicensingServer
                {
                    return Err(CertError::WrongRole {
                        issuer: self.kind,
                        requested,
                    });
                }
            }
        }
        if *request.public_key() == self.signer.public_key() {
            return Err(CertError::SameKey);
        }
        let validity = self
            .policy
            .validity(Issued::ServerLicensorCertificate, now)?;
        let profile = Profile {
            issuer: self.subject().clone(),
            subject: request.identity().subject().clone(),
            extensions: extensions(
                Kind::Slc(requested),
                request.public_key(),
                &self.key_id,
                Some(request.identity()),
            )?,
        };
        let certificate = build(
            profile,
            &validity,
            request.public_key().clone(),
            self.signer.as_ref(),
        )?;
        self.chain.prepend(certificate)
    }

    /// Refuses when the issuer's certificate is not valid at `now`.
    pub(crate) fn check_valid_at(&self, now: OffsetDateTime) -> Result<(), CertError> {
        if self.validity.contains(now, Duration::ZERO) {
            return Ok(());
        }
        Err(CertError::IssuerNotValid {
            subject: self.subject().to_string(),
            not_before: self.validity.not_before(),
            not_after: self.validity.not_after(),
            at: now,
        })
    }

    /// Refuses when the issuer does not hold `right`.
    pub(crate) fn require(&self, right: Right) -> Result<(), CertError> {
        if self.rights.contains(right) {
            return Ok(());
        }
        Err(CertError::MissingRight {
            subject: self.subject().to_string(),
            right,
            held: self.rights,
        })
    }

    /// What this issuer is.
    #[must_use]
    pub fn kind(&self) -> IssuerKind {
        self.kind
    }

    /// The rights its certificate grants it (none for an authority).
    #[must_use]
    pub fn rights(&self) -> Rights {
        self.rights
    }

    /// Its certificate.
    #[must_use]
    pub fn certificate(&self) -> &Certificate {
        self.chain.leaf()
    }

    /// Its chain, its own certificate first.
    #[must_use]
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Its subject name.
    #[must_use]
    pub fn subject(&self) -> &Name {
        self.certificate().tbs_certificate().subject()
    }

    /// The validity of its certificate.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.validity
    }

    /// The policy that sets the lifetimes of what it issues.
    #[must_use]
    pub fn policy(&self) -> &ValidityPolicy {
        &self.policy
    }

    /// Its signer.
    #[must_use]
    pub fn signer(&self) -> &Arc<dyn Signer> {
        &self.signer
    }

    /// Its chain as licenses carry it.
    /// Signs `body` exactly as given, with `issued_at` as its signing-time, without the checks
    /// the `issue_*` functions make (the issuer's rights, its validity, the policy). For tools
    /// that relay or re-sign licenses, and for tests of verifiers that need a license with
    /// chosen contents; issuing code uses [`issue_publishing_license`](crate::issue_publishing_license)
    /// and [`issue_use_license`](crate::issue_use_license).
    pub fn sign_license(
        &self,
        body: &crate::LicenseBody,
        issued_at: OffsetDateTime,
    ) -> Result<crate::SignedLicense, CertError> {
        crate::license_signed::sign(
            body,
            self.signer().as_ref(),
            self.certificate(),
            self.encoded_certificates(),
            issued_at,
        )
    }

    pub(crate) fn encoded_certificates(&self) -> &EncodedCertificates {
        &self.encoded_certificates
    }
}

/// Builds and signs a certificate with a fresh serial number (ordered by its `notBefore`).
fn build(
    profile: Profile,
    validity: &Validity,
    public_key: spki::SubjectPublicKeyInfoOwned,
    signer: &dyn Signer,
) -> Result<Certificate, CertError> {
    let adapter = BuilderSigner::new(signer);
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::generate(validity.not_before())?.to_x509()?,
        to_x509_validity(validity)?,
        public_key,
    )
    .map_err(|err| adapter.error("certificate", err))?;
    builder
        .build::<_, RawSignature>(&adapter)
        .map_err(|err| adapter.error("certificate", err))
}

//! The client side: what a user's tool (our `rms-client`), an example or an embedding
//! application does with a licensing cluster, with the same rules everywhere.
//!
//! - [`Authority`]: the enrollment authority a client trusts. It verifies a cluster's chain
//!   before anything is wrapped to the cluster's key, verifies licenses offline under the chain
//!   model, and applies revocation lists whose issuers it verified itself.
//! - [`LicensingChannel`]: how the client reaches a licensing server (`rms-transport`
//!   implements it over HTTP); [`publish`] and [`request_use_license`] are the two exchanges,
//!   with every check on the client's side; [`LocalLicensing`] is a channel to a licensing
//!   role in the same process.
//! - [`DocumentClient`]: protected documents. [`DocumentClient::protect`] publishes and
//!   encrypts a file; [`DocumentClient::license`] gets a use license (or reuses one from a
//!   [`LicenseStore`], offline) and verifies it; [`DocumentLicense`] says what it grants
//!   ([`DocumentRights`]) and opens the file, enforcing that writing the plaintext out needs
//!   `export` or `edit`; [`document_info`] reads what a file says in the clear.

use std::future::Future;
use std::sync::Arc;

use rms_cert::spki::SubjectPublicKeyInfoOwned;
use rms_cert::{
    Grant, LicenseBody, LicenseKind, RecipientKey, RevocationList, SignedLicense, TemplateList,
    UseLicense, WrappedKey, unwrap_content_key, wrap_content_key_to,
};
use rms_chain::{
    Cert, Purpose, Revocations, TrustAnchor, TrustAnchors, VerifiedPath, Verifier, VerifyOptions,
    verify_path,
};
use rms_keys::PrivateKey;
use rms_policy::ValidationModel;
use time::OffsetDateTime;

use crate::{PublishRequest, RoleError};

pub use self::documents::{
    DocumentClient, DocumentInfo, DocumentLicense, DocumentRights, LicenseSource, OpenedDocument,
    ProtectedDocument, Protection, document_info,
};
pub use self::license_store::{
    DEFAULT_LICENSE_STORE_ENTRIES, LicenseStore, MAX_STORED_LICENSE_LEN,
    MAX_STORED_REVOCATION_LIST_LEN,
};
pub use self::local::LocalLicensing;
pub use self::naming::guess_media_type;

mod documents;
mod license_store;
mod local;
mod naming;
mod revocations;

/// The enrollment authority a client trusts, and what it verifies.
///
/// ```
/// # fn demo(anchor_pem: &str, chain_pem: &str) -> Result<(), rms_roles::RoleError> {
/// let authority = rms_roles::client::Authority::from_pem(anchor_pem)?;
/// let cluster_key = authority.cluster_key(chain_pem, time::OffsetDateTime::now_utc())?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Authority {
    anchors: TrustAnchors,
}

/// A verified chain: its leaf and the path to the anchor.
#[derive(Debug)]
pub struct VerifiedChain {
    /// The leaf certificate.
    pub leaf: Cert,
    /// The path from the leaf to the anchor.
    pub path: VerifiedPath,
}

/// A verified license, and the subject of the SLC that signed it.
#[derive(Debug)]
pub struct VerifiedLicense {
    /// The license.
    pub license: SignedLicense,
    /// Subject of the signing SLC, as text.
    pub signer: String,
}

fn untrusted(what: &str) -> impl Fn(rms_chain::ChainError) -> RoleError + '_ {
    move |e| {
        RoleError::refused(
            "untrusted",
            format!("{what} does not verify: {}", crate::describe_error(&e)),
        )
    }
}

impl Authority {
    /// The authority whose certificate is `anchor_pem`.
    pub fn from_pem(anchor_pem: &str) -> Result<Self, RoleError> {
        let anchor = TrustAnchor::from_pem(anchor_pem).map_err(|e| {
            RoleError::bad_input(
                "malformed_anchor",
                format!(
                    "the anchor is not a usable PEM certificate: {}",
                    crate::describe_error(&e)
                ),
            )
        })?;
        let mut anchors = TrustAnchors::new();
        anchors.add(anchor);
        Ok(Self { anchors })
    }

    /// The trust anchors (one: the authority).
    #[must_use]
    pub fn anchors(&self) -> &TrustAnchors {
        &self.anchors
    }

    /// Verifies a chain (PEM, leaf first) at `at` with the shell model (every certificate valid
    /// at `at`), applying `revocation_lists`.
    pub fn verify_chain(
        &self,
        chain_pem: &str,
        at: OffsetDateTime,
        revocation_lists: &[RevocationList],
    ) -> Result<VerifiedChain, RoleError> {
        let certs = parse_chain(chain_pem)?;
        let (leaf, pool) = certs
            .split_first()
            .ok_or_else(|| RoleError::bad_input("malformed_chain", "the chain is empty"))?;
        let mut options = VerifyOptions::new().with_model(ValidationModel::Shell);
        if !revocation_lists.is_empty() {
            options = options.with_revocations(self.revocations(revocation_lists, &certs)?);
        }
        let path =
            verify_path(leaf, pool, &self.anchors, at, &options).map_err(untrusted("the chain"))?;
        Ok(VerifiedChain {
            leaf: leaf.clone(),
            path,
        })
    }

    /// The public key of the licensing cluster whose chain is `chain_pem`, once the chain
    /// verifies at `now` and its leaf is a server licensor: what a content key is wrapped to.
    pub fn cluster_key(
        &self,
        chain_pem: &str,
        now: OffsetDateTime,
    ) -> Result<RecipientKey, RoleError> {
        let certs = parse_chain(chain_pem)?;
        let (leaf, pool) = certs
            .split_first()
            .ok_or_else(|| RoleError::bad_input("malformed_chain", "the chain is empty"))?;
        let options = VerifyOptions::new()
            .with_model(ValidationModel::Shell)
            .with_purpose(Purpose::ServerLicensor);
        verify_path(leaf, pool, &self.anchors, now, &options)
            .map_err(untrusted("the cluster's chain"))?;
        let spki = leaf
            .certificate()
            .tbs_certificate()
            .subject_public_key_info()
            .clone();
        RecipientKey::new(spki).map_err(crate::error::cert_refused)
    }

    /// Verifies `license` offline at `at` under the chain model, applying `revocation_lists`.
    pub fn verify_license(
        &self,
        license: &SignedLicense,
        at: OffsetDateTime,
        revocation_lists: &[RevocationList],
    ) -> Result<VerifiedLicense, RoleError> {
        let mut options = VerifyOptions::new();
        if !revocation_lists.is_empty() {
            let carried = license
                .certificates()
                .iter()
                .map(Cert::from_certificate)
                .collect::<Result<Vec<_>, _>>()
                .map_err(untrusted("a certificate the license carries"))?;
            options = options.with_revocations(self.revocations(revocation_lists, &carried)?);
        }
        let verifier = Verifier::new(self.anchors.clone(), options);
        let verified = verifier
            .verify_license(license, &[], at)
            .map_err(untrusted("the license"))?;
        Ok(VerifiedLicense {
            signer: verified.signer().subject().to_string(),
            license: license.clone(),
        })
    }

    /// Verifies a template list (the DER `GET /licensing/templates` serves) offline at `now`:
    /// signed by a licensing SLC that chains to the authority (chain model), and not stale
    /// (`now` is before its next update). Returns the templates.
    pub fn verify_template_list(
        &self,
        der: &[u8],
        now: OffsetDateTime,
    ) -> Result<TemplateList, RoleError> {
        let signed = SignedLicense::from_der(der).map_err(|e| {
            RoleError::bad_input(
                "malformed_template_list",
                format!("not a signed template list: {}", crate::describe_error(&e)),
            )
        })?;
        if signed.kind() != LicenseKind::TemplateList {
            return Err(RoleError::bad_input(
                "malformed_template_list",
                "a signed document that is not a template list",
            ));
        }
        let skew = VerifyOptions::new().clock_skew();
        let validity = signed.validity();
        if validity.not_after() + skew < now {
            return Err(RoleError::refused(
                "stale_template_list",
                format!(
                    "the template list was due to be replaced at {}: fetch it again",
                    crate::rfc3339(validity.not_after())
                ),
            ));
        }
        // Judged at its signing time: a list outlives neither its next update nor its signer's
        // validity at the time it was signed.
        self.verify_license(&signed, validity.not_before(), &[])?;
        match signed.body() {
            LicenseBody::TemplateList(list) => Ok(list.clone()),
            _ => Err(RoleError::bad_input(
                "malformed_template_list",
                "a signed document that is not a template list",
            )),
        }
    }

    /// Revocation lists, each checked against its issuer: the anchor, or a certificate among
    /// `pool` that itself verifies to the anchor at the list's thisUpdate.
    pub fn revocations(
        &self,
        lists: &[RevocationList],
        pool: &[Cert],
    ) -> Result<Arc<Revocations>, RoleError> {
        let mut revocations = Revocations::new();
        for list in lists {
            let issuer = self.crl_issuer(list, pool).ok_or_else(|| {
                RoleError::refused(
                    "untrusted_crl",
                    format!(
                        "the issuer of a revocation list ({}) is neither the anchor nor a certificate that verifies to it",
                        list.issuer()
                    ),
                )
            })?;
            revocations.add(list, &issuer).map_err(|e| {
                RoleError::refused(
                    "untrusted_crl",
                    format!(
                        "a revocation list is not usable: {}",
                        crate::describe_error(&e)
                    ),
                )
            })?;
        }
        Ok(Arc::new(revocations))
    }

    fn crl_issuer(&self, list: &RevocationList, pool: &[Cert]) -> Option<Cert> {
        // The issuer by name and, when both say, by key (a renewed issuer keeps its name).
        let named = |cert: &Cert| {
            cert.certificate().tbs_certificate().subject() == list.issuer()
                && match (list.authority_key_id(), cert.subject_key_id()) {
                    (Some(aki), Some(ski)) => aki == ski,
                    _ => true,
                }
        };
        if let Some(anchor) = self
            .anchors
            .iter()
            .map(TrustAnchor::cert)
            .find(|c| named(c))
        {
            return Some(anchor.clone());
        }
        let options = VerifyOptions::new().with_model(ValidationModel::Shell);
        pool.iter()
            .filter(|c| named(c))
            .find(|c| verify_path(c, pool, &self.anchors, list.this_update(), &options).is_ok())
            .cloned()
    }
}

fn parse_chain(chain_pem: &str) -> Result<Vec<Cert>, RoleError> {
    Cert::from_pem_chain(chain_pem).map_err(|e| {
        RoleError::bad_input(
            "malformed_chain",
            format!("not a PEM certificate chain: {}", crate::describe_error(&e)),
        )
    })
}

/// A revocation list as PEM (what `rms-root crl` writes) or DER (what
/// `GET /certification/crl` serves).
pub fn read_revocation_list(bytes: &[u8]) -> Result<RevocationList, RoleError> {
    let parsed = match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN") => RevocationList::from_pem(text),
        _ => RevocationList::from_der(bytes),
    };
    parsed.map_err(|e| {
        RoleError::bad_input(
            "malformed_crl",
            format!("not a revocation list: {}", crate::describe_error(&e)),
        )
    })
}

/// The content key a license carries, unwrapped with `key` (the cluster's key for a
/// publishing license, the user's for a use license).
pub fn unwrap_license_key(
    license: &SignedLicense,
    key: &dyn PrivateKey,
) -> Result<Vec<u8>, RoleError> {
    let wrapped: &WrappedKey = match license.body() {
        LicenseBody::Use(ul) => ul.content_key(),
        LicenseBody::Publishing(pl) => pl.content_key(),
        _ => {
            return Err(RoleError::bad_input(
                "unknown_license_kind",
                "a license of a kind this version does not know",
            ));
        }
    };
    unwrap_content_key(key, wrapped).map_err(|e| {
        RoleError::refused(
            "content_key_not_for_key",
            format!(
                "the license's content key does not unwrap with this key: {}",
                crate::describe_error(&e)
            ),
        )
    })
}

/// How a client reaches a licensing server.
pub trait LicensingChannel: Send + Sync {
    /// The cluster's chain (PEM, leaf first).
    fn chain(
        &self,
    ) -> impl Future<Output = Result<String, Box<dyn std::error::Error + Send + Sync>>> + Send;

    /// Asks for a publishing license; the license (PEM).
    fn publish(
        &self,
        request: &PublishRequest,
    ) -> impl Future<Output = Result<String, Box<dyn std::error::Error + Send + Sync>>> + Send;

    /// The cluster's rights policy templates, as the signed list (DER) the server serves.
    /// Channels that cannot reach a list answer with an error.
    fn template_list(
        &self,
    ) -> impl Future<Output = Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>>> + Send
    {
        async { Err("this channel does not serve template lists".into()) }
    }

    /// What the cluster revoked, as the signed list (DER) the server serves
    /// (`GET /licensing/revocations`). Channels that cannot reach a list answer with an
    /// error, and the client then applies the list it kept last.
    fn revocation_list(
        &self,
    ) -> impl Future<Output = Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>>> + Send
    {
        async { Err("this channel does not serve revocation lists".into()) }
    }

    /// Asks for a use license of `publishing_license_pem`, its content key wrapped to
    /// `public_key`; the license (PEM).
    fn use_license(
        &self,
        publishing_license_pem: &str,
        public_key: &SubjectPublicKeyInfoOwned,
    ) -> impl Future<Output = Result<String, Box<dyn std::error::Error + Send + Sync>>> + Send;
}

/// Fetches the cluster's template list through `channel` and verifies it against `authority`
/// now ([`Authority::verify_template_list`]).
pub async fn fetch_templates(
    channel: &impl LicensingChannel,
    authority: &Authority,
) -> Result<TemplateList, RoleError> {
    let der = channel.template_list().await.map_err(RoleError::Upstream)?;
    authority.verify_template_list(&der, OffsetDateTime::now_utc())
}

/// What [`publish`] asks for.
#[derive(Debug, Clone)]
pub struct Publication {
    /// The content's identifier.
    pub content_id: String,
    /// Who may do what (empty when publishing with a template).
    pub grants: Vec<Grant>,
    /// The name of the cluster's rights policy template to publish with, instead of `grants`.
    pub template: Option<String>,
    /// The content key (16 to 64 octets).
    pub content_key: Vec<u8>,
}

/// Publishes: fetches the cluster's chain, verifies it against `authority` now, wraps the
/// content key to the cluster's key, asks for a publishing license, and checks that the
/// license verifies and carries the content key addressed to that same key.
pub async fn publish(
    channel: &impl LicensingChannel,
    authority: &Authority,
    publication: &Publication,
) -> Result<SignedLicense, RoleError> {
    publish_at(channel, authority, publication, OffsetDateTime::now_utc()).await
}

/// [`publish`], verifying the chain and the license at `now`.
pub(crate) async fn publish_at(
    channel: &impl LicensingChannel,
    authority: &Authority,
    publication: &Publication,
    now: OffsetDateTime,
) -> Result<SignedLicense, RoleError> {
    let chain_pem = channel.chain().await.map_err(RoleError::Upstream)?;
    let cluster_key = authority.cluster_key(&chain_pem, now)?;
    let wrapped = wrap_content_key_to(&cluster_key, &publication.content_key)
        .map_err(crate::error::cert_refused)?;
    let request = PublishRequest {
        content_id: publication.content_id.clone(),
        grants: publication.grants.clone(),
        template: publication.template.clone(),
        wrapped_content_key: wrapped,
    };
    let license_pem = channel
        .publish(&request)
        .await
        .map_err(RoleError::Upstream)?;
    let license = SignedLicense::from_pem(&license_pem).map_err(|e| {
        RoleError::bad_input(
            "malformed_license",
            format!("the server's answer: {}", crate::describe_error(&e)),
        )
    })?;
    authority.verify_license(&license, now, &[])?;
    let LicenseBody::Publishing(body) = license.body() else {
        return Err(RoleError::refused(
            "not_a_publishing_license",
            "the server answered with a license that is not a publishing license",
        ));
    };
    let expected =
        rms_cert::key_identifier(cluster_key.public_key()).map_err(crate::error::cert_refused)?;
    if body.content_key().recipient_key_id() != expected.as_slice() {
        return Err(RoleError::refused(
            "content_key_not_for_cluster",
            "the publishing license's content key is not addressed to the cluster's key",
        ));
    }
    Ok(license)
}

/// Asks for a use license of `publishing` for the holder of `key`, and verifies the answer: it
/// verifies against `authority`, is a use license of that publishing license, and its content
/// key unwraps with `key`. Returns the license and the content key.
pub async fn request_use_license(
    channel: &impl LicensingChannel,
    authority: &Authority,
    publishing: &SignedLicense,
    key: &dyn PrivateKey,
) -> Result<(SignedLicense, UseLicense, Vec<u8>), RoleError> {
    let publishing_pem = publishing.to_pem().map_err(RoleError::Cert)?;
    let license_pem = channel
        .use_license(&publishing_pem, &key.public_key())
        .await
        .map_err(RoleError::Upstream)?;
    let license = SignedLicense::from_pem(&license_pem).map_err(|e| {
        RoleError::bad_input(
            "malformed_license",
            format!("the server's answer: {}", crate::describe_error(&e)),
        )
    })?;
    authority.verify_license(&license, OffsetDateTime::now_utc(), &[])?;
    let (LicenseBody::Use(body), LicenseBody::Publishing(pl)) = (license.body(), publishing.body())
    else {
        return Err(RoleError::refused(
            "not_a_use_license",
            "the server answered with a license that is not a use license",
        ));
    };
    if body.publishing_license_serial() != pl.serial() || body.content_id() != pl.content_id() {
        return Err(RoleError::refused(
            "wrong_use_license",
            "the use license is not for this publishing license",
        ));
    }
    let content_key = unwrap_license_key(&license, key)?;
    Ok((license.clone(), body.clone(), content_key))
}

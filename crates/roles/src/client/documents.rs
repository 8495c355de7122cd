//! Protected documents on the client: protect a file (publish, then encrypt), read what a
//! protected file says in the clear, get a use license (or reuse a stored one) and open the
//! file with the rights that license grants.
//!
//! The file work (`rms-content`) is done on the calling thread, chunk by chunk in constant
//! memory; only the exchanges with the licensing server are awaited.

use std::path::Path;
use std::sync::Arc;

use rms_cert::x509_cert::name::Name;
use rms_cert::{Grant, LicenseBody, PublishingLicense, SignedLicense, UsageRight, UsageRights};
use rms_content::{ContentKey, Envelope, FileMetadata, Opened, OpenedInMemory, Progress};
use rms_keys::PrivateKey;
use time::OffsetDateTime;

use super::naming::{guess_media_type, random_content_id};
use super::{Authority, LicenseStore, LicensingChannel, Publication, publish_at, revocations};
use crate::{Clock, RoleError, SystemClock, describe_error, rfc3339};

/// Who may do what with a document about to be protected.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    /// The content's identifier; a fresh `urn:uuid:` when `None`.
    pub content_id: Option<String>,
    /// Who may do what (empty when publishing with a template).
    pub grants: Vec<Grant>,
    /// The name of the cluster's rights policy template to publish with, instead of `grants`.
    pub template: Option<String>,
    /// The name recorded (encrypted) in the file; the source's own name when `None`.
    pub file_name: Option<String>,
    /// The media type recorded (encrypted); guessed from the name's extension when `None`.
    pub media_type: Option<String>,
}

/// A document just protected.
#[derive(Debug, Clone)]
pub struct ProtectedDocument {
    /// Its content id.
    pub content_id: String,
    /// The publishing license the file carries.
    pub publishing_license: SignedLicense,
    /// Octets of the protected file.
    pub len: u64,
}

/// What a protected file says in the clear, read without any key and without the network.
/// Nothing here is authenticated: opening verifies the publishing license and the file.
#[derive(Debug, Clone)]
pub struct DocumentInfo {
    /// The content id.
    pub content_id: String,
    /// The licensing server that issued the publishing license (its subject).
    pub issuer: String,
    /// Where the file says to ask for a use license.
    pub server_url: String,
    /// Who may do what.
    pub grants: Vec<Grant>,
    /// When the publishing license, and so every use license of it, ends.
    pub expires: OffsetDateTime,
    /// The publishing license's serial number (hex).
    pub publishing_serial: String,
    /// The publishing license.
    pub publishing_license: SignedLicense,
    /// Octets of the protected file.
    pub protected_len: u64,
}

/// Reads the clear part of the protected file at `path`.
pub fn document_info(path: &Path) -> Result<DocumentInfo, RoleError> {
    let file = std::fs::File::open(path).map_err(RoleError::local_file(format!(
        "cannot open {}",
        path.display()
    )))?;
    let clear = rms_content::info(std::io::BufReader::new(file))?;
    let envelope = clear.envelope();
    let publishing = envelope.publishing();
    Ok(DocumentInfo {
        content_id: publishing.content_id().to_owned(),
        issuer: publishing.issuer().to_string(),
        server_url: envelope.server_url().to_owned(),
        grants: publishing.grants().to_vec(),
        expires: publishing.validity().not_after(),
        publishing_serial: publishing.serial().to_string(),
        publishing_license: envelope.publishing_license().clone(),
        protected_len: clear.total_len(),
    })
}

/// What a use license lets its holder do with a document, and until when: the embedding
/// application enforces what this library does not (it enforces only writing the plaintext
/// out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRights {
    /// Whom the license was issued to.
    pub principal: String,
    /// The rights granted.
    pub rights: UsageRights,
    /// When the use license started.
    pub not_before: OffsetDateTime,
    /// When the use license ends (the grant's end or the publishing license's, if sooner).
    pub expires: OffsetDateTime,
}

impl DocumentRights {
    /// Whether `right` is granted.
    #[must_use]
    pub fn allows(&self, right: UsageRight) -> bool {
        self.rights.contains(right)
    }

    /// Refuses unless one of `rights` is granted; the refusal names them and what is granted.
    pub fn require_any(&self, rights: &[UsageRight], to: &str) -> Result<(), RoleError> {
        if rights.iter().any(|&r| self.allows(r)) {
            return Ok(());
        }
        let names: Vec<&str> = rights.iter().map(|r| r.name()).collect();
        let needed = match names.as_slice() {
            [one] => format!("the {one} right"),
            [first @ .., last] => format!("the {} or {last} right", first.join(", ")),
            [] => "a right".to_owned(),
        };
        Err(RoleError::refused(
            "right_not_granted",
            format!(
                "{to} needs {needed}; the use license grants {} only {}",
                self.principal, self.rights
            ),
        ))
    }
}

/// Where a [`DocumentLicense`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LicenseSource {
    /// The licensing server issued it just now.
    Server,
    /// The license store had it (no request was made).
    Store,
}

/// A verified use license of one document for the holder of one key, with the content key it
/// carries: what opens the document.
#[derive(Debug)]
pub struct DocumentLicense {
    rights: DocumentRights,
    content_id: String,
    use_license: SignedLicense,
    source: LicenseSource,
    content_key: ContentKey,
}

impl DocumentLicense {
    /// Verifies `use_license` for the document `info` describes and the holder of `key`, at
    /// `at`: a use license, not expired, verifying offline against `authority` under the chain
    /// model, of this document's publishing license, issued to `key`'s public key, and whose
    /// content key unwraps with `key`.
    pub fn verify(
        authority: &Authority,
        info: &DocumentInfo,
        use_license: &SignedLicense,
        key: &dyn PrivateKey,
        at: OffsetDateTime,
    ) -> Result<Self, RoleError> {
        let LicenseBody::Use(body) = use_license.body() else {
            return Err(RoleError::refused(
                "not_a_use_license",
                "the license given is not a use license",
            ));
        };
        let validity = use_license.validity();
        if at > validity.not_after() {
            return Err(RoleError::refused(
                "use_license_expired",
                format!(
                    "the use license of {:?} for {} expired at {}",
                    body.content_id(),
                    body.principal(),
                    rfc3339(validity.not_after())
                ),
            ));
        }
        authority.verify_license(use_license, at, &[])?;
        let publishing = publishing_body(&info.publishing_license)?;
        if body.content_id() != publishing.content_id()
            || body.publishing_license_serial() != publishing.serial()
        {
            return Err(RoleError::refused(
                "wrong_use_license",
                format!(
                    "the use license is for content {:?} (publishing license {}), not this document ({:?}, publishing license {})",
                    body.content_id(),
                    body.publishing_license_serial(),
                    publishing.content_id(),
                    publishing.serial()
                ),
            ));
        }
        if body.grantee_key() != &key.public_key() {
            return Err(RoleError::refused(
                "use_license_not_for_key",
                format!(
                    "the use license was issued to the key of {}, not to this key",
                    body.principal()
                ),
            ));
        }
        let unwrapped = super::unwrap_license_key(use_license, key)?;
        let content_key = ContentKey::from_bytes(&unwrapped)?;
        Ok(Self {
            rights: DocumentRights {
                principal: body.principal().to_owned(),
                rights: body.rights(),
                not_before: validity.not_before(),
                expires: validity.not_after(),
            },
            content_id: body.content_id().to_owned(),
            use_license: use_license.clone(),
            source: LicenseSource::Server,
            content_key,
        })
    }

    /// What the license grants, to whom, until when.
    #[must_use]
    pub fn rights(&self) -> &DocumentRights {
        &self.rights
    }

    /// The content id.
    #[must_use]
    pub fn content_id(&self) -> &str {
        &self.content_id
    }

    /// The use license.
    #[must_use]
    pub fn use_license(&self) -> &SignedLicense {
        &self.use_license
    }

    /// Where it came from.
    #[must_use]
    pub fn source(&self) -> LicenseSource {
        self.source
    }

    /// Decrypts the protected file at `source` into `destination`, which needs the `export`
    /// or `edit` right: through a temporary file beside `destination` that replaces it only
    /// once the whole file has authenticated (no plaintext is left behind otherwise).
    pub fn open_to_file(
        &self,
        source: &Path,
        destination: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Opened, RoleError> {
        self.rights.require_any(
            &[UsageRight::Export, UsageRight::Edit],
            "writing the opened document out",
        )?;
        Ok(rms_content::open_file(
            source,
            &self.content_key,
            destination,
            progress,
        )?)
    }

    /// Decrypts a small protected file in memory (at most `limit` octets of content), which
    /// needs the `view` right: for an application that shows the document and enforces the
    /// other rights itself.
    pub fn open_in_memory(
        &self,
        protected: &[u8],
        limit: u64,
    ) -> Result<OpenedInMemory, RoleError> {
        self.rights
            .require_any(&[UsageRight::View], "showing the document")?;
        Ok(rms_content::open_in_memory(
            protected,
            &self.content_key,
            limit,
        )?)
    }
}

/// A document opened into a file.
#[derive(Debug)]
pub struct OpenedDocument {
    /// The license it was opened with.
    pub license: DocumentLicense,
    /// The original name and media type, and the octets written.
    pub opened: Opened,
}

/// Protects and opens documents through one licensing server, trusting one authority.
///
/// ```no_run
/// # async fn demo(channel: impl rms_roles::client::LicensingChannel, authority: rms_roles::client::Authority, key: &dyn rms_roles::keys::PrivateKey) -> Result<(), Box<dyn std::error::Error>> {
/// use std::path::Path;
/// use rms_roles::client::{DocumentClient, LicenseStore, Protection, document_info};
///
/// let client = DocumentClient::new(channel, authority);
/// let protection = Protection {
///     grants: vec![rms_roles::cert::Grant::new("alice", "view,export".parse()?)?],
///     ..Protection::default()
/// };
/// let url = "https://rms.example.com/_wmcs/licensing";
/// client.protect(url, &protection, Path::new("report.pdf"), Path::new("report.pdf.rms"), &mut |_| {}).await?;
/// let store = LicenseStore::open(Path::new("licenses"))?;
/// let info = document_info(Path::new("report.pdf.rms"))?;
/// let license = client.license(&info, key, Some(&store)).await?;
/// println!("{} may {} until {}", license.rights().principal, license.rights().rights, license.rights().expires);
/// license.open_to_file(Path::new("report.pdf.rms"), Path::new("report.pdf"), &mut |_| {})?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DocumentClient<C> {
    channel: C,
    authority: Authority,
    clock: Arc<dyn Clock>,
}

impl<C: LicensingChannel> DocumentClient<C> {
    /// A client of the licensing server behind `channel`, trusting `authority`, on the system
    /// clock.
    #[must_use]
    pub fn new(channel: C, authority: Authority) -> Self {
        Self {
            channel,
            authority,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same client on `clock` (licenses are verified at its time).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The channel.
    #[must_use]
    pub fn channel(&self) -> &C {
        &self.channel
    }

    /// The authority.
    #[must_use]
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// Protects the file at `source` into `destination`: makes a content key, asks for a
    /// publishing license granting `protection.grants` (see [`super::publish`] for the
    /// checks), and encrypts the file for it; `server_url` is recorded in the file as where
    /// to ask for use licenses. `destination` appears only once complete.
    pub async fn protect(
        &self,
        server_url: &str,
        protection: &Protection,
        source: &Path,
        destination: &Path,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<ProtectedDocument, RoleError> {
        let file_name = match &protection.file_name {
            Some(name) => name.clone(),
            None => source
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
                .ok_or_else(|| {
                    RoleError::bad_input(
                        "invalid_file_name",
                        format!("{} has no file name in UTF-8", source.display()),
                    )
                })?,
        };
        let media_type = protection
            .media_type
            .clone()
            .unwrap_or_else(|| guess_media_type(&file_name).to_owned());
        let metadata = FileMetadata::new(&file_name, &media_type)?;
        // Fails before anything is asked of the server when the source cannot be read.
        std::fs::metadata(source).map_err(RoleError::local_file(format!(
            "cannot read {}",
            source.display()
        )))?;
        let content_id = match &protection.content_id {
            Some(id) => id.clone(),
            None => random_content_id()?,
        };
        let key = ContentKey::generate()?;
        let publication = Publication {
            content_id: content_id.clone(),
            grants: protection.grants.clone(),
            template: protection.template.clone(),
            content_key: key.as_bytes().to_vec(),
        };
        let license = publish_at(
            &self.channel,
            &self.authority,
            &publication,
            self.clock.now(),
        )
        .await?;
        let envelope = Envelope::new(license.clone(), server_url)?;
        let len =
            rms_content::protect_file(&key, &envelope, &metadata, source, destination, &mut |p| {
                progress(p)
            })?;
        Ok(ProtectedDocument {
            content_id,
            publishing_license: license,
            len,
        })
    }

    /// A verified use license of the document `info` describes for the holder of `key`: the
    /// one in `store` if it still verifies now (no request is made for it: this works
    /// offline), otherwise a new one from the licensing server, which is then stored.
    ///
    /// The cluster's revocation list is fetched first when the server answers (and kept in
    /// `store`), or else taken from `store`: a document or use license it revokes is refused
    /// (`content_revoked`, `use_license_revoked`) and its stored license removed.
    pub async fn license(
        &self,
        info: &DocumentInfo,
        key: &dyn PrivateKey,
        store: Option<&LicenseStore>,
    ) -> Result<DocumentLicense, RoleError> {
        let now = self.clock.now();
        let user_key = key.public_key();
        let revocations =
            revocations::current_list(&self.channel, &self.authority, info, store, now).await?;
        let revoked = |license: Option<&DocumentLicense>| -> Result<(), RoleError> {
            let Some(list) = &revocations else {
                return Ok(());
            };
            revocations::check_content(list, &info.content_id)?;
            match license.map(|l| l.use_license.body()) {
                Some(LicenseBody::Use(body)) => revocations::check_use_license(list, body),
                _ => Ok(()),
            }
        };
        if let Err(refused) = revoked(None) {
            if let Some(store) = store {
                store.remove(&info.content_id, &user_key)?;
            }
            return Err(refused);
        }
        let mut stale = None;
        if let Some(store) = store
            && let Some(stored) = store.get(&info.content_id, &user_key)?
        {
            match DocumentLicense::verify(&self.authority, info, &stored, key, now) {
                Ok(mut license) => {
                    if let Err(refused) = revoked(Some(&license)) {
                        store.remove(&info.content_id, &user_key)?;
                        return Err(refused);
                    }
                    license.source = LicenseSource::Store;
                    return Ok(license);
                }
                Err(refused) => {
                    store.remove(&info.content_id, &user_key)?;
                    stale = Some(refused);
                }
            }
        }
        // The publishing license is checked here too, so that a forged file is refused with
        // its own reason rather than the server's.
        let asked = match self
            .authority
            .verify_license(&info.publishing_license, now, &[])
        {
            Ok(_) => self.request(info, &user_key, key, now).await,
            Err(refused) => Err(refused),
        };
        let license = match (asked, stale) {
            (Ok(license), _) => license,
            (Err(error), Some(stale)) => {
                return Err(RoleError::refused(
                    "no_valid_use_license",
                    format!(
                        "the stored use license is no longer usable ({}), and no new one was had: {}",
                        describe_error(&stale),
                        describe_error(&error)
                    ),
                ));
            }
            (Err(error), None) => return Err(error),
        };
        revoked(Some(&license))?;
        if let Some(store) = store {
            store.put(&info.content_id, &user_key, &license.use_license)?;
        }
        Ok(license)
    }

    async fn request(
        &self,
        info: &DocumentInfo,
        user_key: &rms_cert::spki::SubjectPublicKeyInfoOwned,
        key: &dyn PrivateKey,
        now: OffsetDateTime,
    ) -> Result<DocumentLicense, RoleError> {
        let publishing_pem = info.publishing_license.to_pem().map_err(RoleError::Cert)?;
        let license_pem = self
            .channel
            .use_license(&publishing_pem, user_key)
            .await
            .map_err(RoleError::Upstream)?;
        let license = SignedLicense::from_pem(&license_pem).map_err(|e| {
            RoleError::bad_input(
                "malformed_license",
                format!("the server's answer: {}", describe_error(&e)),
            )
        })?;
        DocumentLicense::verify(&self.authority, info, &license, key, now)
    }

    /// Opens the protected file at `source` into `destination` for the holder of `key`: the
    /// use license from `store` or the server ([`Self::license`]), then
    /// [`DocumentLicense::open_to_file`] (which needs `export` or `edit`).
    pub async fn open(
        &self,
        source: &Path,
        destination: &Path,
        key: &dyn PrivateKey,
        store: Option<&LicenseStore>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<OpenedDocument, RoleError> {
        let info = document_info(source)?;
        let license = self.license(&info, key, store).await?;
        let opened = license.open_to_file(source, destination, &mut |p| progress(p))?;
        Ok(OpenedDocument { license, opened })
    }
}

/// The subject of the SLC that published the document `info` describes.
pub(super) fn publishing_issuer(info: &DocumentInfo) -> Result<&Name, RoleError> {
    Ok(publishing_body(&info.publishing_license)?.issuer())
}

fn publishing_body(license: &SignedLicense) -> Result<&PublishingLicense, RoleError> {
    match license.body() {
        LicenseBody::Publishing(body) => Ok(body),
        _ => Err(RoleError::refused(
            "not_a_publishing_license",
            "the protected file carries a license that is not a publishing license",
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_refusal_names_the_missing_right() {
        let rights = DocumentRights {
            principal: "bob".into(),
            rights: UsageRights::NONE.with(UsageRight::View),
            not_before: OffsetDateTime::UNIX_EPOCH,
            expires: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(rights.require_any(&[UsageRight::View], "x").is_ok());
        let refused = rights
            .require_any(&[UsageRight::Export, UsageRight::Edit], "writing it out")
            .unwrap_err();
        assert_eq!(refused.code(), "right_not_granted");
        assert_eq!(
            refused.to_string(),
            "writing it out needs the export or edit right; the use license grants bob only view"
        );
    }
}

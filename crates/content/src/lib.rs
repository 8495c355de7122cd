//! # rms-content: protected files
//!
//! A document protected by the rights-management PKI is a file of its own: the content,
//! encrypted with a key of its own (the content key), and beside it, in the clear, what a
//! client needs to get a use license for that key: the publishing license (whose copy of the
//! content key is wrapped to the licensing cluster's key) and the licensing server's URL. This
//! crate writes and reads that file. It does no networking, touches no database and performs no
//! RSA private-key operation: the caller brings the content key (generated here, unwrapped from
//! a use license elsewhere) and the publishing license.
//!
//! The file is a standard CMS `AuthEnvelopedData` (RFC 5083) with AES-256-GCM (RFC 5084), so
//! `openssl cms -decrypt` with the licensing cluster's key and SLC recovers it too; the layout,
//! its ASN.1 module and what OpenSSL does with it are in `docs/protected-file.md`.
//!
//! - [`protect`] (any `Read` into any `Write`), [`protect_file`], [`protect_to_vec`]: encrypt
//!   a file with its name and media type ([`FileMetadata`]) for an [`Envelope`].
//! - [`info`]: the clear part ([`ProtectedFileInfo`]) without the key, seeking over the
//!   ciphertext.
//! - [`open`], [`open_file`]: decrypt into a temporary file beside the destination that replaces
//!   it only once the GCM tag matches; [`open_in_memory`] for small files, under a size cap.
//!
//! Protecting and opening stream through a few buffers of [`CHUNK_LEN`] octets whatever the
//! file's size: the calling thread reads and writes while a second thread runs AES-GCM, so
//! that on two cores the I/O and the crypto overlap. They report [`Progress`] through a
//! callback; nothing is printed. A changed, missing or
//! extra byte anywhere in a file is refused with a [`ContentError`] that says what and where.
//! The [`ContentKey`] is zeroed when dropped and never printed.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use rms_cert::{
//!     ContentPolicy, EnrollmentRequest, Grant, Issuer, RsaSigner, ServerId, ServerIdentity,
//!     ServerRole, UsageRights, issue_publishing_license,
//! };
//! use rms_content::{ContentKey, Envelope, FileMetadata, info, open_in_memory, protect_to_vec};
//! use rms_policy::ValidityPolicy;
//! use time::macros::datetime;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = datetime!(2026-03-10 09:30 UTC);
//! // A licensing cluster, enrolled under a root under an authority.
//! let authority = Issuer::create_authority(
//!     "CN=Example Enrollment Authority".parse()?,
//!     Arc::new(RsaSigner::generate(2048)?),
//!     ValidityPolicy::default(),
//!     now,
//! )?;
//! let enroll = |issuer: &Issuer, name: &str, role| -> Result<Issuer, Box<dyn std::error::Error>> {
//!     let key = Arc::new(RsaSigner::generate(2048)?);
//!     let url = "https://rms.example.com/_wmcs/certification";
//!     let identity = ServerIdentity::new(name, role, ServerId::random()?, url)?;
//!     let checked = EnrollmentRequest::new(&identity, key.as_ref())?.check()?;
//!     Ok(Issuer::new(key, issuer.issue_slc(&checked, now)?)?)
//! };
//! let root = enroll(&authority, "root", ServerRole::RootCertificationServer)?;
//! let licensing = enroll(&root, "licensing", ServerRole::LicensingServer)?;
//!
//! // The publisher makes a content key; the cluster wraps it in a publishing license.
//! let key = ContentKey::generate()?;
//! let grants = vec![Grant::new("alice@example.com", UsageRights::ALL)?];
//! let policy = ContentPolicy::new("report-2026-q1", grants)?;
//! let license = issue_publishing_license(&licensing, &policy, key.as_bytes(), now)?;
//! let envelope = Envelope::new(license, "https://rms.example.com/_wmcs/licensing")?;
//! let metadata = FileMetadata::new("report.txt", "text/plain")?;
//! let protected = protect_to_vec(&key, &envelope, &metadata, b"quarterly figures")?;
//!
//! // Anyone reads the clear part; only the content key opens the rest.
//! let clear = info(std::io::Cursor::new(&protected))?;
//! assert_eq!(clear.envelope().publishing().content_id(), "report-2026-q1");
//! assert_eq!(clear.envelope().server_url(), "https://rms.example.com/_wmcs/licensing");
//! let opened = open_in_memory(&protected, &key, 1 << 20)?;
//! assert_eq!(opened.content(), b"quarterly figures");
//! assert_eq!(opened.metadata().file_name(), "report.txt");
//!
//! // Another key opens nothing.
//! let other = ContentKey::generate()?;
//! assert!(open_in_memory(&protected, &other, 1 << 20).is_err());
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub use crate::envelope::{
    Envelope, FileMetadata, MAX_FILE_NAME_LEN, MAX_MEDIA_TYPE_LEN, MAX_SERVER_URL_LEN,
};
pub use crate::error::ContentError;
pub use crate::key::ContentKey;
pub use crate::open::{
    Opened, OpenedInMemory, ProtectedFileInfo, info, open, open_file, open_in_memory,
};
pub use crate::protect::{protect, protect_file, protect_to_vec};

pub mod oid;

mod envelope;
mod error;
mod format;
mod gcm;
mod key;
mod open;
mod pipeline;
mod protect;
mod reader;
mod recipients;

/// Octets encrypted or decrypted at a time: the size of each of the (at most three) buffers
/// protecting and opening use, and of each read and write.
pub const CHUNK_LEN: usize = 1 << 20;
/// Longest encrypted content (the file and its header): AES-GCM's limit for one message,
/// 2^36 - 32 octets (64 GiB less 32 octets).
pub const MAX_ENCRYPTED_LEN: u64 = gcm::MAX_PLAINTEXT_LEN;
/// Longest encrypted header (file name, media type and the rest) that can be valid.
pub const MAX_HEADER_LEN: usize = format::MAX_HEADER_LEN;

/// How far protecting or opening has got, for a progress bar: octets of the original file
/// processed, out of its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Octets of the file done.
    pub done: u64,
    /// The file's length.
    pub total: u64,
}

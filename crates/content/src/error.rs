//! The one error type of the crate.

use std::io;

use const_oid::ObjectIdentifier;

/// Everything that can go wrong while protecting, opening or reading a protected file.
///
/// Variants are ranked ([`ContentError::rank`]) by how far the work got before it failed: the
/// caller's input, then the machine (I/O, randomness), then what the file is, then its
/// structure, then its authentication. Offsets (`at`) are byte offsets from the start of the
/// protected file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    // --- The caller's input (rank 0).
    /// A content key of another length than AES-256's.
    #[error("a content key is 32 octets (AES-256), not {length}")]
    InvalidContentKeyLength {
        /// The length given.
        length: usize,
    },
    /// A file name that cannot be stored.
    #[error("invalid file name: {reason}")]
    InvalidFileName {
        /// Why.
        reason: &'static str,
    },
    /// A media type that is not `type/subtype` (RFC 6838).
    #[error("invalid media type: {reason}")]
    InvalidMediaType {
        /// Why.
        reason: &'static str,
    },
    /// A licensing server URL that is not an absolute http or https URL.
    #[error("invalid licensing server URL: {reason}")]
    InvalidServerUrl {
        /// Why.
        reason: &'static str,
    },
    /// A use license was given where a publishing license is needed.
    #[error("the license given is not a publishing license")]
    NotPublishingLicense,
    /// The publishing license's content key is wrapped with an algorithm other than
    /// RSA-OAEP with SHA-256 (which the file's recipient info must name).
    #[error("the publishing license's content key is wrapped with {oid}, not RSA-OAEP SHA-256")]
    UnsupportedKeyEncryption {
        /// The algorithm found.
        oid: ObjectIdentifier,
    },
    /// The header and the file together exceed what one AES-GCM message may hold.
    #[error("{length} octets to encrypt exceed AES-GCM's limit of {limit} octets for one message")]
    TooLarge {
        /// Octets to encrypt (the encrypted header and the file).
        length: u64,
        /// GCM's limit, 2^36 - 32.
        limit: u64,
    },
    /// The input to protect ended before the length announced.
    #[error("the input ended after {read} of the {expected} octets announced")]
    InputTooShort {
        /// The length announced.
        expected: u64,
        /// What could be read.
        read: u64,
    },
    /// The input to protect goes on after the length announced.
    #[error("the input is longer than the {expected} octets announced")]
    InputTooLong {
        /// The length announced.
        expected: u64,
    },
    /// An in-memory open of a file whose content exceeds the cap given.
    #[error(
        "the protected content ({length} octets) exceeds the in-memory limit of {limit} octets"
    )]
    ExceedsMemoryLimit {
        /// The content's length (or an upper bound before the header is read).
        length: u64,
        /// The cap.
        limit: u64,
    },

    // --- The machine (rank 10).
    /// Reading or writing failed.
    #[error("I/O error while {what}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The system's random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// aws-lc refused an operation (an internal failure, not a property of the data).
    #[error("AES-256-GCM failed in aws-lc ({what})")]
    Crypto {
        /// The operation.
        what: &'static str,
    },
    /// A structure could not be encoded.
    #[error("{what} could not be encoded")]
    Encode {
        /// What.
        what: &'static str,
        /// The encoder's complaint.
        #[source]
        source: der::Error,
    },

    // --- What the file is (rank 100).
    /// The file is not a CMS ContentInfo holding AuthEnvelopedData.
    #[error(
        "not a protected file: the CMS content type is {content_type}, not id-ct-authEnvelopedData"
    )]
    NotAuthEnvelopedData {
        /// The content type found.
        content_type: ObjectIdentifier,
    },
    /// A well-formed AuthEnvelopedData without our license-acquisition recipient info (as
    /// `openssl cms -encrypt` makes): there is no publishing license to get a key with.
    #[error(
        "not an rms protected file: the AuthEnvelopedData has no license-acquisition recipient \
         info ({}) naming a licensing server and a publishing license",
        crate::oid::LICENSE_ACQUISITION
    )]
    NoLicenseAcquisition,
    /// A field holds something this implementation does not read (another algorithm, an
    /// optional part we never write).
    #[error("byte {at}: unsupported {what}: {found}")]
    Unsupported {
        /// Offset of the field.
        at: u64,
        /// The field.
        what: &'static str,
        /// What was found.
        found: String,
    },

    // --- The file's structure (rank 200).
    /// The file ends inside a field.
    #[error("truncated: the file ends at byte {at}, inside {what}")]
    Truncated {
        /// The file's length.
        at: u64,
        /// The field cut short.
        what: &'static str,
    },
    /// Bytes after the end of the protected file.
    #[error("{extra} bytes of trailing data after the protected file, which ends at byte {at}")]
    TrailingData {
        /// Where the protected file ends.
        at: u64,
        /// How many bytes follow.
        extra: u64,
    },
    /// A field is not the DER we write.
    #[error("byte {at}: {what}: {reason}")]
    Malformed {
        /// Offset of the field.
        at: u64,
        /// The field.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The publishing license in the file does not decode.
    #[error("byte {at}: the publishing license does not decode")]
    InvalidPublishingLicense {
        /// Offset of the recipient infos that carry it.
        at: u64,
        /// Why.
        #[source]
        source: Box<rms_cert::CertError>,
    },
    /// The key-transport recipient info does not carry the publishing license's wrapped
    /// content key.
    #[error(
        "byte {at}: the recipient info's {field} differs from the publishing license's wrapped content key"
    )]
    RecipientMismatch {
        /// Offset of the recipient infos.
        at: u64,
        /// The field that differs.
        field: &'static str,
    },

    // --- Authentication, with the content key (rank 300).
    /// The decrypted header does not decode: the content key is not this file's, or the
    /// start of the ciphertext was altered.
    #[error(
        "byte {at}: the encrypted header does not decode ({reason}): wrong content key or altered ciphertext"
    )]
    HeaderUnreadable {
        /// Offset of the ciphertext.
        at: u64,
        /// What did not decode.
        reason: String,
    },
    /// The recipient infos (the publishing license, the server URL, the wrapped key) are not
    /// the ones the file was protected with: their digest in the encrypted header differs.
    #[error(
        "bytes {at}..{end}: the recipient infos (publishing license, server URL, wrapped key) were altered"
    )]
    ClearPartAltered {
        /// Offset of the recipient infos.
        at: u64,
        /// Their end.
        end: u64,
    },
    /// The GCM tag does not match: the ciphertext, the nonce or the tag was altered, or the
    /// content key is not this file's. Nothing decrypted was kept.
    #[error(
        "bytes {at}..{end}: the AES-GCM tag does not match (altered ciphertext, nonce or tag, or a wrong content key); nothing decrypted was kept"
    )]
    AuthenticationFailed {
        /// Offset of the tag.
        at: u64,
        /// Its end.
        end: u64,
    },
}

impl ContentError {
    /// How far the work got before failing: 0 the caller's input, 10 the machine (I/O,
    /// randomness, the crypto library), 100 what the file is, 200 its structure, 300 its
    /// authentication (the content key was needed to find out).
    #[must_use]
    pub fn rank(&self) -> u32 {
        use ContentError as E;
        match self {
            E::InvalidContentKeyLength { .. }
            | E::InvalidFileName { .. }
            | E::InvalidMediaType { .. }
            | E::InvalidServerUrl { .. }
            | E::NotPublishingLicense
            | E::UnsupportedKeyEncryption { .. }
            | E::TooLarge { .. }
            | E::InputTooShort { .. }
            | E::InputTooLong { .. }
            | E::ExceedsMemoryLimit { .. } => 0,
            E::Io { .. } | E::Random | E::Crypto { .. } | E::Encode { .. } => 10,
            E::NotAuthEnvelopedData { .. } | E::NoLicenseAcquisition | E::Unsupported { .. } => 100,
            E::Truncated { .. }
            | E::TrailingData { .. }
            | E::Malformed { .. }
            | E::InvalidPublishingLicense { .. }
            | E::RecipientMismatch { .. } => 200,
            E::HeaderUnreadable { .. }
            | E::ClearPartAltered { .. }
            | E::AuthenticationFailed { .. } => 300,
        }
    }

    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| ContentError::Io { what, source }
    }
}

impl From<crate::gcm::GcmError> for ContentError {
    fn from(err: crate::gcm::GcmError) -> Self {
        use crate::gcm::GcmError;
        match err {
            GcmError::TooLong => ContentError::TooLarge {
                length: crate::gcm::MAX_PLAINTEXT_LEN + 1,
                limit: crate::gcm::MAX_PLAINTEXT_LEN,
            },
            GcmError::ChunkAfterPartialBlock => ContentError::Crypto {
                what: "a chunk after a partial block",
            },
            GcmError::Backend(what) => ContentError::Crypto { what },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_where() {
        let err = ContentError::AuthenticationFailed {
            at: 1000,
            end: 1016,
        };
        assert!(err.to_string().contains("bytes 1000..1016"), "{err}");
        assert_eq!(err.rank(), 300);
        let err = ContentError::Truncated {
            at: 77,
            what: "the ciphertext",
        };
        assert_eq!(
            err.to_string(),
            "truncated: the file ends at byte 77, inside the ciphertext"
        );
        assert!(err.rank() < ContentError::ClearPartAltered { at: 0, end: 1 }.rank());
    }

    #[test]
    fn a_cause_is_in_the_source_not_the_message() {
        let err = ContentError::Io {
            what: "writing the opened file",
            source: io::Error::other("disk full"),
        };
        assert!(!err.to_string().contains("disk full"));
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk full"));
    }
}

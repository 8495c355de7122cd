//! The crate's errors: one enum, with the request-check failures nested in [`RequestError`] and
//! the license-structure failures in [`LicenseError`].

use const_oid::ObjectIdentifier;
use time::OffsetDateTime;

use crate::{Right, RightsError, ServerRole};

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// An enrollment request is not acceptable.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A license is not well formed.
    #[error(transparent)]
    License(#[from] LicenseError),
    /// The rights-granted extension could not be read or written.
    #[error(transparent)]
    Rights(#[from] RightsError),
    /// A validity window could not be computed or encoded.
    #[error(transparent)]
    Policy(#[from] rms_policy::PolicyError),
    /// Bytes that should hold `what` are not valid DER (or PEM).
    #[error("{what} could not be decoded")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's complaint, with the position when known.
        source: der::Error,
    },
    /// Bytes left over after a complete DER encoding of `what`.
    #[error("{what} is followed by {extra} bytes of trailing data")]
    TrailingData {
        /// What was being decoded.
        what: &'static str,
        /// How many bytes were left over.
        extra: usize,
    },
    /// `what` could not be encoded.
    #[error("{what} could not be encoded")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's complaint.
        source: der::Error,
    },
    /// A private key could not be read, written, encrypted or decrypted.
    #[error("private key ({what}): {reason}")]
    Key {
        /// The operation that failed.
        what: &'static str,
        /// Why (from the PKCS#8 or RSA layer; a wrong passphrase shows here).
        reason: String,
    },
    /// An RSA key size we do not generate.
    #[error("unsupported RSA key size {bits} bits (supported: 2048, 3072, 4096)")]
    UnsupportedKeySize {
        /// The size asked for.
        bits: usize,
    },
    /// The key backend failed: a token unavailable or refusing its PIN, a key that cannot do
    /// what was asked. [`rms_keys::KeyError::is_unavailable`] tells an outage.
    #[error(transparent)]
    Keys(#[from] rms_keys::KeyError),
    /// The signer failed to sign.
    #[error("signing failed: {reason}")]
    Signing {
        /// Why, as the signer reported it.
        reason: String,
    },
    /// A value that cannot be a serial number.
    #[error("invalid serial number: {reason}")]
    InvalidSerial {
        /// Why it was refused.
        reason: &'static str,
    },
    /// A text that is not a server id (a GUID).
    #[error(
        "invalid server id {input:?}: expected a GUID such as 0f8fad5b-d9cb-469f-a165-70867728950e"
    )]
    InvalidServerId {
        /// The text given.
        input: String,
    },
    /// A text that is not a server role.
    #[error("invalid server role {input:?}: expected \"root\" or \"licensing\"")]
    InvalidRole {
        /// The text given.
        input: String,
    },
    /// A server name or URL that cannot go into a request.
    #[error("invalid server identity: {0}")]
    InvalidIdentity(RequestError),
    /// The issuer's certificate cannot be used to issue.
    #[error("issuer certificate {subject}: {reason}")]
    IssuerCertificate {
        /// Subject of the issuer's certificate.
        subject: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signer's public key is not the key in the issuer's certificate.
    #[error("the signer's public key does not match the issuer certificate {subject}")]
    SignerMismatch {
        /// Subject of the issuer's certificate.
        subject: String,
    },
    /// The issuer's certificate is not valid at the issue time.
    #[error(
        "issuer certificate {subject} is not valid at {} (valid {} to {})",
        rfc3339(at),
        rfc3339(not_before),
        rfc3339(not_after)
    )]
    IssuerNotValid {
        /// Subject of the issuer's certificate.
        subject: String,
        /// Start of its validity.
        not_before: OffsetDateTime,
        /// End of its validity.
        not_after: OffsetDateTime,
        /// The issue time asked for.
        at: OffsetDateTime,
    },
    /// The issuer does not hold the right that the issuance needs.
    #[error("issuer {subject} does not hold the right {right} (it holds: {held})")]
    MissingRight {
        /// Subject of the issuer's certificate.
        subject: String,
        /// The right needed.
        right: Right,
        /// The rights it holds.
        held: crate::Rights,
    },
    /// The request asks for a role this issuer does not grant.
    #[error(
        "{issuer} cannot issue an SLC for role {requested}: an enrollment authority enrolls only root \
         certification servers, a root certification server sub-enrolls only licensing servers"
    )]
    WrongRole {
        /// What the issuer is.
        issuer: crate::IssuerKind,
        /// The role the request asks for.
        requested: ServerRole,
    },
    /// The request's key is the issuer's own key.
    #[error("the request's public key is the issuer's own key: refusing to certify it again")]
    SameKey,
    /// A certificate chain with no certificate in it.
    #[error("empty certificate chain")]
    EmptyChain,
    /// The principal asked for is not granted anything by the publishing license.
    #[error("principal {principal:?} is not granted any right by the publishing license")]
    GranteeNotInPolicy {
        /// The principal asked for.
        principal: String,
    },
    /// A content key could not be wrapped or unwrapped with RSA-OAEP.
    #[error("content key {what} failed: {reason}")]
    ContentKey {
        /// `wrap` or `unwrap`.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A license cannot be issued as asked.
    #[error("cannot issue license: {reason}")]
    LicenseInput {
        /// Why.
        reason: &'static str,
    },
    /// A text that is not the name of a usage right.
    #[error("unknown usage right {name:?} (known: view, edit, print, export, forward)")]
    UnknownUsageRight {
        /// The text.
        name: String,
    },
    /// A text that is not a revocation reason we support.
    #[error(
        "unknown revocation reason {input:?} (expected unspecified, keyCompromise, cACompromise, \
         affiliationChanged, superseded, cessationOfOperation or privilegeWithdrawn, or the same \
         in kebab-case such as key-compromise; certificateHold is not supported)"
    )]
    UnknownRevocationReason {
        /// The text given.
        input: String,
    },
    /// A certificate revocation list that is not acceptable (decoding checks the structure,
    /// not the signature).
    #[error("certificate revocation list refused: {reason}")]
    InvalidCrl {
        /// What is wrong, and where (which extension or entry).
        reason: String,
    },
    /// A revocation list cannot be issued as asked.
    #[error("cannot issue revocation list: {reason}")]
    CrlInput {
        /// Why.
        reason: String,
    },
    /// A renewal request that is not well formed.
    #[error("renewal request refused: {reason}")]
    InvalidRenewal {
        /// What is wrong, and where.
        reason: String,
    },
    /// The renewal request names another certificate than the current SLC it is checked
    /// against.
    #[error(
        "renewal request is for the SLC with serial {requested_serial} issued by \
         \"{requested_issuer}\", but the current SLC \"{subject}\" has serial {current_serial} \
         issued by \"{current_issuer}\""
    )]
    RenewalCertificateMismatch {
        /// Subject of the current SLC.
        subject: String,
        /// The serial number the request names (hex).
        requested_serial: String,
        /// The issuer the request names.
        requested_issuer: String,
        /// The current SLC's serial number (hex).
        current_serial: String,
        /// The current SLC's issuer.
        current_issuer: String,
    },
    /// The renewal request's outer signature does not verify with the current SLC's key.
    #[error("renewal request is not signed by the key of the current SLC \"{subject}\": {reason}")]
    RenewalNotSignedByCurrentKey {
        /// Subject of the current SLC.
        subject: String,
        /// Why the signature was not accepted.
        reason: String,
    },
    /// The PKCS#10 request inside a renewal request was refused.
    #[error("renewal request: the inner PKCS#10 request is refused: {0}")]
    RenewalInnerRequest(RequestError),
    /// The renewal asks to change the identity the current SLC certifies.
    #[error(
        "renewal request changes the {field} of the current SLC \"{subject}\" from {current:?} \
         to {requested:?}: a renewal or rekey keeps the identity"
    )]
    RenewalIdentityChanged {
        /// Subject of the current SLC.
        subject: String,
        /// `subject`, `role`, `server id` or `service URL`.
        field: &'static str,
        /// The value in the current SLC.
        current: String,
        /// The value the request asks for.
        requested: String,
    },
}

/// Why an enrollment request was refused; each way a request can be wrong has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Not a DER (or PEM) PKCS#10 request.
    #[error("not a PKCS#10 request: {0}")]
    Encoding(der::Error),
    /// Bytes after the request's DER encoding.
    #[error("{extra} bytes of trailing data after the request")]
    TrailingData {
        /// How many bytes were left over.
        extra: usize,
    },
    /// The signature does not verify with the request's own key (no proof of possession).
    #[error(
        "the request's signature does not verify with its own public key (no proof of possession)"
    )]
    BadSignature,
    /// A signature algorithm we do not accept.
    #[error(
        "unsupported signature algorithm {oid} (accepted: sha256/384/512WithRSAEncryption, RSASSA-PSS with SHA-256/384/512)"
    )]
    UnsupportedSignatureAlgorithm {
        /// The algorithm's identifier.
        oid: ObjectIdentifier,
    },
    /// The public key is not an RSA key.
    #[error("public key algorithm {oid} is not rsaEncryption")]
    KeyNotRsa {
        /// The key algorithm's identifier.
        oid: ObjectIdentifier,
    },
    /// The RSA public key cannot be read.
    #[error("the RSA public key cannot be read: {reason}")]
    InvalidKey {
        /// Why.
        reason: String,
    },
    /// The modulus is outside 2048..=8192 bits.
    #[error("RSA modulus of {bits} bits is outside the accepted 2048 to 8192 bits")]
    KeySize {
        /// Size of the modulus in bits.
        bits: usize,
    },
    /// The public exponent is not 65537.
    #[error("RSA public exponent {} is not 65537", hex(.exponent))]
    Exponent {
        /// The exponent, big-endian.
        exponent: Vec<u8>,
    },
    /// The subject has no common name.
    #[error("the subject has no common name (CN)")]
    MissingCommonName,
    /// The subject's common name is not acceptable.
    #[error("invalid subject common name: {reason}")]
    InvalidCommonName {
        /// Why.
        reason: &'static str,
    },
    /// The server-role extension is missing.
    #[error("the server-role extension ({}) is missing", crate::oid::SERVER_ROLE)]
    MissingRole,
    /// The server-role extension is not `root` or `licensing` as a DER UTF8String.
    #[error("invalid server-role extension: {reason}")]
    InvalidRole {
        /// Why.
        reason: String,
    },
    /// The server-id extension is missing.
    #[error("the server-id extension ({}) is missing", crate::oid::SERVER_ID)]
    MissingServerId,
    /// The server-id extension is not a GUID as a DER UTF8String.
    #[error("invalid server-id extension: {reason}")]
    InvalidServerId {
        /// Why.
        reason: String,
    },
    /// No subjectAltName with the service URL.
    #[error("the subjectAltName extension with the service URL is missing")]
    MissingUrl,
    /// The subjectAltName is not exactly one http or https URI.
    #[error("invalid service URL: {reason}")]
    InvalidUrl {
        /// Why.
        reason: String,
    },
    /// An extension requested twice.
    #[error("extension {oid} is requested more than once")]
    DuplicateExtension {
        /// The extension's identifier.
        oid: ObjectIdentifier,
    },
    /// A critical extension we do not understand.
    #[error("unknown critical extension {oid} requested")]
    UnknownCriticalExtension {
        /// The extension's identifier.
        oid: ObjectIdentifier,
    },
    /// An attribute other than extensionRequest.
    #[error("unknown attribute {oid} (only extensionRequest is accepted)")]
    UnknownAttribute {
        /// The attribute's identifier.
        oid: ObjectIdentifier,
    },
    /// The extensionRequest attribute is malformed (not exactly one value of Extensions).
    #[error("malformed extensionRequest attribute: {reason}")]
    MalformedExtensionRequest {
        /// Why.
        reason: String,
    },
}

/// Why a license was refused when decoding it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LicenseError {
    /// Not a CMS ContentInfo holding SignedData.
    #[error("not a CMS SignedData: {reason}")]
    NotSignedData {
        /// Why.
        reason: String,
    },
    /// Not exactly one SignerInfo.
    #[error("expected exactly one SignerInfo, found {count}")]
    SignerCount {
        /// How many there are.
        count: usize,
    },
    /// The signer is identified by key identifier, not issuer and serial number.
    #[error("the signer must be identified by issuerAndSerialNumber")]
    SignerIdentifier,
    /// The SignerInfo carries no signed attributes.
    #[error("the SignerInfo has no signed attributes")]
    NoSignedAttributes,
    /// A required signed attribute is missing, repeated, or has not exactly one value.
    #[error("signed attribute {name} must appear exactly once with exactly one value")]
    SignedAttribute {
        /// `content-type`, `message-digest` or `signing-time`.
        name: &'static str,
    },
    /// The content-type attribute differs from eContentType.
    #[error("content-type attribute {attribute} differs from eContentType {econtent_type}")]
    ContentTypeMismatch {
        /// The attribute's value.
        attribute: ObjectIdentifier,
        /// The encapsulated content type.
        econtent_type: ObjectIdentifier,
    },
    /// The eContentType is not one of our license types.
    #[error("eContentType {oid} is not a publishing or use license")]
    UnknownContentType {
        /// The content type found.
        oid: ObjectIdentifier,
    },
    /// The SignedData encapsulates no content.
    #[error("the SignedData has no encapsulated content (detached signatures are not licenses)")]
    NoContent,
    /// The license body cannot be decoded.
    #[error("license body: {0}")]
    Body(der::Error),
    /// Bytes after the license body.
    #[error("{extra} bytes of trailing data after the license body")]
    BodyTrailingData {
        /// How many bytes were left over.
        extra: usize,
    },
    /// A body version this implementation does not know.
    #[error("unknown license version {version} (known: 1)")]
    UnknownVersion {
        /// The version found.
        version: u64,
    },
    /// A field of the body is out of range.
    #[error("invalid license body: {reason}")]
    InvalidBody {
        /// Why.
        reason: &'static str,
    },
}

/// Formats a big-endian integer as hex (`0x...`), or decimal when it fits a u64.
fn hex(bytes: &[u8]) -> String {
    let trimmed: &[u8] = {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        &bytes[start..]
    };
    if trimmed.len() <= 8 {
        let value = trimmed
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        return value.to_string();
    }
    let digits: String = trimmed.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

/// `t` as RFC 3339, the form every message writes times in.
fn rfc3339(t: &OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_print_readably() {
        assert_eq!(hex(&[0x01, 0x00, 0x01]), "65537");
        assert_eq!(hex(&[0x00, 0x03]), "3");
        assert_eq!(hex(&[]), "0");
        assert_eq!(hex(&[0xff; 9]), "0xffffffffffffffffff");
    }
}

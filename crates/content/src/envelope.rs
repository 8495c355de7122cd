//! What a protected file says about itself: in the clear, what a client needs to get a license
//! ([`Envelope`]); encrypted, the original file's name and media type ([`FileMetadata`]).

use rms_cert::{LicenseBody, PublishingLicense, SignedLicense, oaep_sha256_algorithm};

use crate::ContentError;

/// Longest file name, in octets of UTF-8 (what most file systems allow).
pub const MAX_FILE_NAME_LEN: usize = 255;
/// Longest media type, in octets.
pub const MAX_MEDIA_TYPE_LEN: usize = 255;
/// Longest licensing server URL, in octets.
pub const MAX_SERVER_URL_LEN: usize = 2048;

/// The original file's name and media type, stored encrypted at the start of the content.
///
/// The name is a base name, never a path: it has no `/`, `\`, NUL or other control character
/// and is not `.` or `..`, so a client can write it into a folder without escaping it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMetadata {
    file_name: String,
    media_type: String,
}

impl FileMetadata {
    /// `file_name` (1 to 255 octets, a base name) of media type `media_type` (RFC 6838
    /// `type/subtype`, parameters allowed, at most 255 octets of printable ASCII).
    pub fn new(file_name: &str, media_type: &str) -> Result<Self, ContentError> {
        check_file_name(file_name).map_err(|reason| ContentError::InvalidFileName { reason })?;
        check_media_type(media_type).map_err(|reason| ContentError::InvalidMediaType { reason })?;
        Ok(Self {
            file_name: file_name.to_owned(),
            media_type: media_type.to_owned(),
        })
    }

    /// The original file name.
    #[must_use]
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The media type.
    #[must_use]
    pub fn media_type(&self) -> &str {
        &self.media_type
    }
}

fn check_file_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() > MAX_FILE_NAME_LEN {
        return Err("it is longer than 255 octets");
    }
    if name == "." || name == ".." {
        return Err("it is . or ..");
    }
    if name.contains(['/', '\\']) {
        return Err("it contains a path separator (a base name is stored, not a path)");
    }
    if name.chars().any(char::is_control) {
        return Err("it contains a control character");
    }
    Ok(())
}

/// RFC 6838 §4.2 restricted-name: a letter or digit, then up to 126 of these.
fn check_restricted_name(name: &str) -> Result<(), &'static str> {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        Some(_) => return Err("a type or subtype must start with a letter or digit"),
        None => return Err("the type and the subtype must not be empty"),
    }
    if name.len() > 127 {
        return Err("a type or subtype is at most 127 characters");
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c)) {
        return Err("a type or subtype has a character RFC 6838 does not allow");
    }
    Ok(())
}

fn check_media_type(media_type: &str) -> Result<(), &'static str> {
    if media_type.len() > MAX_MEDIA_TYPE_LEN {
        return Err("it is longer than 255 octets");
    }
    if !media_type.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err("it must be printable ASCII");
    }
    let essence = media_type.split(';').next().unwrap_or_default().trim_end();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return Err("it is not type/subtype");
    };
    check_restricted_name(kind)?;
    check_restricted_name(subtype)
}

/// The clear part of a protected file: the publishing license (whose content key is wrapped to
/// the licensing cluster's key) and the URL of the licensing server to ask for a use license.
/// That is all a client needs before it has a key, and all anyone learns without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    license: SignedLicense,
    body: PublishingLicense,
    server_url: String,
}

impl Envelope {
    /// The clear part for `publishing_license`, to be licensed by the server at `server_url`
    /// (an absolute `https://` or `http://` URL, at most 2048 octets of printable ASCII).
    ///
    /// Refuses a use license, and a publishing license whose content key is not wrapped with
    /// RSA-OAEP SHA-256 (the recipient info repeats that wrapped key for OpenSSL).
    pub fn new(publishing_license: SignedLicense, server_url: &str) -> Result<Self, ContentError> {
        check_server_url(server_url).map_err(|reason| ContentError::InvalidServerUrl { reason })?;
        let LicenseBody::Publishing(body) = publishing_license.body() else {
            return Err(ContentError::NotPublishingLicense);
        };
        let algorithm = body.content_key().algorithm();
        let expected = oaep_sha256_algorithm().map_err(|_| ContentError::Crypto {
            what: "encoding the RSA-OAEP parameters",
        })?;
        if *algorithm != expected {
            return Err(ContentError::UnsupportedKeyEncryption { oid: algorithm.oid });
        }
        let body = body.clone();
        Ok(Self {
            license: publishing_license,
            body,
            server_url: server_url.to_owned(),
        })
    }

    /// The signed publishing license (verify it with `rms-chain` before trusting it).
    #[must_use]
    pub fn publishing_license(&self) -> &SignedLicense {
        &self.license
    }

    /// The publishing license's body: content id, issuer, policy, wrapped content key.
    #[must_use]
    pub fn publishing(&self) -> &PublishingLicense {
        &self.body
    }

    /// Where to ask for a use license.
    #[must_use]
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// Key identifier of the licensing cluster's key the content key is wrapped to (the
    /// subjectKeyIdentifier of its SLC).
    #[must_use]
    pub fn recipient_key_id(&self) -> &[u8] {
        self.body.content_key().recipient_key_id()
    }
}

fn check_server_url(url: &str) -> Result<(), &'static str> {
    if url.len() > MAX_SERVER_URL_LEN {
        return Err("it is longer than 2048 octets");
    }
    if !url.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err("it must be printable ASCII without spaces");
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("it must start with https:// or http://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err("it names no host");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_base_names() {
        for good in ["report.pdf", "é t é.txt", ".hidden", "a", &"x".repeat(255)] {
            assert!(FileMetadata::new(good, "text/plain").is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "..\\x",
            "a\0b",
            "tab\there",
            &"x".repeat(256),
        ] {
            assert!(
                matches!(
                    FileMetadata::new(bad, "text/plain"),
                    Err(ContentError::InvalidFileName { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn media_types_follow_rfc_6838() {
        for good in [
            "text/plain",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "text/plain; charset=utf-8",
            "image/svg+xml",
        ] {
            assert!(FileMetadata::new("f", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "text",
            "/plain",
            "text/",
            "text/pl ain",
            "tëxt/plain",
            "-a/b",
            "a/b\n",
        ] {
            assert!(
                matches!(
                    FileMetadata::new("f", bad),
                    Err(ContentError::InvalidMediaType { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn server_urls_are_absolute_http_urls() {
        for good in [
            "https://rms.example.com/_wmcs/licensing",
            "http://127.0.0.1:8443",
            "HTTPS://RMS.EXAMPLE.COM",
        ] {
            assert!(check_server_url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "rms.example.com",
            "ftp://rms.example.com",
            "https://",
            "https:///path",
            "https://a b",
            "https://é.example",
        ] {
            assert!(check_server_url(bad).is_err(), "{bad:?}");
        }
        assert!(check_server_url(&format!("https://{}", "a".repeat(2041))).is_err());
        assert!(check_server_url(&format!("https://{}", "a".repeat(2040))).is_ok());
    }
}

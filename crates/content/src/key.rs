//! The content key: the AES-256 key of one protected file.

use std::fmt;

use zeroize::Zeroize;

use crate::ContentError;
use crate::gcm::KEY_LEN;

/// The AES-256 key of one protected file: 32 random octets, wrapped to the licensing cluster's
/// key in the publishing license and to each user's key in their use license.
///
/// It is zeroed when dropped, never printed (`Debug` shows `ContentKey(..)`), and not
/// `Clone`: pass it by reference.
pub struct ContentKey([u8; KEY_LEN]);

impl ContentKey {
    /// Length of a content key in octets.
    pub const LEN: usize = KEY_LEN;

    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self, ContentError> {
        let mut key = [0u8; KEY_LEN];
        aws_lc_rs::rand::fill(&mut key).map_err(|_| ContentError::Random)?;
        Ok(Self(key))
    }

    /// The key in `bytes` (as unwrapped from a use license); refuses any length but 32.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ContentError> {
        let key: [u8; KEY_LEN] =
            bytes
                .try_into()
                .map_err(|_| ContentError::InvalidContentKeyLength {
                    length: bytes.len(),
                })?;
        Ok(Self(key))
    }

    /// The key's octets, to wrap them (`rms_cert::issue_publishing_license`).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl Drop for ContentKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentKey(..)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_random_and_never_printed() {
        let a = ContentKey::generate().unwrap();
        let b = ContentKey::generate().unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(format!("{a:?}"), "ContentKey(..)");
        let hex: String = a.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert!(!format!("{a:?}").contains(&hex));
    }

    #[test]
    fn only_32_octets_make_a_key() {
        assert!(ContentKey::from_bytes(&[1; 32]).is_ok());
        for length in [0, 16, 31, 33, 64] {
            assert!(matches!(
                ContentKey::from_bytes(&vec![1; length]),
                Err(ContentError::InvalidContentKeyLength { length: l }) if l == length
            ));
        }
    }
}

//! The rights-granted extension: what the holder of a server licensor certificate may sign.

use std::fmt;
use std::str::FromStr;

use der::asn1::BitString;
use der::{Decode, Encode};
use x509_cert::ext::Extension;

use crate::oid;

/// One right a server licensor certificate can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Right {
    /// Sign the SLC of a licensing server (sub-enrollment).
    SubEnroll,
    /// Sign publishing licenses.
    IssuePublishingLicense,
    /// Sign use licenses.
    IssueUseLicense,
}

impl Right {
    /// Every right, in bit order.
    pub const ALL: [Right; 3] = [
        Right::SubEnroll,
        Right::IssuePublishingLicense,
        Right::IssueUseLicense,
    ];

    /// The position of the right in the extension's named BIT STRING.
    #[must_use]
    pub const fn bit(self) -> u8 {
        match self {
            Right::SubEnroll => 0,
            Right::IssuePublishingLicense => 1,
            Right::IssueUseLicense => 2,
        }
    }

    /// The right's name, as printed and parsed.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Right::SubEnroll => "sub-enroll",
            Right::IssuePublishingLicense => "issue-publishing-license",
            Right::IssueUseLicense => "issue-use-license",
        }
    }
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Right {
    type Err = RightsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Right::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| RightsError::UnknownRight(s.to_owned()))
    }
}

/// A set of [`Right`]s, encoded in certificates as the extension [`oid::RIGHTS_GRANTED`]:
///
/// ```asn1
/// RightsGranted ::= BIT STRING { subEnroll(0), issuePublishingLicense(1), issueUseLicense(2) }
/// ```
///
/// DER named bit strings drop trailing zero bits, so the encoding is canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rights(u8);

impl Rights {
    /// No rights at all.
    pub const NONE: Rights = Rights(0);
    /// What a root certification server holds: sub-enroll, and issue both kinds of license.
    pub const ROOT: Rights = Rights(0b111);
    /// What a licensing server holds: issue publishing and use licenses, but not sub-enroll.
    pub const LICENSING: Rights = Rights(0b110);

    /// The set holding exactly `rights`.
    pub fn from_rights(rights: impl IntoIterator<Item = Right>) -> Self {
        rights.into_iter().fold(Rights::NONE, |set, r| set.with(r))
    }

    /// This set with `right` added.
    #[must_use]
    pub const fn with(self, right: Right) -> Self {
        Rights(self.0 | (1 << right.bit()))
    }

    /// Whether `right` is in the set.
    #[must_use]
    pub const fn contains(self, right: Right) -> bool {
        self.0 & (1 << right.bit()) != 0
    }

    /// Whether every right of `other` is in this set.
    #[must_use]
    pub const fn includes(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    /// The rights in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Right> {
        Right::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// Encodes the set as the value of the extension (a DER BIT STRING).
    pub fn to_der(self) -> Result<Vec<u8>, RightsError> {
        // Bit 0 is the most significant bit of the first octet.
        let octet = self.0.reverse_bits();
        #[allow(
            clippy::cast_possible_truncation,
            reason = "a u8 has at most 8 trailing zeros"
        )]
        let unused = if octet == 0 {
            0
        } else {
            octet.trailing_zeros() as u8
        };
        let bytes: &[u8] = if octet == 0 {
            &[]
        } else {
            std::slice::from_ref(&octet)
        };
        BitString::new(unused, bytes)
            .and_then(|bits| bits.to_der())
            .map_err(RightsError::Encoding)
    }

    /// Decodes the value of the extension, refusing unknown bits and non-canonical encodings.
    pub fn from_der(bytes: &[u8]) -> Result<Self, RightsError> {
        let bits = BitString::from_der(bytes).map_err(RightsError::Encoding)?;
        let raw = bits.raw_bytes();
        if raw.len() > 1 {
            return Err(RightsError::UnknownBits);
        }
        let octet = raw.first().copied().unwrap_or(0);
        if octet != 0 && u32::from(bits.unused_bits()) != octet.trailing_zeros() {
            return Err(RightsError::NonCanonical);
        }
        let value = octet.reverse_bits();
        if value & !Rights::ROOT.0 != 0 {
            return Err(RightsError::UnknownBits);
        }
        Ok(Rights(value))
    }

    /// The certificate extension carrying this set (not critical, so that tools which do not
    /// know it still print the certificate).
    pub fn to_extension(self) -> Result<Extension, RightsError> {
        Ok(Extension {
            extn_id: oid::RIGHTS_GRANTED,
            critical: false,
            extn_value: der::asn1::OctetString::new(self.to_der()?)
                .map_err(RightsError::Encoding)?,
        })
    }

    /// Reads the rights from a certificate's extensions: `Ok(None)` when the extension is absent,
    /// an error when it appears twice or cannot be read.
    pub fn from_extensions(extensions: &[Extension]) -> Result<Option<Self>, RightsError> {
        let mut found = extensions
            .iter()
            .filter(|e| e.extn_id == oid::RIGHTS_GRANTED);
        let Some(first) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(RightsError::Duplicate);
        }
        Rights::from_der(first.extn_value.as_bytes()).map(Some)
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(Right::name).collect();
        f.write_str(&names.join(", "))
    }
}

/// Why a rights set could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RightsError {
    /// A right name that is not one of ours.
    #[error("unknown right {0:?} (known: sub-enroll, issue-publishing-license, issue-use-license)")]
    UnknownRight(String),
    /// The extension's value is not a DER BIT STRING.
    #[error("rights-granted extension is not a DER BIT STRING: {0}")]
    Encoding(der::Error),
    /// Bits beyond the rights we define.
    #[error("rights-granted extension sets bits this version does not know")]
    UnknownBits,
    /// Trailing zero bits that DER requires to be dropped.
    #[error("rights-granted extension is not in canonical DER (trailing zero bits kept)")]
    NonCanonical,
    /// The extension appears twice in one certificate.
    #[error("rights-granted extension appears more than once")]
    Duplicate,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn encodings_are_canonical_named_bit_strings() {
        assert_eq!(Rights::NONE.to_der().unwrap(), [0x03, 0x01, 0x00]);
        // sub-enroll only: bit 0 set, 7 unused bits.
        assert_eq!(
            Rights::NONE.with(Right::SubEnroll).to_der().unwrap(),
            [0x03, 0x02, 0x07, 0x80]
        );
        // bits 1 and 2: 0b0110_0000, 5 unused.
        assert_eq!(
            Rights::LICENSING.to_der().unwrap(),
            [0x03, 0x02, 0x05, 0x60]
        );
        assert_eq!(Rights::ROOT.to_der().unwrap(), [0x03, 0x02, 0x05, 0xe0]);
    }

    #[test]
    fn every_set_round_trips() {
        for value in 0..8u8 {
            let set = Rights(value);
            assert_eq!(Rights::from_der(&set.to_der().unwrap()).unwrap(), set);
        }
    }

    #[test]
    fn refuses_unknown_bits_and_non_canonical_forms() {
        assert_eq!(
            Rights::from_der(&[0x03, 0x02, 0x04, 0x10]),
            Err(RightsError::UnknownBits)
        );
        assert_eq!(
            Rights::from_der(&[0x03, 0x02, 0x00, 0xe0]),
            Err(RightsError::NonCanonical)
        );
        assert_eq!(
            Rights::from_der(&[0x03, 0x03, 0x00, 0xe0, 0x00]),
            Err(RightsError::UnknownBits)
        );
        assert!(matches!(
            Rights::from_der(&[0x04, 0x00]),
            Err(RightsError::Encoding(_))
        ));
    }

    #[test]
    fn names_parse_and_print() {
        for right in Right::ALL {
            assert_eq!(right.name().parse::<Right>().unwrap(), right);
        }
        assert_eq!(
            Rights::LICENSING.to_string(),
            "issue-publishing-license, issue-use-license"
        );
        assert!("sign-anything".parse::<Right>().is_err());
        assert!(Rights::ROOT.includes(Rights::LICENSING));
        assert!(!Rights::LICENSING.contains(Right::SubEnroll));
    }

    #[test]
    fn extension_lookup() {
        let ext = Rights::LICENSING.to_extension().unwrap();
        assert_eq!(
            Rights::from_extensions(std::slice::from_ref(&ext)).unwrap(),
            Some(Rights::LICENSING)
        );
        assert_eq!(Rights::from_extensions(&[]).unwrap(), None);
        assert_eq!(
            Rights::from_extensions(&[ext.clone(), ext]),
            Err(RightsError::Duplicate)
        );
    }
}

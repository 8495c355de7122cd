//! Usage rights over protected content: what a grant in a license allows.

use std::fmt;
use std::str::FromStr;

use der::asn1::BitString;

use crate::{CertError, LicenseError};

/// One right over protected content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum UsageRight {
    /// Open and read the content.
    View,
    /// Change the content.
    Edit,
    /// Print the content.
    Print,
    /// Save the content unprotected, or copy it out.
    Export,
    /// Forward the content to someone else.
    Forward,
}

impl UsageRight {
    /// Every usage right, in bit order.
    pub const ALL: [UsageRight; 5] = [
        UsageRight::View,
        UsageRight::Edit,
        UsageRight::Print,
        UsageRight::Export,
        UsageRight::Forward,
    ];

    /// Position in the named BIT STRING.
    #[must_use]
    pub const fn bit(self) -> u8 {
        match self {
            UsageRight::View => 0,
            UsageRight::Edit => 1,
            UsageRight::Print => 2,
            UsageRight::Export => 3,
            UsageRight::Forward => 4,
        }
    }

    /// The right's name: `view`, `edit`, `print`, `export`, `forward`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            UsageRight::View => "view",
            UsageRight::Edit => "edit",
            UsageRight::Print => "print",
            UsageRight::Export => "export",
            UsageRight::Forward => "forward",
        }
    }
}

impl fmt::Display for UsageRight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for UsageRight {
    type Err = CertError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UsageRight::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| CertError::UnknownUsageRight { name: s.to_owned() })
    }
}

/// A set of [`UsageRight`]s, encoded as
/// `UsageRights ::= BIT STRING { view(0), edit(1), print(2), export(3), forward(4) }`
/// (DER: trailing zero bits dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UsageRights(u8);

impl UsageRights {
    /// No rights.
    pub const NONE: UsageRights = UsageRights(0);
    /// Every right.
    pub const ALL: UsageRights = UsageRights(0b1_1111);

    /// The set holding exactly `rights`.
    pub fn from_rights(rights: impl IntoIterator<Item = UsageRight>) -> Self {
        rights.into_iter().fold(Self::NONE, Self::with)
    }

    /// This set with `right` added.
    #[must_use]
    pub const fn with(self, right: UsageRight) -> Self {
        Self(self.0 | (1 << right.bit()))
    }

    /// The rights in either set.
    #[must_use]
    pub const fn union(self, other: UsageRights) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether `right` is in the set.
    #[must_use]
    pub const fn contains(self, right: UsageRight) -> bool {
        self.0 & (1 << right.bit()) != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The rights in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = UsageRight> {
        UsageRight::ALL
            .into_iter()
            .filter(move |r| self.contains(*r))
    }

    pub(crate) fn to_bit_string(self) -> Result<BitString, der::Error> {
        let octet = self.0.reverse_bits();
        if octet == 0 {
            return BitString::new(0, Vec::new());
        }
        let unused = u8::try_from(octet.trailing_zeros()).unwrap_or(0);
        BitString::new(unused, vec![octet])
    }

    pub(crate) fn from_bit_string(bits: &BitString) -> Result<Self, LicenseError> {
        let invalid = |reason| LicenseError::InvalidBody { reason };
        let raw = bits.raw_bytes();
        if raw.len() > 1 {
            return Err(invalid("usage rights set bits this version does not know"));
        }
        let octet = raw.first().copied().unwrap_or(0);
        if octet != 0 && u32::from(bits.unused_bits()) != octet.trailing_zeros() {
            return Err(invalid("usage rights are not in canonical DER"));
        }
        let value = octet.reverse_bits();
        if value & !Self::ALL.0 != 0 {
            return Err(invalid("usage rights set bits this version does not know"));
        }
        Ok(Self(value))
    }
}

impl UsageRights {
    /// The rights named in `names` (`view`, `edit`, `print`, `export`, `forward`).
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, CertError> {
        let rights = names
            .iter()
            .map(|name| name.as_ref().trim().parse::<UsageRight>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_rights(rights))
    }
}

/// Reads rights separated by commas: `view,print`.
impl FromStr for UsageRights {
    type Err = CertError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let names: Vec<&str> = s.split(',').filter(|n| !n.trim().is_empty()).collect();
        Self::from_names(&names)
    }
}

impl fmt::Display for UsageRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(UsageRight::name).collect();
        f.write_str(&names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use der::Encode;

    #[test]
    fn usage_rights_are_canonical_named_bit_strings() {
        let all = UsageRights::ALL.to_bit_string().unwrap();
        assert_eq!(all.to_der().unwrap(), [0x03, 0x02, 0x03, 0xf8]);
        let view = UsageRights::NONE.with(UsageRight::View);
        assert_eq!(
            view.to_bit_string().unwrap().to_der().unwrap(),
            [0x03, 0x02, 0x07, 0x80]
        );
        for value in 0..32u8 {
            let set = UsageRights(value);
            let bits = set.to_bit_string().unwrap();
            assert_eq!(UsageRights::from_bit_string(&bits).unwrap(), set);
        }
        let unknown = BitString::new(2, vec![0x04]).unwrap();
        assert!(UsageRights::from_bit_string(&unknown).is_err());
        let padded = BitString::new(0, vec![0x80]).unwrap();
        assert!(UsageRights::from_bit_string(&padded).is_err());
        assert_eq!(
            UsageRights::ALL.to_string(),
            "view, edit, print, export, forward"
        );
        assert_eq!("print".parse::<UsageRight>().unwrap(), UsageRight::Print);
    }
}

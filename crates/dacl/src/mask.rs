//! Access masks (MS-DTYP 2.4.3) and generic mappings.

use std::fmt;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not};
use std::str::FromStr;

use crate::error::Error;

/// A 32-bit access mask: specific rights in bits 0-15, standard rights in 16-20,
/// ACCESS_SYSTEM_SECURITY, MAXIMUM_ALLOWED and the four generic rights above.
///
/// `Display` and `FromStr` use Windows' names for the standard and generic rights
/// (`READ_CONTROL|WRITE_DAC`) and hex for the other bits, whose meaning belongs to the object
/// (`READ_CONTROL|SYNCHRONIZE|0x89` is FILE_GENERIC_READ);
/// [`AccessMask::to_sddl`](crate::AccessMask::to_sddl) gives the SDDL form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AccessMask(u32);

impl AccessMask {
    /// No rights.
    pub const EMPTY: AccessMask = AccessMask(0);
    /// DELETE (SDDL `SD`).
    pub const DELETE: AccessMask = AccessMask(0x0001_0000);
    /// READ_CONTROL: read the owner, group and DACL (SDDL `RC`).
    pub const READ_CONTROL: AccessMask = AccessMask(0x0002_0000);
    /// WRITE_DAC: change the DACL (SDDL `WD`).
    pub const WRITE_DAC: AccessMask = AccessMask(0x0004_0000);
    /// WRITE_OWNER: change the owner (SDDL `WO`).
    pub const WRITE_OWNER: AccessMask = AccessMask(0x0008_0000);
    /// SYNCHRONIZE (no SDDL alias).
    pub const SYNCHRONIZE: AccessMask = AccessMask(0x0010_0000);
    /// DELETE | READ_CONTROL | WRITE_DAC | WRITE_OWNER.
    pub const STANDARD_RIGHTS_REQUIRED: AccessMask = AccessMask(0x000F_0000);
    /// All specific (object-defined) rights, bits 0-15.
    pub const SPECIFIC_RIGHTS_ALL: AccessMask = AccessMask(0x0000_FFFF);
    /// ACCESS_SYSTEM_SECURITY: read or write the SACL; needs the security privilege.
    pub const ACCESS_SYSTEM_SECURITY: AccessMask = AccessMask(0x0100_0000);
    /// MAXIMUM_ALLOWED: ask the access check for every right it can grant.
    pub const MAXIMUM_ALLOWED: AccessMask = AccessMask(0x0200_0000);
    /// GENERIC_ALL (SDDL `GA`).
    pub const GENERIC_ALL: AccessMask = AccessMask(0x1000_0000);
    /// GENERIC_EXECUTE (SDDL `GX`).
    pub const GENERIC_EXECUTE: AccessMask = AccessMask(0x2000_0000);
    /// GENERIC_WRITE (SDDL `GW`).
    pub const GENERIC_WRITE: AccessMask = AccessMask(0x4000_0000);
    /// GENERIC_READ (SDDL `GR`).
    pub const GENERIC_READ: AccessMask = AccessMask(0x8000_0000);
    /// The four generic rights.
    pub const GENERIC_MASK: AccessMask = AccessMask(0xF000_0000);

    /// Directory-service create child (SDDL `CC`, bit 0).
    pub const DS_CREATE_CHILD: AccessMask = AccessMask(0x1);
    /// Directory-service delete child (SDDL `DC`, bit 1).
    pub const DS_DELETE_CHILD: AccessMask = AccessMask(0x2);
    /// Directory-service list children (SDDL `LC`, bit 2).
    pub const DS_LIST_CHILDREN: AccessMask = AccessMask(0x4);
    /// Directory-service validated write (SDDL `SW`, bit 3).
    pub const DS_SELF_WRITE: AccessMask = AccessMask(0x8);
    /// Directory-service read property (SDDL `RP`, bit 4).
    pub const DS_READ_PROPERTY: AccessMask = AccessMask(0x10);
    /// Directory-service write property (SDDL `WP`, bit 5).
    pub const DS_WRITE_PROPERTY: AccessMask = AccessMask(0x20);
    /// Directory-service delete tree (SDDL `DT`, bit 6).
    pub const DS_DELETE_TREE: AccessMask = AccessMask(0x40);
    /// Directory-service list object (SDDL `LO`, bit 7).
    pub const DS_LIST_OBJECT: AccessMask = AccessMask(0x80);
    /// Directory-service control access (SDDL `CR`, bit 8).
    pub const DS_CONTROL_ACCESS: AccessMask = AccessMask(0x100);

    /// FILE_ALL_ACCESS (SDDL `FA`).
    pub const FILE_ALL_ACCESS: AccessMask = AccessMask(0x001F_01FF);
    /// FILE_GENERIC_READ (SDDL `FR`).
    pub const FILE_GENERIC_READ: AccessMask = AccessMask(0x0012_0089);
    /// FILE_GENERIC_WRITE (SDDL `FW`).
    pub const FILE_GENERIC_WRITE: AccessMask = AccessMask(0x0012_0116);
    /// FILE_GENERIC_EXECUTE (SDDL `FX`).
    pub const FILE_GENERIC_EXECUTE: AccessMask = AccessMask(0x0012_00A0);
    /// KEY_ALL_ACCESS (SDDL `KA`).
    pub const KEY_ALL_ACCESS: AccessMask = AccessMask(0x000F_003F);
    /// KEY_READ (SDDL `KR`; `KX` has the same value).
    pub const KEY_READ: AccessMask = AccessMask(0x0002_0019);
    /// KEY_WRITE (SDDL `KW`).
    pub const KEY_WRITE: AccessMask = AccessMask(0x0002_0006);

    /// Mandatory label: no write up (SDDL `NW`, in `ML` ACEs).
    pub const LABEL_NO_WRITE_UP: AccessMask = AccessMask(0x1);
    /// Mandatory label: no read up (SDDL `NR`).
    pub const LABEL_NO_READ_UP: AccessMask = AccessMask(0x2);
    /// Mandatory label: no execute up (SDDL `NX`).
    pub const LABEL_NO_EXECUTE_UP: AccessMask = AccessMask(0x4);

    /// A mask from its raw bits.
    #[must_use]
    pub const fn from_bits(bits: u32) -> AccessMask {
        AccessMask(bits)
    }

    /// The raw bits.
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether no bit is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is set in `self`.
    #[must_use]
    pub const fn contains(self, other: AccessMask) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether `self` and `other` share a bit.
    #[must_use]
    pub const fn intersects(self, other: AccessMask) -> bool {
        self.0 & other.0 != 0
    }

    /// `self` without the bits of `other`.
    #[must_use]
    pub const fn without(self, other: AccessMask) -> AccessMask {
        AccessMask(self.0 & !other.0)
    }

    /// `self` with the bits of `other`.
    #[must_use]
    pub const fn union(self, other: AccessMask) -> AccessMask {
        AccessMask(self.0 | other.0)
    }

    /// The bits in both.
    #[must_use]
    pub const fn intersection(self, other: AccessMask) -> AccessMask {
        AccessMask(self.0 & other.0)
    }

    /// Parses Windows right names (case-insensitive, `-` for `_`) and `0x` hex masks separated
    /// by `|`, `,`, `+` or spaces: `READ_CONTROL|0x1`, `write-dac, 0x20`.
    ///
    /// # Errors
    /// [`Error::UnknownRight`] for a word that is neither a name nor a hex mask.
    pub fn from_names(text: &str) -> Result<AccessMask, Error> {
        let mut mask = AccessMask::EMPTY;
        for word in text
            .split(|c: char| c == ',' || c == '+' || c == '|' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            let hex = word
                .strip_prefix("0x")
                .or_else(|| word.strip_prefix("0X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok());
            let wanted = word.to_ascii_uppercase().replace('-', "_");
            let named = WINDOWS_NAMES
                .iter()
                .find(|(name, _)| *name == wanted)
                .map(|(_, bits)| *bits);
            mask |= hex
                .map(AccessMask)
                .or(named)
                .ok_or_else(|| Error::UnknownRight(word.to_owned()))?;
        }
        Ok(mask)
    }
}

impl BitOr for AccessMask {
    type Output = AccessMask;
    fn bitor(self, rhs: AccessMask) -> AccessMask {
        AccessMask(self.0 | rhs.0)
    }
}

impl BitOrAssign for AccessMask {
    fn bitor_assign(&mut self, rhs: AccessMask) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for AccessMask {
    type Output = AccessMask;
    fn bitand(self, rhs: AccessMask) -> AccessMask {
        AccessMask(self.0 & rhs.0)
    }
}

impl BitAndAssign for AccessMask {
    fn bitand_assign(&mut self, rhs: AccessMask) {
        self.0 &= rhs.0;
    }
}

impl Not for AccessMask {
    type Output = AccessMask;
    fn not(self) -> AccessMask {
        AccessMask(!self.0)
    }
}

impl From<u32> for AccessMask {
    fn from(bits: u32) -> AccessMask {
        AccessMask(bits)
    }
}

impl From<AccessMask> for u32 {
    fn from(mask: AccessMask) -> u32 {
        mask.0
    }
}

impl fmt::Debug for AccessMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessMask(0x{:x} {})", self.0, self)
    }
}

impl fmt::LowerHex for AccessMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl fmt::UpperHex for AccessMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::UpperHex::fmt(&self.0, f)
    }
}

/// Windows' names of the rights whose meaning is the same for every object.
const WINDOWS_NAMES: [(&str, AccessMask); 11] = [
    ("DELETE", AccessMask::DELETE),
    ("READ_CONTROL", AccessMask::READ_CONTROL),
    ("WRITE_DAC", AccessMask::WRITE_DAC),
    ("WRITE_OWNER", AccessMask::WRITE_OWNER),
    ("SYNCHRONIZE", AccessMask::SYNCHRONIZE),
    ("ACCESS_SYSTEM_SECURITY", AccessMask::ACCESS_SYSTEM_SECURITY),
    ("MAXIMUM_ALLOWED", AccessMask::MAXIMUM_ALLOWED),
    ("GENERIC_ALL", AccessMask::GENERIC_ALL),
    ("GENERIC_EXECUTE", AccessMask::GENERIC_EXECUTE),
    ("GENERIC_WRITE", AccessMask::GENERIC_WRITE),
    ("GENERIC_READ", AccessMask::GENERIC_READ),
];

impl fmt::Display for AccessMask {
    /// Windows' names of the standard and generic bits, then any other bits in hex, joined by
    /// `|`: `READ_CONTROL|SYNCHRONIZE|0x89`. The empty mask prints `0x0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        let mut first = true;
        for (name, bits) in WINDOWS_NAMES {
            if rest & bits.0 == bits.0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                rest &= !bits.0;
                first = false;
            }
        }
        if rest != 0 || first {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "0x{rest:x}")?;
        }
        Ok(())
    }
}

impl FromStr for AccessMask {
    type Err = Error;

    /// The inverse of `Display`; see [`AccessMask::from_names`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccessMask::from_names(s)
    }
}

/// What the generic rights mean for one kind of object (MS-DTYP 2.4.3: GENERIC_MAPPING).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GenericMapping {
    /// What GENERIC_READ stands for.
    pub read: AccessMask,
    /// What GENERIC_WRITE stands for.
    pub write: AccessMask,
    /// What GENERIC_EXECUTE stands for.
    pub execute: AccessMask,
    /// What GENERIC_ALL stands for.
    pub all: AccessMask,
}

impl GenericMapping {
    /// The mapping of directory-service objects (MS-ADTS 5.1.3.3: DS_GENERIC_READ = RC, LC,
    /// RP, LO; DS_GENERIC_WRITE = RC, SW, WP; DS_GENERIC_EXECUTE = RC, LC; DS_GENERIC_ALL).
    pub const DIRECTORY_SERVICE: GenericMapping = GenericMapping {
        read: AccessMask(0x0002_0094),
        write: AccessMask(0x0002_0028),
        execute: AccessMask(0x0002_0004),
        all: AccessMask(0x000F_01FF),
    };

    /// The mapping Windows uses for files.
    pub const FILE: GenericMapping = GenericMapping {
        read: AccessMask::FILE_GENERIC_READ,
        write: AccessMask::FILE_GENERIC_WRITE,
        execute: AccessMask::FILE_GENERIC_EXECUTE,
        all: AccessMask::FILE_ALL_ACCESS,
    };

    /// Replaces each generic bit of `mask` by the rights it stands for (MapGenericMask).
    #[must_use]
    pub const fn map(&self, mask: AccessMask) -> AccessMask {
        let mut out = mask.0 & !AccessMask::GENERIC_MASK.0;
        if mask.0 & AccessMask::GENERIC_READ.0 != 0 {
            out |= self.read.0;
        }
        if mask.0 & AccessMask::GENERIC_WRITE.0 != 0 {
            out |= self.write.0;
        }
        if mask.0 & AccessMask::GENERIC_EXECUTE.0 != 0 {
            out |= self.execute.0;
        }
        if mask.0 & AccessMask::GENERIC_ALL.0 != 0 {
            out |= self.all.0;
        }
        AccessMask(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip() {
        let mask = AccessMask::from_bits(0x101) | AccessMask::READ_CONTROL;
        assert_eq!(mask.to_string(), "READ_CONTROL|0x101");
        assert_eq!(mask.to_string().parse::<AccessMask>().unwrap(), mask);
        assert_eq!(
            AccessMask::FILE_GENERIC_READ.to_string(),
            "READ_CONTROL|SYNCHRONIZE|0x89"
        );
        assert_eq!(
            "read-control, write_dac+0x1".parse::<AccessMask>().unwrap(),
            AccessMask::READ_CONTROL | AccessMask::WRITE_DAC | AccessMask::from_bits(1)
        );
        assert_eq!(AccessMask::EMPTY.to_string(), "0x0");
        assert_eq!("0x0".parse::<AccessMask>().unwrap(), AccessMask::EMPTY);
        assert!("frobnicate".parse::<AccessMask>().is_err());
    }

    #[test]
    fn generic_mapping() {
        let m = GenericMapping::FILE;
        assert_eq!(
            m.map(AccessMask::GENERIC_READ | AccessMask::DELETE),
            AccessMask::FILE_GENERIC_READ | AccessMask::DELETE
        );
        assert_eq!(m.map(AccessMask::GENERIC_ALL), AccessMask::FILE_ALL_ACCESS);
    }
}

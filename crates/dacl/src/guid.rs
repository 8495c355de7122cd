//! GUIDs of object ACEs (MS-DTYP 2.3.4).

use std::fmt;
use std::str::FromStr;

use crate::error::{SddlError, SddlErrorKind};
use crate::sddl::cursor::Cursor;
use crate::sid::hex_value;

/// A GUID, printed `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lower case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid {
    data1: u32,
    data2: u16,
    data3: u16,
    data4: [u8; 8],
}

impl Guid {
    /// A GUID from its four fields.
    #[must_use]
    pub const fn new(data1: u32, data2: u16, data3: u16, data4: [u8; 8]) -> Guid {
        Guid {
            data1,
            data2,
            data3,
            data4,
        }
    }

    /// The 16 bytes of the binary form (the first three fields little-endian).
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        let (a, rest) = out.split_at_mut(4);
        a.copy_from_slice(&self.data1.to_le_bytes());
        let (b, rest) = rest.split_at_mut(2);
        b.copy_from_slice(&self.data2.to_le_bytes());
        let (c, d) = rest.split_at_mut(2);
        c.copy_from_slice(&self.data3.to_le_bytes());
        d.copy_from_slice(&self.data4);
        out
    }

    /// A GUID from the 16 bytes of its binary form.
    #[must_use]
    pub fn from_bytes(b: [u8; 16]) -> Guid {
        let [
            a0,
            a1,
            a2,
            a3,
            b0,
            b1,
            c0,
            c1,
            d0,
            d1,
            d2,
            d3,
            d4,
            d5,
            d6,
            d7,
        ] = b;
        Guid {
            data1: u32::from_le_bytes([a0, a1, a2, a3]),
            data2: u16::from_le_bytes([b0, b1]),
            data3: u16::from_le_bytes([c0, c1]),
            data4: [d0, d1, d2, d3, d4, d5, d6, d7],
        }
    }

    /// Parses exactly 36 characters at the cursor (hex digits in either case).
    pub(crate) fn parse(c: &mut Cursor<'_>) -> Result<Guid, SddlError> {
        let start = c.pos();
        let text = c
            .rest()
            .get(..36)
            .ok_or_else(|| c.err(SddlErrorKind::InvalidGuid))?;
        let mut bytes = [0u8; 16];
        let mut nibbles = 0usize;
        for (i, &ch) in text.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if ch != b'-' {
                    return Err(c.err_at(start + i, SddlErrorKind::InvalidGuid));
                }
                continue;
            }
            if !ch.is_ascii_hexdigit() {
                return Err(c.err_at(start + i, SddlErrorKind::InvalidGuid));
            }
            if let Some(slot) = bytes.get_mut(nibbles / 2) {
                *slot = (*slot << 4) | hex_value(ch);
            }
            nibbles += 1;
        }
        c.advance(36);
        // Text order is big-endian for every field.
        let [
            a0,
            a1,
            a2,
            a3,
            b0,
            b1,
            c0,
            c1,
            d0,
            d1,
            d2,
            d3,
            d4,
            d5,
            d6,
            d7,
        ] = bytes;
        Ok(Guid {
            data1: u32::from_be_bytes([a0, a1, a2, a3]),
            data2: u16::from_be_bytes([b0, b1]),
            data3: u16::from_be_bytes([c0, c1]),
            data4: [d0, d1, d2, d3, d4, d5, d6, d7],
        })
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-",
            self.data1, self.data2, self.data3
        )?;
        for b in d.iter().take(2) {
            write!(f, "{b:02x}")?;
        }
        f.write_str("-")?;
        for b in d.iter().skip(2) {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl FromStr for Guid {
    type Err = SddlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut c = Cursor::new(s);
        let g = Guid::parse(&mut c)?;
        if !c.at_end() {
            return Err(c.unexpected("the end of the GUID"));
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn text_and_bytes() {
        let g: Guid = "4828CC14-1437-45bc-9B07-AD6F015E5F28".parse().unwrap();
        assert_eq!(g.to_string(), "4828cc14-1437-45bc-9b07-ad6f015e5f28");
        assert_eq!(g.to_bytes()[..4], [0x14, 0xcc, 0x28, 0x48]);
        assert_eq!(Guid::from_bytes(g.to_bytes()), g);
        assert!(
            "{4828cc14-1437-45bc-9b07-ad6f015e5f28}"
                .parse::<Guid>()
                .is_err()
        );
        assert!("0123456789abcdef".parse::<Guid>().is_err());
        assert!(
            "f30e3bbf-9ff0-11d1-b603-00potato7c1"
                .parse::<Guid>()
                .is_err()
        );
    }
}

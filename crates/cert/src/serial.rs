//! Certificate and license serial numbers.

use std::fmt;
use std::str::FromStr;

use getrandom::SysRng;
use getrandom::rand_core::TryRng;

use crate::CertError;

/// A serial number: a positive integer of at most 20 octets (RFC 5280 §4.1.2.2).
///
/// [`SerialNumber::random`] draws 16 octets from the operating system's CSPRNG, clears the top
/// bit (positive) and sets the next (so the DER encoding is always exactly 16 octets, minimal and
/// never zero): 126 bits of CSPRNG output, well above the 64 bits the CA/Browser Forum requires.
/// Printed and parsed as lowercase hex without separators.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SerialNumber(Vec<u8>);

impl SerialNumber {
    /// Length of a random serial number in octets.
    pub const RANDOM_LEN: usize = 16;
    /// The longest serial number RFC 5280 allows, in octets.
    pub const MAX_LEN: usize = 20;

    /// A fresh random serial number.
    pub fn random() -> Result<Self, CertError> {
        let mut bytes = [0u8; Self::RANDOM_LEN];
        SysRng
            .try_fill_bytes(&mut bytes)
            .map_err(|_| CertError::InvalidSerial {
                reason: "the operating system's random number generator failed",
            })?;
        bytes[0] = (bytes[0] & 0x7f) | 0x40;
        Ok(Self(bytes.to_vec()))
    }

    /// A serial number from the big-endian magnitude of a positive integer (leading zero octets
    /// are dropped). Refuses zero and anything longer than 20 octets once encoded.
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self, CertError> {
        let start = bytes
            .iter()
            .position(|b| *b != 0)
            .ok_or(CertError::InvalidSerial {
                reason: "a serial number must be positive",
            })?;
        let magnitude = bytes.get(start..).unwrap_or_default();
        // DER adds a zero octet in front of a magnitude whose top bit is set.
        let encoded_len =
            magnitude.len() + usize::from(magnitude.first().is_some_and(|b| b & 0x80 != 0));
        if encoded_len > Self::MAX_LEN {
            return Err(CertError::InvalidSerial {
                reason: "a serial number must fit in 20 octets",
            });
        }
        Ok(Self(magnitude.to_vec()))
    }

    /// The big-endian magnitude, without leading zeros.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The serial number as x509-cert wants it.
    pub fn to_x509(&self) -> Result<x509_cert::serial_number::SerialNumber, CertError> {
        x509_cert::serial_number::SerialNumber::new(&self.0).map_err(|source| CertError::Encode {
            what: "serial number",
            source,
        })
    }

    /// Reads an x509-cert serial number, refusing negative, zero and over-long values.
    pub fn from_x509(serial: &x509_cert::serial_number::SerialNumber) -> Result<Self, CertError> {
        let bytes = serial.as_bytes();
        if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(CertError::InvalidSerial {
                reason: "a serial number must be positive",
            });
        }
        Self::from_be_bytes(bytes)
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for SerialNumber {
    type Err = CertError;

    /// Reads hex digits (either case, an optional `0x`, and `:` separators as OpenSSL prints).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = CertError::InvalidSerial {
            reason: "expected hexadecimal digits",
        };
        let s = s.trim();
        let s = s.strip_prefix("0x").unwrap_or(s);
        let digits: Vec<u8> = s
            .bytes()
            .filter(|c| *c != b':')
            .map(|c| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok()))
            .collect::<Option<_>>()
            .ok_or(invalid)?;
        if digits.is_empty() {
            return Err(CertError::InvalidSerial {
                reason: "expected hexadecimal digits",
            });
        }
        let mut bytes = Vec::with_capacity(digits.len().div_ceil(2));
        let odd = digits.len() % 2 == 1;
        let mut iter = digits.into_iter();
        if odd {
            bytes.extend(iter.next());
        }
        while let (Some(hi), Some(lo)) = (iter.next(), iter.next()) {
            bytes.push((hi << 4) | lo);
        }
        Self::from_be_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use der::Encode;

    #[test]
    fn random_serials_are_positive_minimal_and_16_octets() {
        for _ in 0..200 {
            let serial = SerialNumber::random().unwrap();
            let der = serial.to_x509().unwrap().to_der().unwrap();
            // INTEGER, length 16, first content octet 0x40..=0x7f.
            assert_eq!(der[0], 0x02);
            assert_eq!(der[1], 16);
            assert!((0x40..=0x7f).contains(&der[2]));
        }
    }

    #[test]
    fn hex_round_trip_and_limits() {
        let serial = SerialNumber::random().unwrap();
        assert_eq!(serial.to_string().parse::<SerialNumber>().unwrap(), serial);
        assert_eq!(
            "0x01:00".parse::<SerialNumber>().unwrap().as_bytes(),
            [1, 0]
        );
        assert_eq!(
            "abc".parse::<SerialNumber>().unwrap().as_bytes(),
            [0x0a, 0xbc]
        );
        assert!("".parse::<SerialNumber>().is_err());
        assert!("00".parse::<SerialNumber>().is_err());
        assert!("xyz".parse::<SerialNumber>().is_err());
        assert!(SerialNumber::from_be_bytes(&[0x7f; 20]).is_ok());
        assert!(SerialNumber::from_be_bytes(&[0x80; 20]).is_err());
        assert!(SerialNumber::from_be_bytes(&[0x01; 21]).is_err());
    }
}

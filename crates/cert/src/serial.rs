//! Certificate and license serial numbers.

use std::fmt;
use std::str::FromStr;

use getrandom::SysRng;
use getrandom::rand_core::TryRng;
use time::OffsetDateTime;

use crate::CertError;

/// A serial number: a positive integer of at most 20 octets (RFC 5280 §4.1.2.2).
///
/// [`SerialNumber::generate`] makes 16 octets: `0x40` (so the DER encoding is always exactly 16
/// octets, positive, minimal and never zero), the issuance time in milliseconds since the Unix
/// epoch (6 octets, big-endian), then 9 octets from the operating system's CSPRNG: 72 bits of
/// CSPRNG output, above the 64 bits the CA/Browser Forum requires, and serials that sort by
/// issuance time, so that a database's index of them grows at one end instead of being written
/// at random places (one page per batch of records instead of one per record).
/// Printed and parsed as lowercase hex without separators.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SerialNumber(Vec<u8>);

impl SerialNumber {
    /// Length of a generated serial number in octets.
    pub const GENERATED_LEN: usize = 16;
    /// Octets of CSPRNG output in a generated serial number.
    pub const RANDOM_LEN: usize = 9;
    /// The longest serial number RFC 5280 allows, in octets.
    pub const MAX_LEN: usize = 20;

    /// A fresh serial number for something issued at `at`: time-ordered prefix, random rest.
    pub fn generate(at: OffsetDateTime) -> Result<Self, CertError> {
        let mut bytes = [0u8; Self::GENERATED_LEN];
        bytes[0] = 0x40;
        // Six octets of milliseconds last until the year 10889; a time before 1970 counts as 0.
        let millis = u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let (time, random) = bytes[1..].split_at_mut(6);
        time.copy_from_slice(&millis.to_be_bytes()[2..]);
        SysRng
            .try_fill_bytes(random)
            .map_err(|_| CertError::InvalidSerial {
                reason: "the operating system's random number generator failed",
            })?;
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
    #[must_use]
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
    fn generated_serials_are_positive_minimal_and_16_octets() {
        let now = OffsetDateTime::now_utc();
        for _ in 0..200 {
            let serial = SerialNumber::generate(now).unwrap();
            let der = serial.to_x509().unwrap().to_der().unwrap();
            // INTEGER, length 16, first content octet 0x40.
            assert_eq!(der[0], 0x02);
            assert_eq!(der[1], 16);
            assert_eq!(der[2], 0x40);
        }
        let early = SerialNumber::generate(OffsetDateTime::UNIX_EPOCH - time::Duration::DAY);
        assert_eq!(early.unwrap().as_bytes()[..7], [0x40, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn generated_serials_sort_by_time_and_differ_within_a_millisecond() {
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let first = SerialNumber::generate(at).unwrap();
        let same_millisecond = SerialNumber::generate(at).unwrap();
        let later = SerialNumber::generate(at + time::Duration::milliseconds(1)).unwrap();
        assert_ne!(first, same_millisecond);
        assert!(first < later && same_millisecond < later);
        // The hex text (what the database indexes) sorts the same way.
        assert!(first.to_string() < later.to_string());
        assert_eq!(
            first.as_bytes()[1..7],
            1_800_000_000_000u64.to_be_bytes()[2..]
        );
    }

    #[test]
    fn hex_round_trip_and_limits() {
        let serial = SerialNumber::generate(OffsetDateTime::now_utc()).unwrap();
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

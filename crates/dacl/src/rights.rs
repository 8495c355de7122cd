//! The specific rights of our services, their command-line names, and their generic mapping.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::mask::{AccessMask, GenericMapping};

impl AccessMask {
    /// Sub-enroll a licensing server (bit 0; prints as SDDL `CC`).
    pub const SUBENROLL: AccessMask = AccessMask::from_bits(0x0001);
    /// Read the certification chain (bit 1; SDDL `DC`).
    pub const READ_CHAIN: AccessMask = AccessMask::from_bits(0x0002);
    /// Issue publishing licenses (bit 2; SDDL `LC`).
    pub const ISSUE_PUBLISHING_LICENSE: AccessMask = AccessMask::from_bits(0x0004);
    /// Issue use licenses (bit 3; SDDL `SW`).
    pub const ISSUE_USE_LICENSE: AccessMask = AccessMask::from_bits(0x0008);
    /// Renew a server licensor certificate (bit 4; SDDL `RP`).
    pub const RENEW: AccessMask = AccessMask::from_bits(0x0010);
    /// Administer the service (bit 5; SDDL `WP`).
    pub const ADMINISTER: AccessMask = AccessMask::from_bits(0x0020);
    /// Every specific right of our services.
    pub const RMS_ALL_SPECIFIC: AccessMask = AccessMask::from_bits(0x003F);
}

impl GenericMapping {
    /// The generic mapping of our services: read → read-chain + READ_CONTROL; execute →
    /// subenroll, issue both licenses, renew; write → administer + WRITE_DAC; all → every
    /// specific right and the standard rights DELETE, READ_CONTROL, WRITE_DAC, WRITE_OWNER.
    pub const RMS_SERVICES: GenericMapping = GenericMapping {
        read: AccessMask::READ_CHAIN.union(AccessMask::READ_CONTROL),
        write: AccessMask::ADMINISTER.union(AccessMask::WRITE_DAC),
        execute: AccessMask::SUBENROLL
            .union(AccessMask::ISSUE_PUBLISHING_LICENSE)
            .union(AccessMask::ISSUE_USE_LICENSE)
            .union(AccessMask::RENEW),
        all: AccessMask::RMS_ALL_SPECIFIC.union(AccessMask::STANDARD_RIGHTS_REQUIRED),
    };
}

/// One named right, as written on the command line (`rms-root acl grant SubEnrollService
/// rms-admins subenroll`). Names are case-insensitive and `_` may replace `-`.
///
/// ```
/// use rms_dacl::{AccessMask, Right};
/// assert_eq!("publish".parse::<Right>()?, Right::IssuePublishingLicense);
/// assert_eq!(Right::IssueUseLicense.to_string(), "issue-use-license");
/// assert_eq!(Right::SubEnroll.mask(), AccessMask::SUBENROLL);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Right {
    /// `subenroll`: sub-enroll a licensing server.
    SubEnroll,
    /// `read-chain`: read the certification chain.
    ReadChain,
    /// `issue-publishing-license` (alias `publish`).
    IssuePublishingLicense,
    /// `issue-use-license` (alias `uselicense`).
    IssueUseLicense,
    /// `renew`: renew a server licensor certificate.
    Renew,
    /// `administer`: administer the service.
    Administer,
    /// `delete`.
    Delete,
    /// `read-control`: read the descriptor.
    ReadControl,
    /// `write-dac`: change the DACL.
    WriteDac,
    /// `write-owner`: change the owner.
    WriteOwner,
    /// `synchronize`.
    Synchronize,
    /// `access-system-security`: read or change the SACL.
    AccessSystemSecurity,
    /// `maximum-allowed`: ask for every right the DACL grants.
    MaximumAllowed,
    /// `generic-all`.
    GenericAll,
    /// `generic-execute`.
    GenericExecute,
    /// `generic-write`.
    GenericWrite,
    /// `generic-read`.
    GenericRead,
}

impl Right {
    /// Every right, in bit order.
    pub const ALL: [Right; 17] = [
        Right::SubEnroll,
        Right::ReadChain,
        Right::IssuePublishingLicense,
        Right::IssueUseLicense,
        Right::Renew,
        Right::Administer,
        Right::Delete,
        Right::ReadControl,
        Right::WriteDac,
        Right::WriteOwner,
        Right::Synchronize,
        Right::AccessSystemSecurity,
        Right::MaximumAllowed,
        Right::GenericAll,
        Right::GenericExecute,
        Right::GenericWrite,
        Right::GenericRead,
    ];

    /// The bit of this right.
    pub const fn mask(self) -> AccessMask {
        match self {
            Right::SubEnroll => AccessMask::SUBENROLL,
            Right::ReadChain => AccessMask::READ_CHAIN,
            Right::IssuePublishingLicense => AccessMask::ISSUE_PUBLISHING_LICENSE,
            Right::IssueUseLicense => AccessMask::ISSUE_USE_LICENSE,
            Right::Renew => AccessMask::RENEW,
            Right::Administer => AccessMask::ADMINISTER,
            Right::Delete => AccessMask::DELETE,
            Right::ReadControl => AccessMask::READ_CONTROL,
            Right::WriteDac => AccessMask::WRITE_DAC,
            Right::WriteOwner => AccessMask::WRITE_OWNER,
            Right::Synchronize => AccessMask::SYNCHRONIZE,
            Right::AccessSystemSecurity => AccessMask::ACCESS_SYSTEM_SECURITY,
            Right::MaximumAllowed => AccessMask::MAXIMUM_ALLOWED,
            Right::GenericAll => AccessMask::GENERIC_ALL,
            Right::GenericExecute => AccessMask::GENERIC_EXECUTE,
            Right::GenericWrite => AccessMask::GENERIC_WRITE,
            Right::GenericRead => AccessMask::GENERIC_READ,
        }
    }

    /// The command-line name.
    pub const fn name(self) -> &'static str {
        match self {
            Right::SubEnroll => "subenroll",
            Right::ReadChain => "read-chain",
            Right::IssuePublishingLicense => "issue-publishing-license",
            Right::IssueUseLicense => "issue-use-license",
            Right::Renew => "renew",
            Right::Administer => "administer",
            Right::Delete => "delete",
            Right::ReadControl => "read-control",
            Right::WriteDac => "write-dac",
            Right::WriteOwner => "write-owner",
            Right::Synchronize => "synchronize",
            Right::AccessSystemSecurity => "access-system-security",
            Right::MaximumAllowed => "maximum-allowed",
            Right::GenericAll => "generic-all",
            Right::GenericExecute => "generic-execute",
            Right::GenericWrite => "generic-write",
            Right::GenericRead => "generic-read",
        }
    }
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Right {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        let alias = match wanted.as_str() {
            "publish" => Some(Right::IssuePublishingLicense),
            "uselicense" => Some(Right::IssueUseLicense),
            _ => None,
        };
        alias
            .or_else(|| Right::ALL.into_iter().find(|r| r.name() == wanted))
            .ok_or_else(|| Error::UnknownRight(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_name_round_trips_and_bits_are_distinct() {
        let mut seen = AccessMask::EMPTY;
        for right in Right::ALL {
            assert_eq!(right.name().parse::<Right>().unwrap(), right);
            assert_eq!(
                right.to_string().to_uppercase().parse::<Right>().unwrap(),
                right
            );
            assert_eq!(right.mask().bits().count_ones(), 1, "{right}");
            assert!(!seen.intersects(right.mask()), "{right} reuses a bit");
            seen |= right.mask();
        }
        for service in &Right::ALL[..6] {
            assert!(
                service.mask().bits() < 0x1_0000,
                "{service} must be a specific right"
            );
        }
        assert_eq!(
            "USELICENSE".parse::<Right>().unwrap(),
            Right::IssueUseLicense
        );
        assert_eq!("read_chain".parse::<Right>().unwrap(), Right::ReadChain);
    }

    #[test]
    fn rms_mapping() {
        let m = GenericMapping::RMS_SERVICES;
        assert_eq!(
            m.map(AccessMask::GENERIC_READ),
            AccessMask::READ_CHAIN | AccessMask::READ_CONTROL
        );
        assert!(
            m.map(AccessMask::GENERIC_EXECUTE)
                .contains(AccessMask::SUBENROLL)
        );
        assert!(
            !m.map(AccessMask::GENERIC_EXECUTE)
                .intersects(AccessMask::ADMINISTER)
        );
        assert_eq!(
            m.map(AccessMask::GENERIC_WRITE),
            AccessMask::ADMINISTER | AccessMask::WRITE_DAC
        );
        assert!(
            m.map(AccessMask::GENERIC_ALL)
                .contains(AccessMask::RMS_ALL_SPECIFIC)
        );
    }
}

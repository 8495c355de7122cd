//! The services a root certification server and a licensing server expose, the rights their
//! DACLs grant (bits 0-5 of an access mask, with our names), how the generic rights map onto
//! them, and each service's default descriptor.
//!
//! | service | default SDDL | meaning |
//! | --- | --- | --- |
//! | `SubEnrollService` | `O:SYG:SYD:P` | empty DACL: everyone is refused |
//! | `ChainService` | `O:SYG:SYD:P(A;;DC;;;WD)` | everyone may `read-chain` |
//! | `PublishingService` | `O:SYG:SYD:P(A;;LC;;;AU)` | Authenticated Users may `issue-publishing-license` |
//! | `LicensingService` | `O:SYG:SYD:P(A;;SW;;;AU)` | Authenticated Users may `issue-use-license` |
//! | `RenewalService` | `O:SYG:SYD:P(A;;RP;;;WD)` | everyone may `renew` (renewal is authenticated by the SLC key) |
//!
//! Every default is owned by Local System (`O:SYG:SY`), so no network caller is ever the owner
//! and none gets the owner's implicit READ_CONTROL and WRITE_DAC, and every DACL is protected
//! (`P`), so nothing inherited can widen it. SDDL prints our rights with the two-letter names
//! Windows gives those bits: `CC` sub-enroll, `DC` read-chain, `LC` issue-publishing-license,
//! `SW` issue-use-license, `RP` renew, `WP` administer.

use std::fmt;
use std::str::FromStr;

use rms_dacl::{
    AccessMask, Ace, Acl, AclState, Control, DenialReason, Denied, GenericMapping,
    SecurityDescriptor, Sid,
};

use crate::RoleError;

/// A service guarded by a DACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Service {
    /// Sub-enrollment of licensing servers (root only). Denies everyone by default.
    SubEnroll,
    /// The certification chain endpoint.
    Chain,
    /// Issuing publishing licenses.
    Publishing,
    /// Issuing use licenses.
    Licensing,
    /// Renewing a server licensor certificate.
    Renewal,
}

impl Service {
    /// Every service.
    pub const ALL: [Service; 5] = [
        Service::SubEnroll,
        Service::Chain,
        Service::Publishing,
        Service::Licensing,
        Service::Renewal,
    ];

    /// The name used on the command line, in the database and in the audit log.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Service::SubEnroll => "SubEnrollService",
            Service::Chain => "ChainService",
            Service::Publishing => "PublishingService",
            Service::Licensing => "LicensingService",
            Service::Renewal => "RenewalService",
        }
    }

    /// The right a caller needs to use the service.
    #[must_use]
    pub const fn required_right(self) -> AccessMask {
        match self {
            Service::SubEnroll => ServiceRight::SubEnroll.mask(),
            Service::Chain => ServiceRight::ReadChain.mask(),
            Service::Publishing => ServiceRight::IssuePublishingLicense.mask(),
            Service::Licensing => ServiceRight::IssueUseLicense.mask(),
            Service::Renewal => ServiceRight::Renew.mask(),
        }
    }

    /// Who the default DACL lets in, if anyone.
    const fn default_trustee(self) -> Option<Sid> {
        match self {
            Service::SubEnroll => None,
            Service::Chain | Service::Renewal => Some(Sid::EVERYONE),
            Service::Publishing | Service::Licensing => Some(Sid::AUTHENTICATED_USERS),
        }
    }

    /// The default descriptor's SDDL.
    #[must_use]
    pub const fn default_sddl(self) -> &'static str {
        match self {
            Service::SubEnroll => "O:SYG:SYD:P",
            Service::Chain => "O:SYG:SYD:P(A;;DC;;;WD)",
            Service::Publishing => "O:SYG:SYD:P(A;;LC;;;AU)",
            Service::Licensing => "O:SYG:SYD:P(A;;SW;;;AU)",
            Service::Renewal => "O:SYG:SYD:P(A;;RP;;;WD)",
        }
    }

    /// The default descriptor.
    pub fn default_descriptor(self) -> Result<SecurityDescriptor, RoleError> {
        let aces = self
            .default_trustee()
            .map(|sid| Ace::allow(sid, self.required_right()))
            .into_iter()
            .collect();
        let descriptor = SecurityDescriptor::new()
            .with_owner(Some(Sid::LOCAL_SYSTEM))
            .with_group(Some(Sid::LOCAL_SYSTEM))
            .with_dacl(AclState::Present(Acl::from_aces(aces)))
            .map_err(|e| {
                RoleError::Internal(format!(
                    "default descriptor of {self}: {}",
                    crate::describe_error(&e)
                ))
            })?;
        Ok(descriptor.with_control(Control::DACL_PROTECTED))
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Service {
    type Err = RoleError;

    /// The service name, case-insensitive, with or without the `Service` suffix.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Service::ALL
            .into_iter()
            .find(|svc| {
                let name = svc.name();
                name.eq_ignore_ascii_case(wanted)
                    || name
                        .strip_suffix("Service")
                        .is_some_and(|short| short.eq_ignore_ascii_case(wanted))
            })
            .ok_or_else(|| {
                RoleError::bad_input(
                    "unknown_service",
                    format!(
                        "unknown service {s:?} (known: {})",
                        Service::ALL.map(Service::name).join(", ")
                    ),
                )
            })
    }
}

/// The generic mapping of our services: read → read-chain + READ_CONTROL; execute →
/// sub-enroll, issue both licenses, renew; write → administer + WRITE_DAC; all → every specific
/// right and the standard rights DELETE, READ_CONTROL, WRITE_DAC, WRITE_OWNER.
pub const SERVICE_MAPPING: GenericMapping = GenericMapping {
    read: ServiceRight::ReadChain
        .mask()
        .union(AccessMask::READ_CONTROL),
    write: ServiceRight::Administer.mask().union(AccessMask::WRITE_DAC),
    execute: ServiceRight::SubEnroll
        .mask()
        .union(ServiceRight::IssuePublishingLicense.mask())
        .union(ServiceRight::IssueUseLicense.mask())
        .union(ServiceRight::Renew.mask()),
    all: ALL_SERVICE_RIGHTS.union(AccessMask::STANDARD_RIGHTS_REQUIRED),
};

/// Every right of our services (bits 0-5).
pub const ALL_SERVICE_RIGHTS: AccessMask = AccessMask::from_bits(0x3F);

/// One right of our services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServiceRight {
    /// `sub-enroll` (alias `subenroll`): sub-enroll a licensing server (bit 0, SDDL `CC`). The
    /// name is the one certificates print their rights with (`rms-client inspect`).
    SubEnroll,
    /// `read-chain`: read the certification chain (bit 1, `DC`).
    ReadChain,
    /// `issue-publishing-license` (alias `publish`; bit 2, `LC`).
    IssuePublishingLicense,
    /// `issue-use-license` (alias `uselicense`; bit 3, `SW`).
    IssueUseLicense,
    /// `renew`: renew a server licensor certificate (bit 4, `RP`).
    Renew,
    /// `administer`: administer the service (bit 5, `WP`).
    Administer,
}

impl ServiceRight {
    /// Every right, in bit order.
    pub const ALL: [ServiceRight; 6] = [
        ServiceRight::SubEnroll,
        ServiceRight::ReadChain,
        ServiceRight::IssuePublishingLicense,
        ServiceRight::IssueUseLicense,
        ServiceRight::Renew,
        ServiceRight::Administer,
    ];

    /// Its bit.
    #[must_use]
    pub const fn mask(self) -> AccessMask {
        AccessMask::from_bits(match self {
            ServiceRight::SubEnroll => 0x01,
            ServiceRight::ReadChain => 0x02,
            ServiceRight::IssuePublishingLicense => 0x04,
            ServiceRight::IssueUseLicense => 0x08,
            ServiceRight::Renew => 0x10,
            ServiceRight::Administer => 0x20,
        })
    }

    /// Its name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ServiceRight::SubEnroll => "sub-enroll",
            ServiceRight::ReadChain => "read-chain",
            ServiceRight::IssuePublishingLicense => "issue-publishing-license",
            ServiceRight::IssueUseLicense => "issue-use-license",
            ServiceRight::Renew => "renew",
            ServiceRight::Administer => "administer",
        }
    }

    /// The right named `word` (case-insensitive, `_` for `-`, and the aliases).
    fn named(word: &str) -> Option<ServiceRight> {
        let wanted = word.trim().to_ascii_lowercase().replace('_', "-");
        match wanted.as_str() {
            "subenroll" => Some(ServiceRight::SubEnroll),
            "publish" => Some(ServiceRight::IssuePublishingLicense),
            "uselicense" | "use-license" => Some(ServiceRight::IssueUseLicense),
            _ => ServiceRight::ALL.into_iter().find(|r| r.name() == wanted),
        }
    }
}

impl fmt::Display for ServiceRight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An access mask of our services, read and printed with our right names: `sub-enroll,renew`,
/// then Windows' names for the standard and generic rights (`READ_CONTROL`, `GENERIC_ALL`,
/// ...; also accepted as `read-control`, `generic-all`) and `0x` hex for any other bit.
///
/// ```
/// use rms_roles::{Service, ServiceRights};
///
/// let rights: ServiceRights = "subenroll, read-control".parse()?;
/// assert_eq!(rights.to_string(), "sub-enroll,READ_CONTROL");
/// assert!(rights.mask().contains(Service::SubEnroll.required_right()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServiceRights(AccessMask);

impl ServiceRights {
    /// These rights as a mask.
    #[must_use]
    pub const fn mask(self) -> AccessMask {
        self.0
    }
}

impl From<AccessMask> for ServiceRights {
    fn from(mask: AccessMask) -> Self {
        Self(mask)
    }
}

impl From<ServiceRights> for AccessMask {
    fn from(rights: ServiceRights) -> Self {
        rights.0
    }
}

impl fmt::Display for ServiceRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = ServiceRight::ALL
            .into_iter()
            .filter(|right| self.0.contains(right.mask()))
            .map(|right| right.name().to_owned())
            .collect();
        let rest = self.0.without(ALL_SERVICE_RIGHTS);
        if !rest.is_empty() || names.is_empty() {
            names.push(rest.to_string().replace('|', ","));
        }
        f.write_str(&names.join(","))
    }
}

impl FromStr for ServiceRights {
    type Err = RoleError;

    /// Names separated by commas, `+`, `|` or spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut mask = AccessMask::EMPTY;
        for word in s
            .split(|c: char| c == ',' || c == '+' || c == '|' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            mask |= match ServiceRight::named(word) {
                Some(right) => right.mask(),
                None => AccessMask::from_names(&word.replace('-', "_")).map_err(|_| {
                    RoleError::bad_input(
                        "unknown_right",
                        format!(
                            "unknown right {word:?} (known: {}, the Windows standard and generic rights such as READ_CONTROL, or a 0x mask)",
                            ServiceRight::ALL.map(ServiceRight::name).join(", ")
                        ),
                    )
                })?,
            };
        }
        Ok(Self(mask))
    }
}

/// An access check's refusal in words, with our right names.
#[must_use]
pub fn describe_denial(denied: &Denied) -> String {
    let rights = |mask: AccessMask| ServiceRights(mask).to_string();
    let reason = match denied.reason() {
        DenialReason::DeniedByAce { index, ace, bits } => {
            format!("ACE #{index} {ace} denies {}", rights(*bits))
        }
        DenialReason::EmptyDacl { missing } => {
            format!("the DACL is empty, so nothing grants {}", rights(*missing))
        }
        DenialReason::NotGranted { missing } if !missing.is_empty() => {
            format!("no ACE granted {}", rights(*missing))
        }
        other => other.to_string(),
    };
    format!(
        "access denied (requested {}): {reason}",
        rights(denied.requested())
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_match_their_documented_sddl() {
        for svc in Service::ALL {
            let sd = svc.default_descriptor().unwrap();
            assert_eq!(sd.to_string(), svc.default_sddl(), "{svc}");
            assert_eq!(
                svc.default_sddl().parse::<SecurityDescriptor>().unwrap(),
                sd
            );
            assert_eq!(svc.name().parse::<Service>().unwrap(), svc);
        }
        assert_eq!("subenroll".parse::<Service>().unwrap(), Service::SubEnroll);
        assert!("Nope".parse::<Service>().is_err());
    }

    #[test]
    fn names_aliases_and_round_trips() {
        for right in ServiceRight::ALL {
            let parsed: ServiceRights = right.name().parse().unwrap();
            assert_eq!(parsed.mask(), right.mask());
            assert_eq!(parsed.to_string(), right.name());
            assert_eq!(right.mask().bits().count_ones(), 1);
        }
        for (alias, right) in [
            ("subenroll", ServiceRight::SubEnroll),
            ("SUB_ENROLL", ServiceRight::SubEnroll),
            ("SUBENROLL", ServiceRight::SubEnroll),
            ("publish", ServiceRight::IssuePublishingLicense),
            ("uselicense", ServiceRight::IssueUseLicense),
            ("read_chain", ServiceRight::ReadChain),
        ] {
            assert_eq!(alias.parse::<ServiceRights>().unwrap().mask(), right.mask());
        }
        let mixed: ServiceRights = "renew read-control 0x100".parse().unwrap();
        assert_eq!(
            mixed.mask(),
            ServiceRight::Renew.mask() | AccessMask::READ_CONTROL | AccessMask::from_bits(0x100)
        );
        assert_eq!(mixed.to_string().parse::<ServiceRights>().unwrap(), mixed);
        let e = "fly".parse::<ServiceRights>().unwrap_err();
        assert_eq!(e.code(), "unknown_right");
    }

    #[test]
    fn the_mapping_covers_our_rights() {
        let m = SERVICE_MAPPING;
        assert_eq!(
            m.map(AccessMask::GENERIC_READ),
            ServiceRight::ReadChain.mask() | AccessMask::READ_CONTROL
        );
        assert!(
            m.map(AccessMask::GENERIC_EXECUTE)
                .contains(ServiceRight::SubEnroll.mask())
        );
        assert!(
            !m.map(AccessMask::GENERIC_EXECUTE)
                .intersects(ServiceRight::Administer.mask())
        );
        assert!(m.map(AccessMask::GENERIC_ALL).contains(ALL_SERVICE_RIGHTS));
    }

    #[test]
    fn denials_use_our_names() {
        let sd = Service::SubEnroll.default_descriptor().unwrap();
        let token = rms_dacl::Token::new(Sid::EVERYONE);
        let denied = rms_dacl::access_check(
            &sd,
            &token,
            Service::SubEnroll.required_right(),
            &SERVICE_MAPPING,
        )
        .unwrap_err();
        assert_eq!(
            describe_denial(&denied),
            "access denied (requested sub-enroll): the DACL is empty, so nothing grants sub-enroll"
        );
    }
}
